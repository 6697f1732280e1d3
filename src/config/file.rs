//! The config file's raw shape, `DETOUR_*` overrides, and resolution of
//! environment-held secrets into [`Settings`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::{
    ActionSpec, ConfigError, EngineSettings, Isolation, ResultDetails, ServerSettings, Settings,
    StoreSettings, Upstream,
};

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
    ("engine", "fetch_timeout_ms"),
    ("engine", "fetch_max_response_kb"),
    ("engine", "allow_private_networks"),
    ("engine", "fetch_proxy"),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    server: RawServer,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    engine: RawEngine,
    #[serde(default)]
    upstreams: Vec<RawUpstream>,
    #[serde(default)]
    actions: Vec<RawAction>,
    #[serde(default)]
    modules: Vec<RawModule>,
}

/// An Actions Module: shared code required as `actions:<name>`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    name: String,
    file: String,
    version: String,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default = "default_listen")]
    listen: String,
    public_url: Url,
    /// Default: on when `public_url` is https.
    browser_binding: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    redis_url: Option<String>,
    #[serde(default)]
    redis_cluster: bool,
    #[serde(default = "default_login_ttl")]
    login_ttl_secs: u64,
}

impl Default for RawStore {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_cluster: false,
            login_ttl_secs: default_login_ttl(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngine {
    #[serde(default = "default_isolation")]
    isolation: Isolation,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
    #[serde(default = "default_memory_mb")]
    memory_limit_mb: u64,
    workers: Option<usize>,
    #[serde(default = "default_queue")]
    queue_capacity: usize,
    #[serde(default = "default_fetch_timeout_ms")]
    fetch_timeout_ms: u64,
    #[serde(default = "default_fetch_max_kb")]
    fetch_max_response_kb: usize,
    #[serde(default)]
    allow_private_networks: bool,
    /// An http(s) proxy URL for every `fetch`; empty means none.
    fetch_proxy: Option<String>,
}

impl Default for RawEngine {
    fn default() -> Self {
        Self {
            isolation: default_isolation(),
            timeout_ms: default_timeout_ms(),
            memory_limit_mb: default_memory_mb(),
            workers: None,
            queue_capacity: default_queue(),
            fetch_timeout_ms: default_fetch_timeout_ms(),
            fetch_max_response_kb: default_fetch_max_kb(),
            allow_private_networks: false,
            fetch_proxy: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstream {
    id: String,
    api_key_env: String,
    result_secret_env: String,
    return_to: Vec<String>,
    #[serde(default)]
    result_details: ResultDetails,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    name: String,
    file: String,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
    #[serde(default)]
    allow_hosts: Vec<String>,
    /// npm packages, `name = "exact version"`.
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    /// Actions Modules it uses, `name = "version"`.
    #[serde(default)]
    modules: BTreeMap<String, String>,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_login_ttl() -> u64 {
    3600
}
fn default_isolation() -> Isolation {
    Isolation::PerInstance
}
fn default_timeout_ms() -> u64 {
    20_000
}
fn default_memory_mb() -> u64 {
    64
}
fn default_queue() -> usize {
    1024
}
fn default_fetch_timeout_ms() -> u64 {
    // Auth0's guidance for outbound calls from Actions: under 10 s.
    10_000
}
fn default_fetch_max_kb() -> usize {
    1024
}

/// Shortest upstream result secret accepted: 32 bytes, the output size of
/// HS256's SHA-256 (RFC 7518 §3.2 requires a key at least that long).
pub const MIN_RESULT_SECRET_BYTES: usize = 32;

/// Checks `server.public_url` and makes it a base URL: its path ends with
/// `/`, so `join("continue")` lands under a path prefix
/// (`https://x/detour` → `https://x/detour/continue`) instead of replacing
/// its last segment (`https://x/continue`).
fn public_base(mut url: Url) -> Result<Url, ConfigError> {
    let field_err = |message: &str| ConfigError::Field {
        field: "server.public_url".into(),
        message: message.into(),
    };
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(field_err("must be an http or https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(field_err("must not have a query or a fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

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

/// Where Action code comes from.
pub(super) enum Sources<'a> {
    /// Files under this directory, the actions root (the config file's
    /// directory): Actions, Modules and `node_modules` are read from it.
    Disk(&'a Path),
    /// Files compiled into the binary (the sample): no dependencies.
    Embedded(&'a [(&'a str, &'a str)]),
}

/// Resolves environment-held secrets and reads the Action sources.
pub(super) fn resolve(
    raw: RawConfig,
    env: &EnvLookup<'_>,
    sources: Sources<'_>,
) -> Result<Settings, ConfigError> {
    let secret = |var: &str, field: String| -> Result<SecretString, ConfigError> {
        env(var)
            .map(SecretString::from)
            .ok_or_else(|| ConfigError::MissingEnv {
                var: var.to_owned(),
                field,
            })
    };
    let field_err = |field: &str, message: &str| ConfigError::Field {
        field: field.into(),
        message: message.into(),
    };

    if raw.store.login_ttl_secs == 0 {
        return Err(field_err("store.login_ttl_secs", "must be at least 1"));
    }
    if raw.engine.timeout_ms == 0 {
        return Err(field_err("engine.timeout_ms", "must be at least 1"));
    }
    if raw.engine.memory_limit_mb == 0 {
        return Err(field_err("engine.memory_limit_mb", "must be at least 1"));
    }
    if raw.engine.workers == Some(0) {
        return Err(field_err("engine.workers", "must be at least 1"));
    }
    let fetch_proxy = match raw.engine.fetch_proxy.as_deref() {
        None | Some("") => None,
        Some(text) => {
            let url = Url::parse(text)
                .map_err(|e| field_err("engine.fetch_proxy", &format!("{e}: {text}")))?;
            if (url.scheme() != "http" && url.scheme() != "https") || url.host().is_none() {
                return Err(field_err(
                    "engine.fetch_proxy",
                    "must be an http or https URL such as http://proxy:3128",
                ));
            }
            Some(url)
        }
    };

    let public_url = public_base(raw.server.public_url)?;

    let mut upstreams = Vec::with_capacity(raw.upstreams.len());
    for (i, u) in raw.upstreams.into_iter().enumerate() {
        if u.id.is_empty() {
            return Err(field_err(
                &format!("upstreams[{i}].id"),
                "must not be empty",
            ));
        }
        // Two upstreams with one id would share an `aud`: a result token
        // issued for one would verify at the other.
        if upstreams.iter().any(|x: &Upstream| x.id == u.id) {
            return Err(field_err(
                &format!("upstreams[{i}].id"),
                &format!("`{}` is used twice", u.id),
            ));
        }
        for (j, url) in u.return_to.iter().enumerate() {
            let parsed = Url::parse(url).map_err(|e| {
                field_err(&format!("upstreams[{i}].return_to[{j}]"), &e.to_string())
            })?;
            if parsed.scheme() != "https" && parsed.scheme() != "http" {
                return Err(field_err(
                    &format!("upstreams[{i}].return_to[{j}]"),
                    "must be an http or https URL",
                ));
            }
        }
        let result_field = format!("upstreams[{i}].result_secret_env");
        let result_secret = secret(&u.result_secret_env, result_field.clone())?;
        // Result tokens are HS256: whoever guesses the key forges outcomes.
        let length = result_secret.expose_secret().len();
        if length < MIN_RESULT_SECRET_BYTES {
            return Err(ConfigError::WeakSecret {
                var: u.result_secret_env,
                field: result_field,
                upstream: u.id,
                length,
                minimum: MIN_RESULT_SECRET_BYTES,
            });
        }
        upstreams.push(Upstream {
            api_key: secret(&u.api_key_env, format!("upstreams[{i}].api_key_env"))?,
            result_secret,
            id: u.id,
            return_to: u.return_to,
            result_details: u.result_details,
        });
    }

    let mut builder = match sources {
        Sources::Disk(root) if !raw.actions.is_empty() || !raw.modules.is_empty() => {
            Some(super::modules::Builder::new(root)?)
        }
        Sources::Disk(_) => None,
        Sources::Embedded(_) => Some(super::modules::Builder::embedded()),
    };
    for (i, m) in raw.modules.iter().enumerate() {
        let field = |f: &str| format!("modules[{i}].{f}");
        if m.name.is_empty() || m.name.contains(|c: char| c.is_whitespace() || c == ':') {
            return Err(field_err(
                &field("name"),
                "must be a non-empty name without spaces or `:`",
            ));
        }
        if raw.modules[..i].iter().any(|x| x.name == m.name) {
            return Err(field_err(
                &field("name"),
                &format!("`{}` is used twice", m.name),
            ));
        }
        if m.version.is_empty() {
            return Err(field_err(&field("version"), "must not be empty"));
        }
        let (Sources::Disk(root), Some(builder)) = (&sources, builder.as_mut()) else {
            return Err(field_err(
                &field("file"),
                "modules need a config file on disk",
            ));
        };
        builder.add_module(&m.name, &root.join(&m.file), &m.version, &m.dependencies)?;
    }
    let mut codes = Vec::with_capacity(raw.actions.len());
    // (name, file, source, secrets, allow_hosts), until the code set is done.
    type Read = (
        String,
        PathBuf,
        String,
        BTreeMap<String, SecretString>,
        Vec<String>,
    );
    let mut actions: Vec<Read> = Vec::with_capacity(raw.actions.len());
    for (i, a) in raw.actions.into_iter().enumerate() {
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
                secret(var, format!("actions[{i}].secrets.{name}"))?,
            );
        }
        let (file, source, code) = match (&sources, builder.as_mut()) {
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
    let code_set = builder
        .map(super::modules::Builder::finish)
        .unwrap_or_default();
    let actions: Vec<ActionSpec> = actions
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

    // Twice the cores by default: an engine stuck in a CPU loop until its
    // deadline then shares a core with a healthy one (the OS time-slices
    // them) instead of leaving logins queued behind it.
    let workers = raw.engine.workers.unwrap_or_else(|| {
        2 * std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    Ok(Settings {
        server: ServerSettings {
            listen: raw.server.listen,
            browser_binding: raw
                .server
                .browser_binding
                .unwrap_or(public_url.scheme() == "https"),
            public_url,
        },
        store: StoreSettings {
            redis_url: raw.store.redis_url.filter(|u| !u.is_empty()),
            redis_cluster: raw.store.redis_cluster,
            login_ttl: Duration::from_secs(raw.store.login_ttl_secs),
        },
        engine: EngineSettings {
            isolation: raw.engine.isolation,
            timeout: Duration::from_millis(raw.engine.timeout_ms),
            memory_limit_bytes: usize::try_from(raw.engine.memory_limit_mb)
                .unwrap_or(usize::MAX / (1 << 20))
                .saturating_mul(1 << 20),
            workers,
            queue_capacity: raw.engine.queue_capacity.max(1),
            fetch_timeout: Duration::from_millis(raw.engine.fetch_timeout_ms.max(1)),
            fetch_max_response_bytes: raw.engine.fetch_max_response_kb.saturating_mul(1024),
            allow_private_networks: raw.engine.allow_private_networks,
            fetch_proxy,
            resolve_overrides: Vec::new(),
        },
        upstreams,
        actions,
    })
}

/// The sample mode's loader: sources come from the binary, not the disk.
pub(super) fn resolve_embedded(
    raw: RawConfig,
    env: &EnvLookup<'_>,
    files: &[(&str, &str)],
) -> Result<Settings, ConfigError> {
    resolve(raw, env, Sources::Embedded(files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

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

    #[test]
    fn browser_binding_is_on_by_default_for_https_only() {
        let load = |url: &str| {
            let raw = parse(&format!("[server]\npublic_url='{url}'\n"), &env(&[]))
                .ok()
                .unwrap();
            resolve(raw, &env(&[]), Sources::Disk(Path::new(".")))
                .ok()
                .unwrap()
                .server
                .browser_binding
        };
        assert!(load("https://detour.example"));
        assert!(!load("http://localhost:8080"));
    }

    #[test]
    fn a_public_url_path_prefix_is_kept_with_or_without_a_trailing_slash() {
        let load = |url: &str| {
            let raw = parse(&format!("[server]\npublic_url='{url}'\n"), &env(&[]))
                .ok()
                .unwrap();
            resolve(raw, &env(&[]), Sources::Disk(Path::new(".")))
                .ok()
                .unwrap()
                .server
        };
        for url in ["https://x.example/detour", "https://x.example/detour/"] {
            let server = load(url);
            assert_eq!(server.public_url.as_str(), "https://x.example/detour/");
            assert_eq!(
                server.public_url.join("continue").ok().unwrap().as_str(),
                "https://x.example/detour/continue"
            );
            assert_eq!(
                server.endpoint("redirect").as_str(),
                "https://x.example/detour/redirect"
            );
        }
        assert_eq!(
            load("http://localhost:8080").endpoint("continue").as_str(),
            "http://localhost:8080/continue"
        );
    }

    #[test]
    fn missing_secret_variable_is_named() {
        let raw = parse(
            "[server]\npublic_url='http://x'\n[[upstreams]]\nid='a'\napi_key_env='K'\nresult_secret_env='S'\nreturn_to=['http://x/cb']\n",
            &env(&[("K", "k")]),
        )
        .ok()
        .unwrap();
        let err = resolve(raw, &env(&[("K", "k")]), Sources::Disk(Path::new(".")))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "environment variable S (named by `upstreams[0].result_secret_env`) is not set"
        );
    }

    #[test]
    fn result_details_default_to_none_and_an_unknown_mode_names_the_field() {
        let upstream = "[server]\npublic_url='http://x'\n[[upstreams]]\nid='a'\napi_key_env='K'\nresult_secret_env='S'\nreturn_to=['http://x/cb']\n";
        let vars = env(&[("K", "k"), ("S", "a-result-secret-of-at-least-32-bytes")]);
        let load = |extra: &str| {
            parse(&format!("{upstream}{extra}"), &vars)
                .and_then(|raw| resolve(raw, &vars, Sources::Disk(Path::new("."))))
        };
        let upstreams = |extra: &str| load(extra).ok().unwrap().upstreams;
        assert_eq!(upstreams("")[0].result_details, ResultDetails::None);
        assert_eq!(
            upstreams("result_details = 'back_channel'\n")[0].result_details,
            ResultDetails::BackChannel
        );
        let err = load("result_details = 'full'\n").err().unwrap().to_string();
        assert!(err.contains("result_details"), "{err}");
    }

    #[test]
    fn fetch_proxy_is_an_http_url_from_the_file_or_the_environment() {
        let load = |toml: &str, vars: &[(&str, &str)]| {
            let vars = env(vars);
            parse(toml, &vars)
                .and_then(|raw| resolve(raw, &vars, Sources::Disk(Path::new("."))))
                .map(|s| s.engine.fetch_proxy.map(|u| u.to_string()))
        };
        let server = "[server]\npublic_url='http://x'\n";

        assert_eq!(load(server, &[]).ok(), Some(None));
        assert_eq!(
            load(
                &format!("{server}[engine]\nfetch_proxy='http://proxy:3128'\n"),
                &[]
            )
            .ok(),
            Some(Some("http://proxy:3128/".into()))
        );
        assert_eq!(
            load(
                server,
                &[("DETOUR_ENGINE__FETCH_PROXY", "http://10.0.0.5:8080")]
            )
            .ok(),
            Some(Some("http://10.0.0.5:8080/".into()))
        );
        for bad in ["proxy:3128", "socks5://proxy:1080", "not a url"] {
            let err = load(&format!("{server}[engine]\nfetch_proxy='{bad}'\n"), &[])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("engine.fetch_proxy"), "{bad}: {err}");
        }
    }
}
