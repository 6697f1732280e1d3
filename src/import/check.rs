//! Per-Action checks over the written directory: what the export itself
//! got wrong, npm packages that cannot work in Detour, then the checks of
//! `detour check` (the config loads, its code resolves, the Action
//! compiles and does not throw while loading), each Action on its own so
//! one broken Action does not hide the others.

use std::path::Path;

use super::deploy_cli::marker_in;
use super::plan::{Plan, Planned, module_problem};
use super::write::{action_entry, module_entry};
use super::{ActionReport, Origin, Problem, Report, SecretVar, Status};
use crate::config::{ConfigError, Settings};

/// npm packages that cannot work in an Action in Detour, and why: they
/// need raw sockets or native add-ons, which the sandbox does not have.
/// (A package not listed here that needs them fails the load check
/// instead, once installed.)
const CANNOT_WORK: &[(&str, &str)] = &[
    ("ioredis", SOCKETS),
    ("redis", SOCKETS),
    ("pg", SOCKETS),
    ("mysql", SOCKETS),
    ("mysql2", SOCKETS),
    ("mongodb", SOCKETS),
    ("mongoose", SOCKETS),
    ("amqplib", SOCKETS),
    ("kafkajs", SOCKETS),
    ("ldapjs", SOCKETS),
    ("nodemailer", SOCKETS),
    ("ssh2", SOCKETS),
    ("memcached", SOCKETS),
    ("bcrypt", NATIVE),
    ("argon2", NATIVE),
    ("sqlite3", NATIVE),
    ("better-sqlite3", NATIVE),
    ("sharp", NATIVE),
];
const SOCKETS: &str =
    "it needs raw TCP sockets (net, tls); Actions reach the network only through fetch";
const NATIVE: &str = "it is a native add-on; Detour loads JavaScript only";

/// Runs the checks and builds the report.
pub fn check(plan: &Plan, out: &Path) -> Report {
    let mut report = Report {
        notes: plan.notes.clone(),
        has_dependencies: plan
            .actions
            .iter()
            .any(|p| !p.action.dependencies.is_empty())
            || plan
                .modules
                .iter()
                .any(|m| !m.module.dependencies.is_empty()),
        ..Report::default()
    };
    for (i, planned) in plan.actions.iter().enumerate() {
        report.actions.push(ActionReport {
            name: planned.action.name.clone(),
            position: Some(i + 1),
            file: planned.action.code.as_ref().map(|_| planned.file.clone()),
            status: check_one(plan, planned, out),
        });
        for (name, var, has_value) in &planned.secrets {
            report.secrets.push(SecretVar {
                var: var.clone(),
                action: planned.action.name.clone(),
                name: name.clone(),
                has_value: *has_value,
            });
        }
    }
    for (name, reason) in &plan.left_out {
        report.actions.push(ActionReport {
            name: name.clone(),
            position: None,
            file: None,
            status: Status::LeftOut(reason.clone()),
        });
    }
    report
}

fn check_one(plan: &Plan, planned: &Planned, out: &Path) -> Status {
    if let Some(problem) = planned.action.problems.first() {
        return Status::Stopped(problem.to_string());
    }
    let Some(code) = &planned.action.code else {
        return Status::Stopped(format!("{}: no code", planned.action.origin));
    };
    let modules: Vec<_> = plan
        .modules
        .iter()
        .filter(|m| planned.modules.contains_key(&m.name))
        .collect();
    for module in &modules {
        if let Some(problem) = module_problem(module) {
            return Status::Stopped(format!("module \"{}\": {problem}", module.name));
        }
    }
    // A keyword marker left in the code would run as literal text.
    let codes =
        std::iter::once((planned.file.as_str(), code.as_str())).chain(modules.iter().map(|m| {
            (
                m.file.as_str(),
                m.module.code.as_deref().unwrap_or_default(),
            )
        }));
    for (file, source) in codes {
        if let Some((line, marker)) = marker_in(source) {
            return Status::Stopped(format!(
                "{file}:{line}: holds the keyword marker {marker}, which the Deploy CLI replaces from AUTH0_KEYWORD_REPLACE_MAPPINGS when it deploys; detour import does not: put the value in its place (a secret as event.secrets.NAME)"
            ));
        }
    }
    // A package that cannot work, at the line that requires it.
    let own = planned.action.dependencies.iter().map(|d| {
        (
            d,
            code.as_str(),
            planned.file.as_str(),
            &planned.action.origin,
        )
    });
    let of_modules = modules.iter().flat_map(|m| {
        m.module.dependencies.iter().map(move |d| {
            (
                d,
                m.module.code.as_deref().unwrap_or_default(),
                m.file.as_str(),
                &m.module.origin,
            )
        })
    });
    for (dependency, source, file, origin) in own.chain(of_modules) {
        let why = match CANNOT_WORK.iter().find(|(n, _)| *n == dependency.name) {
            Some((_, why)) => format!("cannot work in Detour: {why}"),
            // Checked here too, so a package not yet installed does not
            // hide it: Detour installs exactly what the config pins.
            None if !is_exact(&dependency.version) => {
                "is not an exact version: pin the one the tenant runs (see its package-lock.json or the Auth0 dashboard), e.g. 4.17.21".to_owned()
            }
            None => continue,
        };
        let at = match require_line(source, &dependency.name) {
            Some(line) => Origin::new(file, line),
            None => origin.clone(),
        };
        return Status::Stopped(
            Problem {
                origin: at,
                message: format!(
                    "dependency {}@{} {why}",
                    dependency.name, dependency.version
                ),
            }
            .to_string(),
        );
    }

    // The checks of `detour check`, on a config of this Action alone.
    let mut toml =
        String::from("[server]\npublic_url = \"http://localhost\"\n[engine]\nworkers = 1\n");
    for module in &modules {
        toml.push('\n');
        toml.push_str(&module_entry(module));
    }
    toml.push('\n');
    toml.push_str(&action_entry(planned));
    // Secrets are not the check's business: placeholders for this
    // Action's variables, nothing else (no DETOUR_* overrides).
    let vars: Vec<&str> = planned.secrets.iter().map(|(_, v, _)| v.as_str()).collect();
    let env = |name: &str| vars.contains(&name).then(|| "placeholder".to_owned());
    let settings = match Settings::from_toml_str(&toml, out, &env) {
        Ok(settings) => settings,
        Err(ConfigError::Code(message)) if message.contains("is not installed") => {
            return Status::NeedsPackages;
        }
        Err(e) => return Status::Stopped(locate(&e.to_string(), planned, code)),
    };
    match crate::engine::EnginePool::start(&settings.engine, &settings.actions) {
        Ok(_) => Status::Imported,
        Err(e) => Status::Stopped(locate(&e.to_string(), planned, code)),
    }
}

/// Prefixes a check's message with the Action file and the line of the
/// `require` it names, when it names one and has no location already.
fn locate(message: &str, planned: &Planned, code: &str) -> String {
    if message.starts_with(&planned.file) {
        return message.to_owned();
    }
    let line = message
        .split("require('")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .and_then(|spec| require_line(code, spec));
    match line {
        Some(line) => format!("{}:{line}: {message}", planned.file),
        None => format!("{}: {message}", planned.file),
    }
}

/// Whether `version` is an exact npm version (`1.7.9`, `2.0.0-rc.1`), as
/// the config requires.
fn is_exact(version: &str) -> bool {
    version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

/// The line of the first `require('<spec>')` of `spec` (any quote) in
/// `source`.
fn require_line(source: &str, spec: &str) -> Option<usize> {
    source
        .lines()
        .position(|line| {
            ['\'', '"', '`'].iter().any(|q| {
                line.contains(&format!("require({q}{spec}{q}"))
                    || line.contains(&format!("require({q}{spec}/"))
            })
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_versions_are_exact() {
        assert!(is_exact("4.17.21") && is_exact("2.0.0-rc.1"));
        assert!(!is_exact("latest") && !is_exact("^4.17.0") && !is_exact("~1.2"));
    }

    #[test]
    fn a_require_is_found_with_any_quote_and_a_subpath() {
        let source = "// x\nconst a = require(\"ioredis/built/x\");\n";
        assert_eq!(require_line(source, "ioredis"), Some(2));
        assert_eq!(require_line(source, "ioredi"), None);
    }
}
