//! The two parts of an imported `detour.toml`, split by [`MARKER`]: above
//! it the operator's (kept byte for byte), below it the import's (with a
//! hash, so a later import sees a hand edit there and refuses rather than
//! lose it). Only each Action's `allow_hosts` is the operator's below the
//! marker: left out of the hash and carried over by Action name.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::ImportError;

/// The line that splits `detour.toml`: above is the operator's, below is
/// rewritten by `detour import`.
pub const MARKER: &str = "# ---- detour import: everything below this line is rewritten by each import (except allow_hosts); edit above it ----";
const HASH_PREFIX: &str = "# imported part sha256: ";

/// What a previous import left in `detour.toml`.
#[derive(Debug, Default)]
pub struct Previous {
    /// The operator's part, exactly as it is (line endings included).
    pub operator: String,
    /// Each Action's `allow_hosts` statement (one line or several), by
    /// Action name.
    pub hosts: BTreeMap<String, String>,
    /// The code files the previous import listed (`actions/x.js`, …).
    pub files: Vec<String>,
}

/// `detour.toml`'s text: the operator's part, the marker, the hash, the
/// imported part.
pub fn compose(operator: &str, imported: &str) -> String {
    format!(
        "{operator}{MARKER}\n{HASH_PREFIX}{}\n{imported}",
        hash(imported)
    )
}

/// The `allow_hosts` statements of `part`, as line ranges: from the line
/// that starts one to the line that closes its array (a multi-line array
/// is one statement).
fn host_statements(lines: &[&str]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].trim_start().starts_with("allow_hosts") {
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0i64;
        loop {
            // Brackets outside strings and comments; host names hold none.
            let code = lines[i].split('#').next().unwrap_or_default();
            depth += code.matches('[').count() as i64 - code.matches(']').count() as i64;
            i += 1;
            if depth <= 0 || i >= lines.len() {
                break;
            }
        }
        out.push(start..i);
    }
    out
}

/// The hash of an imported part, `allow_hosts` statements left out (they
/// are the operator's). Line endings do not count.
fn hash(part: &str) -> String {
    let lines: Vec<&str> = part.lines().collect();
    let skipped = host_statements(&lines);
    let mut hasher = Sha256::new();
    for (i, line) in lines.iter().enumerate() {
        if skipped.iter().any(|r| r.contains(&i)) {
            continue;
        }
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Splits an existing `detour.toml` at `path` into what the next import
/// keeps, or refuses, saying what would be lost.
pub fn existing(path: &Path, text: &str) -> Result<Previous, ImportError> {
    let Some(at) = text.find(MARKER) else {
        return Err(ImportError(format!(
            "{} exists and was not written by detour import (it has no marker line): importing would replace it. Move it away, or put this line above the part to replace: {MARKER}",
            path.display()
        )));
    };
    let operator = text[..at].to_owned();
    let rest = &text[at + MARKER.len()..];
    // An editor may have turned the file's line endings into CRLF.
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))
        .unwrap_or(rest);
    let (recorded, imported) = match rest.split_once('\n') {
        Some((first, tail)) if first.starts_with(HASH_PREFIX) => {
            (first[HASH_PREFIX.len()..].trim().to_owned(), tail)
        }
        _ => (String::new(), rest),
    };
    if recorded != hash(imported) {
        let line = super::names::line_of(text, at) + 1;
        return Err(ImportError(format!(
            "{}: the imported part (below line {line}) was edited since the last import; importing again would lose those edits. Move them above the marker line, the part that is yours, or delete the part below it",
            path.display()
        )));
    }
    let lines: Vec<&str> = imported.lines().collect();
    let mut hosts = BTreeMap::new();
    for range in host_statements(&lines) {
        // The Action is the one whose `name =` comes last before it.
        let name = lines[..range.start].iter().rev().find_map(|line| {
            let value = line.trim_start().strip_prefix("name")?.trim_start();
            let value = value.strip_prefix('=')?;
            toml::from_str::<toml::Table>(&format!("v = {}", value.trim()))
                .ok()
                .and_then(|t| t.get("v").and_then(|v| v.as_str()).map(str::to_owned))
        });
        if let Some(name) = name {
            let statement: String = lines[range].iter().map(|l| format!("{l}\n")).collect();
            hosts.insert(name, statement);
        }
    }
    let files = toml::from_str::<toml::Table>(imported)
        .map(|table| {
            ["actions", "modules"]
                .iter()
                .filter_map(|key| table.get(*key).and_then(|v| v.as_array()))
                .flatten()
                .filter_map(|entry| entry.get("file").and_then(|f| f.as_str()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Previous {
        operator,
        hosts,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_line_allow_hosts_is_one_statement_left_out_of_the_hash() {
        let one = "[[actions]]\nname = \"a\"\nallow_hosts = [\"x\"]\n";
        let many = "[[actions]]\nname = \"a\"\nallow_hosts = [\n  \"x\",   # ours\n  \"y\",\n]\n";
        assert_eq!(hash(one), hash(many));
        let lines: Vec<&str> = many.lines().collect();
        assert_eq!(host_statements(&lines), vec![2..6]);
    }
}
