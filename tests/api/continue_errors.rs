//! What goes wrong on the way back: a returned token that does not hold up
//! ends the login with `access_denied`; a `state` that is missing, unknown,
//! expired or used gets the `invalid_request` page. One pass, on a
//! real Redis (the production store); the in-memory store is held to the
//! same contract in `store_contract.rs`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::tokens::{now, returned_token_claims, sign_hs256};
use crate::helpers::{
    ActionFixture, ExternalVisit, RETURN_TO, SHARED_SECRET, StoreKind, TestApp, TestConfig,
    USER_ID, assert_invalid_request_page, json_body, login_event, result_from_redirect, spawn_app,
    spawn_app_with,
};

/// Starts Detour with the favorite-color Action and suspends one login.
/// `validateToken` refuses a bad token by throwing, and a thrown message
/// stays out of the result token unless the upstream opts in
/// (`result_details.rs`); these tests read that message, so they opt in.
async fn suspended_login(store: StoreKind) -> (TestApp, ExternalVisit) {
    let mut config = TestConfig::new(store, vec![ActionFixture::favorite_color()]);
    config.upstream_extra = "result_details = \"in_token\"\n".into();
    let app = spawn_app_with(config).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    (app, visit)
}

/// Comes back with `token` and returns the final (verified) result.
async fn come_back_with(app: &TestApp, visit: &ExternalVisit, token: &str) -> Value {
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", token)])
        .await;
    result_from_redirect(response, RETURN_TO).await.0
}

/// Asserts a `deny` / `access_denied` result whose description is
/// `The session token is invalid: <reason>` with a reason that mentions
/// one of `reason_words` (case-insensitive).
fn assert_token_rejected(result: &Value, reason_words: &[&str]) {
    assert_eq!(result["outcome"], "deny", "{result:#}");
    assert_eq!(result["error"], "access_denied", "{result:#}");
    let description = result["error_description"].as_str().unwrap_or_default();
    let reason = description
        .strip_prefix("The session token is invalid: ")
        .unwrap_or_else(|| panic!("unexpected error_description {description:?}"));
    let reason = reason.to_ascii_lowercase();
    assert!(
        reason_words.iter().any(|word| reason.contains(word)),
        "the reason {reason:?} should mention one of {reason_words:?}"
    );
    assert_eq!(
        result["user"]["user_metadata"].get("favorite_color"),
        None,
        "a rejected token must not set the color: {result:#}"
    );
}

#[tokio::test]
async fn a_returned_token_with_a_bad_signature_denies_the_login() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let mut claims = returned_token_claims(&visit.state, USER_ID);
    claims["favorite_color"] = json!("teal");
    let forged = sign_hs256("not-the-shared-secret-0123456789abcdef", &claims);

    // Act
    let result = come_back_with(&app, &visit, &forged).await;

    // Assert
    assert_token_rejected(&result, &["signature"]);
}

#[tokio::test]
async fn an_expired_returned_token_denies_the_login() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let mut claims = returned_token_claims(&visit.state, USER_ID);
    claims["iat"] = json!(now() - 3600);
    claims["exp"] = json!(now() - 600);
    claims["favorite_color"] = json!("teal");
    let expired = sign_hs256(SHARED_SECRET, &claims);

    // Act
    let result = come_back_with(&app, &visit, &expired).await;

    // Assert
    assert_token_rejected(&result, &["expired"]);
}

#[tokio::test]
async fn a_returned_token_for_another_state_denies_the_login() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let mut claims = returned_token_claims("some-other-login-state", USER_ID);
    claims["favorite_color"] = json!("teal");
    let token = sign_hs256(SHARED_SECRET, &claims);

    // Act
    let result = come_back_with(&app, &visit, &token).await;

    // Assert
    assert_token_rejected(&result, &["state"]);
}

#[tokio::test]
async fn a_returned_token_for_another_user_denies_the_login() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let mut claims = returned_token_claims(&visit.state, "auth0|someone-else");
    claims["favorite_color"] = json!("teal");
    let token = sign_hs256(SHARED_SECRET, &claims);

    // Act
    let result = come_back_with(&app, &visit, &token).await;

    // Assert
    assert_token_rejected(&result, &["sub", "subject", "user"]);
}

#[tokio::test]
async fn a_returned_token_without_iat_denies_the_login() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let mut claims = returned_token_claims(&visit.state, USER_ID);
    claims.as_object_mut().expect("claims").remove("iat");
    claims["favorite_color"] = json!("teal");
    let token = sign_hs256(SHARED_SECRET, &claims);

    // Act
    let result = come_back_with(&app, &visit, &token).await;

    // Assert
    assert_token_rejected(&result, &["iat", "claim"]);
}

#[tokio::test]
async fn coming_back_without_a_session_token_denies_the_login() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;

    // Act
    let response = app.continue_post(&[("state", &visit.state)]).await;

    // Assert
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "deny", "{result:#}");
    assert_eq!(result["error"], "access_denied");
    let description = result["error_description"].as_str().unwrap_or_default();
    assert!(description.contains("session_token"), "{description:?}");
}

#[tokio::test]
async fn by_default_the_result_token_says_only_that_the_action_failed() {
    // Arrange: the default upstream, which does not opt in.
    let app = spawn_app(StoreKind::InMemory, vec![ActionFixture::favorite_color()]).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let mut claims = returned_token_claims(&visit.state, USER_ID);
    claims["favorite_color"] = json!("teal");
    let forged = sign_hs256("not-the-shared-secret-0123456789abcdef", &claims);

    // Act
    let result = come_back_with(&app, &visit, &forged).await;

    // Assert
    assert_eq!(result["outcome"], "deny", "{result:#}");
    assert_eq!(result["error"], "access_denied");
    assert_eq!(
        result["error_description"],
        "Action \"favorite-color\" failed"
    );
    assert_eq!(result["executions"][1].get("error"), None, "{result:#}");
}

#[tokio::test]
async fn continue_is_rejected_when_the_state_was_already_used() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));
    let form = [
        ("state", visit.state.as_str()),
        ("session_token", token.as_str()),
    ];
    let first = app.continue_post(&form).await;
    assert_eq!(
        first.status().as_u16(),
        302,
        "the first /continue must succeed"
    );

    // Act
    let replay = app.continue_post(&form).await;

    // Assert
    assert_invalid_request_page(replay).await;
}

#[tokio::test]
async fn a_double_submitted_continue_succeeds_exactly_once() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));
    let form = [
        ("state", visit.state.as_str()),
        ("session_token", token.as_str()),
    ];

    // Act
    let (a, b) = tokio::join!(app.continue_post(&form), app.continue_post(&form));

    // Assert
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![302, 400]);
}

#[tokio::test]
async fn continue_is_rejected_when_the_state_is_unknown() {
    // Arrange: a real suspended login exists, but this is not its state.
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let unknown = format!("{}x", visit.state);

    // Act
    let response = app.continue_get(&[("state", &unknown)]).await;

    // Assert
    assert_invalid_request_page(response).await;
}

#[tokio::test]
async fn continue_is_rejected_when_there_is_no_state() {
    // Arrange
    let (app, visit) = suspended_login(StoreKind::Redis).await;
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));

    // Act
    let by_get = app.continue_get(&[("session_token", &token)]).await;
    let by_post = app.continue_post(&[("session_token", &token)]).await;

    // Assert
    assert_invalid_request_page(by_get).await;
    assert_invalid_request_page(by_post).await;
}

/// A login whose lifetime is `LOGIN_TTL`, suspended at the external site,
/// and the token that site hands back.
async fn login_with_a_short_lifetime(store: StoreKind) -> (TestApp, ExternalVisit, String) {
    let mut config = TestConfig::new(store, vec![ActionFixture::favorite_color()]);
    config.login_ttl_secs = LOGIN_TTL.as_secs();
    let app = spawn_app_with(config).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));
    (app, visit, token)
}

const LOGIN_TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn continue_is_rejected_when_the_login_has_expired() {
    // Arrange
    let (app, visit, token) = login_with_a_short_lifetime(StoreKind::Redis).await;
    app.clock.advance(LOGIN_TTL + Duration::from_secs(1));

    // Act
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;

    // Assert
    assert_invalid_request_page(response).await;
}

#[tokio::test]
async fn a_login_continued_within_its_lifetime_completes() {
    // Arrange
    let (app, visit, token) = login_with_a_short_lifetime(StoreKind::InMemory).await;
    app.clock.advance(LOGIN_TTL - Duration::from_secs(5));

    // Act
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;

    // Assert
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
}

#[tokio::test]
async fn a_client_that_asks_for_json_gets_the_invalid_request_error_as_json() {
    // Arrange
    let (app, _visit) = suspended_login(StoreKind::Redis).await;

    // Act
    let response = app
        .continue_get_accepting_json(&[("state", "no-such-login-state")])
        .await;

    // Assert
    let error = json_body(response, 400).await;
    assert_eq!(error["error"], "invalid_request", "{error:#}");
    assert!(error["error_description"].is_string(), "{error:#}");
}
