//! The Auth0 Deploy CLI: `tenant.yaml` (keys `actions`, `actionModules`,
//! `triggers`), or its directory format (`actions/*.json`,
//! `action-modules/*.json`, `triggers/triggers.json`). In both, an
//! Action's `code` is the path of its file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::messages::scrub;
use super::{Action, Binding, Dependency, ImportError, Module, Origin, Problem, Secret, Tenant};

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
    dependencies: Vec<RawDependency>,
    #[serde(default)]
    secrets: Option<RawSecrets>,
    #[serde(default)]
    supported_triggers: Vec<RawTrigger>,
    #[serde(default)]
    modules: Vec<RawModulePin>,
}

#[derive(Deserialize)]
struct RawModule {
    name: Spanned<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    dependencies: Vec<RawDependency>,
    #[serde(default)]
    secrets: Option<RawSecrets>,
    #[serde(default)]
    latest_version_number: Option<Scalar>,
}

#[derive(Deserialize)]
struct RawDependency {
    name: String,
    version: String,
}

/// A list of `{name, value}`, or a keyword-replacement string.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawSecrets {
    List(Vec<RawSecret>),
    #[allow(dead_code)]
    Keyword(String),
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
    post_login: Vec<RawBinding>,
}

#[derive(Deserialize)]
struct RawBinding {
    action_name: Spanned<String>,
}

/// Reads `tenant.yaml` or a Deploy CLI directory.
pub fn read(source: &Path) -> Result<Tenant, ImportError> {
    if source.is_dir() {
        read_directory(source)
    } else {
        read_yaml(source)
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
    let raw: RawTenant = serde_saphyr::from_str(&text).map_err(|e| {
        ImportError(format!(
            "{label}: not a Deploy CLI tenant file: {}",
            scrub(&e.to_string())
        ))
    })?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut tenant = Tenant::default();
    for a in raw.actions {
        let origin = Origin::new(label.clone(), line(&a.name));
        let candidates = code_candidates(&base, a.code.as_deref(), "actions", &a.name.value);
        tenant.actions.push(action(a, origin, &candidates));
    }
    for m in raw.action_modules {
        let origin = Origin::new(label.clone(), line(&m.name));
        let candidates = code_candidates(&base, m.code.as_deref(), "action-modules", &m.name.value);
        tenant.modules.push(module(m, origin, &candidates));
    }
    if let Some(triggers) = raw.triggers {
        for b in triggers.post_login {
            tenant.post_login.push(Binding {
                origin: Origin::new(label.clone(), line(&b.action_name)),
                action: b.action_name.value,
            });
        }
    }
    Ok(tenant)
}

fn read_directory(dir: &Path) -> Result<Tenant, ImportError> {
    let mut tenant = Tenant::default();
    for (path, a) in json_files::<RawAction>(dir, "actions")? {
        let origin = Origin::new(format!("actions/{}", label_of(&path)), 0);
        let folder = dir.join("actions").join(&a.name.value);
        let mut candidates = code_candidates(&folder, a.code.as_deref(), "", "");
        candidates.extend(code_candidates(
            dir,
            a.code.as_deref(),
            "actions",
            &a.name.value,
        ));
        tenant.actions.push(action(a, origin, &candidates));
    }
    for (path, m) in json_files::<RawModule>(dir, "action-modules")? {
        let origin = Origin::new(format!("action-modules/{}", label_of(&path)), 0);
        let candidates = code_candidates(dir, m.code.as_deref(), "action-modules", &m.name.value);
        tenant.modules.push(module(m, origin, &candidates));
    }
    // The Deploy CLI reads the first file of triggers/ (it writes triggers.json).
    if let Some((path, triggers)) = json_files::<RawTriggers>(dir, "triggers")?
        .into_iter()
        .next()
    {
        for b in triggers.post_login {
            tenant.post_login.push(Binding {
                origin: Origin::new(format!("triggers/{}", label_of(&path)), 0),
                action: b.action_name.value,
            });
        }
    }
    Ok(tenant)
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

/// Where an Action's or Module's code may be: its `code` path from `base`
/// (as the Deploy CLI resolves it), then where the Deploy CLI writes it
/// (`<kind>/<name>/code.js`).
fn code_candidates(base: &Path, code: Option<&str>, kind: &str, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(code) = code.filter(|c| !c.is_empty()) {
        out.push(base.join(code.replace('\\', "/")));
    }
    if !kind.is_empty() {
        out.push(base.join(kind).join(sanitize(name)).join("code.js"));
    }
    out
}

/// The Deploy CLI's file-name sanitising: characters file systems refuse
/// become `-`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | '?' | '<' | '>' | ':' | '*' | '|' | '"') {
                '-'
            } else {
                c
            }
        })
        .collect()
}

/// The code at the first candidate that exists, or why there is none.
fn load_code(
    origin: &Origin,
    code: Option<&str>,
    candidates: &[PathBuf],
) -> Result<String, Problem> {
    for path in candidates {
        if path.is_file() {
            return std::fs::read_to_string(path).map_err(|e| Problem {
                origin: origin.clone(),
                message: format!("cannot read code file {}: {e}", path.display()),
            });
        }
    }
    Err(Problem {
        origin: origin.clone(),
        message: match code.filter(|c| !c.is_empty()) {
            Some(code) => format!("code file {code} is missing"),
            None => "no `code` file given".to_owned(),
        },
    })
}

fn dependencies(raw: Vec<RawDependency>) -> Vec<Dependency> {
    raw.into_iter()
        .map(|d| Dependency {
            name: d.name,
            version: d.version,
        })
        .collect()
}

/// A value that is a keyword marker (`##KEY##`, `@@KEY@@`) is a
/// placeholder the Deploy CLI fills, not a value.
fn is_value(value: &Option<Scalar>) -> bool {
    value.as_ref().is_some_and(|v| {
        let text = v.text();
        let marker = ["##", "@@"]
            .iter()
            .any(|m| text.len() > 2 * m.len() && text.starts_with(m) && text.ends_with(m));
        !text.is_empty() && !marker
    })
}

fn action(a: RawAction, origin: Origin, candidates: &[PathBuf]) -> Action {
    let mut action = Action::new(a.name.value, origin.clone());
    match load_code(&origin, a.code.as_deref(), candidates) {
        Ok(code) => action.code = Some(code),
        Err(p) => action.problems.push(p),
    }
    action.dependencies = dependencies(a.dependencies);
    if let Some(RawSecrets::List(secrets)) = a.secrets {
        action.secrets = secrets
            .into_iter()
            .map(|s| Secret {
                has_value: is_value(&s.value),
                name: s.name,
            })
            .collect();
    }
    action.triggers = a.supported_triggers.into_iter().map(|t| t.id).collect();
    action.modules = a
        .modules
        .into_iter()
        .map(|m| (m.module_name, m.module_version_number.map(|v| v.text())))
        .collect();
    action
}

fn module(m: RawModule, origin: Origin, candidates: &[PathBuf]) -> Module {
    let mut module = Module::new(m.name.value, origin.clone());
    match load_code(&origin, m.code.as_deref(), candidates) {
        Ok(code) => module.code = Some(code),
        Err(p) => module.problems.push(p),
    }
    module.dependencies = dependencies(m.dependencies);
    if let Some(RawSecrets::List(secrets)) = m.secrets {
        module.secrets = secrets.into_iter().map(|s| s.name).collect();
    }
    module.version = m.latest_version_number.map(|v| v.text());
    module
}
