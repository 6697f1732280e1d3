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
//!
//! - `code_set`: what start-up read ([`CodeSet`]) and the run-time
//!   `require` against it;
//! - `builder`: registering Modules and Actions ([`Builder`]);
//! - `closure`: reading a file and everything its `require`s reach,
//!   checking an owner's own code;
//! - `dependencies`: declared npm packages installed at their versions;
//! - `hash`: the hash a suspended login pins;
//! - `disk`: start-up probing of the file system, confined to the root.

mod builder;
mod closure;
mod code_set;
mod dependencies;
mod disk;
mod hash;

use std::path::Path;

pub use builder::Builder;
pub use code_set::{ActionCode, CodeFile, CodeSet};

/// Larger files are not code an Action should carry.
const MAX_FILE_BYTES: u64 = 8 << 20;
/// At most this many files in all (Actions, modules, packages).
const MAX_FILES: usize = 20_000;

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
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

/// Writes `text` at `path` under `root`, creating directories (tests).
#[cfg(test)]
fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(path, text).ok();
}
