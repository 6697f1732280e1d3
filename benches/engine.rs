//! Engine micro-benchmarks (divan): `cargo bench --bench engine`.
//!
//! - `quickjs`: raw rquickjs costs — a runtime and context, a context on a
//!   kept runtime, and the JSON round trip the engine boundary pays inside
//!   JS (`JSON.parse` of the input, `JSON.stringify` of the report);
//! - `execution`: one Action execution through the public
//!   [`EnginePool`] API (queue hand-off to an engine thread, input parse,
//!   the Action, report), per Action and per isolation mode;
//! - `event`: the Rust side of the boundary — parsing the upstream's
//!   request, filling the event, serializing the engine input, parsing the
//!   report;
//! - `outcome`: [`Outcome::to_wire`] and its JSON bytes, and the result
//!   token signature;
//! - `packages`: an Action that requires a real npm package (axios 1.21.1
//!   through its browser build, or lodash
//!   4.17.21, 540 KB of CommonJS, installed with npm under
//!   `target/bench-npm` on first run) but does not call it, against one
//!   that requires nothing, in both isolation modes;
//! - `spare`: the HTTP client a spare engine thread builds per Action,
//!   over the shared TLS configuration and with one of its own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assumption fails the benchmark run

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use detour::config::Settings;
use detour::engine::{ActionReport, Command, EnginePool, Execution, Handler};
use detour::pipeline::PostLoginRequest;
use detour::pipeline::event::{Event, normalize};
use detour::pipeline::mutations::Mutations;
use detour::pipeline::outcome::{ExecutionRecord, Outcome};
use divan::{Bencher, black_box};
use serde_json::{Map, Value, json};

const EVENT: &str = include_str!("../tests/fixtures/bench/event.json");
const RETURN_TO: &str = "http://localhost:8081/callback";

fn main() {
    divan::main();
}

fn event() -> Map<String, Value> {
    let mut event: Event = serde_json::from_str(EVENT).unwrap_or_default();
    let _ = normalize(&mut event, "localhost");
    event.into_map()
}

/// The engine input exactly as the pipeline's runner builds it: the JSON
/// input and the event's fields.
type Input = (String, Arc<[String]>);

fn engine_input(event: &Map<String, Value>) -> Input {
    let json = json!({
        "cache": Map::new(),
        "can_redirect": true,
        "continue": Value::Null,
    })
    .to_string();
    let fields: Vec<String> = event
        .iter()
        .flat_map(|(k, v)| [Value::from(k.as_str()).to_string(), v.to_string()])
        .collect();
    (json, fields.into())
}

/// What `roles-claims` reports.
const REPORT: &str = r#"{"commands":[{"op":"id_claim","key":"https://my-app.example.com/roles","value":["admin","editor"]},{"op":"access_claim","key":"https://my-app.example.com/roles","value":["admin","editor"]}],"error":null}"#;

mod quickjs {
    use super::*;
    use rquickjs::{Context, Function, Runtime};

    #[divan::bench]
    fn runtime_and_full_context() {
        let rt = Runtime::new().expect("runtime");
        let ctx = Context::full(&rt).expect("context");
        black_box(&ctx);
    }

    #[divan::bench]
    fn full_context_on_kept_runtime(bencher: Bencher) {
        let rt = Runtime::new().expect("runtime");
        bencher.bench_local(|| Context::full(&rt).expect("context"));
    }

    #[divan::bench]
    fn json_parse_whole_event(bencher: Bencher) {
        let rt = Runtime::new().expect("runtime");
        let ctx = Context::full(&rt).expect("context");
        let input = Value::Object(event()).to_string();
        bencher.bench_local(|| {
            ctx.with(|ctx| {
                let value = ctx.json_parse(input.as_str()).expect("parse");
                black_box(value.is_object())
            })
        });
    }

    #[divan::bench]
    fn json_stringify_report(bencher: Bencher) {
        let rt = Runtime::new().expect("runtime");
        let ctx = Context::full(&rt).expect("context");
        ctx.with(|ctx| {
            let report = ctx.json_parse(REPORT).expect("parse");
            ctx.globals().set("report", report).expect("set");
            let f: Function = ctx.eval("() => JSON.stringify(report)").expect("eval");
            ctx.globals().set("stringify", f).expect("set");
        });
        bencher.bench_local(|| {
            ctx.with(|ctx| {
                let f: Function = ctx.globals().get("stringify").expect("get");
                let s: String = f.call(()).expect("call");
                black_box(s.len())
            })
        });
    }
}

mod execution {
    use super::*;

    /// A one-thread engine pool over the bench Actions, and a runtime to
    /// await it from.
    fn pool(isolation: &str) -> (tokio::runtime::Runtime, EnginePool) {
        let toml = format!(
            r#"
[server]
public_url = "http://localhost:8080"
[engine]
isolation = "{isolation}"
workers = 1
[[upstreams]]
id = "demo"
api_key_env = "KEY"
result_secret_env = "KEY"
return_to = ["{RETURN_TO}"]
[[actions]]
name = "roles-claims"
file = "../../../actions/roles-claims.js"
[[actions]]
name = "block-by-domain"
file = "../../../actions/block-by-domain.js"
[[actions]]
name = "set-metadata"
file = "set-metadata.js"
[[actions]]
name = "favorite-color"
file = "../../../actions/favorite-color.js"
secrets = {{ MY_SHARED_SECRET = "KEY" }}
"#
        );
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bench");
        let settings = Settings::from_toml_str(&toml, &dir, &|name| {
            (name == "KEY").then(|| "bench-secret-of-at-least-32-bytes".to_owned())
        })
        .expect("bench config");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio");
        let pool = EnginePool::start(&settings.engine, &settings.actions).expect("engine");
        (runtime, pool)
    }

    fn run(runtime: &tokio::runtime::Runtime, pool: &EnginePool, action: usize, input: &Input) {
        let execution = Execution {
            action,
            handler: Handler::Execute,
            input: input.0.clone(),
            event: input.1.clone(),
            deadline: tokio::time::Instant::now() + Duration::from_secs(10),
        };
        let report = runtime.block_on(pool.execute(execution));
        assert!(report.is_ok_and(|r| r.error.is_none()));
    }

    const ACTIONS: &[&str] = &[
        "roles-claims",
        "block-by-domain",
        "set-metadata",
        "favorite-color",
    ];

    /// One Action's `onExecutePostLogin`, its context kept (`per_instance`).
    #[divan::bench(args = ACTIONS)]
    fn per_instance(bencher: Bencher, action: &str) {
        let (runtime, pool) = pool("per_instance");
        let index = ACTIONS.iter().position(|a| *a == action).unwrap_or(0);
        let input = engine_input(&event());
        bencher.bench_local(|| run(&runtime, &pool, index, &input));
    }

    /// The same with a fresh context per execution (`per_execution`).
    #[divan::bench(args = ["roles-claims", "favorite-color"])]
    fn per_execution(bencher: Bencher, action: &str) {
        let (runtime, pool) = pool("per_execution");
        let index = ACTIONS.iter().position(|a| *a == action).unwrap_or(0);
        let input = engine_input(&event());
        bencher.bench_local(|| run(&runtime, &pool, index, &input));
    }

    /// Scenario A's engine work: the three allow-path Actions in a row,
    /// each with its own input, as the runner does.
    #[divan::bench]
    fn allow_path_three_actions(bencher: Bencher) {
        let (runtime, pool) = pool("per_instance");
        let event = event();
        bencher.bench_local(|| {
            for index in 0..3 {
                run(&runtime, &pool, index, &engine_input(&event));
            }
        });
    }
}

mod packages {
    use super::*;
    use std::path::PathBuf;

    const REQUIRES: &[&str] = &["requires-nothing", "requires-lodash", "requires-axios"];

    /// An actions root with lodash installed (npm, first run only).
    fn root() -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-npm");
        std::fs::create_dir_all(&dir).expect("bench-npm dir");
        let handler = "exports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('x', 1);\n};\n";
        std::fs::write(dir.join("requires-nothing.js"), handler).expect("write");
        std::fs::write(
            dir.join("requires-lodash.js"),
            format!("const _ = require('lodash');\n{handler}"),
        )
        .expect("write");
        std::fs::write(
            dir.join("requires-axios.js"),
            format!("const axios = require('axios');\n{handler}"),
        )
        .expect("write");
        if !dir.join("node_modules/lodash/package.json").exists()
            || !dir.join("node_modules/axios/package.json").exists()
        {
            std::fs::write(
                dir.join("package.json"),
                r#"{"private": true, "dependencies": {"lodash": "4.17.21", "axios": "1.21.1"}}"#,
            )
            .expect("write");
            let installed = std::process::Command::new("npm")
                .args([
                    "install",
                    "--omit=dev",
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                ])
                .current_dir(&dir)
                .status();
            assert!(
                installed.is_ok_and(|s| s.success()),
                "the packages benchmark needs npm to install lodash into {}",
                dir.display()
            );
        }
        dir
    }

    fn pool(isolation: &str) -> (tokio::runtime::Runtime, EnginePool) {
        let toml = format!(
            r#"
[server]
public_url = "http://localhost:8080"
[engine]
isolation = "{isolation}"
workers = 1
[[actions]]
name = "requires-nothing"
file = "requires-nothing.js"
[[actions]]
name = "requires-lodash"
file = "requires-lodash.js"
dependencies = {{ lodash = "4.17.21" }}
[[actions]]
name = "requires-axios"
file = "requires-axios.js"
dependencies = {{ axios = "1.21.1" }}
"#
        );
        let settings = Settings::from_toml_str(&toml, &root(), &|_| None).expect("bench config");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio");
        let pool = EnginePool::start(&settings.engine, &settings.actions).expect("engine");
        (runtime, pool)
    }

    fn run(runtime: &tokio::runtime::Runtime, pool: &EnginePool, action: usize, input: &Input) {
        let execution = Execution {
            action,
            handler: Handler::Execute,
            input: input.0.clone(),
            event: input.1.clone(),
            deadline: tokio::time::Instant::now() + Duration::from_secs(10),
        };
        let report = runtime.block_on(pool.execute(execution));
        assert!(report.is_ok_and(|r| r.error.is_none()));
    }

    /// Loading is paid at warm-up: a login should cost the same.
    #[divan::bench(args = REQUIRES)]
    fn per_instance(bencher: Bencher, action: &str) {
        let (runtime, pool) = pool("per_instance");
        let index = REQUIRES.iter().position(|a| *a == action).unwrap_or(0);
        let input = engine_input(&event());
        bencher.bench_local(|| run(&runtime, &pool, index, &input));
    }

    /// A fresh context per execution evaluates the package every time.
    #[divan::bench(args = REQUIRES)]
    fn per_execution(bencher: Bencher, action: &str) {
        let (runtime, pool) = pool("per_execution");
        let index = REQUIRES.iter().position(|a| *a == action).unwrap_or(0);
        let input = engine_input(&event());
        bencher.bench_local(|| run(&runtime, &pool, index, &input));
    }

    /// What bytecode saves: a fresh context parsing and running lodash's
    /// source, as a context would without it.
    #[divan::bench]
    fn lodash_from_source_in_a_fresh_context(bencher: Bencher) {
        let source = std::fs::read_to_string(root().join("node_modules/lodash/lodash.js"))
            .expect("lodash source");
        let wrapped =
            format!("(function (exports, require, module, __filename, __dirname) {{{source}\n}})");
        let rt = rquickjs::Runtime::new().expect("runtime");
        bencher.bench_local(|| {
            let ctx = rquickjs::Context::full(&rt).expect("context");
            ctx.with(|ctx| {
                let factory: rquickjs::Function = ctx.eval(wrapped.as_str()).expect("eval");
                let module = rquickjs::Object::new(ctx.clone()).expect("module");
                let exports = rquickjs::Object::new(ctx.clone()).expect("exports");
                module.set("exports", exports.clone()).expect("set");
                factory
                    .call::<_, ()>((exports, (), module, "lodash.js", "."))
                    .expect("run lodash");
            });
        });
    }

    /// Reading the config, resolving and compiling lodash to bytecode,
    /// and loading both Actions once to check them: start-up's share.
    #[divan::bench(sample_count = 10)]
    fn load_config_and_compile(bencher: Bencher) {
        let dir = root();
        let toml = "[server]\npublic_url = \"http://localhost:8080\"\n[[actions]]\nname = \"requires-lodash\"\nfile = \"requires-lodash.js\"\ndependencies = { lodash = \"4.17.21\" }\n";
        bencher.bench_local(|| {
            let settings = Settings::from_toml_str(toml, &dir, &|_| None).expect("config");
            black_box(EnginePool::start(&settings.engine, &settings.actions).is_ok())
        });
    }
}

mod event {
    use super::*;

    #[divan::bench]
    fn parse_post_login_request(bencher: Bencher) {
        let body = json!({"event": serde_json::from_str::<Value>(EVENT).unwrap_or_default(),
                          "return_to": RETURN_TO, "transaction_id": "tx"})
        .to_string();
        bencher.bench_local(|| {
            serde_json::from_str::<PostLoginRequest>(black_box(&body)).expect("request")
        });
    }

    #[divan::bench]
    fn normalize_event(bencher: Bencher) {
        let raw: Event = serde_json::from_str(EVENT).unwrap_or_default();
        bencher
            .with_inputs(|| raw.clone())
            .bench_local_values(|mut event| {
                let _ = normalize(&mut event, "localhost");
                event
            });
    }

    /// Per trigger run: the event's fields serialized one by one (what the
    /// engine hands each Action), and the rest of the input.
    #[divan::bench]
    fn serialize_engine_input(bencher: Bencher) {
        let event = event();
        bencher.bench_local(|| engine_input(black_box(&event)));
    }

    #[divan::bench]
    fn parse_action_report(bencher: Bencher) {
        bencher.bench_local(|| {
            serde_json::from_str::<ActionReport>(black_box(REPORT)).expect("report")
        });
    }
}

mod outcome {
    use super::*;

    /// The allow outcome of scenario A.
    fn allow() -> Outcome {
        let mut event = Event::from(event());
        let mut mutations = Mutations::default();
        let roles = json!(["admin", "editor"]);
        mutations.apply(
            vec![
                Command::IdClaim {
                    key: "https://my-app.example.com/roles".into(),
                    value: roles.clone(),
                },
                Command::AccessClaim {
                    key: "https://my-app.example.com/roles".into(),
                    value: roles,
                },
                Command::UserMetadata {
                    key: "logins_seen".into(),
                    value: json!(7),
                },
                Command::UserMetadata {
                    key: "last_login_ip".into(),
                    value: json!("203.0.113.7"),
                },
            ],
            Some(&mut event),
        );
        let executions = ["roles-claims", "block-by-domain", "set-metadata"]
            .iter()
            .map(|name| ExecutionRecord {
                action: (*name).into(),
                handler: "onExecutePostLogin".into(),
                duration_ms: 0.031,
                logs: Vec::new(),
                error: None,
            })
            .collect();
        Outcome::Allow {
            mutations,
            executions,
        }
    }

    #[divan::bench]
    fn to_wire(bencher: Bencher) {
        let outcome = allow();
        bencher.bench_local(|| black_box(&outcome).to_wire());
    }

    #[divan::bench]
    fn to_wire_json_bytes(bencher: Bencher) {
        let outcome = allow();
        bencher.bench_local(|| serde_json::to_vec(&black_box(&outcome).to_wire()).expect("json"));
    }

    #[divan::bench]
    fn sign_result_token(bencher: Bencher) {
        // What a result token carries by default.
        let wire = allow().to_wire_with(detour::pipeline::outcome::Detail::Withheld);
        let audience = detour::token::result::Audience {
            issuer: "http://localhost:8080",
            upstream: "demo",
            transaction_id: Some("tx"),
        };
        bencher.bench_local(|| {
            let jti = detour::token::result::new_jti();
            detour::token::result::sign(
                b"demo-result-secret-for-laptops-only",
                wire.clone(),
                &audience,
                &jti,
            )
            .expect("sign")
        });
    }
}

/// What a spare engine thread builds before it serves, besides loading the
/// Actions: one HTTP client per Action, for `fetch`.
mod spare {
    use super::*;
    use detour::engine::fetch::{FetchLimits, Fetcher};

    fn limits() -> FetchLimits {
        FetchLimits {
            timeout: Duration::from_secs(10),
            max_response_bytes: 1 << 20,
            allow_private_networks: false,
            resolve_overrides: Vec::new(),
            proxy: None,
        }
    }

    /// One Action's client, over the process's TLS configuration.
    #[divan::bench]
    fn fetch_client() {
        black_box(Fetcher::new(&["api.example.com".to_owned()], limits()).expect("client"));
    }

    /// A client that builds its own TLS configuration, loading the
    /// system's root certificates: what each Action's client cost before
    /// the configuration was shared.
    #[divan::bench(sample_count = 20)]
    fn client_with_its_own_tls() {
        black_box(
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
        );
    }
}
