//! What the user configured: logins, insecure registries, CAs.
//!
//! The files are docker's, in a directory of cratebox's own
//! (`$CRATEBOX_CONFIG`, else `$XDG_CONFIG_HOME/cratebox`, else
//! `~/.config/cratebox`):
//!
//! ```text
//! config.json             {"auths": {"HOST": {"auth": base64("user:password")}}}, mode 0600
//! daemon.json             {"insecure-registries": ["127.0.0.1:5000"]}
//! certs.d/HOST/ca.crt     a CA to trust for HOST only
//! ```
//!
//! A login docker made (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`) is used when cratebox has none for that
//! registry, and `/etc/docker/certs.d` is read after cratebox's own.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::name::DOCKER_HUB;

/// The key docker files Docker Hub's login under.
const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// A user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password or access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Credentials {{ user: {:?}, password: <hidden> }}",
            self.user
        )
    }
}

/// A settings file that could not be read or written.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// Reading or writing failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not the JSON it should be.
    #[error("{path} is not valid: {why} (fix or remove it)")]
    Bad {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// Where the settings live.
#[derive(Debug, Clone)]
pub struct Settings {
    dir: PathBuf,
    docker_config: Option<PathBuf>,
    system_certs: PathBuf,
}

impl Settings {
    /// The settings of this user, from the environment.
    pub fn from_env() -> Settings {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let dir = std::env::var_os("CRATEBOX_CONFIG")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CONFIG_HOME").map(|d| PathBuf::from(d).join("cratebox"))
            })
            .or_else(|| home.as_ref().map(|h| h.join(".config/cratebox")))
            .unwrap_or_else(|| PathBuf::from("/etc/cratebox"));
        let docker_config = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".docker")))
            .map(|d| d.join("config.json"));
        Settings {
            dir,
            docker_config,
            system_certs: PathBuf::from("/etc/docker/certs.d"),
        }
    }

    /// Settings in `dir` only (tests, and a learner's experiments).
    pub fn in_dir(dir: &Path) -> Settings {
        Settings {
            dir: dir.to_path_buf(),
            docker_config: None,
            system_certs: dir.join("no-system-certs"),
        }
    }

    /// The directory of cratebox's own files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    /// The login for `registry`: cratebox's own, else docker's.
    pub fn credentials(&self, registry: &str) -> Result<Option<Credentials>, SettingsError> {
        for path in std::iter::once(self.config_path()).chain(self.docker_config.clone()) {
            let config = read_json(&path)?;
            if let Some(found) = auth_keys(registry)
                .iter()
                .find_map(|key| config.pointer(&format!("/auths/{}", key.replace('/', "~1"))))
            {
                return decode_auth(found).map(Some).ok_or(SettingsError::Bad {
                    path,
                    why: format!("the login for {registry} is not base64 of user:password"),
                });
            }
        }
        Ok(None)
    }

    // ANCHOR: save_credentials
    /// Remember a login, as docker does: base64 of `user:password` under
    /// `auths`, in a file only its owner can read. Other keys in the file
    /// are kept. The file is replaced whole (a temp file renamed), so a
    /// crash leaves the old one or the new one.
    pub fn save_credentials(
        &self,
        registry: &str,
        credentials: &Credentials,
    ) -> Result<(), SettingsError> {
        let path = self.config_path();
        let mut config = read_json(&path)?;
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", credentials.user, credentials.password));
        let auths = object(&mut config, "auths");
        for key in auth_keys(registry) {
            auths.remove(&key);
        }
        auths.insert(auth_keys(registry)[0].clone(), json!({ "auth": encoded }));
        write_private(&path, &config)
    }
    // ANCHOR_END: save_credentials

    /// Forget the login for `registry`; false when there was none.
    pub fn forget(&self, registry: &str) -> Result<bool, SettingsError> {
        let path = self.config_path();
        let mut config = read_json(&path)?;
        let auths = object(&mut config, "auths");
        let mut removed = false;
        for key in auth_keys(registry) {
            removed |= auths.remove(&key).is_some();
        }
        if removed {
            write_private(&path, &config)?;
        }
        Ok(removed)
    }

    /// Whether `registry` is spoken to over plain HTTP (`insecure-registries`).
    pub fn insecure(&self, registry: &str) -> Result<bool, SettingsError> {
        let daemon = read_json(&self.dir.join("daemon.json"))?;
        let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
        Ok(daemon["insecure-registries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|entry| entry == registry || entry == host))
    }

    /// The CA certificates (PEM) to trust for `registry`, if any:
    /// `certs.d/REGISTRY/*.crt`, cratebox's then docker's.
    pub fn ca_certificates(
        &self,
        registry: &str,
    ) -> Result<Vec<(PathBuf, Vec<u8>)>, SettingsError> {
        let mut found = Vec::new();
        for base in [self.dir.join("certs.d"), self.system_certs.clone()] {
            let dir = base.join(registry);
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "crt"))
                .collect();
            paths.sort();
            for path in paths {
                let pem = fs::read(&path).map_err(|source| SettingsError::Io {
                    what: "cannot read",
                    path: path.clone(),
                    source,
                })?;
                found.push((path, pem));
            }
        }
        Ok(found)
    }
}

/// The keys a login for `registry` may be filed under; the first is the
/// one written.
fn auth_keys(registry: &str) -> Vec<String> {
    if registry == DOCKER_HUB {
        return [
            DOCKER_HUB_AUTH_KEY,
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
        ]
        .map(String::from)
        .to_vec();
    }
    vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ]
}

fn decode_auth(entry: &Value) -> Option<Credentials> {
    let encoded = entry["auth"].as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(Credentials {
        user: user.to_string(),
        password: password.to_string(),
    })
}

fn object<'a>(value: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !value.is_object() {
        *value = json!({});
    }
    let slot = value
        .as_object_mut()
        .map(|o| o.entry(key).or_insert_with(|| json!({})));
    let slot = slot.expect("made an object just above");
    if !slot.is_object() {
        *slot = json!({});
    }
    slot.as_object_mut().expect("made an object just above")
}

/// The JSON in `path`, or `{}` when there is no such file.
fn read_json(path: &Path) -> Result<Value, SettingsError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SettingsError::Bad {
            path: path.to_path_buf(),
            why: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(json!({})),
        Err(source) => Err(SettingsError::Io {
            what: "cannot read",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Write `value` to `path` with mode 0600, via a temp file and a rename.
fn write_private(path: &Path, value: &Value) -> Result<(), SettingsError> {
    let io = |what| {
        move |source| SettingsError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io("cannot create the directory of"))?;
    }
    let temp = path.with_extension(format!("json.tmp-{}", std::process::id()));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map_err(io("cannot write"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn logins_are_kept_as_docker_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::in_dir(dir.path());
        assert_eq!(settings.credentials("127.0.0.1:5000").unwrap(), None);
        let login = Credentials {
            user: "learner".into(),
            password: "pa:ss".into(),
        };
        settings.save_credentials("127.0.0.1:5000", &login).unwrap();
        settings.save_credentials(DOCKER_HUB, &login).unwrap();
        let path = dir.path().join("config.json");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let written: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            written["auths"]["127.0.0.1:5000"]["auth"],
            "bGVhcm5lcjpwYTpzcw=="
        );
        assert!(written["auths"][DOCKER_HUB_AUTH_KEY].is_object());
        assert_eq!(
            settings.credentials("127.0.0.1:5000").unwrap(),
            Some(login.clone())
        );
        assert_eq!(settings.credentials(DOCKER_HUB).unwrap(), Some(login));
        assert!(settings.forget("127.0.0.1:5000").unwrap());
        assert!(!settings.forget("127.0.0.1:5000").unwrap());
        assert_eq!(settings.credentials("127.0.0.1:5000").unwrap(), None);
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, ["config.json"], "no temp file is left");
    }

    #[test]
    fn docker_logins_are_read_too() {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker-config.json");
        fs::write(&docker, r#"{"auths":{"https://ghcr.io":{"auth":"dTpw"}}}"#).unwrap();
        let settings = Settings {
            docker_config: Some(docker.clone()),
            ..Settings::in_dir(&dir.path().join("own"))
        };
        let found = settings.credentials("ghcr.io").unwrap().unwrap();
        assert_eq!((found.user.as_str(), found.password.as_str()), ("u", "p"));
        fs::write(&docker, r#"{"auths":{"ghcr.io":{"auth":"not base64!"}}}"#).unwrap();
        let error = settings.credentials("ghcr.io").unwrap_err().to_string();
        assert!(error.contains("not base64"), "{error}");
    }

    #[test]
    fn insecure_only_when_listed() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::in_dir(dir.path());
        assert!(!settings.insecure("127.0.0.1:5000").unwrap());
        fs::write(
            dir.path().join("daemon.json"),
            r#"{"insecure-registries":["127.0.0.1:5000","myhost"]}"#,
        )
        .unwrap();
        assert!(settings.insecure("127.0.0.1:5000").unwrap());
        assert!(!settings.insecure("127.0.0.1:5001").unwrap());
        assert!(settings.insecure("myhost:443").unwrap());
        fs::write(dir.path().join("daemon.json"), "{").unwrap();
        assert!(settings
            .insecure("x")
            .unwrap_err()
            .to_string()
            .contains("daemon.json is not valid"));
    }
}
