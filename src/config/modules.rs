//! The code Actions may `require`, read once when the config loads:
//! the Actions' own files, the files they require by relative path, the
//! Actions Modules (`require('actions:<name>')`) and the npm packages they
//! declare, installed in `node_modules` under the actions root. Actions
//! never touch the disk at run time: every file they can reach is read
//! here, and `require` at run time only looks things up in this set.
//!
//! Rules enforced here (and again at run time for `require`s built at run
//! time): nothing outside the actions root (symlinks followed), a bare
//! package in an Action's or Module's own code must be one of its declared
//! `dependencies`, a declared dependency must be installed at its exact
//! version, and every `require('literal')` in an Action's or Module's own
//! code must resolve.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ConfigError;
use super::resolve::{self, Probe};

/// Larger files are not code an Action should carry.
const MAX_FILE_BYTES: u64 = 8 << 20;
/// At most this many files in all (Actions, modules, packages).
const MAX_FILES: usize = 20_000;

/// Every file the configured Actions can reach, and how their static
/// `require`s resolve. Shared by all Actions of one configuration.
#[derive(Debug, Default)]
pub struct CodeSet {
    /// The actions root (a real path), or `None` for code embedded in the
    /// binary, which can require nothing but built-ins.
    root: Option<PathBuf>,
    /// The files, indexed by file id.
    pub files: Vec<CodeFile>,
    /// Real path -> file id.
    index: HashMap<PathBuf, usize>,
    /// Every path probed while resolving at start-up -> its real path when
    /// it was a file: run-time resolution replays these probes.
    probes: HashMap<PathBuf, Option<PathBuf>>,
    /// Every `package.json` read (or looked for) at start-up, by directory.
    packages: HashMap<PathBuf, Option<Arc<Value>>>,
    /// Actions Modules by name.
    modules: BTreeMap<String, Module>,
}

#[derive(Debug)]
struct Module {
    entry: usize,
    version: String,
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
    dir: PathBuf,
    /// The root its `require`s stay under: the actions root, or for an
    /// Action file the config names outside it, that file's directory.
    root: Arc<PathBuf>,
    /// Its statically visible `require`s, resolved once.
    requires: Option<BTreeMap<String, Result<usize, String>>>,
    /// For an Action's or Module's own file: the packages its owner
    /// declared, which it may require by name (at start-up and at run
    /// time alike).
    declared: BTreeSet<String>,
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

/// Start-up probing: the disk, under the root, recorded for run time.
struct Disk<'a> {
    root: &'a Path,
    probes: &'a mut HashMap<PathBuf, Option<PathBuf>>,
    packages: &'a mut HashMap<PathBuf, Option<Arc<Value>>>,
}

impl Probe for Disk<'_> {
    fn root(&self) -> &Path {
        self.root
    }
    fn file(&mut self, path: &Path) -> Result<Option<PathBuf>, String> {
        if let Some(known) = self.probes.get(path) {
            return Ok(known.clone());
        }
        if !path.starts_with(self.root) {
            return Err("the path leads outside the actions root".into());
        }
        let found = match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {
                let real = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
                if !real.starts_with(self.root) {
                    return Err(format!(
                        "{} is a link to a file outside the actions root",
                        relative(self.root, path)
                    ));
                }
                Some(real)
            }
            _ => None,
        };
        self.probes.insert(path.to_path_buf(), found.clone());
        Ok(found)
    }
    fn package_json(&mut self, dir: &Path) -> Result<Option<Arc<Value>>, String> {
        if let Some(known) = self.packages.get(dir) {
            return Ok(known.clone());
        }
        let path = dir.join("package.json");
        let parsed = match self.file(&path)? {
            Some(real) => {
                if std::fs::metadata(&real).is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
                    return Err(format!("{} is too large", relative(self.root, &path)));
                }
                let text = std::fs::read_to_string(&real)
                    .map_err(|e| format!("cannot read {}: {e}", relative(self.root, &path)))?;
                let value: Value = serde_json::from_str(&text).map_err(|e| {
                    format!("{} is not valid JSON: {e}", relative(self.root, &path))
                })?;
                Some(Arc::new(value))
            }
            None => None,
        };
        self.packages.insert(dir.to_path_buf(), parsed.clone());
        Ok(parsed)
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Who owns the code being read: an Action or an Actions Module.
struct Owner<'a> {
    /// `action "x"` or `module "x"`, the start of every message.
    label: String,
    dependencies: &'a BTreeMap<String, String>,
    /// Modules it pinned (`None` for a Module: Modules cannot require
    /// other Modules).
    modules: Option<&'a BTreeMap<String, String>>,
}

/// Builds a [`CodeSet`]: Actions Modules first, then the Actions.
pub struct Builder {
    set: CodeSet,
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

    fn root(&self) -> Result<&Path, String> {
        self.set
            .root
            .as_deref()
            .ok_or_else(|| "code embedded in the binary cannot require files".to_owned())
    }

    /// Adds a file by real path, under `root`; its id.
    fn add_file(&mut self, real: &Path, root: &Arc<PathBuf>) -> Result<usize, String> {
        if let Some(&id) = self.set.index.get(real) {
            return Ok(id);
        }
        let name = relative(root, real);
        if self.set.files.len() >= MAX_FILES {
            return Err(format!("more than {MAX_FILES} files to load"));
        }
        let meta = std::fs::metadata(real).map_err(|e| format!("cannot read {name}: {e}"))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!(
                "{name} is larger than {} MiB",
                MAX_FILE_BYTES >> 20
            ));
        }
        let mut source =
            std::fs::read_to_string(real).map_err(|e| format!("cannot read {name}: {e}"))?;
        let json = real.extension().is_some_and(|e| e == "json");
        if json {
            serde_json::from_str::<serde::de::IgnoredAny>(&source)
                .map_err(|e| format!("{name} is not valid JSON: {e}"))?;
        } else if source.starts_with("#!") {
            // A hashbang line is not JavaScript inside the CommonJS wrapper.
            source.replace_range(0..2, "//");
        }
        let package = real
            .strip_prefix(root.as_path())
            .unwrap_or(real)
            .components()
            .any(|c| c.as_os_str() == "node_modules");
        let id = self.set.files.len();
        self.set.files.push(CodeFile {
            name,
            json,
            source,
            package,
            dir: real.parent().unwrap_or(root).to_path_buf(),
            root: root.clone(),
            requires: None,
            declared: BTreeSet::new(),
        });
        self.set.index.insert(real.to_path_buf(), id);
        Ok(id)
    }

    /// The static `require`s of file `id`, resolved once.
    fn requires(&mut self, id: usize) -> BTreeMap<String, Result<usize, String>> {
        if let Some(known) = self.set.files.get(id).and_then(|f| f.requires.clone()) {
            return known;
        }
        let Some(file) = self.set.files.get(id) else {
            return BTreeMap::new();
        };
        let specs = if file.json {
            Vec::new()
        } else {
            resolve::scan_requires(&file.source)
        };
        let dir = file.dir.clone();
        let root = file.root.clone();
        let mut out = BTreeMap::new();
        for spec in specs {
            if resolve::builtin(&spec).is_some() || spec.starts_with("actions:") {
                continue;
            }
            let found = if self.set.root.is_none() {
                Err("code embedded in the binary can only require built-ins".to_owned())
            } else {
                let mut disk = Disk {
                    root: &root,
                    probes: &mut self.set.probes,
                    packages: &mut self.set.packages,
                };
                resolve::resolve(&mut disk, &spec, &dir)
                    .and_then(|real| self.add_file(&real, &root))
            };
            out.insert(spec, found);
        }
        if let Some(file) = self.set.files.get_mut(id) {
            file.requires = Some(out.clone());
        }
        out
    }

    /// Reads the closure of `entry` for `owner`, checking its own code's
    /// `require`s; the ids of every file reached.
    fn walk(&mut self, entry: usize, owner: &Owner<'_>) -> Result<BTreeSet<usize>, ConfigError> {
        let fail = |message: String| ConfigError::Code(format!("{}: {message}", owner.label));
        let mut seen = BTreeSet::from([entry]);
        let mut stack = vec![entry];
        while let Some(id) = stack.pop() {
            let requires = self.requires(id);
            let (own, name) = match self.set.files.get_mut(id) {
                Some(f) => {
                    if !f.package {
                        f.declared.extend(owner.dependencies.keys().cloned());
                    }
                    (!f.package, f.name.clone())
                }
                None => continue,
            };
            if own {
                for spec in scan_own_extras(&self.set.files[id]) {
                    let Some(module) = spec.strip_prefix("actions:") else {
                        continue;
                    };
                    match owner.modules {
                        None => {
                            return Err(fail(format!(
                                "{name} requires '{spec}': an Actions Module cannot require another"
                            )));
                        }
                        Some(pinned) if !pinned.contains_key(module) => {
                            return Err(fail(format!(
                                "{name} requires '{spec}' but the Action does not pin it in `modules` (e.g. modules = {{ {module} = \"<version>\" }})"
                            )));
                        }
                        Some(_) => {}
                    }
                }
            }
            for (spec, found) in requires {
                if own
                    && !resolve::is_path(&spec)
                    && let Some((package, _)) = resolve::split_package(&spec)
                    && !owner.dependencies.contains_key(package)
                {
                    return Err(fail(format!(
                        "{name} requires '{spec}', but '{package}' is not in its `dependencies` (Auth0 would not install it)"
                    )));
                }
                match found {
                    Ok(target) => {
                        if own
                            && resolve::is_path(&spec)
                            && self.set.files.get(target).is_some_and(|f| f.package)
                        {
                            return Err(fail(format!(
                                "{name} requires '{spec}': require packages by name, not by a path into node_modules"
                            )));
                        }
                        if seen.insert(target) {
                            stack.push(target);
                        }
                    }
                    Err(why) if own => {
                        return Err(fail(format!(
                            "cannot resolve require('{spec}') in {name}: {why}"
                        )));
                    }
                    // A package's own unresolvable require (an optional
                    // dependency, a literal in a comment) throws only if it
                    // runs.
                    Err(_) => {}
                }
            }
        }
        Ok(seen)
    }

    /// Checks that each declared dependency is installed, at its version,
    /// in a `node_modules` between `from_dir` and the root.
    fn check_installed(&mut self, owner: &Owner<'_>, entry: usize) -> Result<(), ConfigError> {
        let Some(file) = self.set.files.get(entry) else {
            return Ok(());
        };
        let (root, from_dir) = (file.root.as_ref().clone(), file.dir.clone());
        for (name, version) in owner.dependencies {
            let fail = |message: String| ConfigError::Code(format!("{}: {message}", owner.label));
            if resolve::split_package(name).is_none_or(|(_, sub)| !sub.is_empty()) {
                return Err(fail(format!("dependency `{name}` is not a package name")));
            }
            if !version.starts_with(|c: char| c.is_ascii_digit())
                || !version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
            {
                return Err(fail(format!(
                    "dependency {name}@{version}: the version must be exact (like 1.7.9), as in Auth0"
                )));
            }
            let mut disk = Disk {
                root: &root,
                probes: &mut self.set.probes,
                packages: &mut self.set.packages,
            };
            let mut dir = Some(from_dir.clone());
            let mut installed = None;
            while let Some(current) = dir {
                if !current.starts_with(&root) {
                    break;
                }
                let package_dir = current.join("node_modules").join(name);
                if let Some(package) = disk.package_json(&package_dir).map_err(fail)? {
                    installed = Some((package_dir, package));
                    break;
                }
                if current == root {
                    break;
                }
                dir = current.parent().map(Path::to_path_buf);
            }
            let Some((package_dir, package)) = installed else {
                return Err(fail(format!(
                    "dependency {name}@{version} is not installed (run npm ci in {})",
                    root.display()
                )));
            };
            let found = package.get("version").and_then(Value::as_str).unwrap_or("");
            if found != version {
                return Err(fail(format!(
                    "dependency {name}@{version} is installed at version {} in {} (run npm ci in {})",
                    if found.is_empty() { "(none)" } else { found },
                    relative(&root, &package_dir),
                    root.display()
                )));
            }
        }
        Ok(())
    }

    /// The packages `file` requires by name that are installed between its
    /// directory and the root, with their installed versions: what
    /// `detour run-action` declares for an Action run without a config.
    pub fn installed_requires(&mut self, file: &Path) -> BTreeMap<String, String> {
        let mut found = BTreeMap::new();
        let (Ok(root), Ok(source), Some(dir)) = (
            self.root().map(Path::to_path_buf),
            std::fs::read_to_string(file),
            std::fs::canonicalize(file)
                .ok()
                .and_then(|f| f.parent().map(Path::to_path_buf)),
        ) else {
            return found;
        };
        let mut disk = Disk {
            root: &root,
            probes: &mut self.set.probes,
            packages: &mut self.set.packages,
        };
        for spec in resolve::scan_requires(&source) {
            if resolve::is_path(&spec) || resolve::builtin(&spec).is_some() {
                continue;
            }
            let Some((name, _)) = resolve::split_package(&spec) else {
                continue;
            };
            let mut current = Some(dir.clone());
            while let Some(d) = current {
                if !d.starts_with(&root) {
                    break;
                }
                if let Ok(Some(package)) = disk.package_json(&d.join("node_modules").join(name)) {
                    if let Some(version) = package.get("version").and_then(Value::as_str) {
                        found.insert(name.to_owned(), version.to_owned());
                    }
                    break;
                }
                if d == root {
                    break;
                }
                current = d.parent().map(Path::to_path_buf);
            }
        }
        found
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

    /// The closure of an already checked entry.
    fn walk_quiet(&mut self, entry: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::from([entry]);
        let mut stack = vec![entry];
        while let Some(id) = stack.pop() {
            for found in self.requires(id).into_values().flatten() {
                if seen.insert(found) {
                    stack.push(found);
                }
            }
        }
        seen
    }

    fn hash(
        &self,
        entry: usize,
        closure: &BTreeSet<usize>,
        dependencies: &BTreeMap<String, String>,
        modules: &BTreeMap<String, String>,
    ) -> String {
        let source = self.set.files.get(entry).map_or("", |f| f.source.as_str());
        // An Action that requires nothing keeps the hash of its source, so
        // logins suspended before this scheme still resume.
        if closure.len() == 1 && dependencies.is_empty() && modules.is_empty() {
            return hex(&Sha256::digest(source.as_bytes()));
        }
        let mut hasher = Sha256::new();
        hasher.update(source.as_bytes());
        let mut files: Vec<&CodeFile> = closure
            .iter()
            .filter_map(|&id| self.set.files.get(id))
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        for file in files {
            hasher.update(b"\0file\0");
            hasher.update(file.name.as_bytes());
            hasher.update(b"\0");
            hasher.update(file.source.as_bytes());
        }
        for (name, version) in dependencies {
            hasher.update(format!("\0dependency\0{name}@{version}").as_bytes());
        }
        for (name, version) in modules {
            hasher.update(format!("\0module\0{name}@{version}").as_bytes());
        }
        hex(&hasher.finalize())
    }
}

/// `actions:` specifiers in a file (the scan skips them when resolving).
fn scan_own_extras(file: &CodeFile) -> Vec<String> {
    if file.json {
        return Vec::new();
    }
    resolve::scan_requires(&file.source)
        .into_iter()
        .filter(|s| s.starts_with("actions:"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The directory a file is in; `.` for a bare file name (whose parent is
/// the empty path, which cannot be read).
pub fn dir_of(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).ok();
        }
        std::fs::write(path, text).ok();
    }

    #[test]
    fn a_package_directory_linked_out_of_the_root_is_refused() {
        let (root, outside) = (
            tempfile::tempdir().ok().unwrap(),
            tempfile::tempdir().ok().unwrap(),
        );
        write(
            outside.path(),
            "package.json",
            r#"{"name": "evil", "version": "1.0.0"}"#,
        );
        write(outside.path(), "index.js", "module.exports = 1;");
        std::fs::create_dir_all(root.path().join("node_modules")).ok();
        std::os::unix::fs::symlink(outside.path(), root.path().join("node_modules/evil")).ok();
        write(root.path(), "a.js", "require('evil');");
        let mut builder = Builder::new(root.path()).ok().unwrap();
        let deps = BTreeMap::from([("evil".to_owned(), "1.0.0".to_owned())]);

        let err = builder
            .add_action("a", &root.path().join("a.js"), &deps, &BTreeMap::new())
            .err()
            .unwrap();

        assert!(
            err.to_string().contains("outside the actions root"),
            "{err}"
        );
    }

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
