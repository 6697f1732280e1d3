//! The `[[modules]]` and `[[actions]]`: their names, secrets and code,
//! read into one code set (see [`super::modules`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::file::EnvLookup;
use super::load::{field_err, secret};
use super::modules::Builder;
use super::raw::{RawAction, RawModule};
use super::{ActionSpec, ConfigError};

/// Where Action code comes from.
pub(super) enum Sources<'a> {
    /// Files under this directory, the actions root (the config file's
    /// directory): Actions, Modules and `node_modules` are read from it.
    Disk(&'a Path),
    /// Files compiled into the binary (the sample): no dependencies.
    Embedded(&'a [(&'a str, &'a str)]),
}

/// Checks the Modules and Actions, resolves the Actions' secrets and reads
/// their code (Modules first: Actions pin them).
pub(super) fn actions(
    raw_modules: &[RawModule],
    raw_actions: Vec<RawAction>,
    env: &EnvLookup<'_>,
    sources: &Sources<'_>,
) -> Result<Vec<ActionSpec>, ConfigError> {
    let mut builder = match *sources {
        Sources::Disk(root) if !raw_actions.is_empty() || !raw_modules.is_empty() => {
            Some(Builder::new(root)?)
        }
        Sources::Disk(_) => None,
        Sources::Embedded(_) => Some(Builder::embedded()),
    };
    for (i, m) in raw_modules.iter().enumerate() {
        let field = |f: &str| format!("modules[{i}].{f}");
        if m.name.is_empty() || m.name.contains(|c: char| c.is_whitespace() || c == ':') {
            return Err(field_err(
                &field("name"),
                "must be a non-empty name without spaces or `:`",
            ));
        }
        if raw_modules[..i].iter().any(|x| x.name == m.name) {
            return Err(field_err(
                &field("name"),
                &format!("`{}` is used twice", m.name),
            ));
        }
        if m.version.is_empty() {
            return Err(field_err(&field("version"), "must not be empty"));
        }
        let (Sources::Disk(root), Some(builder)) = (sources, builder.as_mut()) else {
            return Err(field_err(
                &field("file"),
                "modules need a config file on disk",
            ));
        };
        builder.add_module(&m.name, &root.join(&m.file), &m.version, &m.dependencies)?;
    }
    let mut codes = Vec::with_capacity(raw_actions.len());
    // (name, file, source, secrets, allow_hosts), until the code set is done.
    type Read = (
        String,
        PathBuf,
        String,
        BTreeMap<String, SecretString>,
        Vec<String>,
    );
    let mut actions: Vec<Read> = Vec::with_capacity(raw_actions.len());
    for (i, a) in raw_actions.into_iter().enumerate() {
        if a.name.is_empty() {
            return Err(field_err(
                &format!("actions[{i}].name"),
                "must not be empty",
            ));
        }
        if actions.iter().any(|(name, ..)| *name == a.name) {
            return Err(field_err(
                &format!("actions[{i}].name"),
                &format!("`{}` is used twice", a.name),
            ));
        }
        let mut secrets = BTreeMap::new();
        for (name, var) in &a.secrets {
            secrets.insert(
                name.clone(),
                secret(env, var, format!("actions[{i}].secrets.{name}"))?,
            );
        }
        let (file, source, code) = match (sources, builder.as_mut()) {
            (Sources::Disk(root), Some(builder)) => {
                let path = root.join(&a.file);
                let source =
                    std::fs::read_to_string(&path).map_err(|source| ConfigError::ActionFile {
                        name: a.name.clone(),
                        path: path.clone(),
                        source,
                    })?;
                let code = builder.add_action(&a.name, &path, &a.dependencies, &a.modules)?;
                (path, source, code)
            }
            (Sources::Embedded(files), Some(builder)) => {
                let source = files
                    .iter()
                    .find(|(f, _)| *f == a.file)
                    .map(|(_, src)| (*src).to_owned())
                    .ok_or_else(|| ConfigError::ActionFile {
                        name: a.name.clone(),
                        path: PathBuf::from(&a.file),
                        source: std::io::Error::from(std::io::ErrorKind::NotFound),
                    })?;
                if !a.dependencies.is_empty() || !a.modules.is_empty() {
                    return Err(field_err(
                        &format!("actions[{i}].dependencies"),
                        "embedded Actions cannot have dependencies or modules",
                    ));
                }
                let code = builder.add_embedded_action(&a.file, &source);
                (PathBuf::from("actions").join(&a.file), source, code)
            }
            _ => return Err(field_err(&format!("actions[{i}]"), "no code source")),
        };
        codes.push(code);
        actions.push((a.name, file, source, secrets, a.allow_hosts));
    }
    let code_set = builder.map(Builder::finish).unwrap_or_default();
    let actions = actions
        .into_iter()
        .zip(codes)
        .map(
            |((name, file, source, secrets, allow_hosts), code)| ActionSpec {
                name,
                file,
                source,
                code: code_set.clone(),
                entry: code,
                secrets,
                allow_hosts,
            },
        )
        .collect();
    Ok(actions)
}
