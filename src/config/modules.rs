//! The files an Action may `require` by relative path: the `.js`, `.cjs`
//! and `.json` files in its directory and below, read once at start-up
//! (Actions never touch the disk at run time).

use std::path::{Path, PathBuf};

use super::ConfigError;

/// How deep below the Action's directory modules are looked for.
const MAX_DEPTH: usize = 4;
/// At most this many module files per Action directory.
const MAX_FILES: usize = 256;
/// Larger files are not modules an Action should load per login.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// `(path relative to the Action's directory with '/' separators, source)`.
pub type Modules = Vec<(String, String)>;

/// Reads the modules next to `action_file`.
pub fn next_to(action_file: &Path) -> Result<Modules, ConfigError> {
    let root = dir_of(action_file);
    let mut found = Vec::new();
    walk(root, root, 0, &mut found)?;
    found.sort();
    Ok(found)
}

/// The directory a file is in; `.` for a bare file name (whose parent is
/// the empty path, which cannot be read).
pub fn dir_of(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn walk(root: &Path, dir: &Path, depth: usize, found: &mut Modules) -> Result<(), ConfigError> {
    let read = |path: &Path, e: std::io::Error| ConfigError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| read(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| read(dir, e))?;
        let path: PathBuf = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        let meta = entry.metadata().map_err(|e| read(&path, e))?;
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                walk(root, &path, depth + 1, found)?;
            }
            continue;
        }
        let module = [".js", ".cjs", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if !module || meta.len() > MAX_FILE_BYTES || found.len() >= MAX_FILES {
            continue;
        }
        let source = std::fs::read_to_string(&path).map_err(|e| read(&path, e))?;
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        found.push((relative, source));
    }
    Ok(())
}
