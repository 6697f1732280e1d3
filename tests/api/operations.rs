//! What operators rely on: metrics that move, configuration reloads that
//! never drop a login silently, and the `detour` CLI.

use std::process::Command;

use serde_json::json;

use crate::helpers::{
    ActionFixture, ExternalVisit, PreparedConfig, RETURN_TO, StoreKind, TestApp, TestConfig,
    assert_invalid_request_page, claim, login_event, result_from_redirect, spawn_app_with,
};

fn config(actions: Vec<ActionFixture>) -> TestConfig {
    TestConfig::new(StoreKind::InMemory, actions)
}

async fn metrics(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    response.text().await.expect("metrics body")
}

fn counter(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

/// Reloads `app` with `config`'s Actions, loaded like the real file.
async fn reload(app: &TestApp, config: &TestConfig) -> anyhow::Result<()> {
    let prepared = PreparedConfig::new(config, None);
    let settings = prepared.load()?;
    app.reloader.reload(settings).await
}

async fn suspend_a_detour(app: &TestApp) -> ExternalVisit {
    let outcome = app.post_login_outcome(login_event()).await;
    ExternalVisit::from_outcome(&outcome)
}

#[tokio::test]
async fn metrics_count_logins_executions_and_continues_during_a_detour() {
    let app = spawn_app_with(config(vec![ActionFixture::favorite_color()])).await;
    let before = metrics(&app).await;

    let visit = suspend_a_detour(&app).await;
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));
    app.continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;
    let after = metrics(&app).await;

    for (series, delta) in [
        ("detour_logins_total{outcome=\"redirect\"}", 1),
        ("detour_logins_total{outcome=\"allow\"}", 1),
        ("detour_logins_suspended_total", 1),
        ("detour_continues_total{result=\"delivered\"}", 1),
        (
            "detour_action_executions_total{action=\"favorite-color\",result=\"redirect\"}",
            1,
        ),
        (
            "detour_action_executions_total{action=\"favorite-color\",result=\"ok\"}",
            1,
        ),
    ] {
        assert_eq!(
            counter(&after, series) - counter(&before, series),
            delta,
            "{series} in:\n{after}"
        );
    }
    assert!(
        after.contains("detour_action_execution_seconds_bucket"),
        "{after}"
    );
}

#[tokio::test]
async fn a_reload_with_a_broken_action_is_refused_and_the_old_actions_keep_serving() {
    let app = spawn_app_with(config(vec![ActionFixture::named("claims-and-scopes")])).await;

    let refused = reload(&app, &config(vec![ActionFixture::named("syntax-error")])).await;
    let outcome = app.post_login_outcome(login_event()).await;

    let message = format!("{:#}", refused.expect_err("a broken set must be refused"));
    assert!(message.contains("syntax-error.js"), "{message}");
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert!(
        outcome["id_token"]["claims"]
            .as_object()
            .is_some_and(|c| !c.is_empty())
    );
}

#[tokio::test]
async fn a_reload_swaps_in_the_new_actions_for_the_next_login() {
    let app = spawn_app_with(config(vec![ActionFixture::named("throws-boom")])).await;
    let before = app.post_login_outcome(login_event()).await;

    reload(
        &app,
        &config(vec![ActionFixture::named("claims-and-scopes")]),
    )
    .await
    .expect("reload");
    let after = app.post_login_outcome(login_event()).await;

    assert_eq!(before["outcome"], "deny");
    assert_eq!(after["outcome"], "allow", "{after:#}");
}

#[tokio::test]
async fn a_login_suspended_before_a_reload_resumes_when_its_action_is_unchanged() {
    let app = spawn_app_with(config(vec![ActionFixture::favorite_color()])).await;
    let visit = suspend_a_detour(&app).await;

    reload(
        &app,
        &config(vec![
            ActionFixture::favorite_color(),
            ActionFixture::named("after-redirect"),
        ]),
    )
    .await
    .expect("reload");
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;

    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(result["user"]["user_metadata"]["favorite_color"], "red");
    // The Action added by the reload runs after the resumed one.
    let ran: Vec<&str> = result["executions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(ran.last(), Some(&"after-redirect"), "{result:#}");
}

#[tokio::test]
async fn a_login_suspended_before_a_reload_fails_clearly_when_its_action_changed() {
    let app = spawn_app_with(config(vec![ActionFixture::favorite_color()])).await;
    let visit = suspend_a_detour(&app).await;

    let changed = ActionFixture {
        file: "favorite-color-v2.js".into(),
        ..ActionFixture::favorite_color()
    };
    reload(&app, &config(vec![changed])).await.expect("reload");
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;

    let page = assert_invalid_request_page(response).await;
    assert!(page.contains("changed or was removed"), "{page}");
    // New logins run the new version.
    let fresh = suspend_a_detour(&app).await;
    let token = app.token_from_external_site(&fresh, json!({ "favorite_color": "red" }));
    let response = app
        .continue_post(&[("state", &fresh.state), ("session_token", &token)])
        .await;
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(claim(&result, "id_token", "version"), Some(&json!(2)));
}

fn detour() -> Command {
    Command::new(env!("CARGO_BIN_EXE_detour"))
}

#[test]
fn detour_check_accepts_a_good_config_and_names_the_broken_action() {
    let good = PreparedConfig::new(&config(vec![ActionFixture::favorite_color()]), None);
    let bad = PreparedConfig::new(&config(vec![ActionFixture::named("syntax-error")]), None);

    let run = |prepared: &PreparedConfig| {
        detour()
            .arg("check")
            .arg("--config")
            .arg(prepared.dir.path().join("detour.toml"))
            .env_clear()
            .envs(&prepared.env)
            .output()
            .expect("run detour check")
    };
    let ok = run(&good);
    let broken = run(&bad);

    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("1 action(s) compiled"));
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("syntax-error.js:5"), "{stderr}");
}

#[test]
fn detour_run_action_prints_only_the_outcome_json_on_stdout_for_a_bare_file_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("event.json"), login_event().to_string()).expect("write event");
    std::fs::write(
        dir.path().join("hello.js"),
        "exports.onExecutePostLogin = async (event, api) => {\n  console.log('hello', event.user.email);\n  api.accessToken.addScope('read:x');\n};\n",
    )
    .expect("write action");

    // Run from the Action's directory with bare file names, as a new user
    // would.
    let output = detour()
        .current_dir(dir.path())
        .arg("run-action")
        .arg("hello.js")
        .arg("--event")
        .arg("event.json")
        .env_clear()
        .output()
        .expect("run detour run-action");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // stdout is exactly one JSON document (pipeable to jq)...
    let outcome: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert_eq!(outcome["outcome"], "allow", "{stdout}");
    assert_eq!(
        outcome["access_token"]["scopes"]["add"],
        serde_json::json!(["read:x"])
    );
    // ...and the console output and the timing go to stderr.
    assert!(
        stderr.contains(&format!("hello {}", crate::helpers::USER_EMAIL)),
        "{stderr}"
    );
    assert!(stderr.contains("took "), "{stderr}");
}

#[test]
fn detour_check_takes_a_bare_config_file_name_with_an_action_beside_it() {
    let prepared = PreparedConfig::new(&config(vec![ActionFixture::named("roles-claims")]), None);
    let dir = prepared.dir.path();
    std::fs::copy(
        crate::helpers::fixtures_dir().join("roles-claims.js"),
        dir.join("roles-claims.js"),
    )
    .expect("copy the Action");
    let toml = std::fs::read_to_string(dir.join("detour.toml")).expect("read config");
    let file_line = toml
        .lines()
        .find(|l| l.starts_with("file = "))
        .expect("the Action's file line")
        .to_owned();
    std::fs::write(
        dir.join("detour.toml"),
        toml.replace(&file_line, "file = \"roles-claims.js\""),
    )
    .expect("write config");

    let output = detour()
        .current_dir(dir)
        .arg("check")
        .arg("--config")
        .arg("detour.toml")
        .env_clear()
        .envs(&prepared.env)
        .output()
        .expect("run detour check");

    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stderr}{stdout}");
}

#[test]
fn detour_check_refuses_a_short_result_secret_naming_the_upstream_and_variable() {
    let mut prepared =
        PreparedConfig::new(&config(vec![ActionFixture::named("roles-claims")]), None);
    prepared
        .env
        .insert("DEMO_RESULT_SECRET".into(), "demo-result-secret".into());

    let output = detour()
        .arg("check")
        .arg("--config")
        .arg(prepared.dir.path().join("detour.toml"))
        .env_clear()
        .envs(&prepared.env)
        .output()
        .expect("run detour check");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("DEMO_RESULT_SECRET"), "{stderr}");
    assert!(stderr.contains("upstream `demo`"), "{stderr}");
    assert!(!stderr.contains("demo-result-secret"), "{stderr}");
}

/// A local HTTP server that answers every request with `{"plan":"gold"}`
/// until the test ends; returns its port.
fn json_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = r#"{"plan":"gold"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn detour_run_action_reaches_a_local_mock_only_through_resolve() {
    let port = json_server();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("event.json"), login_event().to_string()).expect("write event");
    std::fs::write(
        dir.path().join("plan.js"),
        "exports.onExecutePostLogin = async (event, api) => {\n  const r = await fetch(event.request.query.url);\n  api.idToken.setCustomClaim('plan', (await r.json()).plan);\n};\n",
    )
    .expect("write action");
    let run = |url: String, extra: &[String]| {
        let mut event = login_event();
        event["request"]["query"] = json!({ "url": url });
        std::fs::write(dir.path().join("event.json"), event.to_string()).expect("write event");
        let output = detour()
            .current_dir(dir.path())
            .args(["run-action", "plan.js", "--event", "event.json"])
            .args(extra)
            .env_clear()
            .output()
            .expect("run detour run-action");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap_or_else(|_| {
            panic!(
                "stdout is not JSON: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
    };
    let pinned = vec![
        "--resolve".to_owned(),
        format!("crm.example.com:{port}:127.0.0.1"),
    ];

    // The pinned host reaches the mock.
    let outcome = run(format!("http://crm.example.com:{port}/plan"), &pinned);
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(outcome["id_token"]["claims"]["plan"], "gold");

    // The loopback address itself stays refused, pinned host or not.
    let outcome = run(format!("http://127.0.0.1:{port}/plan"), &pinned);
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    let reason = outcome["error_description"].as_str().unwrap_or_default();
    assert!(reason.contains("private address"), "{reason}");
}
