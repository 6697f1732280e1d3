//! What an Action logs or throws never reaches the browser unless the
//! upstream opts in: the result token at `return_to` (browser history, the
//! upstream's access logs) carries no console output and no thrown text by
//! default; `result_details = "in_token"` puts them back; with
//! `result_details = "back_channel"` the upstream fetches them once, with its
//! API key, from `POST /v1/result-details`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{
    API_KEY, ActionFixture, ExternalVisit, RETURN_TO, StoreKind, TestApp, TestConfig, json_body,
    login_event, result_from_redirect, spawn_app_with,
};

/// The secret the Action logs, and puts in the message it throws.
const LEAKED: &str = "risk-api-token-7f3e9c1b5a";
const ACTION: &str = "leaks-then-fails";
/// What the Action throws when told to fail.
const THROWN: &str = "the risk API refused risk-api-token-7f3e9c1b5a";

/// A second upstream on the same Detour, with its own API key.
const OTHER_API_KEY: &str = "other-api-key-1d2c3b4a59687766";

/// Detour with the leaking Action; `result_details` for the `demo`
/// upstream (`None`: the default), and a second upstream `other`.
async fn app(store: StoreKind, result_details: Option<&str>) -> TestApp {
    let mut config = TestConfig::new(
        store,
        vec![ActionFixture {
            secrets: vec![("API_TOKEN", "RISK_API_TOKEN")],
            ..ActionFixture::named(ACTION)
        }],
    );
    config.env.insert("RISK_API_TOKEN".into(), LEAKED.into());
    config
        .env
        .insert("OTHER_API_KEY".into(), OTHER_API_KEY.into());
    config.env.insert(
        "OTHER_RESULT_SECRET".into(),
        "other-result-secret-0123456789abcdef0123".into(),
    );
    if let Some(mode) = result_details {
        config.upstream_extra = format!("result_details = \"{mode}\"\n");
    }
    config.extra_toml = format!(
        "\n[[upstreams]]\nid = \"other\"\napi_key_env = \"OTHER_API_KEY\"\n\
         result_secret_env = \"OTHER_RESULT_SECRET\"\nreturn_to = [\"{RETURN_TO}\"]\n\
         result_details = \"back_channel\"\n"
    );
    spawn_app_with(config).await
}

/// Runs a login through the detour; the Action then ends as `outcome` asks
/// (`throw`, `deny` or `allow`). Returns the verified result claims, the raw
/// `Location` and the JSON text of the token's payload as anyone holding
/// the URL can read it (no key needed).
async fn delivered(app: &TestApp, outcome: &str) -> (Value, String, String) {
    let started = app.post_login_outcome(login_event()).await;
    // The upstream's own answer still carries the console output.
    assert!(
        started["executions"][0]["logs"]
            .to_string()
            .contains(LEAKED),
        "{started:#}"
    );
    let visit = ExternalVisit::from_outcome(&started);
    let response = app
        .continue_post(&[("state", &visit.state), ("outcome", outcome)])
        .await;
    let (result, location) = result_from_redirect(response, RETURN_TO).await;
    let token = location
        .query_pairs()
        .find(|(k, _)| k == "result")
        .map(|(_, v)| v.into_owned())
        .expect("a result parameter");
    let payload = token.split('.').nth(1).expect("a JWT payload");
    let payload = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    let payload = String::from_utf8(payload).expect("UTF-8 payload");
    (result, location.to_string(), payload)
}

/// Asserts the token's executions carry only Action, handler and duration.
fn assert_withheld(result: &Value) {
    let records = result["executions"].as_array().expect("executions");
    assert_eq!(records.len(), 2, "{result:#}");
    for record in records {
        let mut keys: Vec<&str> = record
            .as_object()
            .expect("a record")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["action", "duration_ms", "handler"], "{record:#}");
        assert_eq!(record["action"], ACTION);
    }
}

#[tokio::test]
async fn a_result_token_carries_neither_console_output_nor_thrown_text_by_default() {
    // Arrange
    let app = app(StoreKind::Redis, None).await;

    // Act
    let (result, location, payload) = delivered(&app, "throw").await;

    // Assert
    assert_eq!(result["outcome"], "deny", "{result:#}");
    assert_eq!(result["error"], "access_denied");
    assert_eq!(
        result["error_description"],
        format!("Action \"{ACTION}\" failed")
    );
    assert_withheld(&result);
    for text in [&location, &payload] {
        assert!(
            !text.contains(LEAKED),
            "the secret reached the browser: {text}"
        );
        assert!(
            !text.contains("risk API"),
            "the thrown text reached the browser: {text}"
        );
    }
    // Nothing was kept for a back channel this upstream did not ask for.
    let response = app
        .result_details(API_KEY, result["jti"].as_str().expect("jti"))
        .await;
    assert_eq!(response.status().as_u16(), 404);
    if let Some(redis) = &app.redis {
        let kept: Vec<String> = redis
            .keys()
            .into_iter()
            .filter(|k| k.starts_with("detour:details:"))
            .collect();
        assert!(kept.is_empty(), "{kept:?}");
    }
}

#[tokio::test]
async fn a_deny_reason_meant_for_the_user_stays_in_the_result_token() {
    // Arrange
    let app = app(StoreKind::InMemory, None).await;

    // Act
    let (result, _, payload) = delivered(&app, "deny").await;

    // Assert
    assert_eq!(result["outcome"], "deny", "{result:#}");
    assert_eq!(
        result["error_description"],
        "Please finish the identity check first."
    );
    assert_withheld(&result);
    assert!(!payload.contains(LEAKED), "{payload}");
}

#[tokio::test]
async fn an_upstream_that_opts_in_gets_the_full_records_in_the_result_token() {
    // Arrange
    let app = app(StoreKind::InMemory, Some("in_token")).await;

    // Act
    let (result, _, _) = delivered(&app, "throw").await;

    // Assert
    assert_eq!(result["error_description"], THROWN, "{result:#}");
    let records = result["executions"].as_array().expect("executions");
    assert_eq!(
        records[0]["logs"],
        json!([format!("calling the risk API with {LEAKED}")])
    );
    assert_eq!(records[1]["logs"], json!([format!("still using {LEAKED}")]));
    assert_eq!(records[1]["error"], THROWN);
}

#[tokio::test]
async fn the_back_channel_hands_the_full_records_once_to_the_upstream_they_belong_to() {
    // Arrange
    let app = app(StoreKind::Redis, Some("back_channel")).await;
    let (result, location, payload) = delivered(&app, "throw").await;
    let jti = result["jti"].as_str().expect("jti");

    // Act
    let wrong_key = app.result_details("not-an-api-key", jti).await;
    let other_upstream = app.result_details(OTHER_API_KEY, jti).await;
    let first = app.result_details(API_KEY, jti).await;
    let second = app.result_details(API_KEY, jti).await;

    // Assert: the token itself holds nothing of it...
    assert_eq!(
        result["error_description"],
        format!("Action \"{ACTION}\" failed")
    );
    assert_withheld(&result);
    assert!(!location.contains(LEAKED) && !payload.contains(LEAKED));
    // ...another key gets nothing, and does not use the details up...
    assert_eq!(json_body(wrong_key, 401).await["error"], "invalid_client");
    assert_eq!(json_body(other_upstream, 404).await["error"], "not_found");
    // ...the upstream the result was for gets everything, once.
    let details = json_body(first, 200).await;
    assert_eq!(details["error_description"], THROWN, "{details:#}");
    let records = details["executions"].as_array().expect("executions");
    assert_eq!(
        records[0]["logs"],
        json!([format!("calling the risk API with {LEAKED}")])
    );
    assert_eq!(records[1]["handler"], "onContinuePostLogin");
    assert_eq!(records[1]["error"], THROWN);
    assert_eq!(json_body(second, 404).await["error"], "not_found");
}

#[tokio::test]
async fn the_back_channel_keeps_the_details_of_an_allowed_login_too() {
    // Arrange
    let app = app(StoreKind::InMemory, Some("back_channel")).await;
    let (result, _, _) = delivered(&app, "allow").await;

    // Act
    let response = app
        .result_details(API_KEY, result["jti"].as_str().expect("jti"))
        .await;

    // Assert
    assert_eq!(result["outcome"], "allow", "{result:#}");
    let details = json_body(response, 200).await;
    assert_eq!(details.get("error_description"), None, "{details:#}");
    assert_eq!(
        details["executions"][1]["logs"],
        json!([format!("still using {LEAKED}")])
    );
}

#[tokio::test]
async fn the_back_channel_answers_not_found_for_an_id_it_never_issued() {
    // Arrange
    let app = app(StoreKind::InMemory, Some("back_channel")).await;

    // Act
    let unknown = app
        .result_details(API_KEY, "0b5e4c1e-7f0a-4d4e-9a51-3c9d2f6b8e10")
        .await;
    let malformed = app.result_details(API_KEY, "../../etc/passwd").await;

    // Assert
    assert_eq!(json_body(unknown, 404).await["error"], "not_found");
    assert_eq!(json_body(malformed, 404).await["error"], "not_found");
}
