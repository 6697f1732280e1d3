//! The config file's raw shape, as TOML gives it, with its defaults:
//! nothing here is checked beyond its type (see `load`).

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use super::{Isolation, ResultDetails};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) server: RawServer,
    #[serde(default)]
    pub(super) store: RawStore,
    #[serde(default)]
    pub(super) engine: RawEngine,
    #[serde(default)]
    pub(super) upstreams: Vec<RawUpstream>,
    #[serde(default)]
    pub(super) actions: Vec<RawAction>,
    #[serde(default)]
    pub(super) modules: Vec<RawModule>,
}

/// An Actions Module: shared code required as `actions:<name>`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModule {
    pub(super) name: String,
    pub(super) file: String,
    pub(super) version: String,
    #[serde(default)]
    pub(super) dependencies: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    #[serde(default = "default_listen")]
    pub(super) listen: String,
    pub(super) public_url: Url,
    /// Default: on when `public_url` is https.
    pub(super) browser_binding: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub(super) redis_url: Option<String>,
    #[serde(default)]
    pub(super) redis_cluster: bool,
    #[serde(default = "default_login_ttl")]
    pub(super) login_ttl_secs: u64,
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
pub(super) struct RawEngine {
    #[serde(default = "default_isolation")]
    pub(super) isolation: Isolation,
    #[serde(default = "default_timeout_ms")]
    pub(super) timeout_ms: u64,
    #[serde(default = "default_memory_mb")]
    pub(super) memory_limit_mb: u64,
    pub(super) workers: Option<usize>,
    #[serde(default = "default_queue")]
    pub(super) queue_capacity: usize,
    #[serde(default = "default_inline")]
    pub(super) inline: bool,
    #[serde(default = "default_fetch_timeout_ms")]
    pub(super) fetch_timeout_ms: u64,
    #[serde(default = "default_fetch_max_kb")]
    pub(super) fetch_max_response_kb: usize,
    #[serde(default)]
    pub(super) allow_private_networks: bool,
    /// An http(s) proxy URL for every `fetch`; empty means none.
    pub(super) fetch_proxy: Option<String>,
}

impl Default for RawEngine {
    fn default() -> Self {
        Self {
            isolation: default_isolation(),
            timeout_ms: default_timeout_ms(),
            memory_limit_mb: default_memory_mb(),
            workers: None,
            queue_capacity: default_queue(),
            inline: default_inline(),
            fetch_timeout_ms: default_fetch_timeout_ms(),
            fetch_max_response_kb: default_fetch_max_kb(),
            allow_private_networks: false,
            fetch_proxy: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUpstream {
    pub(super) id: String,
    pub(super) api_key_env: String,
    pub(super) result_secret_env: String,
    pub(super) return_to: Vec<String>,
    #[serde(default)]
    pub(super) result_details: ResultDetails,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAction {
    pub(super) name: String,
    pub(super) file: String,
    #[serde(default)]
    pub(super) secrets: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) allow_hosts: Vec<String>,
    /// npm packages, `name = "exact version"`.
    #[serde(default)]
    pub(super) dependencies: BTreeMap<String, String>,
    /// Actions Modules it uses, `name = "version"`.
    #[serde(default)]
    pub(super) modules: BTreeMap<String, String>,
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
fn default_inline() -> bool {
    true
}
fn default_fetch_timeout_ms() -> u64 {
    // Auth0's guidance for outbound calls from Actions: under 10 s.
    10_000
}
fn default_fetch_max_kb() -> usize {
    1024
}
