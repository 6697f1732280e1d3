//! When every engine thread is taken and the queue is full, a login is
//! answered `503 temporarily_unavailable` at once, with `Retry-After`; a
//! `/continue` that finds the engines busy puts its login back, so the
//! browser's retry completes it.

use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::helpers::signal::Signal;
use crate::helpers::{
    API_KEY, ActionFixture, ExternalVisit, RETURN_TO, StoreKind, TestApp, TestConfig, json_body,
    login_event, result_from_redirect, spawn_app_with,
};

/// Engine threads with `engine.workers = 1`: the worker and the spares the
/// engine hires for waiting executions, up to four threads per worker.
const ENGINE_THREADS: usize = 4;

/// One engine worker and a queue of one; `hold-engine` runs first in every
/// login and holds its thread when asked, then favorite-color redirects.
/// Executions run on the engine threads only.
async fn app() -> TestApp {
    let hold = hold_engine();
    app_with(vec![hold, ActionFixture::favorite_color()], false).await
}

/// `hold-engine`, allowed to tell the test it runs.
fn hold_engine() -> ActionFixture {
    ActionFixture {
        allow_hosts: vec!["127.0.0.1"],
        ..ActionFixture::named("hold-engine")
    }
}

/// One engine worker and a queue of one, with quick executions on the
/// HTTP worker or not.
async fn app_with(actions: Vec<ActionFixture>, inline: bool) -> TestApp {
    let mut config = TestConfig::new(StoreKind::InMemory, actions);
    config.engine_extra = format!(
        "workers = 1\nqueue_capacity = 1\nallow_private_networks = true\ninline = {inline}"
    );
    config.timeout_ms = 2000;
    spawn_app_with(config).await
}

/// Starts a login that holds an engine thread until its deadline once it
/// gets one (and says so at `started`).
fn holding_login(app: &TestApp, started: &Signal) -> JoinHandle<reqwest::Response> {
    let mut event = login_event();
    event["user"]["user_metadata"] = json!({ "started_url": started.url });
    let request = app
        .client
        .post(format!("{}/v1/post-login", app.address))
        .header(AUTHORIZATION, format!("Bearer {API_KEY}"))
        .header(CONTENT_TYPE, "application/json")
        .body(json!({ "event": event, "return_to": RETURN_TO }).to_string());
    tokio::spawn(async move { request.send().await.expect("POST /v1/post-login") })
}

/// Takes every engine thread (each holder says when it runs), then fills
/// the queue: of two more logins sent together, one is queued and the
/// other is refused; returns the holders and that refusal.
async fn fill_the_engines(
    app: &TestApp,
) -> (Vec<JoinHandle<reqwest::Response>>, reqwest::Response) {
    let mut started = Signal::start().await;
    let mut holders = Vec::new();
    for _ in 0..ENGINE_THREADS {
        holders.push(holding_login(app, &started));
        started.wait().await;
    }
    let mut one = holding_login(app, &started);
    let mut other = holding_login(app, &started);
    let refused = tokio::select! {
        response = &mut one => response,
        response = &mut other => response,
    };
    (holders, refused.expect("the login task"))
}

#[tokio::test]
async fn a_login_beyond_the_engines_and_their_queue_gets_503_with_retry_after() {
    // Arrange
    let app = app().await;

    // Act
    let (_holders, refused) = fill_the_engines(&app).await;

    // Assert
    assert_eq!(
        refused.headers().get(RETRY_AFTER).map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert_eq!(
        refused.headers().get(CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let error = json_body(refused, 503).await;
    assert_eq!(error["error"], "temporarily_unavailable", "{error:#}");
}

#[tokio::test]
async fn a_continue_that_finds_the_engines_busy_puts_the_login_back_for_the_retry() {
    // Arrange: a login waits at the external site; then the engines fill.
    let app = app().await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));
    let form = [
        ("state", visit.state.as_str()),
        ("session_token", token.as_str()),
    ];
    let (holders, _) = fill_the_engines(&app).await;

    // Act
    let busy = app.continue_post(&form).await;
    for holder in holders {
        holder.await.expect("a holding login");
    }
    let retry = app.continue_post(&form).await;

    // Assert
    assert_eq!(busy.status().as_u16(), 503);
    assert_eq!(
        busy.headers().get(RETRY_AFTER).map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let (result, _) = result_from_redirect(retry, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(result["user"]["user_metadata"]["favorite_color"], "teal");
}

#[tokio::test]
async fn a_quick_login_is_answered_on_the_http_worker_while_the_engines_are_full() {
    // Arrange: the holders' hold-engine waited on the HTTP worker, so it
    // may be cooling down there; a quick login never reaches it.
    let gate = ActionFixture::named("denies-unless-started");
    let app = app_with(vec![gate, hold_engine()], true).await;
    let (_holders, refused) = fill_the_engines(&app).await;
    assert_eq!(refused.status().as_u16(), 503, "the engines are full");

    // Act: denied at once by the first Action.
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
}
