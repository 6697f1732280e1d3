//! Bad input gets a clear 4xx in Detour's shape: JSON for the API, the
//! error page for browsers.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use crate::helpers::{
    API_KEY, ActionFixture, StoreKind, TestApp, assert_invalid_request_page, json_body, spawn_app,
};

async fn app() -> TestApp {
    spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("claims-and-scopes")],
    )
    .await
}

#[tokio::test]
async fn an_oversized_event_is_refused_with_413_in_the_json_error_shape() {
    let app = app().await;
    let body = format!("{{\"event\": \"{}\"}}", "x".repeat(300 * 1024));

    let response = app.post_login_raw(Some(API_KEY), body).await;

    let error = json_body(response, 413).await;
    assert_eq!(error["error"], "invalid_request");
}

#[tokio::test]
async fn post_login_accepts_only_json() {
    let app = app().await;

    let response = app
        .client
        .post(format!("{}/v1/post-login", app.address))
        .header(AUTHORIZATION, format!("Bearer {API_KEY}"))
        .header(CONTENT_TYPE, "text/plain")
        .body("{}")
        .send()
        .await
        .expect("POST");

    let error = json_body(response, 415).await;
    assert_eq!(error["error"], "invalid_request");
}

#[tokio::test]
async fn an_oversized_continue_form_is_refused_with_an_error_page() {
    let app = app().await;
    let big = "x".repeat(70 * 1024);

    let response = app.continue_post(&[("state", "abc"), ("junk", &big)]).await;

    assert_eq!(response.status(), 413);
    let page = response.text().await.unwrap_or_default();
    assert!(page.contains("invalid_request"), "{page}");
}

#[tokio::test]
async fn continue_refuses_a_body_that_is_not_a_form() {
    let app = app().await;

    let response = app
        .client
        .post(format!("{}/continue", app.address))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"state\": \"abc\"}")
        .send()
        .await
        .expect("POST");

    assert_eq!(response.status(), 415);
}

#[tokio::test]
async fn a_duplicated_state_parameter_is_refused() {
    let app = app().await;

    let response = app
        .continue_get(&[("state", "abc"), ("state", "def")])
        .await;

    let page = assert_invalid_request_page(response).await;
    assert!(page.contains("appears more than once"), "{page}");
}

#[tokio::test]
async fn a_post_login_body_that_is_not_utf8_is_refused_with_400_naming_the_position() {
    let app = app().await;
    // A user name with a byte that is not UTF-8 (Latin-1's "é").
    let mut body = br#"{"event":{"user":{"user_id":"auth0|1","name":"Ren"#.to_vec();
    body.push(0xE9);
    body.extend_from_slice(br#""}},"return_to":"https://app.example.com/callback"}"#);

    let response = app
        .client
        .post(format!("{}/v1/post-login", app.address))
        .header(AUTHORIZATION, format!("Bearer {API_KEY}"))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .expect("POST");

    let error = json_body(response, 400).await;
    assert_eq!(error["error"], "invalid_request", "{error:#}");
    let description = error["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("invalid unicode") && description.contains("column"),
        "{description}"
    );
}

#[tokio::test]
async fn a_post_login_request_with_an_unknown_field_is_refused() {
    let app = app().await;
    let body = serde_json::json!({
        "event": crate::helpers::login_event(),
        "return_to": crate::helpers::RETURN_TO,
        "return_too": "http://evil.example/",
    });

    let response = app.post_login_raw(Some(API_KEY), body.to_string()).await;

    let error = json_body(response, 400).await;
    assert_eq!(error["error"], "invalid_request", "{error:#}");
    let description = error["error_description"].as_str().unwrap_or_default();
    assert!(description.contains("return_too"), "{description}");
}

#[tokio::test]
async fn a_result_details_request_with_an_unknown_field_is_refused() {
    let app = app().await;

    let response = app
        .client
        .post(format!("{}/v1/result-details", app.address))
        .header(AUTHORIZATION, format!("Bearer {API_KEY}"))
        .json(&serde_json::json!({ "jti": "x", "upstream": "other" }))
        .send()
        .await
        .expect("POST /v1/result-details");

    let error = json_body(response, 400).await;
    assert_eq!(error["error"], "invalid_request", "{error:#}");
}

#[tokio::test]
async fn a_caller_without_a_valid_api_key_is_refused_before_its_body_is_read() {
    let app = app().await;

    let response = app
        .post_login_raw(Some("not-the-key"), "this is not JSON".to_owned())
        .await;

    let error = json_body(response, 401).await;
    assert_eq!(error["error"], "invalid_client", "{error:#}");
}
