//! What start-up read: every file the configured Actions can reach, what
//! each Action may load, and the run-time `require` that only looks things
//! up in it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::config::resolve::{self, Probe};

/// Every file the configured Actions can reach, and how their static
/// `require`s resolve. Shared by all Actions of one configuration.
#[derive(Debug, Default)]
pub struct CodeSet {
    /// The actions root (a real path), or `None` for code embedded in the
    /// binary, which can require nothing but built-ins.
    pub(super) root: Option<PathBuf>,
    /// The files, indexed by file id.
    pub files: Vec<CodeFile>,
    /// Real path -> file id.
    pub(super) index: HashMap<PathBuf, usize>,
    /// Every path probed while resolving at start-up -> its real path when
    /// it was a file: run-time resolution replays these probes.
    pub(super) probes: HashMap<PathBuf, Option<PathBuf>>,
    /// Every `package.json` read (or looked for) at start-up, by directory.
    pub(super) packages: HashMap<PathBuf, Option<Arc<Value>>>,
    /// Actions Modules by name.
    pub(super) modules: BTreeMap<String, Module>,
}

/// An Actions Module: its entry file and the version the config registers.
#[derive(Debug)]
pub(super) struct Module {
    pub(super) entry: usize,
    pub(super) version: String,
}

/// One file an Action can reach.
#[derive(Debug)]
pub struct CodeFile {
    /// Its path relative to the actions root (`/`-separated): what
    /// `__filename` and stack traces show, never the host's layout.
    pub name: String,
    /// A `.json` file (parsed, not run).
    pub json: bool,
    /// The source text.
    pub source: String,
    /// Inside a `node_modules` directory (a package's file, not an
    /// Action's or a Module's own code).
    pub package: bool,
    /// Its real directory (resolution starts there).
    pub(super) dir: PathBuf,
    /// The root its `require`s stay under: the actions root, or for an
    /// Action file the config names outside it, that file's directory.
    pub(super) root: Arc<PathBuf>,
    /// Its statically visible `require`s, resolved once.
    pub(super) requires: Option<BTreeMap<String, Result<usize, String>>>,
    /// For an Action's or Module's own file: the packages its owner
    /// declared, which it may require by name (at start-up and at run
    /// time alike).
    pub(super) declared: BTreeSet<String>,
}

/// What one Action may load: its entry file, the Modules it pinned, and
/// the hash a suspended login is pinned to.
#[derive(Debug, Clone, Default)]
pub struct ActionCode {
    /// File id of the Action's own file.
    pub entry: usize,
    /// `actions:<name>` -> the Module's entry file id.
    pub modules: BTreeMap<String, usize>,
    /// SHA-256 over the Action's source, every file it can reach, its
    /// dependency versions and its Modules' versions (just the source's
    /// SHA-256 for an Action that requires nothing).
    pub hash: String,
    /// Whether its own code (its file, the files it requires by path, its
    /// Modules) mentions `cache`: only then is its `api.cache` loaded for a
    /// login. Packages are not searched: they do not get `api` unless the
    /// Action's own code hands it over, and many say "cache" for their own.
    pub uses_cache: bool,
}

impl CodeSet {
    /// The file with id `id`.
    pub fn file(&self, id: usize) -> Option<&CodeFile> {
        self.files.get(id)
    }

    /// Resolves `spec` required from file `from` by `action`, at run time,
    /// from what start-up read; built-ins served by the engine never get
    /// here. The error is the message `require` throws.
    pub fn resolve(&self, action: &ActionCode, from: usize, spec: &str) -> Result<usize, String> {
        let not_found = |why: &str| {
            let from = self.files.get(from).map_or("", |f| f.name.as_str());
            format!("Cannot find module '{spec}' from '{from}': {why}")
        };
        if let Some(name) = spec.strip_prefix("actions:") {
            return action.modules.get(name).copied().ok_or_else(|| {
                not_found("the Action does not list this Actions Module in its `modules`")
            });
        }
        if let Some(name) = resolve::builtin(spec) {
            return Err(resolve::builtin_refusal(spec, name));
        }
        let file = self
            .files
            .get(from)
            .ok_or_else(|| not_found("unknown file"))?;
        if !file.package
            && !resolve::is_path(spec)
            && let Some((name, _)) = resolve::split_package(spec)
            && !file.declared.contains(name)
        {
            return Err(not_found(&format!(
                "'{name}' is not among the dependencies of the Action or Module this file belongs to"
            )));
        }
        let found = match file.requires.as_ref().and_then(|r| r.get(spec)) {
            Some(known) => known.clone(),
            None => {
                if self.root.is_none() {
                    return Err(not_found("this Action can only require built-ins"));
                }
                let mut snapshot = Snapshot {
                    set: self,
                    root: &file.root,
                };
                resolve::resolve(&mut snapshot, spec, &file.dir).and_then(|real| {
                    self.index
                        .get(&real)
                        .copied()
                        .ok_or_else(|| "only files read at start-up can be required".to_owned())
                })
            }
        };
        let id = found.map_err(|why| not_found(&why))?;
        if !file.package && self.files.get(id).is_some_and(|f| f.package) && resolve::is_path(spec)
        {
            return Err(not_found(
                "require packages by name, not by a path into node_modules",
            ));
        }
        Ok(id)
    }
}

/// Run-time probing: only what start-up saw exists.
struct Snapshot<'a> {
    set: &'a CodeSet,
    root: &'a Path,
}

impl Probe for Snapshot<'_> {
    fn root(&self) -> &Path {
        self.root
    }
    fn file(&mut self, path: &Path) -> Result<Option<PathBuf>, String> {
        Ok(self.set.probes.get(path).cloned().flatten())
    }
    fn package_json(&mut self, dir: &Path) -> Result<Option<Arc<Value>>, String> {
        Ok(self.set.packages.get(dir).cloned().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Builder, write};
    use super::*;

    #[test]
    fn run_time_requires_reach_only_files_read_at_start_up() {
        let root = tempfile::tempdir().ok().unwrap();
        write(root.path(), "a.js", "require('./lib/x');");
        write(root.path(), "lib/x.js", "module.exports = 1;");
        write(root.path(), "lib/unread.js", "module.exports = 2;");
        let mut builder = Builder::new(root.path()).ok().unwrap();
        let code = builder
            .add_action(
                "a",
                &root.path().join("a.js"),
                &BTreeMap::new(),
                &BTreeMap::new(),
            )
            .ok()
            .unwrap();
        let set = builder.finish();

        let x = set.resolve(&code, code.entry, "./lib/x.js");
        let unread = set.resolve(&code, code.entry, "./lib/unread");
        let up = set.resolve(&code, code.entry, "../x");

        assert_eq!(
            x.ok().map(|id| set.files[id].name.clone()),
            Some("lib/x.js".into())
        );
        assert!(unread.is_err_and(|e| e.contains("no such file")));
        assert!(up.is_err_and(|e| e.contains("outside the actions root")));
    }
}
