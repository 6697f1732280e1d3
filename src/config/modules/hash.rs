//! The hash a suspended login pins: a reload that changes anything the
//! Action can reach makes its pending continuations invalid.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::builder::Builder;
use super::code_set::CodeFile;
use super::hex;

impl Builder {
    /// SHA-256 over the Action's source, every file in its closure (by
    /// name), its dependency versions and its Modules' versions.
    pub(super) fn hash(
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
