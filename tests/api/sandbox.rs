//! One misbehaving Action fails only its own login, with a reason that
//! names the limit, while logins beside it succeed; outbound HTTP obeys the
//! allowlist and the private-network guard; `api.cache` and the isolation
//! modes behave as documented.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::signal::Signal;
use crate::helpers::{
    ActionFixture, StoreKind, TestApp, TestConfig, claim, login_event, spawn_app_with,
};

const BUDGET_MS: u64 = 500;

/// An ID-token claim of an outcome (`null` when absent).
fn id_claim(outcome: &Value, name: &str) -> Value {
    claim(outcome, "id_token", name)
        .cloned()
        .unwrap_or(Value::Null)
}

fn misbehaving_event() -> Value {
    let mut event = login_event();
    event["user"]["user_metadata"] = json!({ "misbehave": true });
    event
}

async fn app_with(actions: Vec<ActionFixture>, engine_extra: &str) -> TestApp {
    let mut config = TestConfig::new(StoreKind::InMemory, actions);
    config.timeout_ms = BUDGET_MS;
    config.engine_extra = engine_extra.to_owned();
    spawn_app_with(config).await
}

/// An app whose logins run `signal-started` before `fixture`, so a test
/// knows when a login is on its engine.
async fn signalling_app(fixture: &'static str) -> TestApp {
    let signal = ActionFixture {
        allow_hosts: vec!["127.0.0.1"],
        ..ActionFixture::named("signal-started")
    };
    app_with(
        vec![signal, ActionFixture::named(fixture)],
        "allow_private_networks = true",
    )
    .await
}

/// Runs a misbehaving login on a [`signalling_app`] and, once it is
/// running, a normal one. Returns the misbehaving login's outcome and how
/// long it took.
async fn misbehave_beside_a_good_login(app: &TestApp) -> (Value, Duration) {
    let mut started = Signal::start().await;
    let mut misbehaving = misbehaving_event();
    misbehaving["user"]["user_metadata"]["started_url"] = json!(started.url);
    let began = Instant::now();
    let bad = app.post_login_outcome(misbehaving);
    let good = async {
        started.wait().await;
        app.post_login_outcome(login_event()).await
    };
    let (bad, good) = tokio::join!(bad, good);
    assert_eq!(good["outcome"], "allow", "the login beside it: {good:#}");
    (bad, began.elapsed())
}

async fn assert_fails_with(fixture: &'static str, reason: &str) {
    let app = signalling_app(fixture).await;

    let (outcome, took) = misbehave_beside_a_good_login(&app).await;

    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied", "{outcome:#}");
    let description = outcome["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains(reason),
        "{description:?} should contain {reason:?}"
    );
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} for a {BUDGET_MS} ms budget"
    );
    // The engine that broke a limit was rebuilt: the same Action still works.
    let after = app.post_login_outcome(login_event()).await;
    assert_eq!(after["outcome"], "allow", "{after:#}");
}

#[tokio::test]
async fn an_endless_loop_fails_with_the_time_limit() {
    assert_fails_with("loop-forever", "execution time limit").await;
}

#[tokio::test]
async fn unbounded_recursion_fails_with_the_stack_limit() {
    assert_fails_with("recurse-forever", "Maximum call stack size exceeded").await;
}

#[tokio::test]
async fn a_memory_bomb_fails_with_the_memory_limit() {
    assert_fails_with("memory-bomb", "memory limit").await;
}

#[tokio::test]
async fn a_promise_that_never_settles_fails_with_the_time_limit() {
    assert_fails_with("never-settles", "execution time limit").await;
}

#[tokio::test]
async fn an_endless_loop_in_a_queued_job_fails_with_the_time_limit() {
    // The engine runs an execution's first queued jobs itself, before
    // waiting on its promise: the deadline stops a loop there too.
    assert_fails_with("loop-after-await", "execution time limit").await;
}

#[tokio::test]
async fn awaiting_forever_without_waiting_on_anything_fails_with_the_time_limit() {
    assert_fails_with("awaits-forever", "execution time limit").await;
}

#[tokio::test]
async fn a_login_whose_action_returns_leaving_endless_jobs_behind_keeps_its_outcome_and_the_next_gets_a_fresh_runtime()
 {
    let app = app_with(
        vec![ActionFixture::named("settles-leaving-jobs")],
        "workers = 1\ninline = false",
    )
    .await;

    let first = app.post_login_outcome(misbehaving_event()).await;
    let second = app.post_login_outcome(login_event()).await;

    assert_eq!(first["outcome"], "allow", "{first:#}");
    assert_eq!(
        id_claim(&first, "https://detour.test/executions"),
        json!(1),
        "{first:#}"
    );
    // The jobs left behind never die down: that runtime is not reused.
    assert_eq!(second["outcome"], "allow", "{second:#}");
    assert_eq!(
        id_claim(&second, "https://detour.test/executions"),
        json!(1),
        "{second:#}"
    );
}

#[tokio::test]
async fn a_throw_inside_then_fails_with_its_message() {
    assert_fails_with("throw-in-then", "broken inside then").await;
}

#[tokio::test]
async fn console_output_of_an_endless_loop_is_kept_in_its_execution_record() {
    let app = signalling_app("loop-forever").await;

    let (outcome, _) = misbehave_beside_a_good_login(&app).await;

    assert_eq!(outcome["executions"][1]["logs"], json!(["about to spin"]));
}

#[tokio::test]
async fn ten_megabytes_of_console_output_are_capped_and_the_login_goes_on() {
    // Logging never fails a login (Auth0 keeps only a short prefix of the
    // output too); the record keeps the first 64 KiB and says it was cut.
    let app = signalling_app("console-flood").await;

    let (outcome, _) = misbehave_beside_a_good_login(&app).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(id_claim(&outcome, "flooded"), json!(true));
    let logs = outcome["executions"][1]["logs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let bytes: usize = logs.iter().filter_map(Value::as_str).map(str::len).sum();
    assert!(bytes <= 65 * 1024, "{bytes} bytes of logs kept");
    assert_eq!(
        logs.last().and_then(Value::as_str),
        Some("[console output truncated: more than 64 KiB]")
    );
}

/// A server that accepts connections and never answers.
async fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

/// A server that answers every request with `{"seen": <request body>}`.
async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut read = 0;
                // Read until the body announced by Content-Length is in.
                loop {
                    let Ok(n) = socket.read(&mut buf[read..]).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    read += n;
                    let text = String::from_utf8_lossy(&buf[..read]).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            let reply = json!({ "seen": serde_json::from_str::<Value>(body).unwrap_or(Value::Null) }).to_string();
                            let response = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                                reply.len()
                            );
                            let _ = socket.write_all(response.as_bytes()).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

fn fetch_probe(allow: &'static str) -> ActionFixture {
    ActionFixture {
        allow_hosts: vec![allow],
        ..ActionFixture::named("fetch-probe")
    }
}

fn event_fetching(url: &str) -> Value {
    let mut event = login_event();
    event["request"]["query"] = json!({ "url": url });
    event
}

#[tokio::test]
async fn a_fetch_to_a_server_that_never_answers_fails_with_the_time_limit() {
    let port = silent_server().await;
    let app = app_with(
        vec![ActionFixture {
            allow_hosts: vec!["127.0.0.1"],
            ..ActionFixture::named("fetch-hangs")
        }],
        "allow_private_networks = true",
    )
    .await;

    let started = Instant::now();
    let outcome = app
        .post_login_outcome(event_fetching(&format!("http://127.0.0.1:{port}/slow")))
        .await;

    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    let description = outcome["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("execution time limit"),
        "{description}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_fetch_to_an_allowed_local_server_works_when_private_networks_are_allowed() {
    let port = echo_server().await;
    let app = app_with(
        vec![fetch_probe("127.0.0.1")],
        "allow_private_networks = true",
    )
    .await;

    let outcome = app
        .post_login_outcome(event_fetching(&format!("http://127.0.0.1:{port}/hook")))
        .await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(id_claim(&outcome, "status"), json!(200));
    assert_eq!(
        id_claim(&outcome, "body"),
        json!({ "seen": { "user": crate::helpers::USER_ID } })
    );
}

#[tokio::test]
async fn a_fetch_to_a_host_off_the_allowlist_is_refused() {
    let port = echo_server().await;
    let app = app_with(
        vec![fetch_probe("api.example.com")],
        "allow_private_networks = true",
    )
    .await;

    let outcome = app
        .post_login_outcome(event_fetching(&format!("http://127.0.0.1:{port}/hook")))
        .await;

    let error = id_claim(&outcome, "fetch_error")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("not in this Action's allow_hosts"),
        "{error}"
    );
}

#[tokio::test]
async fn a_fetch_to_a_private_address_is_refused_by_default() {
    let port = echo_server().await;
    let app = app_with(vec![fetch_probe("127.0.0.1")], "").await;

    let outcome = app
        .post_login_outcome(event_fetching(&format!("http://127.0.0.1:{port}/hook")))
        .await;

    let error = id_claim(&outcome, "fetch_error")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("private address"), "{error}");
}

#[tokio::test]
async fn the_cache_set_in_one_login_is_read_in_the_next() {
    let app = spawn_app_with(TestConfig::new(
        StoreKind::Redis,
        vec![ActionFixture::named("cache-counter")],
    ))
    .await;

    let first = app.post_login_outcome(login_event()).await;
    let second = app.post_login_outcome(login_event()).await;

    assert_eq!(id_claim(&first, "visits"), json!(1));
    assert_eq!(id_claim(&second, "visits"), json!(2));
    assert_eq!(id_claim(&first, "set_result"), json!("success"));
    assert_eq!(id_claim(&first, "too_big"), json!("CacheValueSizeExceeded"));
    assert_eq!(
        id_claim(&first, "missing_delete"),
        json!("CacheKeyDoesNotExist")
    );
}

#[tokio::test]
async fn the_cache_is_loaded_for_an_action_whose_required_file_uses_it() {
    let app = spawn_app_with(TestConfig::new(
        StoreKind::Redis,
        vec![ActionFixture {
            modules: vec!["lib/visits.js"],
            ..ActionFixture::named("counts-through-a-helper")
        }],
    ))
    .await;

    let first = app.post_login_outcome(login_event()).await;
    let second = app.post_login_outcome(login_event()).await;

    assert_eq!(id_claim(&first, "visits"), json!(1), "{first:#}");
    assert_eq!(id_claim(&second, "visits"), json!(2), "{second:#}");
}

async fn two_logins(isolation: &'static str) -> (Value, Value) {
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::favorite_color(),
            ActionFixture::named("global-leak"),
        ],
    );
    config.isolation = isolation;
    // One engine, so both logins meet the same module instance.
    config.engine_extra = "workers = 1\ninline = false".into();
    let app = spawn_app_with(config).await;
    let mut event = login_event();
    // favorite-color lets users with a color through without a redirect.
    event["user"]["user_metadata"] = json!({ "favorite_color": "blue" });
    let first = app.post_login_outcome(event.clone()).await;
    let second = app.post_login_outcome(event).await;
    (first, second)
}

#[tokio::test]
async fn per_execution_isolation_leaves_nothing_for_the_next_login() {
    let (first, second) = two_logins("per_execution").await;

    assert_eq!(id_claim(&first, "global_seen"), json!(false));
    assert_eq!(id_claim(&second, "global_seen"), json!(false));
    assert_eq!(id_claim(&second, "module_counter"), json!(1));
}

#[tokio::test]
async fn per_instance_isolation_keeps_module_scope_but_not_other_actions_secrets() {
    let (first, second) = two_logins("per_instance").await;

    assert_eq!(id_claim(&first, "module_counter"), json!(1));
    assert_eq!(id_claim(&second, "module_counter"), json!(2));
    assert_eq!(id_claim(&second, "global_seen"), json!(true));
    // favorite-color's secret is not visible to another Action.
    assert_eq!(id_claim(&second, "other_secret"), json!("undefined"));
}

#[tokio::test]
async fn work_an_execution_leaves_pending_never_touches_a_later_login() {
    let port = silent_server().await;
    let app = app_with(
        vec![ActionFixture {
            allow_hosts: vec!["127.0.0.1"],
            ..ActionFixture::named("leaves-work-behind")
        }],
        // One engine (spares aside): later logins meet the first one's module instance.
        "workers = 1\nallow_private_networks = true",
    )
    .await;

    // A first execution slow enough (a loaded machine) calls in a spare
    // engine thread, and the thread that ran it is the one that leaves when
    // it ends, taking its module instance and pending work along: nothing
    // later can meet them. Only a later login that meets the first one's
    // instance proves anything, so the scenario runs until one does.
    for _ in 0..5 {
        let first = app
            .post_login_outcome(event_fetching(&format!("http://127.0.0.1:{port}/slow")))
            .await;
        assert_eq!(first["outcome"], "allow", "{first:#}");
        // Long enough for the first login's timers to have been due.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..10 {
            let second = app.post_login_outcome(login_event()).await;
            assert_eq!(second["outcome"], "allow", "{second:#}");
            if id_claim(&second, "instance") != id_claim(&first, "instance") {
                continue;
            }
            let (run, later) = (id_claim(&first, "run"), id_claim(&second, "run"));
            assert!(later.as_u64() > run.as_u64(), "{first:#} {second:#}");
            assert_eq!(id_claim(&second, "late"), Value::Null, "{second:#}");
            return;
        }
    }
    panic!("no later login met the first one's module instance");
}

#[tokio::test]
async fn module_scope_timers_run_and_a_request_left_by_a_login_rejects_in_the_next() {
    let port = silent_server().await;
    let app = app_with(
        vec![ActionFixture {
            allow_hosts: vec!["127.0.0.1"],
            ..ActionFixture::named("module-scope-async")
        }],
        "workers = 1\nallow_private_networks = true",
    )
    .await;

    let first = app
        .post_login_outcome(event_fetching(&format!("http://127.0.0.1:{port}/slow")))
        .await;
    let second = app.post_login_outcome(login_event()).await;

    assert_eq!(first["outcome"], "allow", "{first:#}");
    assert_eq!(id_claim(&first, "module_timer_ran"), json!(true));
    // Not a hang until the time limit: the request ended with its login.
    assert_eq!(second["outcome"], "allow", "{second:#}");
    assert_eq!(
        id_claim(&second, "kept_request"),
        json!("fetch failed: the execution that made this request has ended")
    );
}
