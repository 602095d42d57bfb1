//! The build loop: one step at a time, each from the cache or for real.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::PathBuf;

use cratebox_cgroups::Limits;
use cratebox_dockerfile::{expand, parse, Arg, Dockerfile, Instruction, DEFAULT_ESCAPE};
use cratebox_image::digest::Digest;
use cratebox_image::new_image::NewImage;
use cratebox_image::reference::Reference;
use cratebox_runtime::engine::Engine;

use crate::cache::BuildCache;
use crate::checksum::cache_key;
use crate::copy_step::{CopyKind, PreparedCopy};
use crate::error::{BuildError, StepError};
use crate::ignore::Ignore;
use crate::metadata::{apply, expand_instruction, key_text, take_triggers};
use crate::render::render;
use crate::scratch::Scratch;
use crate::stages::Stage;
use crate::tree::Tree;

/// What to build, and how.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The build context: the directory COPY and ADD read from.
    pub context: PathBuf,
    /// The Dockerfile; `CONTEXT/Dockerfile` when `None`.
    pub dockerfile: Option<PathBuf>,
    /// The name to give the result.
    pub tag: Option<Reference>,
    /// `--no-cache`: run every step.
    pub no_cache: bool,
    /// `--build-arg NAME=VALUE`.
    pub build_args: Vec<(String, String)>,
    /// Limits for each RUN's container (chapter 3).
    pub limits: Limits,
}

/// What a build made.
#[derive(Debug, Clone)]
pub struct Built {
    /// The manifest digest of the result.
    pub manifest: Digest,
    /// The image ID (config digest).
    pub id: Digest,
    /// How many steps came from the cache.
    pub cached: usize,
    /// How many steps there were.
    pub steps: usize,
}

// ANCHOR: build
/// Build the Dockerfile in `options`, printing docker-style progress to
/// `out`, and name the result `options.tag`. On any error nothing is
/// named, and the temporary directories are gone.
pub fn build(
    engine: &Engine,
    options: &BuildOptions,
    out: &mut dyn Write,
) -> Result<Built, BuildError> {
    let context = fs::canonicalize(&options.context).map_err(|source| BuildError::Context {
        path: options.context.clone(),
        source,
    })?;
    if !context.is_dir() {
        return Err(BuildError::ContextNotADirectory(context));
    }
    // ANCHOR: build_steps
    let dockerfile = options
        .dockerfile
        .clone()
        .unwrap_or_else(|| context.join("Dockerfile"));
    let text = fs::read_to_string(&dockerfile).map_err(|source| BuildError::Dockerfile {
        path: dockerfile.clone(),
        source,
    })?;
    let file_name = dockerfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Dockerfile".into());
    let parsed = parse(&text).map_err(|error| BuildError::Parse {
        file: file_name.clone(),
        error,
    })?;
    let ignore = Ignore::load(&context)?;
    let scratch_error = |path: PathBuf| move |source| BuildError::Scratch { path, source };
    let cache_dir = BuildCache::dir(engine);
    let cache = BuildCache::open(&cache_dir).map_err(scratch_error(cache_dir.clone()))?;
    let scratch_dir = engine.state_root().join("build");
    let scratch = Scratch::new(&scratch_dir).map_err(scratch_error(scratch_dir.clone()))?;
    let mut builder = Builder {
        engine,
        options,
        cache,
        context: Tree::dir(&context),
        ignore,
        scratch,
        out,
        file: file_name,
        use_cache: !options.no_cache,
        stages: Vec::new(),
        cached: 0,
        used_args: BTreeSet::new(),
    };
    let result = builder.build(&parsed)?;
    // ANCHOR_END: build_steps
    if let Some(tag) = &options.tag {
        let size = fs::metadata(engine.store.blob_path(&result.manifest))
            .map(|m| m.len())
            .map_err(|source| BuildError::Tag {
                tag: tag.clone(),
                source: cratebox_image::store::StoreError::Io {
                    what: "cannot read",
                    path: engine.store.blob_path(&result.manifest),
                    source,
                },
            })?;
        engine
            .store
            .tag(tag, &result.manifest, size)
            .map_err(|source| BuildError::Tag {
                tag: tag.clone(),
                source,
            })?;
    }
    let _ = writeln!(builder.out, "Successfully built {}", result.id.short());
    if let Some(tag) = &options.tag {
        let _ = writeln!(builder.out, "Successfully tagged {tag}");
    }
    Ok(result)
}
// ANCHOR_END: build

/// One build in progress.
pub(crate) struct Builder<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) options: &'a BuildOptions,
    cache: BuildCache,
    pub(crate) context: Tree,
    pub(crate) ignore: Ignore,
    pub(crate) scratch: Scratch,
    out: &'a mut dyn Write,
    file: String,
    /// False after the first miss in a stage: the rest of it is built.
    use_cache: bool,
    stages: Vec<Stage>,
    cached: usize,
    used_args: BTreeSet<String>,
}

impl Builder<'_> {
    fn build(&mut self, file: &Dockerfile) -> Result<Built, BuildError> {
        let total = file.stages.iter().map(|s| 1 + s.steps.len()).sum();
        let mut number = 0;
        // ARGs before the first FROM: for FROM lines only.
        let mut global_args = BTreeMap::new();
        for (_, arg) in &file.global_args {
            let value = self.arg_value(arg, None, file.escape, &global_args);
            global_args.insert(arg.name.clone(), value);
        }
        for stage in &file.stages {
            number += 1;
            let from_text = match &stage.from.name {
                Some(name) => format!("FROM {} AS {name}", stage.from.image),
                None => format!("FROM {}", stage.from.image),
            };
            let file_name = self.file.clone();
            let step_error = |source: StepError| BuildError::Step {
                number,
                total,
                instruction: from_text.clone(),
                file: file_name.clone(),
                line: stage.line,
                source: Box::new(source),
            };
            let _ = writeln!(self.out, "Step {number}/{total} : {from_text}");
            // A miss in one stage says nothing about the next: its keys
            // chain on its own base.
            self.use_cache = !self.options.no_cache;
            let image = expand(
                &stage.from.image,
                &|n| global_args.get(n).cloned().flatten(),
                file.escape,
            )
            .map_err(|source| {
                step_error(StepError::Expand {
                    text: stage.from.image.clone(),
                    source,
                })
            })?;
            let mut base = self.base(&image).map_err(step_error)?;
            let triggers = take_triggers(&mut base);
            let mut current = Stage::new(stage.from.name.clone(), base);
            let _ = writeln!(self.out, " ---> {}", current.short_id());
            self.run_triggers(&mut current, &image, &triggers, &global_args)
                .map_err(step_error)?;
            for step in &stage.steps {
                number += 1;
                let written = render(&step.instruction);
                let _ = writeln!(self.out, "Step {number}/{total} : {written}");
                let _ = self.out.flush();
                let file_name = self.file.clone();
                self.step(&mut current, &step.instruction, file.escape, &global_args)
                    .map_err(|source| BuildError::Step {
                        number,
                        total,
                        instruction: written.clone(),
                        file: file_name,
                        line: step.line,
                        source: Box::new(source),
                    })?;
                let _ = writeln!(self.out, " ---> {}", current.short_id());
            }
            self.stages.push(current);
        }
        let unused: Vec<&str> = self
            .options
            .build_args
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| !self.used_args.contains(*name))
            .collect();
        if !unused.is_empty() {
            let _ = writeln!(
                self.out,
                "[Warning] build-args not consumed by any ARG: {}",
                unused.join(", ")
            );
        }
        let last = self.stages.last().and_then(|s| s.image.written.as_ref());
        match last {
            Some(written) => Ok(Built {
                manifest: written.manifest.clone(),
                id: written.config.clone(),
                cached: self.cached,
                steps: total,
            }),
            None => Err(BuildError::EmptyResult),
        }
    }

    // ANCHOR: run_triggers
    /// The base image's ONBUILD triggers, run as if written right after
    /// the FROM: each parsed as a Dockerfile line of its own, then done
    /// (and cached) like any step, in this build's context.
    fn run_triggers(
        &mut self,
        stage: &mut Stage,
        image: &str,
        triggers: &[String],
        global: &BTreeMap<String, Option<String>>,
    ) -> Result<(), StepError> {
        if triggers.is_empty() {
            return Ok(());
        }
        let plural = if triggers.len() == 1 { "" } else { "s" };
        let _ = writeln!(
            self.out,
            "# Executing {} build trigger{plural}",
            triggers.len()
        );
        for text in triggers {
            let failed = |source: StepError| StepError::Trigger {
                text: text.clone(),
                image: image.to_string(),
                source: Box::new(source),
            };
            let instruction = cratebox_dockerfile::parse_trigger(text)
                .map_err(|e| failed(StepError::BadTrigger(e.kind)))?;
            let _ = writeln!(self.out, " ---> Running trigger: {}", render(&instruction));
            self.step(stage, &instruction, DEFAULT_ESCAPE, global)
                .map_err(failed)?;
        }
        Ok(())
    }
    // ANCHOR_END: run_triggers

    /// The value an ARG gets: `--build-arg`, else the global one of the
    /// same name (for a bare `ARG NAME` in a stage), else its default.
    fn arg_value(
        &mut self,
        arg: &Arg,
        stage: Option<&Stage>,
        escape: char,
        global: &BTreeMap<String, Option<String>>,
    ) -> Option<String> {
        if let Some((_, value)) = self
            .options
            .build_args
            .iter()
            .rev()
            .find(|(n, _)| *n == arg.name)
        {
            self.used_args.insert(arg.name.clone());
            return Some(value.clone());
        }
        match &arg.default {
            Some(default) => {
                let vars = |name: &str| match stage {
                    Some(stage) => stage.var(name),
                    None => global.get(name).cloned().flatten(),
                };
                Some(expand(default, &vars, escape).unwrap_or_else(|_| default.clone()))
            }
            None => global.get(&arg.name).cloned().flatten(),
        }
    }

    /// The image a FROM names: an earlier stage, scratch, or the store's.
    fn base(&self, image: &str) -> Result<NewImage, StepError> {
        if let Some(stage) = self
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(&image.to_lowercase()))
        {
            return Ok(stage.image.clone());
        }
        if image == "scratch" {
            return Ok(NewImage::scratch());
        }
        let found = self
            .engine
            .image_or_pull(image)
            .map_err(StepError::NoBase)?;
        Ok(NewImage::of(&self.engine.store, &found)?)
    }

    /// An earlier stage (by name or number) or an image, for `--from`.
    pub(crate) fn stage_or_image(&self, from: &str) -> Result<NewImage, StepError> {
        let by_name = self
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(&from.to_lowercase()));
        let by_number = from.parse::<usize>().ok().and_then(|n| self.stages.get(n));
        match by_name.or(by_number) {
            Some(stage) => Ok(stage.image.clone()),
            None => self.base(from),
        }
    }

    /// The unpacked layers of an image, base first.
    pub(crate) fn lowers(&self, image: &NewImage) -> Result<Vec<PathBuf>, StepError> {
        Ok(self
            .engine
            .layers
            .ensure_layers(&self.engine.store, &image.layer_digests())?)
    }

    // ANCHOR: step
    /// One step: work out its cache key, then take it from the cache or do it.
    fn step(
        &mut self,
        stage: &mut Stage,
        instruction: &Instruction,
        escape: char,
        global: &BTreeMap<String, Option<String>>,
    ) -> Result<(), StepError> {
        // ARG and SHELL change only how later steps are read, not the image.
        match instruction {
            Instruction::Arg(args) => {
                for arg in args {
                    let value = self.arg_value(arg, Some(stage), escape, global);
                    stage.args.insert(arg.name.clone(), value);
                }
                return Ok(());
            }
            Instruction::Shell(argv) => {
                stage.shell = argv.clone();
                return Ok(());
            }
            _ => {}
        }
        let expanded = expand_instruction(instruction, stage, escape)?;
        let prepared: Option<(PreparedCopy, CopyKind)> = match &expanded {
            Instruction::Copy(files) => Some((
                self.prepare_copy(stage, files, CopyKind::Copy)?,
                CopyKind::Copy,
            )),
            Instruction::Add(files) => Some((
                self.prepare_copy(stage, files, CopyKind::Add)?,
                CopyKind::Add,
            )),
            _ => None,
        };
        let sources = prepared.as_ref().map(|(p, _)| p.checksum.clone());
        let key = cache_key(
            &parent_key(&stage.image),
            &key_text(&expanded, stage),
            sources.as_ref(),
        );
        if self.use_cache {
            if let Some(cached) = self.cache.lookup(&self.engine.store, &key) {
                let _ = writeln!(self.out, " ---> Using cache");
                self.cached += 1;
                finish(stage, &expanded, cached);
                return Ok(());
            }
            self.use_cache = false;
        }
        let mut next = stage.image.clone();
        let layer = match (&expanded, prepared) {
            (Instruction::Run(form), _) => Some(self.run(stage, form)?),
            (Instruction::Copy(files) | Instruction::Add(files), Some((prepared, kind))) => {
                Some(self.copy(stage, files, kind, prepared)?)
            }
            (Instruction::Workdir(_), _) => {
                // `apply` sets WorkingDir, resolved; make that directory.
                apply(&mut next, stage, &expanded)?;
                let dir = next.get_str("WorkingDir").unwrap_or("/").to_string();
                self.make_workdir(&stage.image, &dir)?
            }
            (other, _) => {
                apply(&mut next, stage, other)?;
                None
            }
        };
        next.add_layer(layer, &render(&expanded));
        next.write(&self.engine.store)?;
        self.cache.record(&self.engine.store, &key, &next)?;
        finish(stage, &expanded, next);
        Ok(())
    }
    // ANCHOR_END: step
}

/// The stage after a step made `image`.
fn finish(stage: &mut Stage, instruction: &Instruction, image: NewImage) {
    if let Instruction::Cmd(_) = instruction {
        stage.cmd_set = true;
    }
    stage.image = image;
}

/// What the cache knows an image by: its manifest, or "scratch".
fn parent_key(image: &NewImage) -> Digest {
    match &image.written {
        Some(written) => written.manifest.clone(),
        None => Digest::of(b"scratch"),
    }
}
