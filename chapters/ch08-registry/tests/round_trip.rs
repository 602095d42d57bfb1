//! Chapter 8 as a user meets it: images go to a registry and come back
//! the same, and the real tools read what cratebox pushed and push what
//! cratebox pulls. Every registry is the test's own, on 127.0.0.1;
//! containers run with `--network none`.

// Helpers outside test functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::process::Command;

use common::image::tar_with_file;
use common::lab::{pulled_digest, pushed_digest, setup};
use common::{sha256_digest, Registry, Setup, TestImage};
use cratebox_testkit::{run_tool, tool};

#[test]
fn build_push_rmi_pull_run_gives_back_the_same_image() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Plain);
    lab.trust(&registry);
    let name = format!("{}/learn/app:v1", registry.addr());
    let context = tempfile::tempdir().unwrap();
    fs::write(
        context.path().join("Dockerfile"),
        "FROM demo\nRUN echo made by a build > /made\nCMD [\"cat\", \"/made\"]\n",
    )
    .unwrap();
    lab.ok(&["build", "-t", &name, &context.path().display().to_string()]);
    let built = lab.local_digest(&name);

    let pushed = lab.ok(&["push", &name]);
    assert!(
        pushed.starts_with(&format!(
            "The push refers to repository [{}/learn/app]\n",
            registry.addr()
        )),
        "{pushed}"
    );
    assert!(pushed.contains(": Pushed\n"), "{pushed}");
    assert_eq!(
        pushed_digest(&pushed),
        built,
        "the registry has the manifest the build made"
    );
    // Pushed again: every layer is there already.
    let again = lab.ok(&["push", &name]);
    assert!(
        again.contains(": Layer already exists\n") && !again.contains(": Pushed\n"),
        "{again}"
    );

    lab.ok(&["rmi", &name]);
    let pulled = lab.ok(&["pull", &name]);
    assert!(
        pulled.starts_with("v1: Pulling from learn/app\n"),
        "{pulled}"
    );
    assert_eq!(pulled_digest(&pulled), built);
    assert!(
        pulled.contains(&format!("Status: Downloaded newer image for {name}\n")),
        "{pulled}"
    );
    assert!(pulled.ends_with(&format!("\n{name}\n")), "{pulled}");
    assert_eq!(lab.local_digest(&name), built, "the same image, by digest");
    let up_to_date = lab.ok(&["pull", &name]);
    assert!(
        up_to_date.contains(&format!("Status: Image is up to date for {name}")),
        "{up_to_date}"
    );
    assert_eq!(lab.ok(&["pull", "-q", &name]), format!("{name}\n"));
    assert_eq!(
        lab.ok(&["run", "--rm", "--network", "none", &name]),
        "made by a build\n"
    );

    // `run` pulls what the store lacks, saying so on stderr.
    lab.ok(&["rmi", &name]);
    let out = lab.run(&["run", "--rm", "--network", "none", &name]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "made by a build\n");
    assert!(
        out.stderr
            .starts_with(&format!("Unable to find image '{name}' locally\n")),
        "{out:?}"
    );

    // So does a build whose FROM names an image the store lacks.
    lab.ok(&["rmi", &name]);
    let child = tempfile::tempdir().unwrap();
    fs::write(
        child.path().join("Dockerfile"),
        format!("FROM {name}\nRUN cat /made > /copied\n"),
    )
    .unwrap();
    let out = lab.run(&["build", "-t", "child", &child.path().display().to_string()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("Unable to find image '{name}' locally")),
        "{out:?}"
    );
    assert_eq!(
        lab.ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "child",
            "cat",
            "/copied"
        ]),
        "made by a build\n"
    );
    assert_eq!(lab.local_digest(&name), built);

    // A second repository on the same registry: mounted, not uploaded.
    let other = format!("{}/other/app:v1", registry.addr());
    lab.ok(&["tag", &name, &other]);
    let mounted = lab.ok(&["push", &other]);
    assert!(mounted.contains(": Mounted from learn/app\n"), "{mounted}");

    // By digest: stored under NAME@DIGEST, and runs by that name.
    let by_digest = format!("{}/learn/app@{built}", registry.addr());
    lab.ok(&["pull", &by_digest]);
    assert_eq!(lab.local_digest(&by_digest), built);
    assert!(lab.ok(&["images"]).contains("<none>"));

    // The real tools read what cratebox pushed.
    let skopeo = tool("skopeo").unwrap();
    let layout = tempfile::tempdir().unwrap();
    run_tool(
        &skopeo,
        &[
            "--insecure-policy",
            "copy",
            "--src-tls-verify=false",
            // Layers as they are: skopeo would gzip the plain tars.
            "--dest-oci-accept-uncompressed-layers",
            &format!("docker://{name}"),
            &format!("oci:{}:v1", layout.path().display()),
        ],
    );
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(layout.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        built.as_str(),
        "skopeo copied the same manifest"
    );
    podman_pulls(&format!("docker://{name}"), &built, &["--tls-verify=false"]);

    drop(registry);
    lab.finish();
}

/// podman, with a storage of its own in a temp dir, pulls `source` and
/// finds the manifest `digest` in it.
fn podman_pulls(source: &str, digest: &str, flags: &[&str]) {
    let Some(podman) = tool("podman") else {
        return;
    };
    let storage = tempfile::tempdir().unwrap();
    let root = storage.path().join("root");
    let run_root = storage.path().join("run");
    let podman_args = |args: &[&str]| {
        let mut all = vec![
            "--root".to_string(),
            root.display().to_string(),
            "--runroot".to_string(),
            run_root.display().to_string(),
            "--storage-driver".to_string(),
            "vfs".to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    };
    let mut pull = vec!["pull", "-q"];
    pull.extend(flags);
    pull.push(source);
    let pull = podman_args(&pull);
    let out = Command::new(&podman).args(&pull).output().unwrap();
    assert!(
        out.status.success(),
        "podman {pull:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let inspect = podman_args(&["image", "inspect", "--format", "{{.Digest}}", &id]);
    let out = Command::new(&podman).args(&inspect).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        digest,
        "podman's copy of {source}"
    );
    let reset = podman_args(&["system", "reset", "--force"]);
    let _ = Command::new(&podman).args(&reset).output();
}

#[test]
fn what_skopeo_pushed_with_gzip_and_zstd_layers_pulls_and_runs() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Plain);
    lab.trust(&registry);
    let skopeo = tool("skopeo").unwrap();
    // gzip: skopeo compresses the plain layers of cratebox's own archive.
    let archive = lab.root().join("demo.tar");
    lab.ok(&["save", "-o", &archive.display().to_string(), "demo"]);
    let gzip = format!("{}/skopeo/demo:gzip", registry.addr());
    skopeo_copy(
        &skopeo,
        &format!("oci-archive:{}:latest", archive.display()),
        &gzip,
        &["--dest-compress"],
    );
    // zstd: a layout whose layer is the demo root file system, compressed
    // here; skopeo sends it as it is.
    let tar = fs::read(lab.env.rootfs_tar()).unwrap();
    let zstd_layer =
        ruzstd::encoding::compress_to_vec(&tar[..], ruzstd::encoding::CompressionLevel::Fastest);
    let host = cratebox_image::platform::architecture();
    let image = TestImage::from_layer(
        &tar,
        zstd_layer,
        "application/vnd.oci.image.layer.v1.tar+zstd",
        host,
        None,
    );
    let layout = tempfile::tempdir().unwrap();
    image.write_layout(layout.path(), "zstd");
    let zstd = format!("{}/skopeo/demo:zstd", registry.addr());
    skopeo_copy(
        &skopeo,
        &format!("oci:{}:zstd", layout.path().display()),
        &zstd,
        &[],
    );

    for (format, name) in [("gzip", &gzip), ("zstd", &zstd)] {
        let raw = run_tool(
            &skopeo,
            &[
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("docker://{name}"),
            ],
        );
        assert!(
            raw.contains(&format!("tar+{format}")),
            "skopeo pushed {format} layers: {raw}"
        );
        let pulled = lab.ok(&["pull", name]);
        assert_eq!(pulled_digest(&pulled), sha256_digest(raw.as_bytes()));
        let shell = if format == "gzip" { "/bin/sh" } else { "sh" };
        let said = lab.ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            name,
            shell,
            "-c",
            &format!("echo ran from {format}"),
        ]);
        assert_eq!(said, format!("ran from {format}\n"));
    }
    drop(registry);
    lab.finish();
}

/// `skopeo copy FROM docker://TO` to a plain-HTTP registry.
fn skopeo_copy(skopeo: &std::path::Path, from: &str, to: &str, flags: &[&str]) {
    let mut args = vec!["--insecure-policy", "copy", "--dest-tls-verify=false"];
    args.extend(flags);
    let to = format!("docker://{to}");
    args.extend([from, to.as_str()]);
    run_tool(skopeo, &args);
}

#[test]
fn an_index_resolves_to_this_machine_or_to_platform() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Plain);
    lab.trust(&registry);
    let skopeo = tool("skopeo").unwrap();
    // Two one-layer images, each saying which machine it is for.
    let host = cratebox_image::platform::architecture();
    let other = if host == "arm64" { "amd64" } else { "arm64" };
    let images = [
        (
            host,
            TestImage::from_tar(&tar_with_file("machine", host.as_bytes()), host, None),
        ),
        (
            other,
            TestImage::from_tar(
                &tar_with_file("machine", other.as_bytes()),
                other,
                Some("v8"),
            ),
        ),
    ];
    let mut entries = Vec::new();
    for (arch, image) in &images {
        let layout = tempfile::tempdir().unwrap();
        image.write_layout(layout.path(), "x");
        run_tool(
            &skopeo,
            &[
                "--insecure-policy",
                "copy",
                "--dest-tls-verify=false",
                &format!("oci:{}:x", layout.path().display()),
                &format!("docker://{}/multi/app:{arch}", registry.addr()),
            ],
        );
        let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
        if *arch == other {
            platform["variant"] = "v8".into();
        }
        entries.push(serde_json::json!({
            "mediaType": common::image::MANIFEST_TYPE,
            "digest": image.manifest_digest(),
            "size": image.manifest.len(),
            "platform": platform,
        }));
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    })
    .to_string();
    put_index(&registry.addr(), "multi/app", "latest", &index);

    let name = format!("{}/multi/app", registry.addr());
    let pulled = lab.ok(&["pull", &name]);
    assert_eq!(
        pulled_digest(&pulled),
        sha256_digest(index.as_bytes()),
        "docker prints the index's digest"
    );
    assert_eq!(
        lab.local_digest(&format!("{name}:latest")),
        images[0].1.manifest_digest()
    );
    lab.ok(&["pull", "--platform", &format!("linux/{other}"), &name]);
    assert_eq!(
        lab.local_digest(&format!("{name}:latest")),
        images[1].1.manifest_digest()
    );
    let config = lab.ok(&["inspect", &name]);
    assert!(
        config.contains(&format!("\"Architecture\": \"{other}\"")),
        "{config}"
    );
    let error = lab.fails(&["pull", "--platform", "linux/s390x", &name]);
    assert!(
        error.contains("no matching manifest for linux/s390x")
            && error.contains(&format!("linux/{host}")),
        "{error}"
    );
    let error = lab.fails(&["pull", "--platform", "linux", &name]);
    assert!(error.contains("OS/ARCH"), "{error}");
    drop(registry);
    lab.finish();
}

/// PUT an index under `tag`, as a registry client would.
fn put_index(addr: &str, repository: &str, tag: &str, index: &str) {
    let reply = common::http::request_with_body(
        "PUT",
        addr,
        &format!("/v2/{repository}/manifests/{tag}"),
        &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
        index.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        reply.status,
        201,
        "PUT the index: {}",
        String::from_utf8_lossy(&reply.body)
    );
}

#[test]
fn a_big_blob_goes_up_in_chunks() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let registry = Registry::start(Setup::Plain);
    lab.trust(&registry);
    let name = format!("{}/chunks/demo:v1", registry.addr());
    lab.ok(&["tag", "demo", &name]);
    let store = cratebox_image::store::Store::open(&lab.root().join("oci")).unwrap();
    let settings = cratebox_registry::settings::Settings::in_dir(lab.config.path());
    let target: cratebox_registry::name::ImageName = name.parse().unwrap();
    // 256 KiB chunks: the demo's layer (megabytes) takes many PATCHes.
    let options = cratebox_registry::push::PushOptions { chunk: 256 << 10 };
    let progress = cratebox_registry::progress::Quiet;
    let pushed = cratebox_registry::push::push(
        &store,
        &settings,
        &target.local(),
        &target,
        &options,
        &progress,
    )
    .unwrap();
    assert_eq!(pushed.digest.to_string(), lab.local_digest(&name));
    // Every blob bigger than a chunk went up as PATCHes, its last piece
    // with the closing PUT: the registry's access log counts them.
    let blobs = fs::read_dir(lab.root().join("oci/blobs/sha256")).unwrap();
    let chunk = options.chunk as u64;
    let expected: u64 = blobs
        .flatten()
        .map(|blob| blob.metadata().unwrap().len())
        .filter(|size| *size > 0)
        .map(|size| (size - 1) / chunk)
        .sum();
    let patches = registry
        .log()
        .matches("\"PATCH /v2/chunks/demo/blobs/uploads/")
        .count() as u64;
    assert!(
        expected > 10,
        "the demo's layer spans many chunks: {expected}"
    );
    assert_eq!(
        patches, expected,
        "one PATCH per full chunk before the last"
    );
    // The registry checked the digest of what it put together.
    let raw = run_tool(
        &tool("skopeo").unwrap(),
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{name}"),
        ],
    );
    assert_eq!(sha256_digest(raw.as_bytes()), pushed.digest.to_string());
    lab.ok(&["rmi", &name]);
    lab.ok(&["rmi", "demo"]);
    assert_eq!(
        lab.ok(&["run", "--rm", "--network", "none", &name, "echo", "whole"]),
        "whole\n"
    );
    drop(registry);
    lab.finish();
}

#[test]
fn on_a_terminal_each_layer_keeps_one_line_with_a_bar() {
    let Some((_turn, lab)) = setup() else {
        return;
    };
    let Some(script) = tool("script") else {
        return;
    };
    let registry = Registry::start(Setup::Plain);
    lab.trust(&registry);
    let name = format!("{}/tty/demo:v1", registry.addr());
    lab.ok(&["tag", "demo", &name]);
    lab.ok(&["push", &name]);
    lab.ok(&["rmi", &name]);
    lab.ok(&["rmi", "demo"]);
    // script(1) gives the program a terminal and keeps what it drew.
    let command = format!("{} pull {name}", common::lab::BIN);
    let out = lab
        .env
        .command(script.to_str().unwrap())
        .args(["-qec", &command, "/dev/null"])
        .env("CRATEBOX_CONFIG", lab.config.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let screen = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(
        screen.contains(": Downloading ["),
        "a bar while the bytes come: {screen:?}"
    );
    // What stays on the screen: the layer's last state, then docker's lines.
    let last_frame: Vec<&str> = screen
        .lines()
        .map(|line| line.rsplit("\u{1b}[2K").next().unwrap_or(line).trim_end())
        .filter(|line| !line.is_empty())
        .collect();
    let tail = &last_frame[last_frame.len() - 4..];
    assert!(tail[0].ends_with(": Pull complete"), "{tail:?}");
    assert!(tail[1].starts_with("Digest: sha256:"), "{tail:?}");
    assert_eq!(
        tail[2],
        format!("Status: Downloaded newer image for {name}")
    );
    assert_eq!(tail[3], name);
    drop(registry);
    lab.finish();
}
