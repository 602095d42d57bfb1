//! A stage: from one FROM to the next, the image it is building and what
//! its later steps read (ARG values, the SHELL, whether CMD was set).

use std::collections::BTreeMap;

use cratebox_dockerfile::{Form, DEFAULT_SHELL};
use cratebox_image::new_image::NewImage;

/// The state of one stage while its steps run.
#[derive(Debug, Clone)]
pub struct Stage {
    /// `FROM ... AS name`, lowercased.
    pub name: Option<String>,
    /// The image so far: the base, plus every step done.
    pub image: NewImage,
    /// ARGs declared in this stage, with their values (`None`: no value).
    pub args: BTreeMap<String, Option<String>>,
    /// The SHELL in force for shell forms.
    pub shell: Vec<String>,
    /// Whether this stage set a CMD (an ENTRYPOINT then keeps it).
    pub cmd_set: bool,
}

impl Stage {
    /// A stage starting from `image`.
    pub fn new(name: Option<String>, image: NewImage) -> Stage {
        Stage {
            name,
            image,
            args: BTreeMap::new(),
            shell: DEFAULT_SHELL.iter().map(|s| s.to_string()).collect(),
            cmd_set: false,
        }
    }

    /// The value of `$name` for expansion: ENV wins over ARG.
    pub fn var(&self, name: &str) -> Option<String> {
        self.image
            .env()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .or_else(|| self.args.get(name).cloned().flatten())
    }

    /// A shell or exec form as the argv it runs.
    pub fn argv(&self, form: &Form) -> Vec<String> {
        match form {
            Form::Exec(argv) => argv.clone(),
            Form::Shell(line) => self.shell.iter().cloned().chain([line.clone()]).collect(),
        }
    }

    /// The ARGs with values, as `NAME=value`: what a RUN sees in its
    /// environment.
    pub fn arg_env(&self) -> Vec<(String, String)> {
        self.args
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone())))
            .collect()
    }

    /// The short image ID to print after each step.
    pub fn short_id(&self) -> String {
        match &self.image.written {
            Some(written) => written.config.short().to_string(),
            None => "scratch".to_string(),
        }
    }
}
