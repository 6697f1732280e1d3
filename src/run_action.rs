//! `detour run-action`: one Action against a simulated event, like Auth0's
//! Test button. Nothing is stored; secrets come from `--secret`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use detour::config::modules::{ActionCode, Builder, CodeSet};
use detour::config::{
    ActionSpec, EngineSettings, Isolation, ResolveOverride, ServerSettings, Settings, StoreSettings,
};
use detour::engine::EnginePool;
use detour::metrics::Metrics;
use detour::pipeline::Pipeline;
use detour::pipeline::event::ContinueRequest;
use detour::store::{MemoryStore, Store};
use serde_json::{Map, Value};

/// Arguments of `run-action`.
#[derive(clap::Args)]
pub struct Args {
    /// The Action's JavaScript file.
    file: PathBuf,
    /// The post-login event (JSON file).
    #[arg(long)]
    event: PathBuf,
    /// A secret, `NAME=VALUE` (repeatable).
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    secrets: Vec<String>,
    /// Run `onContinuePostLogin` instead, as after a redirect.
    #[arg(long = "continue")]
    resume: bool,
    /// A `/continue` query parameter, `NAME=VALUE` (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    query: Vec<String>,
    /// A `/continue` body parameter, `NAME=VALUE` (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    body: Vec<String>,
    /// Execution budget in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    timeout_ms: u64,
    /// Sends the Action's requests for HOST:PORT to ADDR instead of
    /// resolving HOST, like curl's `--resolve` (repeatable): to try an Action
    /// against a local mock of the API it calls. The private-address guard
    /// is lifted for exactly that host and port, nothing else.
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// Lets the Action's requests reach any loopback or private address.
    #[arg(long)]
    allow_private_networks: bool,
}

/// Parses curl's `HOST:PORT:ADDR` (`ADDR` an IPv4 address or a bracketed
/// IPv6 one).
fn resolve_override(item: &str) -> anyhow::Result<ResolveOverride> {
    let bad = || {
        format!("--resolve {item:?}: expected HOST:PORT:ADDR, e.g. api.example.com:443:127.0.0.1")
    };
    let mut parts = item.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        bail!(bad());
    };
    let port: u16 = port.parse().with_context(bad)?;
    let ip: std::net::IpAddr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .with_context(bad)?;
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        bail!(bad());
    }
    Ok(ResolveOverride::new(
        host,
        std::net::SocketAddr::new(ip, port),
    ))
}

fn pairs(items: &[String], what: &str) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("--{what} {item:?}: expected NAME=VALUE"))
        })
        .collect()
}

fn object(items: Vec<(String, String)>) -> Map<String, Value> {
    items
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

/// The Action's code, resolved as the server resolves it. With a config
/// that lists this file, that Action's entry (dependencies, Modules, the
/// config's directory as the actions root). Otherwise the actions root is
/// the current directory when the file lies under it (and it is not `/`),
/// else the file's directory, and the Action's dependencies are the
/// packages it requires by name, at the versions installed in
/// `node_modules`; Actions Modules need the config.
fn code_of(
    file: &std::path::Path,
    name: &str,
    config: Option<&Settings>,
) -> anyhow::Result<(Arc<CodeSet>, ActionCode)> {
    let real =
        std::fs::canonicalize(file).with_context(|| format!("cannot read {}", file.display()))?;
    if let Some(action) = config.and_then(|settings| {
        settings
            .actions
            .iter()
            .find(|a| std::fs::canonicalize(&a.file).is_ok_and(|f| f == real))
    }) {
        return Ok((action.code.clone(), action.entry.clone()));
    }
    let dir = real
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    // Never the whole file system: run from `/`, the file's directory is
    // the root.
    let root = cwd
        .filter(|cwd| cwd.parent().is_some() && real.starts_with(cwd))
        .unwrap_or(dir);
    let mut builder = Builder::new(&root)?;
    let dependencies = builder.installed_requires(&real);
    let entry = builder.add_action(name, &real, &dependencies, &BTreeMap::new())?;
    Ok((builder.finish(), entry))
}

/// Runs the command. `config` is the global `--config`, when given.
pub async fn run(args: Args, config: Option<Settings>) -> anyhow::Result<()> {
    let source = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let event_text = std::fs::read_to_string(&args.event)
        .with_context(|| format!("cannot read {}", args.event.display()))?;
    let event: Value = serde_json::from_str(&event_text)
        .with_context(|| format!("{} is not JSON", args.event.display()))?;
    let Value::Object(event) = event else {
        bail!("{} must hold a JSON object", args.event.display());
    };
    let secrets: BTreeMap<_, _> = pairs(&args.secrets, "secret")?
        .into_iter()
        .map(|(k, v)| (k, v.into()))
        .collect();
    let name = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "action".into());
    let (code, entry) = code_of(&args.file, &name, config.as_ref())?;
    let settings = Settings {
        server: ServerSettings {
            listen: "127.0.0.1:0".into(),
            public_url: "http://localhost".parse()?,
            browser_binding: false,
        },
        store: StoreSettings {
            redis_url: None,
            redis_cluster: false,
            login_ttl: std::time::Duration::from_secs(3600),
        },
        engine: EngineSettings {
            isolation: Isolation::PerExecution,
            timeout: std::time::Duration::from_millis(args.timeout_ms),
            memory_limit_bytes: 64 << 20,
            workers: 1,
            queue_capacity: 1,
            inline: false,
            fetch_timeout: std::time::Duration::from_secs(10),
            fetch_max_response_bytes: 1 << 20,
            allow_private_networks: args.allow_private_networks,
            fetch_proxy: None,
            resolve_overrides: args
                .resolve
                .iter()
                .map(|r| resolve_override(r))
                .collect::<anyhow::Result<_>>()?,
        },
        upstreams: Vec::new(),
        actions: vec![ActionSpec {
            name,
            file: args.file.clone(),
            code,
            entry,
            source,
            secrets,
            allow_hosts: vec!["*".into()],
        }],
    };
    let engine = EnginePool::start(&settings.engine, &settings.actions)?;
    let pipeline = Pipeline::new(
        Arc::new(settings),
        engine,
        Store::Memory(MemoryStore::new()),
        Arc::new(Metrics::new()),
    );
    let resume = args
        .resume
        .then(|| -> anyhow::Result<ContinueRequest> {
            let query = object(pairs(&args.query, "query")?);
            let body = object(pairs(&args.body, "body")?);
            let state = body
                .get("state")
                .or_else(|| query.get("state"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            Ok(ContinueRequest {
                state,
                method: if body.is_empty() { "GET" } else { "POST" }.into(),
                query,
                body,
                ip: "127.0.0.1".into(),
                ..ContinueRequest::default()
            })
        })
        .transpose()?;
    let started = Instant::now();
    let outcome = pipeline.simulate(event, resume).await?;
    let took = started.elapsed();
    let mut wire = outcome.to_wire();
    let logs: Vec<String> = wire
        .get("executions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|e| e["logs"].as_array().cloned().unwrap_or_default())
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    wire.remove("executions");
    // Only the outcome on stdout, so it can be piped (`| jq`); what the
    // Action logged and the timing go to stderr.
    println!("{}", serde_json::to_string_pretty(&Value::Object(wire))?);
    if !logs.is_empty() {
        eprintln!("console:");
        for line in logs {
            eprintln!("  {line}");
        }
    }
    eprintln!("took {:.2} ms", took.as_secs_f64() * 1000.0);
    Ok(())
}
