//! The headers the README promises: every response carries the security
//! headers; answers about a login (outcomes, redirects, result pages,
//! errors) are never cached; a `503` says when to retry.

use reqwest::header::{CACHE_CONTROL, HeaderMap, RETRY_AFTER};
use serde_json::json;

use crate::helpers::{
    ActionFixture, ExternalVisit, RETURN_TO, StoreKind, TestApp, login_event, spawn_app,
};

async fn app(store: StoreKind) -> TestApp {
    spawn_app(store, vec![ActionFixture::favorite_color()]).await
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn assert_security_headers(headers: &HeaderMap, what: &str) {
    assert_eq!(
        header(headers, "referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(
        header(headers, "x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(header(headers, "x-frame-options"), Some("DENY"), "{what}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    // Arrange
    let app = app(StoreKind::InMemory).await;

    // Act
    let outcome = app.post_login(login_event(), RETURN_TO).await;
    let error_page = app.continue_get(&[("state", "no-such-state")]).await;
    let health = app.get("/healthz").await;

    // Assert
    assert_security_headers(outcome.headers(), "post-login");
    assert_security_headers(error_page.headers(), "the error page");
    assert_security_headers(health.headers(), "/healthz");
}

#[tokio::test]
async fn outcomes_redirects_and_errors_are_never_cached() {
    // Arrange
    let app = app(StoreKind::InMemory).await;

    // Act
    let outcome = app.post_login(login_event(), RETURN_TO).await;
    let cache_control = header(outcome.headers(), "cache-control").map(str::to_owned);
    let visit = ExternalVisit::from_outcome(&outcome.json().await.expect("outcome"));
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));
    let delivered = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;
    let error_page = app.continue_get(&[("state", &visit.state)]).await;

    // Assert
    assert_eq!(cache_control.as_deref(), Some("no-store"), "the outcome");
    assert_eq!(delivered.status().as_u16(), 302);
    assert_eq!(
        header(delivered.headers(), CACHE_CONTROL.as_str()),
        Some("no-store"),
        "the redirect to return_to"
    );
    assert_eq!(error_page.status().as_u16(), 400);
    assert_eq!(
        header(error_page.headers(), CACHE_CONTROL.as_str()),
        Some("no-store"),
        "the error page"
    );
}

#[tokio::test]
async fn a_503_for_a_store_that_is_down_says_when_to_retry() {
    // Arrange
    let mut app = app(StoreKind::Redis).await;
    app.redis.as_mut().expect("a Redis-backed app").stop();

    // Act
    let response = app.post_login(login_event(), RETURN_TO).await;

    // Assert
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(header(response.headers(), RETRY_AFTER.as_str()), Some("1"));
    assert_eq!(
        header(response.headers(), CACHE_CONTROL.as_str()),
        Some("no-store")
    );
}
