//! The npm packages an Action or Module declares: installed, at their
//! exact versions, between its file and the actions root.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::builder::{Builder, Owner};
use super::disk::Disk;
use super::relative;
use crate::config::ConfigError;
use crate::config::resolve::{self, Probe};

impl Builder {
    /// Checks that each declared dependency is installed, at its version,
    /// in a `node_modules` between `from_dir` and the root.
    pub(super) fn check_installed(
        &mut self,
        owner: &Owner<'_>,
        entry: usize,
    ) -> Result<(), ConfigError> {
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
}
