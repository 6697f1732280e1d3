//! Node's CommonJS resolution algorithm (`require.resolve`), run at
//! start-up against the disk and at run time against what start-up read.
//!
//! Relative and absolute specifiers are files (`X`, `X.js`, `X.json`,
//! `X.cjs`) or directories (`package.json` `main`, `index.js`,
//! `index.json`); bare specifiers are packages looked up in `node_modules`
//! directories from the requiring file's directory upward, honouring
//! `package.json` `exports` (subpaths, patterns, conditions) with the
//! conditions [`CONDITIONS`]. Nothing outside the actions root is ever
//! probed, and a file whose real path (symlinks followed) leaves the root is
//! refused.
//!
//! - this file: the algorithm (files, directories, `node_modules`) and the
//!   [`Probe`] it runs against;
//! - `exports`: a package's `package.json` `exports` and its conditions;
//! - `esm`: refusing ES modules (Actions load CommonJS);
//! - `builtins`: Node's built-in modules and which ones Actions may not use;
//! - `scan`: the literal `require`s in a source, found without parsing it.

mod builtins;
mod esm;
mod exports;
mod scan;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

pub use builtins::{NODE_BUILTINS, builtin, builtin_refusal, refused_on_use};
pub use exports::CONDITIONS;
pub use scan::scan_requires;

use esm::check_commonjs;
use exports::load_package;

/// What resolution needs from a file system: whether a path is a file
/// (and its real path), and a directory's parsed `package.json`.
pub trait Probe {
    /// The actions root: every path probed lies under it.
    fn root(&self) -> &Path;
    /// `Some(real path)` when `path` is a regular file. An error when the
    /// file's real path leaves the root (a symlink out of it).
    fn file(&mut self, path: &Path) -> Result<Option<PathBuf>, String>;
    /// The parsed `package.json` in `dir`, if there is one.
    fn package_json(&mut self, dir: &Path) -> Result<Option<Arc<Value>>, String>;
}

/// Removes `.` and resolves `..` lexically (the path is absolute).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `(package name, subpath)` of a bare specifier: `@scope/pkg/a/b` →
/// `("@scope/pkg", "/a/b")`, `pkg` → `("pkg", "")`.
pub fn split_package(spec: &str) -> Option<(&str, &str)> {
    let name_end = if spec.starts_with('@') {
        let slash = spec.find('/')?;
        spec[slash + 1..]
            .find('/')
            .map_or(spec.len(), |i| slash + 1 + i)
    } else {
        spec.find('/').unwrap_or(spec.len())
    };
    let (name, sub) = spec.split_at(name_end);
    let valid = !name.is_empty()
        && !name.ends_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    valid.then_some((name, sub))
}

/// Whether `spec` names a file by path rather than a package.
pub fn is_path(spec: &str) -> bool {
    spec == "."
        || spec == ".."
        || spec.starts_with("./")
        || spec.starts_with("../")
        || spec.starts_with('/')
}

/// Resolves `spec` required from a file in `from_dir` to a file's real path.
/// The error says why, without the "Cannot find module" prefix.
pub fn resolve(probe: &mut dyn Probe, spec: &str, from_dir: &Path) -> Result<PathBuf, String> {
    let root = probe.root().to_path_buf();
    let file = if is_path(spec) {
        let joined = if spec.starts_with('/') {
            PathBuf::from(spec)
        } else {
            from_dir.join(spec)
        };
        let target = normalize(&joined);
        if !target.starts_with(&root) {
            return Err("the path leads outside the actions root".into());
        }
        let as_file = if spec.ends_with('/') || spec == "." || spec == ".." {
            None
        } else {
            load_as_file(probe, &target)?
        };
        match as_file {
            Some(file) => file,
            None => load_as_directory(probe, &target)?.ok_or_else(|| "no such file".to_owned())?,
        }
    } else if spec.starts_with('#') {
        return Err("package.json \"imports\" (#…) are not supported".into());
    } else {
        let (name, sub) =
            split_package(spec).ok_or_else(|| "not a valid package name".to_owned())?;
        load_node_modules(probe, name, sub, from_dir)?.ok_or_else(|| {
            format!("package '{name}' is not installed in a node_modules directory between the requiring file and the actions root")
        })?
    };
    check_commonjs(probe, &file)?;
    Ok(file)
}

fn load_as_file(probe: &mut dyn Probe, target: &Path) -> Result<Option<PathBuf>, String> {
    if let Some(file) = probe.file(target)? {
        return Ok(Some(file));
    }
    let Some(name) = target.file_name() else {
        return Ok(None);
    };
    for ext in [".js", ".json", ".cjs"] {
        let mut with_ext = name.to_os_string();
        with_ext.push(ext);
        if let Some(file) = probe.file(&target.with_file_name(with_ext))? {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

fn load_index(probe: &mut dyn Probe, dir: &Path) -> Result<Option<PathBuf>, String> {
    for index in ["index.js", "index.json"] {
        if let Some(file) = probe.file(&dir.join(index))? {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

fn load_as_directory(probe: &mut dyn Probe, dir: &Path) -> Result<Option<PathBuf>, String> {
    if let Some(package) = probe.package_json(dir)?
        && let Some(main) = package.get("main").and_then(Value::as_str)
        && !main.is_empty()
    {
        let target = normalize(&dir.join(main));
        if target.starts_with(probe.root()) {
            if let Some(file) = load_as_file(probe, &target)? {
                return Ok(Some(file));
            }
            if let Some(file) = load_index(probe, &target)? {
                return Ok(Some(file));
            }
        }
    }
    load_index(probe, dir)
}

fn load_node_modules(
    probe: &mut dyn Probe,
    name: &str,
    sub: &str,
    from_dir: &Path,
) -> Result<Option<PathBuf>, String> {
    let root = probe.root().to_path_buf();
    let mut dir = Some(from_dir.to_path_buf());
    while let Some(current) = dir {
        if !current.starts_with(&root) {
            break;
        }
        if current.file_name().is_none_or(|n| n != "node_modules") {
            let package_dir = current.join("node_modules").join(name);
            if let Some(file) = load_package(probe, &package_dir, name, sub)? {
                return Ok(Some(file));
            }
        }
        if current == root {
            break;
        }
        dir = current.parent().map(Path::to_path_buf);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_split_like_node() {
        assert_eq!(split_package("axios"), Some(("axios", "")));
        assert_eq!(split_package("axios/lib/x"), Some(("axios", "/lib/x")));
        assert_eq!(
            split_package("@xmldom/xmldom"),
            Some(("@xmldom/xmldom", ""))
        );
        assert_eq!(split_package("@a/b/c.js"), Some(("@a/b", "/c.js")));
        assert_eq!(split_package("@a"), None);
    }
}
