//! Builds a [`CodeSet`]: Actions Modules first, then the Actions, each
//! with everything it can reach, checked when it is added.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::code_set::{ActionCode, CodeFile, CodeSet, Module};
use super::hex;
use crate::config::ConfigError;

/// Who owns the code being read: an Action or an Actions Module.
pub(super) struct Owner<'a> {
    /// `action "x"` or `module "x"`, the start of every message.
    pub(super) label: String,
    pub(super) dependencies: &'a BTreeMap<String, String>,
    /// Modules it pinned (`None` for a Module: Modules cannot require
    /// other Modules).
    pub(super) modules: Option<&'a BTreeMap<String, String>>,
}

/// Builds a [`CodeSet`]: Actions Modules first, then the Actions.
pub struct Builder {
    pub(super) set: CodeSet,
}

impl Builder {
    /// Code read from under `root` (the config file's directory).
    pub fn new(root: &Path) -> Result<Self, ConfigError> {
        let real = std::fs::canonicalize(root).map_err(|source| ConfigError::Read {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(Self {
            set: CodeSet {
                root: Some(real),
                ..CodeSet::default()
            },
        })
    }

    /// Code embedded in the binary: it can require built-ins only.
    pub fn embedded() -> Self {
        Self {
            set: CodeSet::default(),
        }
    }

    /// The finished set.
    pub fn finish(self) -> Arc<CodeSet> {
        Arc::new(self.set)
    }

    pub(super) fn root(&self) -> Result<&Path, String> {
        self.set
            .root
            .as_deref()
            .ok_or_else(|| "code embedded in the binary cannot require files".to_owned())
    }

    /// The real path of an entry file named by the config.
    fn entry(&mut self, label: &str, path: &Path) -> Result<usize, ConfigError> {
        let fail = |message: String| ConfigError::Code(format!("{label}: {message}"));
        let root = self.root().map_err(fail)?.to_path_buf();
        let real = std::fs::canonicalize(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        // An Action the config names outside the actions root keeps the
        // reach it always had: its own directory.
        let root = if real.starts_with(&root) {
            root
        } else {
            real.parent().map(Path::to_path_buf).unwrap_or(root)
        };
        self.add_file(&real, &Arc::new(root)).map_err(fail)
    }

    /// Registers an Actions Module (`[[modules]]`).
    pub fn add_module(
        &mut self,
        name: &str,
        path: &Path,
        version: &str,
        dependencies: &BTreeMap<String, String>,
    ) -> Result<(), ConfigError> {
        let owner = Owner {
            label: format!("module \"{name}\""),
            dependencies,
            modules: None,
        };
        let entry = self.entry(&owner.label, path)?;
        self.check_installed(&owner, entry)?;
        self.walk(entry, &owner)?;
        self.set.modules.insert(
            name.to_owned(),
            Module {
                entry,
                version: version.to_owned(),
            },
        );
        Ok(())
    }

    /// Reads an Action from disk and everything it can reach.
    pub fn add_action(
        &mut self,
        name: &str,
        path: &Path,
        dependencies: &BTreeMap<String, String>,
        modules: &BTreeMap<String, String>,
    ) -> Result<ActionCode, ConfigError> {
        let owner = Owner {
            label: format!("action \"{name}\""),
            dependencies,
            modules: Some(modules),
        };
        let fail = |message: String| ConfigError::Code(format!("{}: {message}", owner.label));
        let entry = self.entry(&owner.label, path)?;
        let mut pinned = BTreeMap::new();
        for (module, want) in modules {
            let Some(registered) = self.set.modules.get(module) else {
                return Err(fail(format!(
                    "pins module \"{module}\" at version {want}, but no [[modules]] entry is named \"{module}\""
                )));
            };
            if &registered.version != want {
                return Err(fail(format!(
                    "pins module \"{module}\" at version {want}, but the config registers version {}",
                    registered.version
                )));
            }
            pinned.insert(module.clone(), registered.entry);
        }
        self.check_installed(&owner, entry)?;
        let mut closure = self.walk(entry, &owner)?;
        for module in pinned.values() {
            closure.extend(self.walk_quiet(*module));
        }
        let hash = self.hash(entry, &closure, dependencies, modules);
        let uses_cache = closure
            .iter()
            .filter_map(|&id| self.set.files.get(id))
            .any(|f| !f.package && f.source.contains("cache"));
        Ok(ActionCode {
            entry,
            modules: pinned,
            hash,
            uses_cache,
        })
    }

    /// An Action embedded in the binary (the sample config).
    pub fn add_embedded_action(&mut self, name: &str, source: &str) -> ActionCode {
        let entry = self.set.files.len();
        self.set.files.push(CodeFile {
            name: name.to_owned(),
            json: false,
            source: source.to_owned(),
            package: false,
            dir: PathBuf::new(),
            root: Arc::new(PathBuf::new()),
            requires: Some(BTreeMap::new()),
            declared: BTreeSet::new(),
        });
        ActionCode {
            entry,
            hash: hex(&Sha256::digest(source.as_bytes())),
            uses_cache: source.contains("cache"),
            ..ActionCode::default()
        }
    }
}
