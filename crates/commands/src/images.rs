//! `import`, `images`, `inspect`, `history`, `save`, `load`, `rmi`.

use std::path::PathBuf;

use clap::Args;
use cratebox_image::reference::Reference;
use cratebox_runtime::engine::Engine;

use crate::table::{self, Column};

/// `import TARBALL NAME[:TAG]`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tarball
    pub tarball: PathBuf,
    /// NAME[:TAG] to give it
    pub name: String,
}

/// A subcommand that takes one image.
#[derive(Debug, Args)]
pub struct ImageArg {
    /// The image
    pub image: String,
}

/// `save -o FILE IMAGE`
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Output file
    #[arg(short, long)]
    pub output: PathBuf,
    /// The image
    pub image: String,
}

/// `load -i FILE`
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Input file
    #[arg(short, long)]
    pub input: PathBuf,
}

/// The columns of `images` (as wide as their cells: [`table::fitted`]).
pub const IMAGES_COLUMNS: [Column; 5] = [
    Column {
        title: "REPOSITORY",
        width: 0,
    },
    Column {
        title: "TAG",
        width: 0,
    },
    Column {
        title: "IMAGE ID",
        width: 0,
    },
    Column {
        title: "CREATED",
        width: 0,
    },
    Column {
        title: "SIZE",
        width: 0,
    },
];

/// `import`: print the new image's ID.
pub fn import(engine: &Engine, args: ImportArgs) -> anyhow::Result<i32> {
    let name: Reference = args.name.parse()?;
    let image = engine.import(&args.tarball, &name)?;
    println!("{}", image.id());
    Ok(0)
}

/// `images`: one line per name.
pub fn images(engine: &Engine) -> anyhow::Result<i32> {
    let now = std::time::SystemTime::now();
    let mut rows = Vec::new();
    for (reference, digest) in engine.store.list()? {
        let image = engine.store.image(reference.clone(), digest)?;
        let size: u64 = image.manifest.layers().iter().map(|l| l.size()).sum();
        let id = image.id();
        let short_id = id.strip_prefix("sha256:").unwrap_or(&id);
        let created = image.config.created().clone().unwrap_or_default();
        rows.push(vec![
            reference.name.clone(),
            // Pulled by digest alone: no tag, as docker shows it.
            match reference.digest() {
                Some(_) => "<none>".to_string(),
                None => reference.tag.clone(),
            },
            short_id[..12.min(short_id.len())].to_string(),
            crate::human::ago(&created, now),
            human_size(size),
        ]);
    }
    for line in table::fitted(&IMAGES_COLUMNS, &rows) {
        println!("{line}");
    }
    Ok(0)
}

/// `inspect`: the config and layers as docker's JSON shape.
pub fn inspect(engine: &Engine, args: ImageArg) -> anyhow::Result<i32> {
    let inspected = serde_json::Value::Array(vec![image_json(engine, &args.image)?]);
    println!("{}", serde_json::to_string_pretty(&inspected)?);
    Ok(0)
}

/// One image as `inspect` shows it.
pub fn image_json(engine: &Engine, name: &str) -> anyhow::Result<serde_json::Value> {
    let image = engine.image(name)?;
    // The config as stored, so fields outside the OCI spec (docker's
    // OnBuild) show too.
    let stored = cratebox_image::new_image::NewImage::of(&engine.store, &image)?;
    Ok(serde_json::json!({
        "Id": image.id(),
        "RepoTags": [image.reference.to_string()],
        "ManifestDigest": image.manifest_digest.as_str(),
        "Created": image.config.created(),
        "Author": image.config.author(),
        "Architecture": image.config.architecture().to_string(),
        "Os": image.config.os().to_string(),
        "Config": stored.config["config"],
        "RootFS": image.config.rootfs(),
        "Layers": image.manifest.layers(),
    }))
}

/// `history`: newest step first, as docker prints it.
pub fn history(engine: &Engine, args: ImageArg) -> anyhow::Result<i32> {
    let image = engine.image(&args.image)?;
    println!("{:<22}CREATED BY", "CREATED");
    for entry in image.config.history().iter().rev() {
        println!(
            "{:<22}{}",
            entry.created().clone().unwrap_or_default(),
            entry.created_by().clone().unwrap_or_default()
        );
    }
    Ok(0)
}

/// `save`: an OCI archive that skopeo, podman and `load` read.
pub fn save(engine: &Engine, args: SaveArgs) -> anyhow::Result<i32> {
    let image = engine.image(&args.image)?;
    cratebox_image::archive::save(&engine.store, &image, &args.output)?;
    Ok(0)
}

/// `load`: print each name loaded.
pub fn load(engine: &Engine, args: LoadArgs) -> anyhow::Result<i32> {
    for name in engine.load(&args.input)? {
        println!("Loaded image: {name}");
    }
    Ok(0)
}

/// `rmi`: the name, then each blob that went with it.
pub fn rmi(engine: &Engine, args: ImageArg) -> anyhow::Result<i32> {
    let (reference, removed) = engine.remove_image(&args.image)?;
    println!("Untagged: {reference}");
    for digest in removed {
        println!("Deleted: {digest}");
    }
    Ok(0)
}

/// Sizes as docker prints them: 4.2MB (powers of 1000).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1}GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1}MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1}kB", b as f64 / 1e3),
        b => format!("{b}B"),
    }
}
