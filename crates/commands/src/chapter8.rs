//! Chapter 8's command set, and `cratebox`'s: chapter 7's, plus `pull`,
//! `push`, `tag`, `login` and `logout`; `run`, `create` and a build's
//! `FROM` pull an image the store lacks, as docker does.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use cratebox_image::reference::Reference;
use cratebox_registry::client::Client;
use cratebox_registry::name::{ImageName, DOCKER_HUB};
use cratebox_registry::platform::Platform;
use cratebox_registry::progress::{for_output, Output};
use cratebox_registry::pull::{pull, Destination, PullOptions};
use cratebox_registry::push::{push, PushOptions};
use cratebox_registry::settings::{Credentials, Settings};
use cratebox_registry::RegistryError;
use cratebox_runtime::engine::{Engine, Registry, RegistryHandle};

use crate::chapter6;
use crate::chapter7;

/// Everything `cratebox` offers.
#[derive(Debug, Subcommand)]
pub enum AllCommand {
    #[command(flatten)]
    Seven(chapter7::AllCommand),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Upload an image to a registry
    Push(PushArgs),
    /// Give an image another name: tag SOURCE TARGET
    Tag {
        /// An image the store has
        source: String,
        /// The new name
        target: String,
    },
    /// Log in to a registry (Docker Hub when none is named)
    Login(LoginArgs),
    /// Forget the login for a registry (Docker Hub when none is named)
    Logout {
        /// The registry, e.g. localhost:5000
        registry: Option<String>,
    },
}

/// `pull NAME[:TAG|@DIGEST]`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// Which image of a multi-platform one, e.g. linux/arm64/v8 [default: this machine's]
    #[arg(long)]
    pub platform: Option<String>,
    /// Print only the image's full name
    #[arg(short, long)]
    pub quiet: bool,
    /// The image, e.g. alpine, alpine:3.20, localhost:5000/app@sha256:…
    pub name: String,
}

/// `push NAME[:TAG]`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Print only the digest
    #[arg(short, long)]
    pub quiet: bool,
    /// The image, named for the registry it goes to: localhost:5000/app:v1
    pub name: String,
}

/// `login [-u USER] [--password-stdin] [REGISTRY]`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The user name [default: asked for]
    #[arg(short, long)]
    pub username: Option<String>,
    /// The password (visible to other users in `ps`: prefer --password-stdin)
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// The registry, e.g. localhost:5000
    pub registry: Option<String>,
}

/// Carry out one subcommand; returns the exit code.
pub fn dispatch(engine: &Engine, command: AllCommand) -> anyhow::Result<i32> {
    match command {
        AllCommand::Seven(command) => chapter7::dispatch(engine, command),
        AllCommand::Pull(args) => pull_command(engine, &args),
        AllCommand::Push(args) => push_command(engine, &args),
        AllCommand::Tag { source, target } => tag(engine, &source, &target),
        AllCommand::Login(args) => login(&args),
        AllCommand::Logout { registry } => logout(registry.as_deref()),
    }
}

/// Run `command` as program `program`: chapter 7's, with images pulled
/// when missing.
pub fn main_for(program: &str, command: AllCommand) -> ! {
    crate::set_registry(RegistryHandle(Arc::new(Pulling {
        settings: Settings::from_env(),
    })));
    match command {
        AllCommand::Seven(command) => chapter7::main_for(program, command),
        AllCommand::Login(args) => chapter6::exit_with(program, false, login(&args)),
        AllCommand::Logout { registry } => {
            chapter6::exit_with(program, false, logout(registry.as_deref()))
        }
        other => {
            let outcome = (|| {
                cratebox_cli::require_root(program, "pull and push images")?;
                let engine = crate::open_engine()?;
                dispatch(&engine, other)
            })();
            chapter6::exit_with(program, false, outcome)
        }
    }
}

/// The engine's way to pull a missing image: as `pull` does, but with
/// the progress on stderr (the container's output is on stdout).
struct Pulling {
    settings: Settings,
}

impl Registry for Pulling {
    fn local_name(&self, name: &str) -> Option<Reference> {
        name.parse::<ImageName>().ok().map(|n| n.local())
    }

    fn pull(&self, engine: &Engine, name: &str) -> Result<Reference, String> {
        let parsed: ImageName = name.parse().map_err(|e| format!("{e}"))?;
        eprintln!("Unable to find image '{}' locally", parsed.local());
        let progress = for_output(Output::Stderr, false);
        let to = Destination {
            store: &engine.store,
            layers: &engine.layers,
        };
        pull(
            to,
            &self.settings,
            &parsed,
            &PullOptions::default(),
            &*progress,
        )
        .map(|pulled| pulled.local)
        .map_err(|e| e.to_string())
    }
}

// ANCHOR: pull_command
/// `pull`: docker's lines, then the full name.
fn pull_command(engine: &Engine, args: &PullArgs) -> anyhow::Result<i32> {
    let name: ImageName = args.name.parse()?;
    let platform = args
        .platform
        .as_deref()
        .map(str::parse::<Platform>)
        .transpose()?;
    let progress = for_output(Output::Stdout, args.quiet);
    let to = Destination {
        store: &engine.store,
        layers: &engine.layers,
    };
    pull(
        to,
        &Settings::from_env(),
        &name,
        &PullOptions { platform },
        &*progress,
    )?;
    drop(progress);
    println!("{name}");
    Ok(0)
}
// ANCHOR_END: pull_command

/// `push`: docker's lines, the last one with the digest.
fn push_command(engine: &Engine, args: &PushArgs) -> anyhow::Result<i32> {
    let name: ImageName = args.name.parse()?;
    let local = engine.local_name(&args.name)?;
    if name.digest.is_some() {
        anyhow::bail!("cannot push to a digest ({}): name a tag", args.name);
    }
    let progress = for_output(Output::Stdout, args.quiet);
    let pushed = push(
        &engine.store,
        &Settings::from_env(),
        &local,
        &name,
        &PushOptions::default(),
        &*progress,
    )?;
    drop(progress);
    if args.quiet {
        println!("{}", pushed.digest);
    }
    Ok(0)
}

/// `tag SOURCE TARGET`.
fn tag(engine: &Engine, source: &str, target: &str) -> anyhow::Result<i32> {
    let image = engine.image(source)?;
    let target = engine.local_name(target)?;
    engine.store.retag(&image.reference, &target)?;
    Ok(0)
}

/// The registry a `login` or `logout` names: Docker Hub by default, and
/// by any of its names.
fn registry_named(given: Option<&str>) -> String {
    let given = given.unwrap_or(DOCKER_HUB);
    let host = given
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .trim_end_matches("/v1")
        .trim_end_matches("/v2");
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_string()
        }
        other => other.to_string(),
    }
}

// ANCHOR: login
/// `login`: check the credentials with the registry, then keep them.
fn login(args: &LoginArgs) -> anyhow::Result<i32> {
    let registry = registry_named(args.registry.as_deref());
    let settings = Settings::from_env();
    let user = match &args.username {
        Some(user) => user.clone(),
        None => ask("Username: ")?,
    };
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from stdin")?;
        text.trim_end_matches(['\n', '\r']).to_string()
    } else if let Some(password) = &args.password {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        password.clone()
    } else {
        ask_hidden("Password: ")?
    };
    if user.is_empty() || password.is_empty() {
        anyhow::bail!("a user name and a password are both needed");
    }
    let credentials = Credentials { user, password };
    let endpoint = match registry.as_str() {
        DOCKER_HUB => cratebox_registry::name::DOCKER_HUB_ENDPOINT,
        other => other,
    };
    Client::connect(&registry, endpoint, &settings)?
        .with_credentials(credentials.clone())
        .check_login()
        .map_err(|error| match error {
            RegistryError::Unauthorized { message, .. } => anyhow::anyhow!(
                "unauthorized: {message}: {registry} refused the login (check the user name and password)"
            ),
            other => other.into(),
        })?;
    settings.save_credentials(&registry, &credentials)?;
    println!("Login Succeeded");
    Ok(0)
}
// ANCHOR_END: login

/// `logout`.
fn logout(registry: Option<&str>) -> anyhow::Result<i32> {
    let registry = registry_named(registry);
    if Settings::from_env().forget(&registry)? {
        println!("Removing login credentials for {registry}");
    } else {
        println!("Not logged in to {registry}");
    }
    Ok(0)
}

/// A line typed at the terminal.
fn ask(prompt: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("cannot ask for a user name without a terminal: give it with -u");
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// A line typed at the terminal without echo.
fn ask_hidden(prompt: &str) -> anyhow::Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "cannot ask for a password without a terminal: pipe it in with --password-stdin"
        );
    }
    let saved = tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet)?;
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    tcsetattr(&stdin, SetArg::TCSANOW, &saved)?;
    eprintln!();
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_by_their_names() {
        assert_eq!(registry_named(None), "docker.io");
        assert_eq!(
            registry_named(Some("https://index.docker.io/v1/")),
            "docker.io"
        );
        assert_eq!(registry_named(Some("localhost:5000")), "localhost:5000");
        assert_eq!(
            registry_named(Some("https://127.0.0.1:5000/")),
            "127.0.0.1:5000"
        );
    }
}
