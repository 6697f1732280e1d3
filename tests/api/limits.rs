//! An Action that breaks an execution limit ends its own login with an
//! error; the server keeps serving the next one. A login redirects at most
//! ten times.

use serde_json::{Value, json};

use crate::helpers::signal::Signal;
use crate::helpers::{
    ActionFixture, ExternalVisit, RETURN_TO, StoreKind, TestApp, TestConfig, claim, location_of,
    login_event, result_from_redirect, spawn_app_with,
};

#[tokio::test]
async fn an_action_that_never_returns_fails_its_login_and_the_next_login_still_succeeds() {
    // Arrange
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("spin-on-request"),
            ActionFixture::named("claims-and-scopes"),
        ],
    );
    config.timeout_ms = 300;
    let app = spawn_app_with(config).await;
    let mut spinning = login_event();
    spinning["user"]["user_metadata"] = json!({ "spin": true });

    // Act
    let timed_out = app.post_login_outcome(spinning).await;
    let next = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(timed_out["outcome"], "deny", "{timed_out:#}");
    assert_eq!(timed_out["error"], "access_denied", "{timed_out:#}");
    assert!(
        timed_out["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{timed_out:#}"
    );
    assert_eq!(next["outcome"], "allow", "{next:#}");
}

/// Runs `slow` on a one-engine app and, once it has the engine (it says
/// so by fetching a signal URL), a good login. Returns both outcomes and
/// which finished first.
async fn beside_a_slow_login(
    app: &TestApp,
    mut slow: Value,
    mut started: Signal,
) -> (Value, Value, Vec<&'static str>) {
    slow["user"]["user_metadata"]["started_url"] = json!(started.url);
    let finished = std::sync::Mutex::new(Vec::new());
    let slow = async {
        let outcome = app.post_login_outcome(slow).await;
        finished.lock().unwrap().push("slow");
        outcome
    };
    let good = async {
        started.wait().await;
        let outcome = app.post_login_outcome(login_event()).await;
        finished.lock().unwrap().push("good");
        outcome
    };
    let (slow, good) = tokio::join!(slow, good);
    (slow, good, finished.into_inner().unwrap())
}

/// One engine thread; the Actions may fetch the local signal server.
fn one_engine(actions: Vec<ActionFixture>) -> TestConfig {
    let actions = actions
        .into_iter()
        .map(|action| ActionFixture {
            allow_hosts: vec!["127.0.0.1"],
            ..action
        })
        .collect();
    let mut config = TestConfig::new(StoreKind::InMemory, actions);
    config.engine_extra = "workers = 1\nallow_private_networks = true".into();
    config
}

#[tokio::test]
async fn a_looping_login_does_not_hold_the_only_engine_from_a_good_login() {
    // Arrange: one engine thread, and a loop that would hold it for 3 s.
    let mut config = one_engine(vec![
        ActionFixture::named("spin-on-request"),
        ActionFixture::named("claims-and-scopes"),
    ]);
    config.timeout_ms = 3000;
    let app = spawn_app_with(config).await;
    let mut spinning = login_event();
    spinning["user"]["user_metadata"] = json!({ "spin": true });

    // Act
    let (looping, good, finished) =
        beside_a_slow_login(&app, spinning, Signal::start().await).await;

    // Assert: a spare engine served the good login while the loop ran on.
    assert_eq!(good["outcome"], "allow", "{good:#}");
    assert_eq!(looping["outcome"], "deny", "{looping:#}");
    assert_eq!(finished, ["good", "slow"]);
}

#[tokio::test]
async fn a_login_waiting_on_a_slow_api_does_not_hold_the_only_engine_from_a_good_login() {
    // Arrange: one engine thread, and a login that waits 1.5 s.
    let app = spawn_app_with(one_engine(vec![ActionFixture::named("wait-on-request")])).await;
    let mut waiting = login_event();
    waiting["user"]["user_metadata"] = json!({ "wait": true });

    // Act
    let (slow, good, finished) = beside_a_slow_login(&app, waiting, Signal::start().await).await;

    // Assert: a spare engine served the good login; the waiting one
    // finished its wait normally.
    assert_eq!(good["outcome"], "allow", "{good:#}");
    assert_eq!(slow["outcome"], "allow", "{slow:#}");
    assert_eq!(claim(&slow, "id_token", "waited"), Some(&json!(true)));
    assert_eq!(finished, ["good", "slow"]);
    // Operators can see it.
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains(r#"detour_action_slow_executions_total{action="wait-on-request"} 1"#),
        "{metrics}"
    );
}

/// The redirect cap the README promises.
const MAX_REDIRECTS: u32 = 10;

#[tokio::test]
async fn an_action_that_redirects_on_every_return_is_denied_at_the_tenth_continue() {
    // Arrange
    let app = spawn_app_with(TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("redirect-every-time")],
    ))
    .await;
    let outcome = app.post_login_outcome(login_event()).await;
    let mut visit = ExternalVisit::from_outcome(&outcome);

    // Act: the browser comes back nine times and is sent away each time.
    for back in 1..MAX_REDIRECTS {
        let response = app.continue_get(&[("state", &visit.state)]).await;
        let location = location_of(&response)
            .unwrap_or_else(|| panic!("return {back}: no redirect ({})", response.status()));
        visit = ExternalVisit::from_location(&location);
    }
    let tenth = app.continue_get(&[("state", &visit.state)]).await;

    // Assert
    let (result, _) = result_from_redirect(tenth, RETURN_TO).await;
    assert_eq!(result["outcome"], "deny", "{result:#}");
    assert_eq!(result["error"], "access_denied", "{result:#}");
    assert_eq!(
        result["error_description"],
        format!("too many redirects in one login (at most {MAX_REDIRECTS})")
    );
}
