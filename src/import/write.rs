//! Lays out the imported directory: `actions/<name>.js`,
//! `modules/<name>.js` and `detour.toml`.
//!
//! `detour.toml` has two parts split by [`MARKER`]. Above it is the
//! operator's (server, store, engine, upstreams): written with
//! placeholders the first time, never rewritten. Below it is the
//! import's (`[[actions]]`, `[[modules]]`), rewritten by every import;
//! only each Action's `allow_hosts` is the operator's there, and is carried
//! over by Action name. A hash of the imported part lets a later import see
//! any other hand edit there and refuse rather than lose it.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::ImportError;
use super::names::{toml_key, toml_string};
use super::plan::{Plan, Planned, PlannedModule};

/// The line that splits `detour.toml`: above is the operator's, below is
/// rewritten by `detour import`.
pub const MARKER: &str = "# ---- detour import: everything below this line is rewritten by each import (except allow_hosts); edit above it ----";
const HASH_PREFIX: &str = "# imported part sha256: ";

/// The `[[actions]]` entry of `planned` (without `allow_hosts`).
pub fn action_entry(planned: &Planned) -> String {
    let mut out = format!(
        "[[actions]]\nname = {}\nfile = {}\n",
        toml_string(&planned.action.name),
        toml_string(&planned.file)
    );
    if !planned.secrets.is_empty() {
        let pairs: Vec<String> = planned
            .secrets
            .iter()
            .map(|(name, var, _)| format!("{} = {}", toml_key(name), toml_string(var)))
            .collect();
        out.push_str(&format!("secrets = {{ {} }}\n", pairs.join(", ")));
    }
    if !planned.action.dependencies.is_empty() {
        out.push_str(&format!(
            "dependencies = {{ {} }}\n",
            inline(
                planned
                    .action
                    .dependencies
                    .iter()
                    .map(|d| (d.name.as_str(), d.version.as_str()))
            )
        ));
    }
    if !planned.modules.is_empty() {
        out.push_str(&format!(
            "modules = {{ {} }}\n",
            inline(
                planned
                    .modules
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
            )
        ));
    }
    out
}

/// The `[[modules]]` entry of `module`.
pub fn module_entry(module: &PlannedModule) -> String {
    let mut out = format!(
        "[[modules]]\nname = {}\nfile = {}\nversion = {}\n",
        toml_string(&module.name),
        toml_string(&module.file),
        toml_string(&module.version)
    );
    if !module.module.dependencies.is_empty() {
        out.push_str(&format!(
            "dependencies = {{ {} }}\n",
            inline(
                module
                    .module
                    .dependencies
                    .iter()
                    .map(|d| (d.name.as_str(), d.version.as_str()))
            )
        ));
    }
    out
}

fn inline<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .map(|(k, v)| format!("{} = {}", toml_key(k), toml_string(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The operator's part of a new `detour.toml`: placeholders to edit.
fn operator_part() -> String {
    r#"# Detour config written by `detour import`. This part, above the marker
# line, is yours: a later import never rewrites it.

[server]
listen = "127.0.0.1:8080"
public_url = "http://localhost:8080"   # placeholder: Detour's base URL as browsers see it

[store]
# redis_url = "redis://127.0.0.1:6379"   # without it: the in-memory store (one instance only)

# Placeholder: the identity provider that calls POST /v1/post-login in place
# of Auth0. Set its id (the result token's `aud`), the exact URLs it may
# return to, and the two variables (the result secret: at least 32 bytes,
# e.g. `openssl rand -base64 48`).
[[upstreams]]
id = "my-idp"
api_key_env = "DETOUR_UPSTREAM_API_KEY"
result_secret_env = "DETOUR_UPSTREAM_RESULT_SECRET"
return_to = ["https://idp.example.com/callback"]

"#
    .to_owned()
}

/// The variables the placeholder upstream names.
pub const UPSTREAM_VARS: [&str; 2] = ["DETOUR_UPSTREAM_API_KEY", "DETOUR_UPSTREAM_RESULT_SECRET"];

/// The imported part, with each Action's `allow_hosts` from `hosts` (by
/// name), or an empty list with a comment.
fn imported_part(plan: &Plan, hosts: &BTreeMap<String, String>) -> String {
    let mut out = String::from("\n# The post-login Actions, in the order the tenant runs them.\n");
    for planned in &plan.actions {
        out.push('\n');
        out.push_str(&action_entry(planned));
        match hosts.get(&planned.action.name) {
            Some(line) => out.push_str(line),
            None => out.push_str(
                "allow_hosts = []   # the hosts it may fetch ([\"*\"]: any, as in Auth0); yours: kept by later imports\n",
            ),
        }
    }
    for module in &plan.modules {
        out.push('\n');
        out.push_str(&module_entry(module));
    }
    out
}

/// The hash of an imported part, `allow_hosts` lines left out (they are
/// the operator's).
fn hash(part: &str) -> String {
    let mut hasher = Sha256::new();
    for line in part.lines() {
        if line.trim_start().starts_with("allow_hosts") {
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

/// Splits an existing `detour.toml` into the operator's part and the
/// `allow_hosts` lines of its Actions, or refuses, saying what would be lost.
fn existing(path: &Path, text: &str) -> Result<(String, BTreeMap<String, String>), ImportError> {
    let Some(at) = text.find(MARKER) else {
        return Err(ImportError(format!(
            "{} exists and was not written by detour import (it has no marker line): importing would replace it. Move it away, or put this line above the part to replace:\n{MARKER}",
            path.display()
        )));
    };
    let operator = text[..at].to_owned();
    let rest = &text[at + MARKER.len()..];
    let rest = rest.strip_prefix('\n').unwrap_or(rest);
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
    // Each Action's allow_hosts, as the operator wrote it.
    let mut hosts = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in imported.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("[[") {
            current = None;
        } else if let Some(value) = trimmed
            .strip_prefix("name =")
            .or_else(|| trimmed.strip_prefix("name="))
        {
            current = toml::from_str::<toml::Table>(&format!("v = {}", value.trim()))
                .ok()
                .and_then(|t| t.get("v").and_then(|v| v.as_str()).map(str::to_owned));
        } else if trimmed.starts_with("allow_hosts")
            && let Some(name) = &current
        {
            hosts.insert(name.clone(), format!("{line}\n"));
        }
    }
    Ok((operator, hosts))
}

/// Writes the directory; `true` when `detour.toml` was created (its
/// operator part holds placeholders).
pub fn write(plan: &Plan, out: &Path) -> Result<bool, ImportError> {
    let config = out.join("detour.toml");
    let (operator, hosts, created) = match std::fs::read_to_string(&config) {
        Ok(text) => {
            let (operator, hosts) = existing(&config, &text)?;
            (operator, hosts, false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (operator_part(), BTreeMap::new(), true)
        }
        Err(e) => {
            return Err(ImportError(format!(
                "cannot read {}: {e}",
                config.display()
            )));
        }
    };
    let io = |what: &Path, e: std::io::Error| {
        ImportError(format!("cannot write {}: {e}", what.display()))
    };
    for dir in [out.to_path_buf(), out.join("actions"), out.join("modules")] {
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    }
    for planned in &plan.actions {
        if let Some(code) = &planned.action.code {
            let path = out.join(&planned.file);
            std::fs::write(&path, code).map_err(|e| io(&path, e))?;
        }
    }
    for module in &plan.modules {
        if let Some(code) = &module.module.code {
            let path = out.join(&module.file);
            std::fs::write(&path, code).map_err(|e| io(&path, e))?;
        }
    }
    let imported = imported_part(plan, &hosts);
    let text = format!(
        "{operator}{MARKER}\n{HASH_PREFIX}{}\n{imported}",
        hash(&imported)
    );
    std::fs::write(&config, text).map_err(|e| io(&config, e))?;
    Ok(created)
}
