//! Reading a file and everything its `require`s reach, resolved against
//! the disk once, with the rules for an Action's or Module's own code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::builder::{Builder, Owner};
use super::code_set::CodeFile;
use super::disk::Disk;
use super::{MAX_FILE_BYTES, MAX_FILES, relative};
use crate::config::ConfigError;
use crate::config::resolve;

impl Builder {
    /// Adds a file by real path, under `root`; its id.
    pub(super) fn add_file(&mut self, real: &Path, root: &Arc<PathBuf>) -> Result<usize, String> {
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
    pub(super) fn requires(&mut self, id: usize) -> BTreeMap<String, Result<usize, String>> {
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
    pub(super) fn walk(
        &mut self,
        entry: usize,
        owner: &Owner<'_>,
    ) -> Result<BTreeSet<usize>, ConfigError> {
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

    /// The closure of an already checked entry.
    pub(super) fn walk_quiet(&mut self, entry: usize) -> BTreeSet<usize> {
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
