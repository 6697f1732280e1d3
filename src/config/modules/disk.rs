//! Start-up probing: the file system under the actions root, each answer
//! recorded so run-time resolution can replay it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::{MAX_FILE_BYTES, relative};
use crate::config::resolve::Probe;

/// Start-up probing: the disk, under the root, recorded for run time.
pub(super) struct Disk<'a> {
    pub(super) root: &'a Path,
    pub(super) probes: &'a mut HashMap<PathBuf, Option<PathBuf>>,
    pub(super) packages: &'a mut HashMap<PathBuf, Option<Arc<Value>>>,
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{Builder, write};

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
}
