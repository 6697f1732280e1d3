//! `/openapi.json` stays true: real responses of every kind are checked
//! against its schemas, and every documented path answers.

use serde_json::{Map, Value, json};

use crate::helpers::{
    API_KEY, ActionFixture, ExternalVisit, RETURN_TO, StoreKind, TestApp, TestConfig, json_body,
    login_event, result_from_redirect, spawn_app_with,
};

async fn app() -> TestApp {
    spawn_app_with(TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("everything"),
            ActionFixture::favorite_color(),
        ],
    ))
    .await
}

async fn spec(app: &TestApp) -> Value {
    json_body(app.get("/openapi.json").await, 200).await
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            let target = spec
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling $ref {reference}"));
            resolve(spec, target)
        }
        None => schema,
    }
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("unknown type {other} in the spec"),
    }
}

/// Checks `value` against the subset of JSON Schema the spec uses; returns
/// every violation with its path.
fn violations(spec: &Value, schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let schema = resolve(spec, schema);
    let mut found = Vec::new();
    if let Some(types) = schema.get("type") {
        let ok = match types {
            Value::String(t) => type_matches(t, value),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_matches(t, value)),
            _ => true,
        };
        if !ok {
            found.push(format!("{path}: {value} is not of type {types}"));
            return found;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        found.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let Some(object) = value.as_object() {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                found.push(format!("{path}: required `{name}` is missing"));
            }
        }
        for (key, item) in object {
            let item_path = format!("{path}.{key}");
            match (properties.get(key), schema.get("additionalProperties")) {
                (Some(sub), _) => found.extend(violations(spec, sub, item, &item_path)),
                (None, Some(Value::Bool(false))) => {
                    found.push(format!("{path}: `{key}` is not documented"));
                }
                (None, Some(sub @ Value::Object(_))) => {
                    found.extend(violations(spec, sub, item, &item_path));
                }
                _ => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            found.extend(violations(spec, items, item, &format!("{path}[{i}]")));
        }
    }
    found
}

fn assert_conforms(spec: &Value, schema_name: &str, value: &Value) {
    let schema = json!({ "$ref": format!("#/components/schemas/{schema_name}") });
    let found = violations(spec, &schema, value, schema_name);
    assert!(
        found.is_empty(),
        "{value:#}\ndoes not match the spec:\n{}",
        found.join("\n")
    );
}

#[tokio::test]
async fn every_outcome_kind_matches_the_outcome_schema() {
    let app = app().await;
    let spec = spec(&app).await;

    let mut colored = login_event();
    colored["user"]["user_metadata"] = json!({ "favorite_color": "blue" });
    let allow = app.post_login_outcome(colored).await;
    let redirect = app.post_login_outcome(login_event()).await;
    let mut denied = login_event();
    denied["request"]["query"] = json!({ "prompt": "none" });
    let deny = app.post_login_outcome(denied).await;

    assert_eq!(allow["outcome"], "allow");
    assert!(allow.get("multifactor").is_some() && allow.get("transaction_metadata").is_some());
    assert_eq!(redirect["outcome"], "redirect");
    assert_eq!(deny["error"], "interaction_required");
    for outcome in [&allow, &redirect, &deny] {
        assert_conforms(&spec, "Outcome", outcome);
    }
}

#[tokio::test]
async fn the_result_token_matches_its_schema() {
    let app = app().await;
    let spec = spec(&app).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));

    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;
    let (result, _) = result_from_redirect(response, RETURN_TO).await;

    // The default shape: no logs or error in the executions.
    assert_eq!(result["executions"][0].get("logs"), None, "{result:#}");
    assert_conforms(&spec, "ResultToken", &result);
    let mut outcome_part = result.clone();
    for claim in ["iss", "aud", "iat", "exp", "jti", "transaction_id"] {
        outcome_part.as_object_mut().map(|o| o.remove(claim));
    }
    assert_conforms(&spec, "Outcome", &outcome_part);
}

/// A detour through favorite-color, as the upstream `demo` with
/// `result_details = "<mode>"`: the verified result claims.
async fn result_with(app: &TestApp) -> Value {
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;
    result_from_redirect(response, RETURN_TO).await.0
}

async fn app_with_result_details(mode: &str) -> TestApp {
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("everything"),
            ActionFixture::favorite_color(),
        ],
    );
    config.upstream_extra = format!("result_details = \"{mode}\"\n");
    spawn_app_with(config).await
}

#[tokio::test]
async fn a_result_token_with_the_full_records_matches_its_schema() {
    let app = app_with_result_details("in_token").await;
    let spec = spec(&app).await;

    let result = result_with(&app).await;

    assert!(result["executions"][0].get("logs").is_some(), "{result:#}");
    assert_conforms(&spec, "ResultToken", &result);
    let mut outcome_part = result.clone();
    for claim in ["iss", "aud", "iat", "exp", "jti", "transaction_id"] {
        outcome_part.as_object_mut().map(|o| o.remove(claim));
    }
    assert_conforms(&spec, "Outcome", &outcome_part);
}

#[tokio::test]
async fn the_result_details_and_their_errors_match_their_schemas() {
    let app = app_with_result_details("back_channel").await;
    let spec = spec(&app).await;
    let result = result_with(&app).await;
    let jti = result["jti"].as_str().expect("jti");

    let details = json_body(app.result_details(API_KEY, jti).await, 200).await;
    let used = json_body(app.result_details(API_KEY, jti).await, 404).await;
    let unauthorized = json_body(app.result_details("wrong", jti).await, 401).await;

    assert!(
        details["executions"][0].get("logs").is_some(),
        "{details:#}"
    );
    assert_conforms(&spec, "ResultDetails", &details);
    assert_conforms(&spec, "Error", &used);
    assert_conforms(&spec, "Error", &unauthorized);
}

#[tokio::test]
async fn api_errors_match_the_error_schema() {
    let app = app().await;
    let spec = spec(&app).await;

    let unauthorized = app.post_login_raw(Some("wrong"), "{}".into()).await;
    let malformed = app
        .post_login_raw(Some(crate::helpers::API_KEY), "{".into())
        .await;
    let unknown_state = app.continue_get_accepting_json(&[("state", "nope")]).await;

    for (response, status) in [(unauthorized, 401), (malformed, 400), (unknown_state, 400)] {
        let body = json_body(response, status).await;
        assert_conforms(&spec, "Error", &body);
    }
}

#[tokio::test]
async fn every_documented_get_path_answers() {
    let app = app().await;
    let spec = spec(&app).await;

    let paths = spec["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.contains_key("/v1/post-login") && paths.contains_key("/continue"));
    for (path, operations) in paths {
        if operations.get("get").is_some() && path != "/continue" && path != "/redirect" {
            let status = app.get(&path).await.status();
            assert_eq!(status, 200, "GET {path}");
        }
    }
}
