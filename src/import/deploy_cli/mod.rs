//! The Auth0 Deploy CLI: `tenant.yaml` (keys `actions`, `actionModules`,
//! `triggers`), or its directory format (`actions/*.json`,
//! `action-modules/*.json`, `triggers/triggers.json`). In both, an
//! Action's `code` is the path of its file, read from inside the export
//! only (see `files.rs`).
//!
//! Keyword-replacement markers (`##KEY##`, `@@KEY@@`), which the Deploy
//! CLI fills from `AUTH0_KEYWORD_REPLACE_MAPPINGS` when it deploys, are
//! not values: a marker where a list belongs is reported by name, and a
//! secret whose value is a marker (or the `_VALUE_NOT_SHOWN_` exports
//! hold) has none.

mod files;
mod lists;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

pub use self::files::marker_in;
use self::files::{code_candidates, keyword_marker, load_code, quote_bare_markers};
use self::lists::ListOr;
use super::messages::scrub;
use super::{Action, Binding, Dependency, ImportError, Module, Origin, Secret, Tenant};

#[derive(Deserialize, Default)]
struct RawTenant {
    #[serde(default)]
    actions: Vec<RawAction>,
    #[serde(default, rename = "actionModules")]
    action_modules: Vec<RawModule>,
    #[serde(default)]
    triggers: Option<RawTriggers>,
}

#[derive(Deserialize)]
struct RawAction {
    name: Spanned<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    dependencies: ListOr<RawDependency>,
    #[serde(default)]
    secrets: ListOr<RawSecret>,
    #[serde(default)]
    supported_triggers: ListOr<RawTrigger>,
    #[serde(default)]
    modules: ListOr<RawModulePin>,
}

#[derive(Deserialize)]
struct RawModule {
    name: Spanned<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    dependencies: ListOr<RawDependency>,
    #[serde(default)]
    secrets: ListOr<RawSecret>,
    #[serde(default)]
    latest_version_number: Option<Scalar>,
}

#[derive(Deserialize)]
struct RawDependency {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct RawSecret {
    name: String,
    #[serde(default)]
    value: Option<Scalar>,
}

#[derive(Deserialize)]
struct RawTrigger {
    id: String,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct RawModulePin {
    module_name: String,
    #[serde(default)]
    module_version_number: Option<Scalar>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(u64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

/// `triggers:` — the post-login list is all Detour reads.
#[derive(Deserialize)]
struct RawTriggers {
    #[serde(default, rename = "post-login")]
    post_login: ListOr<RawBinding>,
}

#[derive(Deserialize)]
struct RawBinding {
    action_name: Spanned<String>,
}

/// Reads `tenant.yaml` or a Deploy CLI directory.
/// A directory holding `tenant.yaml` (the YAML export, its code in
/// `actions/<name>/code.js` beside it) is read as that YAML file.
pub fn read(source: &Path) -> Result<Tenant, ImportError> {
    if !source.is_dir() {
        return read_yaml(source);
    }
    let yaml = ["tenant.yaml", "tenant.yml"]
        .iter()
        .map(|name| source.join(name))
        .find(|path| path.is_file());
    let has_json = std::fs::read_dir(source.join("actions")).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "json"))
    });
    match yaml {
        Some(yaml) if !has_json => read_yaml(&yaml),
        _ => read_directory(source),
    }
}

fn label_of(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn read_yaml(path: &Path) -> Result<Tenant, ImportError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ImportError(format!("cannot read {}: {e}", path.display())))?;
    let label = label_of(path);
    let raw: RawTenant = serde_saphyr::from_str(&quote_bare_markers(&text)).map_err(|e| {
        ImportError(format!(
            "{label}: not a Deploy CLI tenant file: {}",
            scrub(&e.to_string())
        ))
    })?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut tenant = Tenant::default();
    for a in raw.actions {
        let origin = Origin::new(label.clone(), line(&a.name));
        tenant.actions.push(action(a, origin, &base));
    }
    for m in raw.action_modules {
        let origin = Origin::new(label.clone(), line(&m.name));
        tenant.modules.push(module(m, origin, &base));
    }
    if let Some(triggers) = raw.triggers {
        bindings(&mut tenant, triggers, &label, true);
    }
    Ok(tenant)
}

fn read_directory(dir: &Path) -> Result<Tenant, ImportError> {
    let mut tenant = Tenant::default();
    for (path, a) in json_files::<RawAction>(dir, "actions")? {
        let origin = Origin::new(format!("actions/{}", label_of(&path)), 0);
        tenant.actions.push(action(a, origin, dir));
    }
    for (path, m) in json_files::<RawModule>(dir, "action-modules")? {
        let origin = Origin::new(format!("action-modules/{}", label_of(&path)), 0);
        tenant.modules.push(module(m, origin, dir));
    }
    // The Deploy CLI reads the first file of triggers/ (it writes triggers.json).
    if let Some((path, triggers)) = json_files::<RawTriggers>(dir, "triggers")?
        .into_iter()
        .next()
    {
        bindings(
            &mut tenant,
            triggers,
            &format!("triggers/{}", label_of(&path)),
            false,
        );
    }
    Ok(tenant)
}

/// The post-login bindings, in order (a keyword marker in their place is
/// a note: nothing is bound).
fn bindings(tenant: &mut Tenant, triggers: RawTriggers, label: &str, with_lines: bool) {
    let origin = Origin::new(label, 0);
    let mut problems = Vec::new();
    for b in triggers
        .post_login
        .take("post-login", &origin, &mut problems)
    {
        let at = if with_lines { line(&b.action_name) } else { 0 };
        tenant.post_login.push(Binding {
            origin: Origin::new(label, at),
            action: b.action_name.value,
        });
    }
    tenant
        .notes
        .extend(problems.into_iter().map(|p| p.to_string()));
}

/// Every `*.json` in `dir/sub`, in name order, parsed.
fn json_files<T: for<'de> Deserialize<'de>>(
    dir: &Path,
    sub: &str,
) -> Result<Vec<(PathBuf, T)>, ImportError> {
    let folder = dir.join(sub);
    if !folder.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| ImportError(format!("cannot read {}: {e}", folder.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ImportError(format!("cannot read {}: {e}", path.display())))?;
        let parsed = serde_json::from_str(&text).map_err(|e| {
            ImportError(format!(
                "{sub}/{}: not valid Deploy CLI JSON: {}",
                label_of(&path),
                scrub(&e.to_string())
            ))
        })?;
        out.push((path, parsed));
    }
    Ok(out)
}

fn line(spanned: &Spanned<String>) -> usize {
    usize::try_from(spanned.referenced.line()).unwrap_or(0)
}

fn dependencies(raw: Vec<RawDependency>) -> Vec<Dependency> {
    raw.into_iter()
        .map(|d| Dependency {
            name: d.name,
            version: d.version,
        })
        .collect()
}

/// What exports hold in place of a secret's value (the Deploy CLI's
/// obfuscation): not a value.
const VALUE_NOT_SHOWN: &str = "_VALUE_NOT_SHOWN_";

/// Whether a secret's exported value is a real one: not empty, not
/// [`VALUE_NOT_SHOWN`], not a keyword marker the Deploy CLI fills.
fn is_value(value: &Option<Scalar>) -> bool {
    value.as_ref().is_some_and(|v| {
        let text = v.text();
        !text.is_empty() && text != VALUE_NOT_SHOWN && keyword_marker(&text).is_none()
    })
}

/// An Action, its code read from inside `root`.
fn action(a: RawAction, origin: Origin, root: &Path) -> Action {
    let mut action = Action::new(a.name.value, origin.clone());
    let candidates = code_candidates(root, a.code.as_deref(), "actions", &action.name);
    match load_code(root, &origin, a.code.as_deref(), &candidates) {
        Ok(code) => action.code = Some(code),
        Err(p) => action.problems.push(p),
    }
    let problems = &mut action.problems;
    action.dependencies = dependencies(a.dependencies.take("dependencies", &origin, problems));
    action.secrets = a
        .secrets
        .take("secrets", &origin, problems)
        .into_iter()
        .map(|s| Secret {
            has_value: is_value(&s.value),
            name: s.name,
        })
        .collect();
    for trigger in a
        .supported_triggers
        .take("supported_triggers", &origin, problems)
    {
        if trigger.id == "post-login" {
            action.post_login_version = trigger.version;
        }
        action.triggers.push(trigger.id);
    }
    action.modules = a
        .modules
        .take("modules", &origin, problems)
        .into_iter()
        .map(|m| (m.module_name, m.module_version_number.map(|v| v.text())))
        .collect();
    action
}

/// A Module, its code read from inside `root`.
fn module(m: RawModule, origin: Origin, root: &Path) -> Module {
    let mut module = Module::new(m.name.value, origin.clone());
    let candidates = code_candidates(root, m.code.as_deref(), "action-modules", &module.name);
    match load_code(root, &origin, m.code.as_deref(), &candidates) {
        Ok(code) => module.code = Some(code),
        Err(p) => module.problems.push(p),
    }
    let problems = &mut module.problems;
    module.dependencies = dependencies(m.dependencies.take("dependencies", &origin, problems));
    module.secrets = m
        .secrets
        .take("secrets", &origin, problems)
        .into_iter()
        .map(|s| s.name)
        .collect();
    module.version = m.latest_version_number.map(|v| v.text());
    module
}
