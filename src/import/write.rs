//! Lays out the imported directory: `actions/<name>.js`,
//! `modules/<name>.js` and `detour.toml` (its two parts: see
//! `config_file.rs`).
//!
//! Every file is written to a temporary file beside it, then renamed over
//! it: an interrupted import leaves the old file or the new one, never half
//! of one, and a symlink planted where a code file goes is replaced, not
//! followed out of `--out`. Code files a previous import wrote for Actions
//! the export no longer has are removed (the report says which).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::ImportError;
use super::config_file::{Previous, compose, existing};
use super::names::{toml_key, toml_string};
use super::plan::{Plan, Planned, PlannedModule};

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

/// What writing the directory did.
#[derive(Debug, Default)]
pub struct Written {
    /// `detour.toml` was created now (its operator part holds
    /// placeholders) rather than updated.
    pub created: bool,
    /// Code files of a previous import removed: their Action or Module is
    /// no longer imported.
    pub removed: Vec<String>,
}

/// Whether `file` is a code file name an import writes (`actions/x.js`,
/// `modules/x.js`, a slug): only those are ever removed, whatever an
/// edited `detour.toml` lists.
fn is_import_file(file: &str) -> bool {
    let Some((dir, name)) = file.split_once('/') else {
        return false;
    };
    let Some(stem) = name.strip_suffix(".js") else {
        return false;
    };
    matches!(dir, "actions" | "modules")
        && !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory and a rename.
fn replace(path: &Path, contents: &[u8]) -> Result<(), ImportError> {
    let io = |e: std::io::Error| ImportError(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.detour-import-{}.tmp", std::process::id()));
    let result = (|| {
        // create_new: never opens (or follows) something already there.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(contents)?;
        // The file keeps its mode (an operator's 0600 detour.toml stays so).
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io)
}

/// Removes the temporary files an interrupted import left in `dir` (its
/// own names only: `.<file>.detour-import-<pid>.tmp`).
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".detour-import-") && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `dir` as a real directory inside `out` (created if missing): a symlink
/// there would take the code files elsewhere.
fn code_dir(dir: PathBuf) -> Result<PathBuf, ImportError> {
    match std::fs::symlink_metadata(&dir) {
        Ok(meta) if meta.file_type().is_symlink() || !meta.is_dir() => Err(ImportError(format!(
            "{} is not a directory of its own (a symlink or a file): detour import writes code only inside --out; remove it",
            dir.display()
        ))),
        Ok(_) => Ok(dir),
        Err(_) => std::fs::create_dir_all(&dir)
            .map(|()| dir.clone())
            .map_err(|e| ImportError(format!("cannot write {}: {e}", dir.display()))),
    }
}

/// Writes the directory.
pub fn write(plan: &Plan, out: &Path) -> Result<Written, ImportError> {
    let mut config = out.join("detour.toml");
    let (previous, created) = match std::fs::read_to_string(&config) {
        Ok(text) => {
            let previous = existing(&config, &text)?;
            // The operator's detour.toml may be a symlink (into a config
            // repository, say): it stays one, its target is updated.
            if let Ok(real) = std::fs::canonicalize(&config) {
                config = real;
            }
            (previous, false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
            Previous {
                operator: operator_part(),
                ..Previous::default()
            },
            true,
        ),
        Err(e) => {
            return Err(ImportError(format!(
                "cannot read {}: {e}",
                config.display()
            )));
        }
    };
    std::fs::create_dir_all(out)
        .map_err(|e| ImportError(format!("cannot write {}: {e}", out.display())))?;
    for dir in [
        out.to_path_buf(),
        code_dir(out.join("actions"))?,
        code_dir(out.join("modules"))?,
    ] {
        remove_leftovers(&dir);
    }
    let codes = plan
        .actions
        .iter()
        .map(|p| (&p.file, &p.action.code))
        .chain(plan.modules.iter().map(|m| (&m.file, &m.module.code)));
    let mut written = Vec::new();
    for (file, code) in codes {
        written.push(file.clone());
        if let Some(code) = code {
            replace(&out.join(file), code.as_bytes())?;
        }
    }
    let imported = imported_part(plan, &previous.hosts);
    replace(&config, compose(&previous.operator, &imported).as_bytes())?;
    let mut removed = Vec::new();
    for file in previous.files {
        if is_import_file(&file) && !written.contains(&file) && !removed.contains(&file) {
            let path = out.join(&file);
            if std::fs::symlink_metadata(&path).is_ok() && std::fs::remove_file(&path).is_ok() {
                removed.push(file);
            }
        }
    }
    Ok(Written { created, removed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_slug_code_files_count_as_the_imports_own() {
        assert!(is_import_file("actions/consent-redirect.js"));
        assert!(is_import_file("modules/claims-helper-2.js"));
        for file in [
            "../victim.js",
            "actions/../../victim.js",
            "/etc/passwd",
            "actions/x.json",
            "node_modules/x.js",
            "actions/.js",
        ] {
            assert!(!is_import_file(file), "{file}");
        }
    }
}
