//! The harness: `spawn_app` starts a real Detour on a free port with its own
//! store (a fresh `redis-server` or the in-memory store), the given Action
//! fixtures and an explicit environment, and returns a `TestApp` whose
//! methods are the protocol steps.

pub mod clock;
pub mod cluster;
pub mod event;
pub mod html;
pub mod process;
pub mod redis;
pub mod responses;
pub mod signal;
pub mod tls;
pub mod tokens;

pub use event::{REQUEST_HOSTNAME, REQUEST_IP, USER_EMAIL, USER_ID, login_event};
pub use html::html_tags;
pub use responses::{
    ExternalVisit, assert_invalid_request_page, claim, executions, json_body, location_of,
    result_from_redirect,
};

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};
use tempfile::TempDir;

use self::clock::TestClock;
use self::redis::TestRedis;
use self::tokens::sign_hs256;

/// The upstream every test talks as.
pub const UPSTREAM_ID: &str = "demo";
pub const API_KEY: &str = "demo-api-key-5f0c8a1e2b7d4c39";
pub const RESULT_SECRET: &str = "demo-result-secret-9a8b7c6d5e4f3a2b1c0d";
/// The secret the favorite-color Action shares with the external site.
pub const SHARED_SECRET: &str = "favorite-color-shared-secret-0123456789";
/// Detour's public URL in the tests: the `iss` of result tokens.
pub const PUBLIC_URL: &str = "http://detour.test";
/// The registered `return_to` URLs of the upstream.
pub const RETURN_TO: &str = "http://127.0.0.1:9/callback";
pub const RETURN_TO_WITH_QUERY: &str = "http://127.0.0.1:9/callback?client=web";
/// What the upstream's own transaction id is in every login.
pub const TRANSACTION_ID: &str = "tx-1";

/// Which store the server under test keeps suspended logins in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Redis,
    InMemory,
}

/// One `[[actions]]` entry: a fixture from `tests/fixtures/actions/`.
#[derive(Debug, Clone)]
pub struct ActionFixture {
    pub name: &'static str,
    pub file: String,
    /// `event.secrets` name -> environment variable name.
    pub secrets: Vec<(&'static str, &'static str)>,
    /// Outbound HTTP allowlist.
    pub allow_hosts: Vec<&'static str>,
    /// Files it `require`s, relative to the fixtures directory.
    pub modules: Vec<&'static str>,
    /// npm packages it declares, `(name, exact version)`.
    pub dependencies: Vec<(&'static str, &'static str)>,
    /// Actions Modules it pins, `(name, version)`.
    pub uses: Vec<(&'static str, &'static str)>,
}

impl ActionFixture {
    /// The fixture `<name>.js`, bound under `name`, without secrets.
    pub fn named(name: &'static str) -> ActionFixture {
        ActionFixture {
            name,
            file: format!("{name}.js"),
            secrets: Vec::new(),
            allow_hosts: Vec::new(),
            modules: Vec::new(),
            dependencies: Vec::new(),
            uses: Vec::new(),
        }
    }

    /// The seed's favorite-color redirect Action with its shared secret.
    pub fn favorite_color() -> ActionFixture {
        ActionFixture {
            secrets: vec![("MY_SHARED_SECRET", "FAV_SECRET")],
            ..ActionFixture::named("favorite-color")
        }
    }
}

/// Everything a test can choose about the server it starts.
#[derive(Debug, Clone)]
pub struct TestConfig {
    pub store: StoreKind,
    pub actions: Vec<ActionFixture>,
    pub isolation: &'static str,
    pub login_ttl_secs: u64,
    pub timeout_ms: u64,
    /// Extra lines for the `[engine]` section.
    pub engine_extra: String,
    /// Extra lines for the `[store]` section.
    pub store_extra: String,
    /// Extra lines for the `[server]` section.
    pub server_extra: String,
    /// Extra lines for the `demo` upstream's `[[upstreams]]` entry.
    pub upstream_extra: String,
    /// TOML appended after everything else (more `[[upstreams]]`, say, or
    /// `[[modules]]` entries).
    pub extra_toml: String,
    /// The process environment the config is resolved against.
    pub env: HashMap<String, String>,
    /// A directory under `tests/fixtures/` copied whole into the config's
    /// directory (the actions root) before the Actions: Actions, Actions
    /// Modules and a `node_modules` tree. Action files found in it are
    /// not looked for in `tests/fixtures/actions/`.
    pub tree: Option<&'static str>,
}

impl TestConfig {
    pub fn new(store: StoreKind, actions: Vec<ActionFixture>) -> TestConfig {
        let env = [
            ("DEMO_API_KEY", API_KEY),
            ("DEMO_RESULT_SECRET", RESULT_SECRET),
            ("FAV_SECRET", SHARED_SECRET),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        TestConfig {
            store,
            actions,
            isolation: "per_instance",
            login_ttl_secs: 3600,
            timeout_ms: 20000,
            engine_extra: String::new(),
            store_extra: String::new(),
            server_extra: String::new(),
            upstream_extra: String::new(),
            extra_toml: String::new(),
            env,
            tree: None,
        }
    }

    /// The `detour.toml` text for this configuration.
    pub fn toml(&self, redis_url: Option<&str>) -> String {
        let mut toml = format!(
            r#"[server]
listen = "127.0.0.1:0"
public_url = "{PUBLIC_URL}"
{server_extra}

[store]
{redis}login_ttl_secs = {ttl}
{store_extra}

[engine]
isolation = "{isolation}"
timeout_ms = {timeout_ms}
memory_limit_mb = 64
{engine_extra}
[[upstreams]]
id = "{UPSTREAM_ID}"
api_key_env = "DEMO_API_KEY"
result_secret_env = "DEMO_RESULT_SECRET"
return_to = ["{RETURN_TO}", "{RETURN_TO_WITH_QUERY}"]
{upstream_extra}
"#,
            redis = redis_url
                .map(|url| format!("redis_url = \"{url}\"\n"))
                .unwrap_or_default(),
            ttl = self.login_ttl_secs,
            isolation = self.isolation,
            timeout_ms = self.timeout_ms,
            engine_extra = self.engine_extra,
            store_extra = self.store_extra,
            server_extra = self.server_extra,
            upstream_extra = self.upstream_extra,
        );
        for action in &self.actions {
            toml.push_str(&format!(
                "\n[[actions]]\nname = \"{}\"\nfile = \"{}\"\n",
                action.name, action.file
            ));
            if !action.secrets.is_empty() {
                let secrets = action
                    .secrets
                    .iter()
                    .map(|(name, var)| format!("{name} = \"{var}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                toml.push_str(&format!("secrets = {{ {secrets} }}\n"));
            }
            if !action.allow_hosts.is_empty() {
                let hosts = action
                    .allow_hosts
                    .iter()
                    .map(|h| format!("\"{h}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                toml.push_str(&format!("allow_hosts = [{hosts}]\n"));
            }
            let table = |pairs: &[(&str, &str)]| {
                pairs
                    .iter()
                    .map(|(k, v)| format!("\"{k}\" = \"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !action.dependencies.is_empty() {
                toml.push_str(&format!(
                    "dependencies = {{ {} }}\n",
                    table(&action.dependencies)
                ));
            }
            if !action.uses.is_empty() {
                toml.push_str(&format!("modules = {{ {} }}\n", table(&action.uses)));
            }
        }
        toml.push_str(&self.extra_toml);
        toml
    }
}

/// A config written out in a temporary directory with its Action fixtures.
pub struct PreparedConfig {
    pub dir: TempDir,
    pub toml: String,
    pub env: HashMap<String, String>,
}

impl PreparedConfig {
    /// Copies the fixtures of `config` into a fresh directory and renders
    /// the TOML text.
    pub fn new(config: &TestConfig, redis_url: Option<&str>) -> PreparedConfig {
        let dir = tempfile::tempdir().expect("create a temp dir");
        if let Some(tree) = config.tree {
            copy_tree(&fixtures_dir().join("..").join(tree), dir.path());
        }
        for action in &config.actions {
            if config.tree.is_some() && dir.path().join(&action.file).exists() {
                continue;
            }
            let source = fixtures_dir().join(&action.file);
            std::fs::copy(&source, dir.path().join(&action.file))
                .unwrap_or_else(|e| panic!("copy fixture {}: {e}", source.display()));
            for module in &action.modules {
                let target = dir.path().join(module);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).expect("module directory");
                }
                std::fs::copy(fixtures_dir().join(module), &target)
                    .unwrap_or_else(|e| panic!("copy module {module}: {e}"));
            }
        }
        let toml = config.toml(redis_url);
        std::fs::write(dir.path().join("detour.toml"), &toml).expect("write detour.toml");
        PreparedConfig {
            dir,
            toml,
            env: config.env.clone(),
        }
    }

    /// `Settings::from_toml_str` with the prepared text, directory and env.
    pub fn load(&self) -> Result<detour::config::Settings, detour::config::ConfigError> {
        let env = &self.env;
        detour::config::Settings::from_toml_str(&self.toml, self.dir.path(), &|name: &str| {
            env.get(name).cloned()
        })
    }
}

/// Copies the directory `from` into `to`, recursively (symlinks are not
/// followed: a test that needs one makes it).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a fixture directory");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()))
    {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("fixture type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// The directory of the test Action fixtures.
pub fn fixtures_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/actions"
    ))
}

/// A running Detour and the parts it depends on (kept alive as long as it).
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub client: reqwest::Client,
    pub redis: Option<TestRedis>,
    /// Swaps a new configuration into the running server (as SIGHUP does).
    pub reloader: detour::startup::Reloader,
    /// The server's clock: `clock.advance(…)` ages every login at once.
    pub clock: TestClock,
    _config: PreparedConfig,
}

/// Starts Detour on a free port with the given Action fixtures and the
/// default configuration on `store`.
pub async fn spawn_app(store: StoreKind, actions: Vec<ActionFixture>) -> TestApp {
    spawn_app_with(TestConfig::new(store, actions)).await
}

/// Starts Detour with a fully chosen configuration.
pub async fn spawn_app_with(config: TestConfig) -> TestApp {
    let redis = match config.store {
        StoreKind::Redis => Some(TestRedis::start()),
        StoreKind::InMemory => None,
    };
    let redis_url = redis.as_ref().map(TestRedis::url);
    let mut app = spawn_instance(&config, redis_url.as_deref()).await;
    app.redis = redis;
    app
}

/// Starts one more Detour instance on a Redis that another test instance
/// already uses (`redis_url`); it does not own that Redis.
pub async fn spawn_instance(config: &TestConfig, redis_url: Option<&str>) -> TestApp {
    spawn_instance_with(config, redis_url, |_| {}).await
}

/// `spawn_instance`, with a last change to the loaded settings for what the
/// config file cannot say (e.g. `engine.resolve_overrides`).
pub async fn spawn_instance_with(
    config: &TestConfig,
    redis_url: Option<&str>,
    adjust: impl FnOnce(&mut detour::config::Settings),
) -> TestApp {
    let prepared = PreparedConfig::new(config, redis_url);
    let mut settings = prepared
        .load()
        .unwrap_or_else(|e| panic!("test config does not load: {}", error_chain(&e)));
    adjust(&mut settings);
    let clock = TestClock::default();
    let application =
        detour::startup::Application::build_with_clock(settings, Arc::new(clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("Detour does not start: {e:#}"));
    let address = format!("http://127.0.0.1:{}", application.port());
    let reloader = application.reloader();
    tokio::spawn(application.run_until_stopped());

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client");
    TestApp {
        address,
        client,
        redis: None,
        reloader,
        clock,
        _config: prepared,
    }
}

impl TestApp {
    /// `POST /v1/post-login` as the `demo` upstream.
    pub async fn post_login(&self, event: Value, return_to: &str) -> reqwest::Response {
        self.post_login_raw(
            Some(API_KEY),
            json!({ "event": event, "return_to": return_to, "transaction_id": TRANSACTION_ID })
                .to_string(),
        )
        .await
    }

    /// `POST /v1/post-login` with any (or no) API key and any body text.
    pub async fn post_login_raw(&self, api_key: Option<&str>, body: String) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/v1/post-login", self.address))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = api_key {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        request.send().await.expect("POST /v1/post-login")
    }

    /// `POST /v1/post-login` that must answer `200`; returns the outcome.
    pub async fn post_login_outcome(&self, event: Value) -> Value {
        let response = self.post_login(event, RETURN_TO).await;
        json_body(response, 200).await
    }

    /// `POST /v1/result-details` for the result token `jti`, with `api_key`.
    pub async fn result_details(&self, api_key: &str, jti: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/result-details", self.address))
            .header(AUTHORIZATION, format!("Bearer {api_key}"))
            .json(&json!({ "jti": jti }))
            .send()
            .await
            .expect("POST /v1/result-details")
    }

    /// The browser comes back with `GET /continue?<query>`.
    pub async fn continue_get(&self, query: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .get(format!("{}/continue", self.address))
            .query(query)
            .send()
            .await
            .expect("GET /continue")
    }

    /// The browser comes back with a form `POST /continue`.
    pub async fn continue_post(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}/continue", self.address))
            .form(form)
            .send()
            .await
            .expect("POST /continue")
    }

    /// A form `POST /continue` whose URL also carries a query string.
    pub async fn continue_post_with_query(
        &self,
        query: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/continue", self.address))
            .query(query)
            .form(form)
            .send()
            .await
            .expect("POST /continue")
    }

    /// `GET /continue?<query>` from a client that asks for JSON.
    pub async fn continue_get_accepting_json(&self, query: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .get(format!("{}/continue", self.address))
            .query(query)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .expect("GET /continue")
    }

    /// `GET <path>` on Detour.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// The external site's answer for `visit`: a token signed with the shared
    /// secret that carries the visit's `state`, the user and `extra` claims.
    pub fn token_from_external_site(&self, visit: &ExternalVisit, extra: Value) -> String {
        let mut claims = tokens::returned_token_claims(&visit.state, USER_ID);
        merge(&mut claims, extra);
        sign_hs256(SHARED_SECRET, &claims)
    }
}

/// Overwrites top-level keys of `target` (an object) with those of `extra`.
pub fn merge(target: &mut Value, extra: Value) {
    let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) else {
        panic!("merge needs two objects");
    };
    target.extend(extra);
}

/// The message of an error and all its sources, one per line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push('\n');
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
