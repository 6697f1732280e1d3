//! Typed configuration: one TOML file, scalar overrides from `DETOUR_*`
//! environment variables, and secrets only from the environment.
//!
//! Loading happens once at start-up. Every failure names the field or the
//! environment variable at fault, so an operator can fix it without reading
//! code. Nothing here is global: the resulting [`Settings`] is passed down
//! explicitly.

mod actions;
mod file;
mod load;
pub mod modules;
mod raw;
pub mod resolve;
mod sample;
mod upstreams;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

pub use file::{EnvLookup, OVERRIDABLE};
pub use sample::sample_settings;
pub use upstreams::MIN_RESULT_SECRET_BYTES;

/// Everything Detour needs to run, validated and with secrets resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen and how Detour is reached from outside.
    pub server: ServerSettings,
    /// The state store.
    pub store: StoreSettings,
    /// JavaScript engine limits and isolation.
    pub engine: EngineSettings,
    /// Servers allowed to call `POST /v1/post-login`.
    pub upstreams: Vec<Upstream>,
    /// The post-login Actions, in execution order.
    pub actions: Vec<ActionSpec>,
}

/// The `[server]` section.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Socket address to bind (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Detour's own public base URL; `/continue` lives under it and it is the
    /// `iss` of result tokens (without its trailing `/`). Its path always
    /// ends with `/`, so [`Url::join`] keeps a path prefix.
    pub public_url: Url,
    /// Whether a suspended login is bound to the browser that started it
    /// (a cookie set by `/redirect`, checked by `/continue`).
    pub browser_binding: bool,
}

impl ServerSettings {
    /// The public URL of one of Detour's own endpoints (`continue`,
    /// `redirect`): under `public_url`'s path, so a Detour served at
    /// `https://id.example.com/detour/` behind a prefix-stripping proxy
    /// points browsers at `https://id.example.com/detour/continue`.
    pub fn endpoint(&self, name: &str) -> Url {
        let mut url = self.public_url.clone();
        let path = format!("{}/{name}", self.public_url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }
}

/// The `[store]` section.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// Redis (`redis://`) URL; `None` selects the in-memory store. With
    /// `redis_cluster`, a comma-separated list of seed nodes.
    pub redis_url: Option<String>,
    /// Whether `redis_url` names Redis Cluster nodes.
    pub redis_cluster: bool,
    /// How long a suspended login may wait for `/continue`, counted from
    /// the start of the login.
    pub login_ttl: Duration,
}

/// How executions are isolated from each other (see docs/architecture.md#isolation-modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Auth0's semantics: module scope lives on across executions.
    PerInstance,
    /// A fresh context for every execution: nothing survives.
    PerExecution,
}

/// The `[engine]` section.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Isolation mode.
    pub isolation: Isolation,
    /// Wall-clock budget for one trigger run (before, and separately after,
    /// a detour).
    pub timeout: Duration,
    /// Memory limit of one Action's runtime on one engine thread, in bytes.
    pub memory_limit_bytes: usize,
    /// Number of engine threads.
    pub workers: usize,
    /// How many executions may wait for a free engine before new logins are
    /// refused with `503 temporarily_unavailable`.
    pub queue_capacity: usize,
    /// Whether an execution runs on the HTTP worker that handles its login
    /// when it neither waits nor runs long (`per_instance` only).
    pub inline: bool,
    /// Timeout of one outbound `fetch`.
    pub fetch_timeout: Duration,
    /// Largest outbound response body an Action may read.
    pub fetch_max_response_bytes: usize,
    /// Whether Actions may reach loopback, link-local and private addresses.
    pub allow_private_networks: bool,
    /// An explicit HTTP proxy for every `fetch` (`engine.fetch_proxy`);
    /// proxies from the environment are never used.
    pub fetch_proxy: Option<Url>,
    /// Hosts pinned to an address for `fetch`, past the private-address
    /// guard (not settable from the config file).
    pub resolve_overrides: Vec<ResolveOverride>,
}

/// One pinned host, like curl's `--resolve host:port:addr`: requests to
/// `host` on port `addr.port()` connect to `addr`, even when `addr` is a
/// private address; the host must still be in the Action's `allow_hosts`.
/// Requests to the same host on another port are refused, so the
/// exception covers exactly one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOverride {
    /// The host name as it appears in URLs (not an IP literal).
    pub host: String,
    /// Where it connects; its port is the only port the host is reachable on.
    pub addr: SocketAddr,
}

impl ResolveOverride {
    /// Pins `host` (case-insensitive, a trailing dot ignored) to `addr`.
    pub fn new(host: &str, addr: SocketAddr) -> Self {
        Self {
            host: host.trim_end_matches('.').to_ascii_lowercase(),
            addr,
        }
    }
}

/// A server that may call Detour.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Identifier; the result token's `aud`.
    pub id: String,
    /// Bearer key for `POST /v1/post-login`.
    pub api_key: SecretString,
    /// HS256 key of result tokens.
    pub result_secret: SecretString,
    /// Exact `return_to` URLs this upstream may use.
    pub return_to: Vec<String>,
    /// How this upstream gets the Actions' console output and error text
    /// of a login delivered through the browser.
    pub result_details: ResultDetails,
}

/// How an upstream gets what its Actions logged and threw when a login ends
/// at `return_to`: the result token travels through the browser (its
/// history, the upstream's access logs), so by default it carries none of
/// it. `POST /v1/post-login` answers the upstream directly and always
/// carries everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultDetails {
    /// The result token's executions carry only Action, handler and
    /// duration; a failed Action's message becomes `Action "<name>" failed`.
    #[default]
    None,
    /// As `None`, and the full records are kept for a few minutes under the
    /// token's `jti`, for the upstream to fetch once with its API key
    /// (`POST /v1/result-details`).
    BackChannel,
    /// The full records and messages in the result token, through the
    /// browser. Only for upstreams whose Actions never log or throw
    /// anything sensitive.
    InToken,
}

/// One post-login Action binding.
#[derive(Debug, Clone)]
pub struct ActionSpec {
    /// Name used in execution records and logs.
    pub name: String,
    /// Where the source came from (for error messages).
    pub file: PathBuf,
    /// The JavaScript source.
    pub source: String,
    /// Every file the configured Actions can reach (shared by all the
    /// Actions of one configuration; see [`modules`]).
    pub code: std::sync::Arc<modules::CodeSet>,
    /// What this Action may load, and the hash a suspended login pins.
    pub entry: modules::ActionCode,
    /// `event.secrets` of this Action, resolved from the environment.
    pub secrets: BTreeMap<String, SecretString>,
    /// Outbound HTTP allowlist.
    pub allow_hosts: Vec<String>,
}

/// A configuration problem found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path tried.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is not well-formed.
    #[error("config is not valid TOML: {0}")]
    Syntax(String),
    /// A field is missing, unknown or has the wrong type.
    #[error("config field `{field}`: {message}")]
    Field {
        /// Dotted path of the field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A referenced environment variable is not set.
    #[error("environment variable {var} (named by `{field}`) is not set")]
    MissingEnv {
        /// The variable.
        var: String,
        /// The config field that names it.
        field: String,
    },
    /// An upstream's result secret is too short to sign result tokens with.
    #[error(
        "environment variable {var} (named by `{field}`) holds the result secret of upstream `{upstream}`: it is {length} bytes long and must be at least {minimum} (a long random value, e.g. `openssl rand -base64 48`)"
    )]
    WeakSecret {
        /// The variable.
        var: String,
        /// The config field that names it.
        field: String,
        /// The upstream's id.
        upstream: String,
        /// The secret's length in bytes.
        length: usize,
        /// The least accepted length in bytes.
        minimum: usize,
    },
    /// An Action's or Module's code cannot be loaded: a dependency is
    /// missing or at another version, a `require` does not resolve, a
    /// package is not declared, a Module's version does not match.
    #[error("{0}")]
    Code(String),
    /// An Action file could not be read.
    #[error("action `{name}`: cannot read {path}: {source}")]
    ActionFile {
        /// Action name.
        name: String,
        /// Resolved path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Settings {
    /// Loads settings from a TOML file; relative action paths are resolved
    /// against the file's directory.
    pub fn from_file(path: &Path, env: &EnvLookup<'_>) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = modules::dir_of(path);
        Self::from_toml_str(&text, base, env)
    }

    /// Loads settings from TOML text. `base_dir` resolves relative action
    /// paths and is the actions root: Actions, Modules and the
    /// `node_modules` they use must all be under it; `env` looks up environment variables (injected so tests never
    /// touch the process environment).
    pub fn from_toml_str(
        toml: &str,
        base_dir: &Path,
        env: &EnvLookup<'_>,
    ) -> Result<Self, ConfigError> {
        let raw = file::parse(toml, env)?;
        load::settings(raw, env, actions::Sources::Disk(base_dir))
    }

    /// The `package.json` for a config file's Actions and Modules: every
    /// declared npm package at its exact version. Reads nothing but the
    /// config file, so it works before the packages are installed.
    pub fn package_json(
        path: &Path,
        env: &EnvLookup<'_>,
    ) -> Result<serde_json::Value, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let raw = file::parse(&text, env)?;
        let dependencies = file::dependencies(&raw)?;
        Ok(serde_json::json!({
            "private": true,
            "description": "npm packages of the Detour Actions in detour.toml (written by `detour deps`)",
            "dependencies": dependencies,
        }))
    }

    /// Looks up an upstream by id.
    pub fn upstream(&self, id: &str) -> Option<&Upstream> {
        self.upstreams.iter().find(|u| u.id == id)
    }
}
