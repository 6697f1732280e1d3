//! The detour: `sendUserTo` suspends the login, the external site sends the
//! browser back to `/continue`, the pipeline resumes and the result lands at
//! `return_to`. One pass, on a real Redis (the production store); the
//! in-memory store is held to the same contract in `store_contract.rs`.

use serde_json::{Value, json};

use crate::helpers::tokens::{now, verify_result_token, verify_session_token};
use crate::helpers::{
    ActionFixture, ExternalVisit, PUBLIC_URL, REQUEST_HOSTNAME, REQUEST_IP, RESULT_SECRET,
    RETURN_TO, RETURN_TO_WITH_QUERY, SHARED_SECRET, StoreKind, TRANSACTION_ID, UPSTREAM_ID,
    USER_EMAIL, USER_ID, claim, executions, html_tags, location_of, login_event,
    result_from_redirect, spawn_app,
};

fn execution(action: &str, handler: &str) -> (String, String) {
    (action.to_owned(), handler.to_owned())
}

#[tokio::test]
async fn the_redirect_outcome_sends_the_user_to_the_external_site_with_a_state_and_a_session_token()
{
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    let visit = ExternalVisit::from_outcome(&outcome);
    assert_eq!(visit.location.scheme(), "https");
    assert_eq!(visit.location.host_str(), Some("my-app.example.com"));
    assert_eq!(visit.location.path(), "/");
    let names: Vec<&str> = visit.query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        vec!["session_token", "state"],
        "state must come last: {}",
        visit.location
    );
    assert!(
        visit.state.len() >= 16,
        "state {:?} is too guessable",
        visit.state
    );
    assert_eq!(
        executions(&outcome),
        vec![execution("favorite-color", "onExecutePostLogin")]
    );
}

#[tokio::test]
async fn the_session_token_carries_the_user_the_request_and_the_payload() {
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;
    let before = now();

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    let visit = ExternalVisit::from_outcome(&outcome);
    let token = visit
        .param("session_token")
        .expect("a session_token parameter");
    let decoded = verify_session_token(SHARED_SECRET, token);
    assert_eq!(decoded.header.typ.as_deref(), Some("JWT"));
    let claims = decoded.claims;
    assert_eq!(claims["sub"], USER_ID, "{claims:#}");
    assert_eq!(claims["iss"], REQUEST_HOSTNAME, "{claims:#}");
    assert_eq!(claims["ip"], REQUEST_IP, "{claims:#}");
    assert_eq!(claims["email"], USER_EMAIL, "{claims:#}");
    let iat = claims["iat"].as_i64().expect("numeric iat");
    let exp = claims["exp"].as_i64().expect("numeric exp");
    assert!(
        (before - 1..=now() + 1).contains(&iat),
        "iat {iat} is not now"
    );
    assert_eq!(exp - iat, 900, "default lifetime is 900 s");
    assert_eq!(claims.get("state"), None, "encodeToken adds no state claim");
}

#[tokio::test]
async fn the_favorite_color_detour_ends_at_return_to_with_the_color_in_user_metadata() {
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let returned = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));
    let before = now();

    // Act
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &returned)])
        .await;

    // Assert
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(
        result["user"]["user_metadata"]["favorite_color"], "teal",
        "{result:#}"
    );
    assert_eq!(result["aud"], UPSTREAM_ID);
    assert_eq!(result["iss"], PUBLIC_URL);
    assert_eq!(result["transaction_id"], TRANSACTION_ID);
    assert!(
        result["jti"].as_str().is_some_and(|jti| !jti.is_empty()),
        "result without jti: {result:#}"
    );
    let iat = result["iat"].as_i64().expect("numeric iat");
    let exp = result["exp"].as_i64().expect("numeric exp");
    assert!(
        (before - 1..=now() + 1).contains(&iat),
        "iat {iat} is not now"
    );
    assert!(
        exp > iat && exp - iat <= 600,
        "result lifetime should be short: {}",
        exp - iat
    );
    assert_eq!(result.get("location"), None);
    assert!(
        executions(&result).contains(&execution("favorite-color", "onContinuePostLogin")),
        "{result:#}"
    );
}

#[tokio::test]
async fn the_detour_can_also_be_completed_with_a_get() {
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let returned = app.token_from_external_site(&visit, json!({ "favorite_color": "ochre" }));

    // Act
    let response = app
        .continue_get(&[("state", &visit.state), ("session_token", &returned)])
        .await;

    // Assert
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(
        result["user"]["user_metadata"]["favorite_color"], "ochre",
        "{result:#}"
    );
}

#[tokio::test]
async fn a_session_token_in_the_body_wins_over_one_in_the_query() {
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let in_body = app.token_from_external_site(&visit, json!({ "favorite_color": "from-body" }));
    let in_query = app.token_from_external_site(&visit, json!({ "favorite_color": "from-query" }));

    // Act
    let response = app
        .continue_post_with_query(
            &[("session_token", &in_query)],
            &[("state", &visit.state), ("session_token", &in_body)],
        )
        .await;

    // Assert
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(
        result["user"]["user_metadata"]["favorite_color"], "from-body",
        "{result:#}"
    );
}

#[tokio::test]
async fn a_user_who_already_has_a_favorite_color_is_not_sent_away() {
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;
    let mut event = login_event();
    event["user"]["user_metadata"] = json!({ "favorite_color": "green" });

    // Act
    let outcome = app.post_login_outcome(event).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(outcome.get("location"), None);
}

#[tokio::test]
async fn actions_before_the_redirect_never_run_again_and_actions_after_it_run_only_after_continue()
{
    // Arrange
    let app = spawn_app(
        StoreKind::Redis,
        vec![
            ActionFixture::named("before-redirect"),
            ActionFixture::favorite_color(),
            ActionFixture::named("after-redirect"),
        ],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let returned = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &returned)])
        .await;
    let (result, _) = result_from_redirect(response, RETURN_TO).await;

    // Assert: the redirect outcome stops at the redirecting Action.
    assert_eq!(
        executions(&outcome),
        vec![
            execution("before-redirect", "onExecutePostLogin"),
            execution("favorite-color", "onExecutePostLogin"),
        ]
    );
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/after"),
        None
    );
    let before_logs = outcome["executions"][0]["logs"].to_string();
    assert!(
        before_logs.contains("before-redirect ran"),
        "console output lost: {before_logs}"
    );

    // Assert: after /continue the before-Action did not run again...
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(
        result["transaction_metadata"]["before_runs"], 1,
        "{result:#}"
    );
    let after_continue = executions(&result);
    assert!(
        after_continue
            .iter()
            .filter(|(action, _)| action == "before-redirect")
            .count()
            <= 1,
        "{after_continue:?}"
    );
    // ...its claim set before the detour is kept...
    assert_eq!(
        claim(&result, "id_token", "https://detour.test/before"),
        Some(&json!("ran"))
    );
    // ...the redirecting Action continued, then the after-Action ran, once.
    let continued = after_continue
        .iter()
        .position(|e| *e == execution("favorite-color", "onContinuePostLogin"))
        .unwrap_or_else(|| panic!("favorite-color did not continue: {after_continue:?}"));
    let after = after_continue
        .iter()
        .position(|e| *e == execution("after-redirect", "onExecutePostLogin"))
        .unwrap_or_else(|| panic!("after-redirect did not run: {after_continue:?}"));
    assert!(continued < after, "{after_continue:?}");
    assert_eq!(
        claim(&result, "id_token", "https://detour.test/after"),
        Some(&json!("ran"))
    );
    // The after-Action saw the transaction metadata and the new user metadata.
    assert_eq!(
        claim(
            &result,
            "id_token",
            "https://detour.test/after-saw-before-runs"
        ),
        Some(&json!(1))
    );
    assert_eq!(
        claim(
            &result,
            "id_token",
            "https://detour.test/after-saw-favorite-color"
        ),
        Some(&json!("teal"))
    );
}

#[tokio::test]
async fn the_result_keeps_the_query_that_return_to_already_has() {
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;
    let response = app.post_login(login_event(), RETURN_TO_WITH_QUERY).await;
    let outcome = crate::helpers::json_body(response, 200).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let returned = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));

    // Act
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &returned)])
        .await;

    // Assert
    let (result, location) = result_from_redirect(response, RETURN_TO_WITH_QUERY).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    let names: Vec<String> = location
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(names, vec!["client", "result"], "{location}");
    assert_eq!(
        location.query_pairs().next().map(|(_, v)| v.into_owned()),
        Some("web".to_owned())
    );
}

#[tokio::test]
async fn a_result_too_long_for_a_url_is_delivered_by_a_form_post_page() {
    // Arrange
    let app = spawn_app(
        StoreKind::Redis,
        vec![
            ActionFixture::favorite_color(),
            ActionFixture::named("big-claim"),
        ],
    )
    .await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let returned = app.token_from_external_site(&visit, json!({ "favorite_color": "teal" }));

    // Act
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &returned)])
        .await;

    // Assert
    let status = response.status().as_u16();
    let page = response.text().await.expect("read the page");
    assert_eq!(status, 200, "expected the form_post page: {page}");
    let forms = html_tags(&page, "form");
    assert_eq!(forms.len(), 1, "{page}");
    assert_eq!(
        forms[0].get("method").map(|m| m.to_ascii_lowercase()),
        Some("post".to_owned())
    );
    assert_eq!(forms[0].get("action").map(String::as_str), Some(RETURN_TO));
    let inputs = html_tags(&page, "input");
    let result_input = inputs
        .iter()
        .find(|input| input.get("name").map(String::as_str) == Some("result"))
        .unwrap_or_else(|| panic!("no result input: {page}"));
    assert_eq!(result_input.get("type").map(String::as_str), Some("hidden"));
    let token = result_input.get("value").expect("result value");
    let result = verify_result_token(RESULT_SECRET, UPSTREAM_ID, PUBLIC_URL, token);
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(
        claim(&result, "id_token", "https://detour.test/big")
            .and_then(Value::as_str)
            .map(str::len),
        Some(3000)
    );
}

#[tokio::test]
async fn a_second_redirect_sends_the_browser_on_to_the_next_external_site() {
    // Arrange
    let app = spawn_app(
        StoreKind::Redis,
        vec![
            ActionFixture::favorite_color(),
            ActionFixture::named("always-redirect"),
        ],
    )
    .await;
    let outcome = app.post_login_outcome(login_event()).await;
    let first = ExternalVisit::from_outcome(&outcome);
    let returned = app.token_from_external_site(&first, json!({ "favorite_color": "teal" }));

    // Act
    let response = app
        .continue_post(&[("state", &first.state), ("session_token", &returned)])
        .await;
    let status = response.status().as_u16();
    let location = location_of(&response).unwrap_or_default();
    let body = response.text().await.unwrap_or_default();

    // Assert
    assert_eq!(status, 302, "{body}");
    let second = ExternalVisit::from_location(&location);
    assert_eq!(second.location.host_str(), Some("mfa.example.test"));
    assert_eq!(second.location.path(), "/challenge");
    let names: Vec<&str> = second.query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, vec!["step", "state"], "{location}");
    assert_ne!(
        second.state, first.state,
        "every suspension needs a fresh state"
    );

    // Act: back from the MFA page, with the state and the page's own field.
    let response = app
        .continue_get(&[("state", &second.state), ("code", "123456")])
        .await;

    // Assert
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(
        result["user"]["user_metadata"]["favorite_color"], "teal",
        "{result:#}"
    );
    assert_eq!(
        claim(&result, "id_token", "https://detour.test/mfa"),
        Some(&json!("done"))
    );
    let seen = claim(&result, "id_token", "https://detour.test/continue-request")
        .unwrap_or_else(|| panic!("no continue-request claim: {result:#}"));
    assert_eq!(
        seen["method"], "GET",
        "event.request is the /continue request: {seen:#}"
    );
    assert_eq!(seen["query"]["code"], "123456", "{seen:#}");
}
