//! RUN: a command in a container on the image so far; what it changes is
//! the step's layer.

use std::fs;

use cratebox_dockerfile::Form;
use cratebox_image::build::store_layer_dir;
use cratebox_image::new_image::Layer;
use cratebox_runtime::layered::{config_on_layers, Isolation, WritableLayer};
use cratebox_runtime::security::SecuritySpec;
use cratebox_runtime::{explain, run_limited};
use cratebox_sandbox::{ContainerCommand, ContainerConfig, UserNamespace};

use crate::build::Builder;
use crate::error::StepError;
use crate::render::json;
use crate::stages::Stage;

/// Chapter 9: a RUN's container is hardened as every container is by
/// default, and as docker's builds are: docker's 14 capabilities,
/// no_new_privs, its seccomp profile, masked and read-only paths.
fn hardened(mut config: ContainerConfig) -> Result<ContainerConfig, StepError> {
    let security = SecuritySpec::default();
    config.command.security = security.process()?;
    config.paths = security.paths();
    Ok(config)
}

/// The hostname a RUN's container has, as `hostname` inside shows.
pub const BUILD_HOSTNAME: &str = "cratebox-build";

impl Builder<'_> {
    // ANCHOR: run
    /// RUN: the container of chapters 2–4 on the stage's image, its changes
    /// kept as a layer. The environment is the image's Env plus the ARGs,
    /// in the image's WORKDIR, as its USER.
    pub(crate) fn run(&mut self, stage: &Stage, form: &Form) -> Result<Layer, StepError> {
        let lowers = self.lowers(&stage.image)?;
        let top = WritableLayer::at(&self.scratch.fresh("run")?);
        top.create().map_err(|source| StepError::Scratch {
            path: top.dir.clone(),
            source,
        })?;
        let argv = stage.argv(form);
        let mut command = ContainerCommand::new(argv.clone());
        for (name, value) in stage.arg_env() {
            command.set_env(&name, &value);
        }
        for (name, value) in stage.image.env() {
            command.set_env(&name, &value);
        }
        command.cwd = stage.image.get_str("WorkingDir").map(String::from);
        command.user = stage.image.get_str("User").map(String::from);
        let isolation = Isolation {
            hostname: BUILD_HOSTNAME.into(),
            user_namespace: UserNamespace::Shared,
        };
        let config = hardened(config_on_layers(&lowers, &top, command, &isolation)?)?;
        let outcome = run_limited(&config, &self.options.limits)?;
        if outcome.code != 0 {
            return Err(StepError::Failed {
                argv: json(&argv),
                code: outcome.code,
                why: explain(&outcome, &self.options.limits),
            });
        }
        let layer = self.store_layer(&top.upper)?;
        let _ = fs::remove_dir_all(&top.dir);
        Ok(layer)
    }
    // ANCHOR_END: run

    /// A directory written out as a layer and put in the store.
    pub(crate) fn store_layer(&mut self, dir: &std::path::Path) -> Result<Layer, StepError> {
        let temp = self.scratch.fresh_path("layer");
        let file = store_layer_dir(&self.engine.store, dir, &temp)?;
        Ok(Layer::from(&file))
    }
}
