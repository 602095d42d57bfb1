//! COPY and ADD (and the directory a WORKDIR makes): files placed in a
//! fresh directory laid out like the image, which becomes the step's layer.

use std::fs;
use std::path::{Path, PathBuf};

use cratebox_dockerfile::Files;
use cratebox_image::digest::Digest;
use cratebox_image::new_image::{Layer, NewImage};
use cratebox_sandbox::user::resolve_user;

use crate::archive::{self, download, is_url};
use crate::build::Builder;
use crate::checksum::{checksum, EntryKind, SourceEntry};
use crate::copy::{
    entries, find_sources, make_dir, place_file, Origin, Ownership, Source, Staging,
};
use crate::error::StepError;
use crate::stages::Stage;
use crate::tree::{clean_in_root, LastLink, Tree};

/// Which of the two a step is: ADD also unpacks local tars and fetches URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyKind {
    /// COPY: files as they are.
    Copy,
    /// ADD: tars unpacked, URLs downloaded.
    Add,
}

/// A COPY or ADD whose sources are found and summed, not yet copied.
#[derive(Debug)]
pub struct PreparedCopy {
    origin: Origin,
    sources: Vec<Source>,
    downloads: Vec<(PathBuf, String)>,
    ownership: Ownership,
    /// What the cache compares.
    pub checksum: Digest,
}

impl Builder<'_> {
    // ANCHOR: prepare_copy
    /// Find a COPY's or ADD's sources and compute their checksum: all the
    /// cache needs. Nothing is copied yet.
    // ANCHOR: prepare_copy_origin
    pub(crate) fn prepare_copy(
        &mut self,
        stage: &Stage,
        files: &Files,
        kind: CopyKind,
    ) -> Result<PreparedCopy, StepError> {
        let origin = match &files.from {
            None => Origin {
                tree: self.context.clone(),
                ignore: Some(self.ignore.clone()),
                name: "the build context".to_string(),
            },
            Some(from) => {
                let image = self.stage_or_image(from)?;
                Origin {
                    tree: Tree::layers(&self.lowers(&image)?),
                    ignore: None,
                    name: format!("--from={from}"),
                }
            }
        };
        let ownership = Ownership {
            owner: match (&files.chown, &files.from) {
                (Some(spec), _) => Some(self.chown(stage, spec)?),
                // Files from the context belong to root in the image...
                (None, None) => Some((0, 0)),
                // ...files from another stage keep their owners.
                (None, Some(_)) => None,
            },
            mode: match &files.chmod {
                Some(mode) => Some(
                    u32::from_str_radix(mode, 8)
                        .ok()
                        .filter(|m| *m <= 0o7777)
                        .ok_or_else(|| StepError::Chmod(mode.clone()))?,
                ),
                None => None,
            },
        };
        // ANCHOR_END: prepare_copy_origin
        let (urls, paths): (Vec<String>, Vec<String>) = files
            .sources
            .iter()
            .cloned()
            .partition(|s| kind == CopyKind::Add && is_url(s));
        let mut downloads = Vec::new();
        let mut records = Vec::new();
        for url in &urls {
            // One directory each: two URLs may end in the same name.
            let dir = self.scratch.fresh("download")?;
            let path = download(url, &dir)?;
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            // Downloads are 0600 root, as docker makes them.
            records.push(SourceEntry {
                path: name.clone(),
                kind: EntryKind::File {
                    sha256: crate::copy::sha256_file(&path)?,
                },
                mode: ownership.mode.unwrap_or(0o600),
                uid: ownership.owner.map(|o| o.0).unwrap_or(0),
                gid: ownership.owner.map(|o| o.1).unwrap_or(0),
            });
            downloads.push((path, name));
        }
        let sources = if paths.is_empty() {
            Vec::new()
        } else {
            find_sources(&origin, &paths)?
        };
        for source in &sources {
            records.extend(entries(&origin, source, &ownership)?);
        }
        Ok(PreparedCopy {
            origin,
            sources,
            downloads,
            ownership,
            checksum: checksum(&records),
        })
    }
    // ANCHOR_END: prepare_copy

    /// `--chown=user[:group]`, names looked up in the image's own files.
    fn chown(&self, stage: &Stage, spec: &str) -> Result<(u32, u32), StepError> {
        let tree = Tree::layers(&self.lowers(&stage.image)?);
        // Only a regular file, and not a huge one: an image could hold a
        // FIFO or a device here, and reading those would never end.
        let read = |path: &str| {
            tree.resolve(Path::new(path), LastLink::Follow)
                .ok()
                .and_then(|rel| tree.lookup(&rel))
                .filter(|found| found.meta.is_file() && found.meta.len() <= 1 << 20)
                .and_then(|found| fs::read_to_string(found.host).ok())
                .unwrap_or_default()
        };
        let ids = resolve_user(spec, &read("etc/passwd"), &read("etc/group")).map_err(|why| {
            StepError::Chown {
                spec: spec.to_string(),
                why,
            }
        })?;
        // A user with no group given gets the group of the same number, as docker does.
        let gid = if spec.contains(':') { ids.gid } else { ids.uid };
        Ok((ids.uid, gid))
    }

    // ANCHOR: copy
    /// COPY/ADD on a cache miss: copy into a fresh directory laid out like
    /// the image, and make that directory the new layer.
    // ANCHOR: copy_destination
    pub(crate) fn copy(
        &mut self,
        stage: &Stage,
        files: &Files,
        kind: CopyKind,
        prepared: PreparedCopy,
    ) -> Result<Layer, StepError> {
        let lowers = self.lowers(&stage.image)?;
        let root = self.scratch.fresh("copy")?;
        let staging = Staging::new(&root, &lowers);
        let workdir = stage.image.get_str("WorkingDir").unwrap_or("/");
        let dest_written = if files.destination.starts_with('/') {
            files.destination.clone()
        } else {
            format!("{workdir}/{}", files.destination)
        };
        let dest = clean_in_root(&dest_written);
        let count = prepared.sources.len() + prepared.downloads.len();
        // `dest/`, `.` and an existing directory all mean "into it".
        let written_as_dir = files.destination.ends_with('/')
            || files.destination == "."
            || files.destination.ends_with("/.");
        let into_dir = written_as_dir || staging.is_dir(&dest);
        let several = count > 1;
        let owner = prepared.ownership.owner.unwrap_or((0, 0));
        if several && !into_dir {
            return Err(StepError::ManyIntoOne {
                count,
                destination: files.destination.clone(),
            });
        }
        let file_dest = |name: &Path| match into_dir || several {
            true => dest.join(name),
            false => dest.clone(),
        };
        // ANCHOR_END: copy_destination
        for source in &prepared.sources {
            if source.found.meta.is_dir() {
                let target = staging.destination(&dest, LastLink::Follow, owner)?;
                staging.copy(&prepared.origin, source, &target, &prepared.ownership)?;
            } else if kind == CopyKind::Add
                && files.from.is_none()
                && source.found.meta.is_file()
                && archive::is_archive(&source.found.host)
            {
                let target = staging.destination(&dest, LastLink::Follow, owner)?;
                let dir = root.join(&target);
                if fs::symlink_metadata(&dir).is_err() {
                    // Made like the image has it (`/tmp` stays 1777), or new.
                    let (uid, gid, mode) = staging.dir_like_image(&target, owner);
                    make_dir(&dir, uid, gid, mode)?;
                }
                archive::extract(&source.found.host, &dir)?;
            } else {
                let dest = file_dest(Path::new(&source.name));
                let target = staging.destination(&dest, LastLink::Keep, owner)?;
                staging.copy(&prepared.origin, source, &target, &prepared.ownership)?;
            }
        }
        for (path, name) in &prepared.downloads {
            let target = staging.destination(&file_dest(Path::new(name)), LastLink::Keep, owner)?;
            let (uid, gid) = prepared.ownership.owner.unwrap_or((0, 0));
            let mode = prepared.ownership.mode.unwrap_or(0o600);
            place_file(path, &root.join(&target), uid, gid, mode).map_err(|source| {
                crate::copy::CopyError::Write {
                    from: PathBuf::from(name),
                    to: target.clone(),
                    source,
                }
            })?;
        }
        self.store_layer(&root)
    }
    // ANCHOR_END: copy

    /// WORKDIR: a layer holding the directory, when the image lacks it.
    pub(crate) fn make_workdir(
        &mut self,
        image: &NewImage,
        dir: &str,
    ) -> Result<Option<Layer>, StepError> {
        let lowers = self.lowers(image)?;
        let root = self.scratch.fresh("workdir")?;
        let staging = Staging::new(&root, &lowers);
        let rel = clean_in_root(dir);
        if rel.as_os_str().is_empty() || staging.is_dir(&rel) {
            return Ok(None);
        }
        let target = staging.destination(&rel, LastLink::Follow, (0, 0))?;
        make_dir(&root.join(target), 0, 0, 0o755)?;
        self.store_layer(&root).map(Some)
    }
}
