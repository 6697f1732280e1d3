//! What the Redis store promises beyond the shared protocol tests: records
//! keyed by a hash of the state with the login TTL, several instances on one
//! Redis, and a clean error when Redis is gone.

use serde_json::json;

use crate::helpers::redis::TestRedis;
use crate::helpers::{
    ActionFixture, ExternalVisit, RETURN_TO, StoreKind, TestConfig, json_body, login_event,
    result_from_redirect, spawn_app, spawn_instance,
};

#[tokio::test]
async fn a_suspended_login_is_kept_in_redis_under_a_hash_of_its_state_with_the_login_ttl() {
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;
    let redis = app.redis.as_ref().expect("a Redis-backed app");
    let keys_before = redis.keys();

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    let visit = ExternalVisit::from_outcome(&outcome);
    let new_keys: Vec<String> = redis
        .keys()
        .into_iter()
        .filter(|key| !keys_before.contains(key))
        .collect();
    assert!(!new_keys.is_empty(), "the suspended login is not in Redis");
    for key in &new_keys {
        assert!(
            !key.contains(&visit.state),
            "key {key:?} holds the raw state"
        );
        let ttl = redis.ttl(key);
        assert!((1..=3600).contains(&ttl), "key {key:?} has TTL {ttl}");
    }
}

#[tokio::test]
async fn a_login_suspended_on_one_instance_continues_on_another() {
    // Arrange
    let config = TestConfig::new(StoreKind::Redis, vec![ActionFixture::favorite_color()]);
    let first = spawn_app(StoreKind::Redis, config.actions.clone()).await;
    let redis_url = first.redis.as_ref().expect("a Redis-backed app").url();
    let second = spawn_instance(&config, Some(&redis_url)).await;
    let outcome = first.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let token = first.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));

    // Act
    let response = second
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;

    // Assert
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(
        result["user"]["user_metadata"]["favorite_color"], "teal",
        "{result:#}"
    );
}

#[tokio::test]
async fn a_login_that_needs_the_store_gets_503_when_redis_is_down() {
    // Arrange
    let mut app = spawn_app(
        StoreKind::Redis,
        vec![ActionFixture::named("always-redirect")],
    )
    .await;
    app.redis.as_mut().expect("a Redis-backed app").stop();

    // Act
    let response = app.post_login(login_event(), RETURN_TO).await;

    // Assert
    let error = json_body(response, 503).await;
    assert!(error["error"].is_string(), "{error:#}");
    assert!(error["error_description"].is_string(), "{error:#}");
    assert_eq!(error.get("outcome"), None);
}

#[tokio::test]
async fn readiness_fails_when_redis_is_down() {
    // Arrange
    let mut app = spawn_app(StoreKind::Redis, vec![ActionFixture::named("roles-claims")]).await;
    let ready_before = app.get("/readyz").await.status().as_u16();
    app.redis.as_mut().expect("a Redis-backed app").stop();

    // Act
    let ready_after = app.get("/readyz").await.status().as_u16();
    let alive_after = app.get("/healthz").await.status().as_u16();

    // Assert
    assert_eq!(ready_before, 200);
    assert_eq!(ready_after, 503);
    assert_eq!(alive_after, 200);
}

/// `/readyz` is reachable by whoever can reach Detour (load balancers,
/// probes, sometimes the internet): the store's error text, with its
/// address or its authentication failure, stays in the log.
#[tokio::test]
async fn readiness_says_the_store_is_unavailable_without_its_error_text() {
    // Arrange: Redis refuses Detour's credentials.
    let redis = TestRedis::start();
    let url = format!("redis://intruder:wrong-password@127.0.0.1:{}", redis.port());
    let config = TestConfig::new(StoreKind::Redis, vec![ActionFixture::named("roles-claims")]);
    let app = spawn_instance(&config, Some(&url)).await;

    // Act
    let response = app.get("/readyz").await;

    // Assert
    let body = json_body(response, 503).await;
    assert_eq!(
        body,
        json!({"status": "unavailable", "error": "the store does not answer"})
    );
}
