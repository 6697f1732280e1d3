//! What an import writes: the post-login Actions in bound order with
//! their file names, secret variables and Module pins; the Modules they
//! pin; what is left out and why.

use std::collections::BTreeMap;

use super::names::{module_name, secret_var, unique_slug, unique_var};
use super::{Action, Dependency, Module, Origin, Problem, Tenant};

/// A bound post-login Action as it will be written.
#[derive(Debug)]
pub struct Planned {
    /// The Action as exported.
    pub action: Action,
    /// Its file, relative to the output directory.
    pub file: String,
    /// `(event.secrets name, variable, export has a value)`.
    pub secrets: Vec<(String, String, bool)>,
    /// Modules it pins: Detour name → version.
    pub modules: BTreeMap<String, String>,
}

/// A Module as it will be written.
#[derive(Debug)]
pub struct PlannedModule {
    /// The Module as exported.
    pub module: Module,
    /// Its Detour name.
    pub name: String,
    /// Its file, relative to the output directory.
    pub file: String,
    /// The version Actions pin.
    pub version: String,
}

/// What the import will write, and what it leaves out.
#[derive(Debug, Default)]
pub struct Plan {
    /// The post-login Actions, in bound order.
    pub actions: Vec<Planned>,
    /// Actions not written: name and why.
    pub left_out: Vec<(String, String)>,
    /// Modules the written Actions pin.
    pub modules: Vec<PlannedModule>,
    /// Remarks for the report.
    pub notes: Vec<String>,
}

/// Decides the order, file names, variables and Module versions.
pub fn plan(tenant: &Tenant) -> Plan {
    let mut plan = Plan {
        notes: tenant.notes.clone(),
        ..Plan::default()
    };
    let mut slugs: Vec<String> = Vec::new();
    // Every variable named so far: two secrets (of one Action or of two)
    // whose names differ only in case or punctuation must not share one.
    let mut vars: Vec<String> = Vec::new();
    for binding in &tenant.post_login {
        let Some(action) = tenant.actions.iter().find(|a| a.name == binding.action) else {
            plan.notes.push(format!(
                "{}: the post-login binding names action \"{}\", which the export does not define",
                binding.origin, binding.action
            ));
            continue;
        };
        if plan.actions.iter().any(|p| p.action.name == action.name) {
            plan.notes.push(format!(
                "{}: action \"{}\" is bound twice; Detour runs it once, at its first place",
                binding.origin, action.name
            ));
            continue;
        }
        let slug = unique_slug(&action.name, &slugs);
        slugs.push(slug.clone());
        let mut secrets: Vec<(String, String, bool)> = Vec::with_capacity(action.secrets.len());
        for secret in &action.secrets {
            // Listed twice, it would be a duplicate TOML key: one variable.
            if secrets.iter().any(|(name, ..)| *name == secret.name) {
                continue;
            }
            let var = unique_var(&secret_var(&slug, &secret.name), &vars);
            vars.push(var.clone());
            secrets.push((secret.name.clone(), var, secret.has_value));
        }
        let mut action = action.clone();
        if let Some(version) = action.post_login_version.as_deref().filter(|v| *v != "v3") {
            plan.notes.push(format!(
                "{}: action \"{}\" is written for post-login {version}; Detour runs Actions as post-login v3, the version Auth0 supports: check it against Auth0's post-login migration guide",
                action.origin, action.name
            ));
        }
        if let Some(problem) = dedupe(&mut action.dependencies, &action.origin) {
            action.problems.push(problem);
        }
        // Auth0 refuses such a binding: the export disagrees with itself,
        // and the Action's code was written for another trigger.
        if !action.triggers.is_empty() && !action.triggers.iter().any(|t| t == "post-login") {
            action.problems.insert(
                0,
                Problem {
                    origin: binding.origin.clone(),
                    message: format!(
                        "bound to post-login, but the Action supports only the {} trigger (Auth0 refuses such a binding): check the export",
                        action.triggers.join(", ")
                    ),
                },
            );
        }
        plan.actions.push(Planned {
            action,
            file: format!("actions/{slug}.js"),
            secrets,
            modules: BTreeMap::new(),
        });
    }
    for (i, action) in tenant.actions.iter().enumerate() {
        // Auth0 names are unique in a tenant; an export that repeats one
        // (two files, two resources) gets the first, and says so.
        if tenant.actions[..i].iter().any(|a| a.name == action.name) {
            plan.notes.push(format!(
                "{}: action \"{}\" is defined again here; the first definition is the one imported",
                action.origin, action.name
            ));
            continue;
        }
        if plan.actions.iter().any(|p| p.action.name == action.name) {
            continue;
        }
        let reason =
            if !action.triggers.is_empty() && !action.triggers.iter().any(|t| t == "post-login") {
                format!(
                    "{}: runs on the {} trigger; Detour runs post-login Actions only",
                    action.origin,
                    action.triggers.join(", ")
                )
            } else {
                format!(
                    "{}: not bound to the post-login trigger (Auth0 does not run it)",
                    action.origin
                )
            };
        plan.left_out.push((action.name.clone(), reason));
    }

    // Modules: those the written Actions pin, at the version they pin.
    let mut module_slugs: Vec<String> = Vec::new();
    let mut module_names: Vec<String> = Vec::new();
    for i in 0..plan.actions.len() {
        let pins = plan.actions[i].action.modules.clone();
        for (name, version) in pins {
            let Some(module) = tenant.modules.iter().find(|m| m.name == name) else {
                // Left for the check to report, naming the Module.
                plan.actions[i]
                    .modules
                    .insert(module_name(&name), version.unwrap_or_else(|| "1".into()));
                continue;
            };
            let existing = plan.modules.iter().position(|m| m.module.name == name);
            let index = match existing {
                Some(index) => index,
                None => {
                    let slug = unique_slug(&name, &module_slugs);
                    module_slugs.push(slug.clone());
                    // Two Auth0 names may map to one Detour name
                    // (`a b`, `a-b`): each gets its own.
                    let detour_name = unique_slug_of(module_name(&name), &module_names);
                    module_names.push(detour_name.clone());
                    if detour_name != name {
                        plan.notes.push(format!(
                            "module \"{name}\" is registered as \"{detour_name}\" (Detour Module names have no spaces or `:`): require('actions:{detour_name}') in the code that uses it"
                        ));
                    }
                    if !module.secrets.is_empty() {
                        plan.notes.push(format!(
                            "module \"{name}\": its secrets {} are not carried: Detour Modules have no secrets of their own (pass them from the Action)",
                            module.secrets.join(", ")
                        ));
                    }
                    let mut module = module.clone();
                    if let Some(problem) = dedupe(&mut module.dependencies, &module.origin) {
                        module.problems.push(problem);
                    }
                    let pinned = version
                        .clone()
                        .or_else(|| module.version.clone())
                        .unwrap_or_else(|| "1".into());
                    plan.modules.push(PlannedModule {
                        module,
                        name: detour_name,
                        file: format!("modules/{slug}.js"),
                        version: pinned,
                    });
                    plan.modules.len() - 1
                }
            };
            let module = &plan.modules[index];
            let pinned = version.unwrap_or_else(|| module.version.clone());
            let name = module.name.clone();
            plan.actions[i].modules.insert(name, pinned);
        }
    }
    for module in &tenant.modules {
        if !plan.modules.iter().any(|m| m.module.name == module.name) {
            plan.notes.push(format!(
                "{}: module \"{}\" is not pinned by any imported Action: left out",
                module.origin, module.name
            ));
        }
    }
    plan
}

/// Drops repeated npm packages (a duplicate TOML key otherwise); one
/// listed at two versions is a problem: which one the tenant runs is not
/// in the export.
fn dedupe(dependencies: &mut Vec<Dependency>, origin: &Origin) -> Option<Problem> {
    let mut kept: Vec<Dependency> = Vec::with_capacity(dependencies.len());
    let mut problem = None;
    for dependency in dependencies.drain(..) {
        match kept.iter().find(|d| d.name == dependency.name) {
            None => kept.push(dependency),
            Some(first) if first.version == dependency.version => {}
            Some(first) => {
                problem.get_or_insert_with(|| Problem {
                    origin: origin.clone(),
                    message: format!(
                        "dependency {} is listed at {} and at {}: keep the one the tenant runs",
                        dependency.name, first.version, dependency.version
                    ),
                });
            }
        }
    }
    *dependencies = kept;
    problem
}

/// `name`, or `name-2`, `name-3`… when `taken` has it.
fn unique_slug_of(name: String, taken: &[String]) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}-{n}");
        n += 1;
    }
    candidate
}

/// The first problem of a Module, if any.
pub fn module_problem(module: &PlannedModule) -> Option<&Problem> {
    module.module.problems.first()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{Action, Binding, Module};

    #[test]
    fn two_modules_whose_detour_names_would_collide_get_their_own() {
        let origin = Origin::new("t", 0);
        let mut action = Action::new("A", origin.clone());
        action.modules = vec![("a b".into(), None), ("a-b".into(), None)];
        let tenant = Tenant {
            actions: vec![action],
            modules: vec![
                Module::new("a b", origin.clone()),
                Module::new("a-b", origin.clone()),
            ],
            post_login: vec![Binding {
                action: "A".into(),
                origin,
            }],
            notes: Vec::new(),
        };
        let plan = plan(&tenant);
        let names: Vec<&str> = plan.modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a-b", "a-b-2"]);
        assert_eq!(plan.actions[0].modules.len(), 2);
    }
}
