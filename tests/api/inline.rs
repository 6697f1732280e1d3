//! Executions run on the HTTP worker when they neither wait nor run long;
//! one that does is run again, from its start, on an engine thread. What a
//! login shows is the same either way: every command and log line once,
//! every request the Action makes sent once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::signal::Signal;
use crate::helpers::{
    ActionFixture, StoreKind, TestApp, TestConfig, claim, login_event, spawn_app_with,
};

async fn app(actions: Vec<ActionFixture>, extra: &str) -> TestApp {
    let mut config = TestConfig::new(StoreKind::InMemory, actions);
    config.engine_extra = extra.into();
    spawn_app_with(config).await
}

fn logs(outcome: &Value, execution: usize) -> &Value {
    &outcome["executions"][execution]["logs"]
}

/// The `/metrics` lines that count hand-overs to an engine thread.
async fn handovers(app: &TestApp) -> Vec<String> {
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    metrics
        .lines()
        .filter(|l| l.starts_with("detour_action_handovers_total{"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn an_action_that_waits_after_a_quick_one_shows_each_log_line_and_claim_once() {
    // Arrange
    let app = app(
        vec![
            ActionFixture::named("logs-and-claims"),
            ActionFixture::named("waits-then-logs"),
        ],
        "",
    )
    .await;

    for login in 0..3 {
        // Act: the second login finds the waiting Action cooling down.
        let outcome = app.post_login_outcome(login_event()).await;

        // Assert
        assert_eq!(outcome["outcome"], "allow", "login {login}: {outcome:#}");
        assert_eq!(logs(&outcome, 0), &json!(["quick"]), "login {login}");
        assert_eq!(
            logs(&outcome, 1),
            &json!(["before the wait", "after the wait"]),
            "login {login}: {outcome:#}"
        );
        for name in ["quick", "before", "after"] {
            assert_eq!(
                claim(&outcome, "id_token", &format!("https://detour.test/{name}")),
                Some(&json!(true)),
                "login {login}: {outcome:#}"
            );
        }
    }
    // Each login's waiting execution moved, the quick one never did.
    assert_eq!(
        handovers(&app).await,
        [r#"detour_action_handovers_total{action="waits-then-logs",reason="waits"} 3"#]
    );
}

#[tokio::test]
async fn an_action_that_computes_past_the_workers_budget_shows_its_result_and_logs_once() {
    // Arrange
    let app = app(vec![ActionFixture::named("computes-a-while")], "").await;

    for login in 0..3 {
        // Act
        let outcome = app.post_login_outcome(login_event()).await;

        // Assert
        assert_eq!(outcome["outcome"], "allow", "login {login}: {outcome:#}");
        assert_eq!(logs(&outcome, 0), &json!(["started"]), "login {login}");
        assert_eq!(
            claim(&outcome, "id_token", "https://detour.test/computed"),
            Some(&json!(true)),
            "login {login}: {outcome:#}"
        );
    }
    // Stopped once on the worker that took the logins (the client keeps
    // its connection, so one worker; two at most if it reconnected), and
    // the next executions went straight to an engine thread.
    let moved = handovers(&app).await;
    assert!(
        moved == [r#"detour_action_handovers_total{action="computes-a-while",reason="overran"} 1"#]
            || moved
                == [
                    r#"detour_action_handovers_total{action="computes-a-while",reason="overran"} 2"#
                ],
        "{moved:?}"
    );
}

#[tokio::test]
async fn a_request_an_action_makes_reaches_its_server_once() {
    // Arrange
    let signal = ActionFixture {
        allow_hosts: vec!["127.0.0.1"],
        ..ActionFixture::named("signal-started")
    };
    let app = app(vec![signal], "allow_private_networks = true").await;
    let mut server = Signal::start().await;
    let mut event = login_event();
    event["user"]["user_metadata"] = json!({ "started_url": server.url });

    // Act
    let outcome = app.post_login_outcome(event).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    tokio::time::timeout(Duration::from_secs(5), server.wait())
        .await
        .expect("the request reached the server");
    let again = tokio::time::timeout(Duration::from_millis(300), server.wait()).await;
    assert!(again.is_err(), "the request was sent twice");
}

#[tokio::test]
async fn with_inline_off_every_execution_runs_on_an_engine_thread_with_the_same_result() {
    // Arrange
    let app = app(
        vec![
            ActionFixture::named("logs-and-claims"),
            ActionFixture::named("waits-then-logs"),
        ],
        "inline = false",
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(logs(&outcome, 0), &json!(["quick"]));
    assert_eq!(
        logs(&outcome, 1),
        &json!(["before the wait", "after the wait"])
    );
    assert_eq!(
        handovers(&app).await,
        Vec::<String>::new(),
        "nothing started on the worker"
    );
}

#[tokio::test]
async fn recursion_without_end_is_a_range_error_on_the_http_worker_too() {
    // Arrange
    let app = app(vec![ActionFixture::named("recurses-and-catches")], "").await;

    for name in ["plain", "host"] {
        // Act
        let mut event = login_event();
        event["user"]["user_metadata"] = json!({ "recurse": name });
        let outcome = app.post_login_outcome(event).await;

        // Assert
        assert_eq!(
            claim(&outcome, "id_token", &format!("https://detour.test/{name}")),
            Some(&json!("RangeError")),
            "{name}: {outcome:#}"
        );
    }
}
