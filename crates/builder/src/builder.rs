//! The build loop: one step at a time, each from the cache or for real.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};
use thiserror::Error;

use cratebox_cgroups::Limits;
use cratebox_dockerfile::{
    expand, parse, Arg, Dockerfile, Files, Form, Instruction, Port, DEFAULT_SHELL,
};
use cratebox_image::build::store_layer_file;
use cratebox_image::diff::write_layer;
use cratebox_image::overlay::overlay_options;
use cratebox_image::reference::Reference;
use cratebox_runtime::engine::Engine;
use cratebox_runtime::run_limited;
use cratebox_sandbox::idmap::DEFAULT_USERNS_RANGE;
use cratebox_sandbox::user::resolve_user;
use cratebox_sandbox::{ContainerCommand, ContainerConfig, Namespaces};

use crate::archive::{self, download, is_url};
use crate::cache::Cache;
use crate::checksum::{cache_key, checksum, EntryKind, SourceEntry};
use crate::copy::{
    entries, find_sources, make_dir, place_file, Origin, Ownership, Source, Staging,
};
use crate::ignore::Ignore;
use crate::render::{json, render};
use crate::state::{Layer, State};
use crate::tree::{clean_in_root, Tree};

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

/// Why a build stopped.
#[derive(Debug, Error)]
pub enum BuildError {
    /// Before the first step: the Dockerfile or the context.
    #[error("{0}")]
    Setup(String),
    /// The Dockerfile does not parse.
    #[error("{file}{}", .error.to_string().trim_start_matches("Dockerfile"))]
    Parse {
        file: String,
        error: cratebox_dockerfile::ParseError,
    },
    /// One step failed.
    #[error("step {number}/{total} `{instruction}` ({file}:{line}): {message}")]
    Step {
        number: usize,
        total: usize,
        instruction: String,
        file: String,
        line: usize,
        message: String,
    },
}

/// What a build made.
#[derive(Debug, Clone)]
pub struct Built {
    /// The manifest digest of the result.
    pub manifest: cratebox_image::digest::Digest,
    /// The image ID (config digest).
    pub id: cratebox_image::digest::Digest,
    /// How many steps came from the cache.
    pub cached: usize,
    /// How many steps there were.
    pub steps: usize,
}

static BUILDS: AtomicU64 = AtomicU64::new(0);

/// A step's result: an error message, to be wrapped with the step.
type StepResult<T> = Result<T, String>;

// ANCHOR: build
/// Build the Dockerfile in `options`, printing docker-style progress to
/// `out`, and name the result `options.tag`. On any error nothing is
/// named, and the temporary directories are gone.
pub fn build(
    engine: &Engine,
    options: &BuildOptions,
    out: &mut dyn Write,
) -> Result<Built, BuildError> {
    let context = fs::canonicalize(&options.context).map_err(|e| {
        BuildError::Setup(format!(
            "cannot use {} as the build context: {e}: pass an existing directory",
            options.context.display()
        ))
    })?;
    if !context.is_dir() {
        return Err(BuildError::Setup(format!(
            "the build context {} is not a directory: pass the directory that holds the Dockerfile",
            context.display()
        )));
    }
    let dockerfile = options
        .dockerfile
        .clone()
        .unwrap_or_else(|| context.join("Dockerfile"));
    let text = fs::read_to_string(&dockerfile).map_err(|e| {
        BuildError::Setup(format!(
            "cannot read {}: {e}: write a Dockerfile there or pass -f FILE",
            dockerfile.display()
        ))
    })?;
    let file_name = dockerfile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Dockerfile".into());
    let parsed = parse(&text).map_err(|error| BuildError::Parse {
        file: file_name.clone(),
        error,
    })?;
    let ignore = Ignore::load(&context).map_err(BuildError::Setup)?;
    let state_root = engine.state_root();
    let cache = Cache::open(&engine.build_cache_dir())
        .map_err(|e| BuildError::Setup(format!("cannot open the build cache: {e}")))?;
    let work = WorkDir::new(&state_root.join("build")).map_err(BuildError::Setup)?;
    let mut builder = Builder {
        engine,
        options,
        cache,
        context: Tree::dir(&context),
        ignore,
        work,
        out,
        file: file_name,
        use_cache: !options.no_cache,
        stages: Vec::new(),
        cached: 0,
        used_args: BTreeSet::new(),
    };
    let result = builder.build(&parsed)?;
    if let Some(tag) = &options.tag {
        let manifest = &result.manifest;
        let size = fs::metadata(engine.store.blob_path(manifest))
            .map(|m| m.len())
            .map_err(|e| BuildError::Setup(format!("cannot read the built manifest: {e}")))?;
        engine
            .store
            .tag(tag, manifest, size)
            .map_err(|e| BuildError::Setup(e.to_string()))?;
    }
    let _ = writeln!(builder.out, "Successfully built {}", result.id.short());
    if let Some(tag) = &options.tag {
        let _ = writeln!(builder.out, "Successfully tagged {tag}");
    }
    Ok(result)
}
// ANCHOR_END: build

/// A build's own temporary directory under `$CRATEBOX_ROOT/build`, removed
/// when the build ends however it ends. Ones left by a build that was
/// killed are removed by the next build.
#[derive(Debug)]
struct WorkDir {
    path: PathBuf,
    next: u64,
}

impl WorkDir {
    fn new(root: &Path) -> Result<WorkDir, String> {
        fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        // Directories of builds whose process is gone.
        for entry in fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().and_then(|p| p.parse::<i32>().ok());
            if let Some(pid) = pid {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let n = BUILDS.fetch_add(1, Ordering::Relaxed);
        let path = root.join(format!("{}-{n}", std::process::id()));
        fs::create_dir(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(WorkDir { path, next: 0 })
    }

    /// A fresh, empty directory inside.
    fn fresh(&mut self, what: &str) -> StepResult<PathBuf> {
        self.next += 1;
        let dir = self.path.join(format!("{what}-{}", self.next));
        fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The state of one stage while its steps run.
#[derive(Debug, Clone)]
struct Stage {
    name: Option<String>,
    state: State,
    /// ARGs declared in this stage, with their values (`None`: no value).
    args: BTreeMap<String, Option<String>>,
    /// The SHELL in force for shell forms.
    shell: Vec<String>,
    /// Whether this stage set a CMD (an ENTRYPOINT then keeps it).
    cmd_set: bool,
}

impl Stage {
    /// The value of `$name` for expansion: ENV wins over ARG.
    fn var(&self, name: &str) -> Option<String> {
        self.state
            .env()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .or_else(|| self.args.get(name).cloned().flatten())
    }

    /// A shell or exec form as the argv it runs.
    fn argv(&self, form: &Form) -> Vec<String> {
        match form {
            Form::Exec(argv) => argv.clone(),
            Form::Shell(line) => self.shell.iter().cloned().chain([line.clone()]).collect(),
        }
    }
}

struct Builder<'a> {
    engine: &'a Engine,
    options: &'a BuildOptions,
    cache: Cache,
    context: Tree,
    ignore: Ignore,
    work: WorkDir,
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
            let step_error = |message: String| BuildError::Step {
                number,
                total,
                instruction: from_text.clone(),
                file: self.file.clone(),
                line: stage.line,
                message,
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
            .map_err(|e| step_error(e.to_string()))?;
            let state = self.base(&image).map_err(step_error)?;
            let _ = writeln!(self.out, " ---> {}", state.short_id());
            let mut current = Stage {
                name: stage.from.name.clone(),
                state,
                args: BTreeMap::new(),
                shell: DEFAULT_SHELL.iter().map(|s| s.to_string()).collect(),
                cmd_set: false,
            };
            for step in &stage.steps {
                number += 1;
                let written = render(&step.instruction);
                let _ = writeln!(self.out, "Step {number}/{total} : {written}");
                let _ = self.out.flush();
                let file_name = self.file.clone();
                self.step(&mut current, &step.instruction, file.escape, &global_args)
                    .map_err(|message| BuildError::Step {
                        number,
                        total,
                        instruction: written.clone(),
                        file: file_name,
                        line: step.line,
                        message,
                    })?;
                let _ = writeln!(self.out, " ---> {}", current.state.short_id());
            }
            self.stages.push(current);
        }
        let unused: Vec<&String> = self
            .options
            .build_args
            .iter()
            .map(|(name, _)| name)
            .filter(|name| !self.used_args.contains(*name))
            .collect();
        if !unused.is_empty() {
            let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
            let _ = writeln!(
                self.out,
                "[Warning] build-args not consumed by any ARG: {}",
                names.join(", ")
            );
        }
        let last = self.stages.last().map(|s| &s.state);
        match last.and_then(|s| Some((s.manifest.clone()?, s.config_digest.clone()?))) {
            Some((manifest, id)) => Ok(Built {
                manifest,
                id,
                cached: self.cached,
                steps: total,
            }),
            None => Err(BuildError::Setup(
                "the last stage is an empty FROM scratch: add a step to it".into(),
            )),
        }
    }

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
    fn base(&self, image: &str) -> StepResult<State> {
        if let Some(stage) = self
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(&image.to_lowercase()))
        {
            return Ok(stage.state.clone());
        }
        if image == "scratch" {
            return Ok(State::scratch());
        }
        let found = self
            .engine
            .image(image)
            .map_err(|e| format!("{e}; or name an earlier stage (FROM ... AS NAME)"))?;
        State::of(&found).map_err(|e| e.to_string())
    }

    // ANCHOR: step
    /// One step: work out its cache key, then take it from the cache or do it.
    fn step(
        &mut self,
        stage: &mut Stage,
        instruction: &Instruction,
        escape: char,
        global: &BTreeMap<String, Option<String>>,
    ) -> StepResult<()> {
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
        let mut key_text = render(&expanded);
        let mut prepared = None;
        match &expanded {
            // A RUN sees the ARGs as environment variables: their values
            // are part of what it does.
            Instruction::Run(form) => {
                let args: Vec<String> = stage
                    .args
                    .iter()
                    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
                    .collect();
                key_text = format!("RUN {} {}", json(&args), json(&stage.argv(form)));
            }
            // The shell in force decides what a shell form becomes.
            Instruction::Cmd(form) => {
                key_text = format!("CMD {}", json(&stage.argv(form)));
            }
            // And whether this stage set a CMD decides if ENTRYPOINT keeps it.
            Instruction::Entrypoint(form) => {
                key_text = format!(
                    "ENTRYPOINT {} keep-cmd={}",
                    json(&stage.argv(form)),
                    stage.cmd_set
                );
            }
            // Pairs as JSON: written out as text, `A='"x' B=y` and
            // `A='"x B=y'` would look the same.
            Instruction::Env(pairs) => key_text = format!("ENV {}", json(pairs)),
            Instruction::Label(pairs) => key_text = format!("LABEL {}", json(pairs)),
            Instruction::Copy(files) | Instruction::Add(files) => {
                let is_add = matches!(expanded, Instruction::Add(_));
                prepared = Some(self.prepare_copy(stage, files, is_add)?);
            }
            _ => {}
        }
        let sources = prepared.as_ref().map(|p: &PreparedCopy| p.checksum.clone());
        let key = cache_key(&stage.state.parent_key(), &key_text, sources.as_ref());
        if self.use_cache {
            if let Some(cached) = self.cache.lookup(&self.engine.store, &key) {
                let _ = writeln!(self.out, " ---> Using cache");
                self.cached += 1;
                if let Instruction::Cmd(_) = expanded {
                    stage.cmd_set = true;
                }
                stage.state = cached;
                return Ok(());
            }
            self.use_cache = false;
        }
        let mut next = stage.state.clone();
        let layer = match &expanded {
            Instruction::Run(form) => Some(self.run(stage, form)?),
            Instruction::Copy(files) | Instruction::Add(files) => match prepared {
                Some(prepared) => {
                    let is_add = matches!(expanded, Instruction::Add(_));
                    Some(self.copy(stage, files, is_add, prepared)?)
                }
                None => None,
            },
            Instruction::Workdir(_) => {
                let dir = workdir(&stage.state, &expanded);
                next.runtime().insert("WorkingDir".into(), json!(dir));
                self.make_workdir(stage, &dir)?
            }
            other => {
                apply(&mut next, stage, other)?;
                None
            }
        };
        next.commit(&self.engine.store, layer, &render(&expanded))
            .map_err(|e| e.to_string())?;
        self.cache
            .record(&key, &next)
            .map_err(|e| format!("cannot record the step in the build cache: {e}"))?;
        if let Instruction::Cmd(_) = expanded {
            stage.cmd_set = true;
        }
        stage.state = next;
        Ok(())
    }
    // ANCHOR_END: step

    /// The unpacked layers of a stage's image.
    fn lowers(&self, state: &State) -> StepResult<Vec<PathBuf>> {
        state
            .unpacked(&self.engine.store, &self.engine.layers)
            .map_err(|e| e.to_string())
    }

    // ANCHOR: run
    /// RUN: a container on the image so far, its changes kept as a layer.
    fn run(&mut self, stage: &Stage, form: &Form) -> StepResult<Layer> {
        let mut lowers = self.lowers(&stage.state)?;
        let dir = self.work.fresh("run")?;
        if lowers.is_empty() {
            // overlayfs needs one lower directory, even an empty one.
            let empty = dir.join("empty");
            fs::create_dir(&empty).map_err(|e| e.to_string())?;
            lowers.push(empty);
        }
        let (upper, work, merged) = (dir.join("upper"), dir.join("work"), dir.join("merged"));
        for d in [&upper, &work, &merged] {
            fs::create_dir(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        let argv = stage.argv(form);
        let mut command = ContainerCommand::new(argv.clone());
        for (name, value) in &stage.args {
            if let Some(value) = value {
                command.set_env(name, value);
            }
        }
        for (name, value) in stage.state.env() {
            command.set_env(&name, &value);
        }
        command.cwd = stage
            .state
            .get("WorkingDir")
            .and_then(Value::as_str)
            .map(String::from);
        command.user = stage
            .state
            .get("User")
            .and_then(Value::as_str)
            .map(String::from);
        let config = ContainerConfig {
            rootfs: merged,
            hostname: "cratebox-build".into(),
            namespaces: Namespaces::all(false),
            id_range: DEFAULT_USERNS_RANGE,
            command,
            overlay: Some(overlay_options(&lowers, &upper, &work)),
        };
        let outcome = run_limited(&config, &self.options.limits).map_err(|e| e.to_string())?;
        if outcome.code != 0 {
            return Err(format!(
                "the command {} returned a non-zero code: {}",
                json(&argv),
                outcome.code
            ));
        }
        let layer = self.layer_of(&upper)?;
        let _ = fs::remove_dir_all(&dir);
        Ok(layer)
    }
    // ANCHOR_END: run

    /// A directory written out as a layer tar and put in the store.
    fn layer_of(&mut self, dir: &Path) -> StepResult<Layer> {
        let tar = self.work.path.join(format!("layer-{}.tar", self.work.next));
        let written = (|| {
            let file = File::create(&tar).map_err(|e| e.to_string())?;
            let mut writer = BufWriter::new(file);
            write_layer(dir, &mut writer).map_err(|e| e.to_string())?;
            writer.flush().map_err(|e| e.to_string())?;
            drop(writer);
            store_layer_file(&self.engine.store, &tar).map_err(|e| e.to_string())
        })();
        let _ = fs::remove_file(&tar);
        Ok(Layer::from(&written?))
    }

    /// WORKDIR: a layer holding the directory, when the image lacks it.
    fn make_workdir(&mut self, stage: &Stage, dir: &str) -> StepResult<Option<Layer>> {
        let lowers = self.lowers(&stage.state)?;
        let root = self.work.fresh("workdir")?;
        let staging = Staging::new(&root, &lowers);
        let rel = clean_in_root(dir);
        if rel.as_os_str().is_empty() || staging.is_dir(&rel) {
            return Ok(None);
        }
        let target = staging.destination(&rel, true, (0, 0))?;
        make_dir(&root.join(target), 0, 0, 0o755)?;
        self.layer_of(&root).map(Some)
    }

    // ANCHOR: prepare_copy
    /// Find a COPY's or ADD's sources and compute their checksum: all the
    /// cache needs. Nothing is copied yet.
    fn prepare_copy(
        &mut self,
        stage: &Stage,
        files: &Files,
        is_add: bool,
    ) -> StepResult<PreparedCopy> {
        let (origin_tree, origin_name, ignore) = match &files.from {
            None => (
                self.context.clone(),
                "the build context".to_string(),
                Some(self.ignore.clone()),
            ),
            Some(from) => {
                let state = self.stage_or_image(from)?;
                (
                    Tree::layers(&self.lowers(&state)?),
                    format!("--from={from}"),
                    None,
                )
            }
        };
        let origin = Origin {
            tree: origin_tree,
            ignore,
            name: origin_name,
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
                        .ok_or_else(|| {
                            format!("--chmod={mode} is not an octal mode: write it like 0755")
                        })?,
                ),
                None => None,
            },
        };
        let (urls, paths): (Vec<String>, Vec<String>) = files
            .sources
            .iter()
            .cloned()
            .partition(|s| is_add && is_url(s));
        let mut downloads = Vec::new();
        let mut records = Vec::new();
        if !urls.is_empty() {
            for url in &urls {
                // One directory each: two URLs may end in the same name.
                let dir = self.work.fresh("download")?;
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

    /// An earlier stage (by name or number) or an image, for `--from`.
    fn stage_or_image(&self, from: &str) -> StepResult<State> {
        let by_name = self
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(&from.to_lowercase()));
        let by_number = from.parse::<usize>().ok().and_then(|n| self.stages.get(n));
        match by_name.or(by_number) {
            Some(stage) => Ok(stage.state.clone()),
            None => self.base(from),
        }
    }

    /// `--chown=user[:group]`, names looked up in the image's own files.
    fn chown(&self, stage: &Stage, spec: &str) -> StepResult<(u32, u32)> {
        let tree = Tree::layers(&self.lowers(&stage.state)?);
        // Only a regular file, and not a huge one: an image could hold a
        // FIFO or a device here, and reading those would never end.
        let read = |path: &str| {
            tree.resolve(Path::new(path), true)
                .ok()
                .and_then(|rel| tree.lookup(&rel))
                .filter(|found| found.meta.is_file() && found.meta.len() <= 1 << 20)
                .and_then(|found| fs::read_to_string(found.host).ok())
                .unwrap_or_default()
        };
        let ids = resolve_user(spec, &read("etc/passwd"), &read("etc/group"))
            .map_err(|e| format!("--chown={spec}: {e}"))?;
        // A user with no group given gets the group of the same number, as docker does.
        let gid = if spec.contains(':') { ids.gid } else { ids.uid };
        Ok((ids.uid, gid))
    }

    // ANCHOR: copy
    /// COPY/ADD on a cache miss: copy into a fresh directory laid out like
    /// the image, and make that directory the new layer.
    fn copy(
        &mut self,
        stage: &Stage,
        files: &Files,
        is_add: bool,
        prepared: PreparedCopy,
    ) -> StepResult<Layer> {
        let lowers = self.lowers(&stage.state)?;
        let root = self.work.fresh("copy")?;
        let staging = Staging::new(&root, &lowers);
        let workdir = stage
            .state
            .get("WorkingDir")
            .and_then(Value::as_str)
            .unwrap_or("/");
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
            return Err(format!(
                "{} sources are copied to {}: when copying more than one, the destination must be a directory and end with a /",
                count, files.destination
            ));
        }
        for source in &prepared.sources {
            if source.found.meta.is_dir() {
                let target = staging.destination(&dest, true, owner)?;
                staging.copy(&prepared.origin, source, &target, &prepared.ownership)?;
            } else if is_add
                && files.from.is_none()
                && source.found.meta.is_file()
                && archive::is_archive(&source.found.host)
            {
                let target = staging.destination(&dest, true, owner)?;
                let dir = root.join(&target);
                if fs::symlink_metadata(&dir).is_err() {
                    // Made like the image has it (`/tmp` stays 1777), or new.
                    let (uid, gid, mode) = staging.dir_like_image(&target, owner);
                    make_dir(&dir, uid, gid, mode)?;
                }
                archive::extract(&source.found.host, &dir)?;
            } else {
                let file_dest = if into_dir || several {
                    dest.join(&source.name)
                } else {
                    dest.clone()
                };
                let target = staging.destination(&file_dest, false, owner)?;
                staging.copy(&prepared.origin, source, &target, &prepared.ownership)?;
            }
        }
        for (path, name) in &prepared.downloads {
            let file_dest = if into_dir || several {
                dest.join(name)
            } else {
                dest.clone()
            };
            let target = staging.destination(&file_dest, false, owner)?;
            let (uid, gid) = prepared.ownership.owner.unwrap_or((0, 0));
            let mode = prepared.ownership.mode.unwrap_or(0o600);
            place_file(path, &root.join(&target), uid, gid, mode)
                .map_err(|e| format!("cannot copy the download to /{}: {e}", target.display()))?;
        }
        self.layer_of(&root)
    }
    // ANCHOR_END: copy
}

/// A COPY or ADD whose sources are found and summed, not yet copied.
struct PreparedCopy {
    origin: Origin,
    sources: Vec<Source>,
    downloads: Vec<(PathBuf, String)>,
    ownership: Ownership,
    checksum: cratebox_image::digest::Digest,
}

// ANCHOR: expand_instruction
/// The instruction with its variables expanded, for the instructions the
/// reference says expand (RUN, CMD and ENTRYPOINT do not: a shell does
/// that when they run). Every word sees the values from *before* this
/// instruction: `ENV A=1 B=$A` gives B the old A.
fn expand_instruction(
    instruction: &Instruction,
    stage: &Stage,
    escape: char,
) -> StepResult<Instruction> {
    let word = |text: &str| {
        expand(text, &|name| stage.var(name), escape).map_err(|e| format!("{text:?}: {e}"))
    };
    let words = |list: &[String]| list.iter().map(|w| word(w)).collect::<StepResult<Vec<_>>>();
    let pairs = |list: &[(String, String)]| {
        list.iter()
            .map(|(k, v)| Ok((word(k)?, word(v)?)))
            .collect::<StepResult<Vec<_>>>()
    };
    let files = |f: &Files| -> StepResult<Files> {
        Ok(Files {
            from: f.from.as_deref().map(word).transpose()?,
            chown: f.chown.as_deref().map(word).transpose()?,
            chmod: f.chmod.as_deref().map(word).transpose()?,
            sources: words(&f.sources)?,
            destination: word(&f.destination)?,
        })
    };
    Ok(match instruction {
        Instruction::Copy(f) => Instruction::Copy(files(f)?),
        Instruction::Add(f) => Instruction::Add(files(f)?),
        Instruction::Env(list) => Instruction::Env(pairs(list)?),
        Instruction::Label(list) => Instruction::Label(pairs(list)?),
        Instruction::Workdir(dir) => Instruction::Workdir(word(dir)?),
        Instruction::User(user) => Instruction::User(word(user)?),
        Instruction::StopSignal(signal) => Instruction::StopSignal(word(signal)?),
        Instruction::Expose(ports) => Instruction::Expose(words(ports)?),
        Instruction::Volume(paths) => Instruction::Volume(words(paths)?),
        other => other.clone(),
    })
}
// ANCHOR_END: expand_instruction

/// WORKDIR's directory: absolute, or relative to the one before.
fn workdir(state: &State, instruction: &Instruction) -> String {
    let Instruction::Workdir(dir) = instruction else {
        return "/".into();
    };
    let base = state
        .get("WorkingDir")
        .and_then(Value::as_str)
        .unwrap_or("/");
    let joined = if dir.starts_with('/') {
        dir.clone()
    } else {
        format!("{base}/{dir}")
    };
    format!("/{}", clean_in_root(&joined).display())
}

// ANCHOR: apply
/// A metadata instruction's change to the image config.
fn apply(state: &mut State, stage: &Stage, instruction: &Instruction) -> StepResult<()> {
    match instruction {
        Instruction::Env(pairs) => {
            for (name, value) in pairs {
                state.set_env(name, value);
            }
        }
        Instruction::Label(pairs) => {
            for (key, value) in pairs {
                state.insert("Labels", key, json!(value));
            }
        }
        // MAINTAINER is kept as the image's author, as docker does.
        Instruction::Maintainer(name) => state.config["author"] = json!(name),
        Instruction::Expose(words) => {
            for word in words {
                let port = Port::parse(word).map_err(|e| e.to_string())?;
                for number in port.first..=port.last {
                    state.insert(
                        "ExposedPorts",
                        &format!("{number}/{}", port.protocol),
                        json!({}),
                    );
                }
            }
        }
        Instruction::Volume(paths) => {
            for path in paths {
                state.insert("Volumes", path, json!({}));
            }
        }
        Instruction::User(user) => {
            state.runtime().insert("User".into(), json!(user));
        }
        Instruction::StopSignal(signal) => {
            state.runtime().insert("StopSignal".into(), json!(signal));
        }
        Instruction::Cmd(form) => {
            state
                .runtime()
                .insert("Cmd".into(), json!(stage.argv(form)));
        }
        Instruction::Entrypoint(form) => {
            state
                .runtime()
                .insert("Entrypoint".into(), json!(stage.argv(form)));
            // A CMD from the base image was meant for the base's program.
            if !stage.cmd_set {
                state.runtime().remove("Cmd");
            }
        }
        other => return Err(format!("{} is not a metadata instruction", render(other))),
    }
    Ok(())
}
// ANCHOR_END: apply
