//! Management API JSON: the responses of `GET /api/v2/actions/actions`
//! (`{"actions": […]}`), `GET /api/v2/actions/triggers/post-login/bindings`
//! (`{"bindings": […]}`) and optionally `GET /api/v2/actions/modules`
//! (`{"modules": […]}`), either as one JSON object holding the three keys
//! or as a directory holding the three responses as [`ACTIONS_FILE`],
//! [`BINDINGS_FILE`] and [`MODULES_FILE`].
//!
//! An Action's deployed version is what its binding runs, so its code and
//! dependencies are taken from `deployed_version` when the export has it.

use std::path::Path;

use serde::Deserialize;

use super::messages::scrub;
use super::{Action, Binding, Dependency, ImportError, Module, Origin, Secret, Tenant};

/// The actions list in a Management API directory.
pub const ACTIONS_FILE: &str = "actions.json";
/// The post-login bindings in a Management API directory.
pub const BINDINGS_FILE: &str = "post-login-bindings.json";
/// The Actions Modules in a Management API directory (optional).
pub const MODULES_FILE: &str = "modules.json";

#[derive(Deserialize, Default)]
struct Export {
    #[serde(default, deserialize_with = "null_as_empty")]
    actions: Vec<RawAction>,
    #[serde(default, deserialize_with = "null_as_empty")]
    bindings: Vec<RawBinding>,
    #[serde(default, deserialize_with = "null_as_empty")]
    modules: Vec<RawModule>,
}

#[derive(Deserialize)]
struct RawAction {
    name: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    dependencies: Vec<RawDependency>,
    #[serde(default, deserialize_with = "null_as_empty")]
    secrets: Vec<RawSecret>,
    #[serde(default, deserialize_with = "null_as_empty")]
    supported_triggers: Vec<RawTrigger>,
    #[serde(default, deserialize_with = "null_as_empty")]
    modules: Vec<RawModulePin>,
    #[serde(default)]
    deployed_version: Option<RawVersion>,
}

/// The deployed version's own code, dependencies and secrets.
#[derive(Deserialize)]
struct RawVersion {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    dependencies: Option<Vec<RawDependency>>,
    #[serde(default)]
    modules: Option<Vec<RawModulePin>>,
}

#[derive(Deserialize, Clone)]
struct RawDependency {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct RawSecret {
    name: String,
}

#[derive(Deserialize)]
struct RawTrigger {
    id: String,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize, Clone)]
struct RawModulePin {
    #[serde(default)]
    module_name: Option<String>,
    #[serde(default)]
    module_version_number: Option<u64>,
}

#[derive(Deserialize)]
struct RawBinding {
    action: RawBoundAction,
}

#[derive(Deserialize)]
struct RawBoundAction {
    name: String,
}

#[derive(Deserialize)]
struct RawModule {
    name: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    dependencies: Vec<RawDependency>,
    #[serde(default, deserialize_with = "null_as_empty")]
    secrets: Vec<RawSecret>,
    #[serde(default)]
    latest_version_number: Option<u64>,
}

/// A list the API may give as `null`: empty.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// One file's text, for messages and lines.
struct File {
    label: String,
    text: String,
}

impl File {
    fn read(path: &Path, label: String) -> Result<File, ImportError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ImportError(format!("cannot read {}: {e}", path.display())))?;
        Ok(File { label, text })
    }

    fn parse(&self) -> Result<Export, ImportError> {
        serde_json::from_str(&self.text).map_err(|e| {
            ImportError(format!(
                "{}: not a Management API export ({{\"actions\": [...], \"bindings\": [...]}}): {}",
                self.label,
                scrub(&e.to_string())
            ))
        })
    }

    /// Where `"name": "<name>"` first appears (serde_json keeps no spans).
    fn origin_of(&self, name: &str) -> Origin {
        let quoted = serde_json::Value::String(name.to_owned()).to_string();
        let line = self
            .text
            .match_indices(&quoted)
            .find(|(at, _)| {
                self.text[..*at]
                    .trim_end()
                    .strip_suffix(':')
                    .is_some_and(|head| head.trim_end().ends_with("\"name\""))
            })
            .map_or(0, |(at, _)| super::names::line_of(&self.text, at));
        Origin::new(self.label.clone(), line)
    }
}

/// Reads one export file, or a directory of the three responses.
pub fn read(source: &Path) -> Result<Tenant, ImportError> {
    let (actions_file, bindings_file, modules_file) = if source.is_dir() {
        let bindings = source.join(BINDINGS_FILE);
        let modules = source.join(MODULES_FILE);
        (
            File::read(&source.join(ACTIONS_FILE), ACTIONS_FILE.to_owned())?,
            if bindings.is_file() {
                Some(File::read(&bindings, BINDINGS_FILE.to_owned())?)
            } else {
                None
            },
            if modules.is_file() {
                Some(File::read(&modules, MODULES_FILE.to_owned())?)
            } else {
                None
            },
        )
    } else {
        let label = source.file_name().map_or_else(
            || source.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        (File::read(source, label)?, None, None)
    };
    let mut export = actions_file.parse()?;
    if let Some(file) = &bindings_file {
        export.bindings = file.parse()?.bindings;
    }
    if let Some(file) = &modules_file {
        export.modules = file.parse()?.modules;
    }
    let bindings_at = bindings_file.as_ref().unwrap_or(&actions_file);
    let modules_at = modules_file.as_ref().unwrap_or(&actions_file);

    let mut tenant = Tenant::default();
    for a in export.actions {
        let mut action = Action::new(a.name.clone(), actions_file.origin_of(&a.name));
        let (code, dependencies, pins) = match a.deployed_version {
            Some(v) => (
                v.code.or(a.code),
                v.dependencies.unwrap_or(a.dependencies),
                v.modules.unwrap_or(a.modules),
            ),
            None => (a.code, a.dependencies, a.modules),
        };
        match code {
            Some(code) if !code.is_empty() => action.code = Some(code),
            _ => action.problems.push(super::Problem {
                origin: action.origin.clone(),
                message: "the export has no code for it".to_owned(),
            }),
        }
        action.dependencies = dependencies
            .into_iter()
            .map(|d| Dependency {
                name: d.name,
                version: d.version,
            })
            .collect();
        // The API never returns secret values.
        action.secrets = a
            .secrets
            .into_iter()
            .map(|s| Secret {
                name: s.name,
                has_value: false,
            })
            .collect();
        for trigger in a.supported_triggers {
            if trigger.id == "post-login" {
                action.post_login_version = trigger.version;
            }
            action.triggers.push(trigger.id);
        }
        action.modules = pins
            .into_iter()
            .filter_map(|p| {
                p.module_name
                    .map(|n| (n, p.module_version_number.map(|v| v.to_string())))
            })
            .collect();
        tenant.actions.push(action);
    }
    for b in export.bindings {
        tenant.post_login.push(Binding {
            origin: bindings_at.origin_of(&b.action.name),
            action: b.action.name,
        });
    }
    for m in export.modules {
        let mut module = Module::new(m.name.clone(), modules_at.origin_of(&m.name));
        match m.code {
            Some(code) if !code.is_empty() => module.code = Some(code),
            _ => module.problems.push(super::Problem {
                origin: module.origin.clone(),
                message: "the export has no code for it".to_owned(),
            }),
        }
        module.dependencies = m
            .dependencies
            .into_iter()
            .map(|d| Dependency {
                name: d.name,
                version: d.version,
            })
            .collect();
        module.secrets = m.secrets.into_iter().map(|s| s.name).collect();
        module.version = m.latest_version_number.map(|v| v.to_string());
        tenant.modules.push(module);
    }
    Ok(tenant)
}
