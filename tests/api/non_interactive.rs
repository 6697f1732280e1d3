//! Logins without a browser to send away (`prompt=none`, back-channel
//! protocols): `api.redirect.canRedirect()` is false and a `sendUserTo`
//! ends the login with `interaction_required` instead of suspending it.

use serde_json::{Value, json};

use crate::helpers::{ActionFixture, ExternalVisit, StoreKind, claim, login_event, spawn_app};

const CAN_REDIRECT: &str = "https://detour.test/can-redirect";

fn silent_login() -> Value {
    let mut event = login_event();
    event["request"]["query"]["prompt"] = json!("none");
    event["transaction"]["prompt"] = json!(["none"]);
    event
}

fn login_with_protocol(protocol: &str) -> Value {
    let mut event = login_event();
    event["transaction"]["protocol"] = json!(protocol);
    event
}

#[tokio::test]
async fn can_redirect_is_true_for_an_interactive_login() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("can-redirect-probe")],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        claim(&outcome, "id_token", CAN_REDIRECT),
        Some(&json!(true))
    );
}

#[tokio::test]
async fn can_redirect_is_false_for_a_prompt_none_login() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("can-redirect-probe")],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(silent_login()).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        claim(&outcome, "id_token", CAN_REDIRECT),
        Some(&json!(false))
    );
}

#[tokio::test]
async fn can_redirect_is_false_for_back_channel_protocols() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("can-redirect-probe")],
    )
    .await;
    let protocols = [
        "oauth2-refresh-token",
        "oauth2-resource-owner",
        "oauth2-password",
        "oauth2-webauthn",
    ];

    for protocol in protocols {
        // Act
        let outcome = app.post_login_outcome(login_with_protocol(protocol)).await;

        // Assert
        assert_eq!(outcome["outcome"], "allow", "{protocol}: {outcome:#}");
        assert_eq!(
            claim(&outcome, "id_token", CAN_REDIRECT),
            Some(&json!(false)),
            "canRedirect() for {protocol}"
        );
    }
}

#[tokio::test]
async fn a_redirect_in_an_interactive_login_suspends_it() {
    // Arrange
    let app = spawn_app(
        StoreKind::Redis,
        vec![ActionFixture::named("always-redirect")],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    let visit = ExternalVisit::from_outcome(&outcome);
    assert_eq!(visit.location.host_str(), Some("mfa.example.test"));
    assert_eq!(visit.param("step"), Some("otp"));
}

#[tokio::test]
async fn a_redirect_in_a_prompt_none_login_fails_with_interaction_required() {
    // Arrange
    let app = spawn_app(
        StoreKind::Redis,
        vec![ActionFixture::named("always-redirect")],
    )
    .await;
    let keys_before = app.redis.as_ref().map(|redis| redis.keys());

    // Act
    let outcome = app.post_login_outcome(silent_login()).await;

    // Assert
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "interaction_required", "{outcome:#}");
    assert_eq!(outcome.get("location"), None);
    let keys_after = app.redis.as_ref().map(|redis| redis.keys());
    assert_eq!(
        keys_after, keys_before,
        "nothing may be stored for a login that cannot continue"
    );
}

#[tokio::test]
async fn a_redirect_in_a_refresh_token_exchange_fails_with_interaction_required() {
    // Arrange
    let app = spawn_app(
        StoreKind::Redis,
        vec![ActionFixture::named("always-redirect")],
    )
    .await;
    let keys_before = app.redis.as_ref().map(|redis| redis.keys());

    // Act
    let outcome = app
        .post_login_outcome(login_with_protocol("oauth2-refresh-token"))
        .await;

    // Assert
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "interaction_required", "{outcome:#}");
    assert_eq!(outcome.get("location"), None);
    let keys_after = app.redis.as_ref().map(|redis| redis.keys());
    assert_eq!(
        keys_after, keys_before,
        "nothing may be stored for a login that cannot continue"
    );
}
