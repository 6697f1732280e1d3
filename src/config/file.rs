//! Reading the config file: TOML text and `DETOUR_*` overrides into its
//! raw shape, and the npm packages it declares (for `detour deps`).

use std::collections::BTreeMap;

use super::ConfigError;
use super::raw::RawConfig;

/// Environment lookup: `Some(value)` when the variable is set.
pub type EnvLookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// The scalar settings that `DETOUR_<SECTION>__<FIELD>` variables override,
/// e.g. `DETOUR_STORE__REDIS_URL`.
pub const OVERRIDABLE: &[(&str, &str)] = &[
    ("server", "listen"),
    ("server", "public_url"),
    ("server", "browser_binding"),
    ("store", "redis_url"),
    ("store", "login_ttl_secs"),
    ("store", "redis_cluster"),
    ("engine", "isolation"),
    ("engine", "timeout_ms"),
    ("engine", "memory_limit_mb"),
    ("engine", "workers"),
    ("engine", "queue_capacity"),
    ("engine", "inline"),
    ("engine", "fetch_timeout_ms"),
    ("engine", "fetch_max_response_kb"),
    ("engine", "allow_private_networks"),
    ("engine", "fetch_proxy"),
];

/// Parses TOML text, applies `DETOUR_*` overrides, and checks the shape.
pub(super) fn parse(text: &str, env: &EnvLookup<'_>) -> Result<RawConfig, ConfigError> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
    for (section, field) in OVERRIDABLE {
        let var = format!(
            "DETOUR_{}__{}",
            section.to_uppercase(),
            field.to_uppercase()
        );
        let Some(value) = env(&var) else { continue };
        let entry = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(section_table) = entry else {
            return Err(ConfigError::Field {
                field: (*section).into(),
                message: "must be a table".into(),
            });
        };
        // Numbers and booleans keep their type so `DETOUR_ENGINE__TIMEOUT_MS=500` works.
        let value = value
            .parse::<i64>()
            .map(toml::Value::Integer)
            .or_else(|_| value.parse::<bool>().map(toml::Value::Boolean))
            .unwrap_or(toml::Value::String(value));
        section_table.insert(field.to_string(), value);
    }
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let field = e.path().to_string();
        ConfigError::Field {
            field,
            message: e.into_inner().to_string(),
        }
    })
}

/// The npm packages a config's Actions and Modules declare, merged: what
/// its `package.json` must list. Two versions of one package are an error
/// naming both declarations (one `node_modules` holds one of them).
pub(super) fn dependencies(raw: &RawConfig) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut merged: BTreeMap<String, (String, String)> = BTreeMap::new();
    let declared = raw
        .actions
        .iter()
        .map(|a| (format!("action \"{}\"", a.name), &a.dependencies))
        .chain(
            raw.modules
                .iter()
                .map(|m| (format!("module \"{}\"", m.name), &m.dependencies)),
        );
    for (owner, dependencies) in declared {
        for (name, version) in dependencies {
            match merged.get(name) {
                Some((other, at)) if at != version => {
                    return Err(ConfigError::Code(format!(
                        "{owner} declares {name}@{version} but {other} declares {name}@{at}: one node_modules holds one version"
                    )));
                }
                Some(_) => {}
                None => {
                    merged.insert(name.clone(), (owner.clone(), version.clone()));
                }
            }
        }
    }
    Ok(merged.into_iter().map(|(k, (_, v))| (k, v)).collect())
}

/// An environment holding `vars` only (tests).
#[cfg(test)]
pub(super) fn fake_env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::fake_env as env;
    use super::*;

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let err = parse(
            "[server]\npublic_url='http://x'\n[engine]\ntimeout='3'\n",
            &env(&[]),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("engine"), "{err}");
        assert!(err.to_string().contains("timeout"), "{err}");
    }

    #[test]
    fn env_overrides_scalars_with_their_type() {
        let raw = parse(
            "[server]\npublic_url='http://x'\n",
            &env(&[("DETOUR_ENGINE__TIMEOUT_MS", "500")]),
        )
        .ok()
        .unwrap();
        assert_eq!(raw.engine.timeout_ms, 500);
    }
}
