//! An Action that breaks an execution limit ends its own login with an
//! error; the server keeps serving the next one.

use serde_json::json;

use crate::helpers::{ActionFixture, StoreKind, TestConfig, login_event, spawn_app_with};

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
