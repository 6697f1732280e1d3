//! The rest of the post-login `api` (docs/auth0-compatibility.md#apiauthentication and after): per
//! method its happy path, its invalid input with the message, and its merge
//! rule across two Actions. The fixture `api-surface.js` runs one case,
//! picked by `event.client.metadata.case`; it is bound twice ("first",
//! "second") so the merge rules can be seen.

use serde_json::{Value, json};

use crate::helpers::{
    ActionFixture, RETURN_TO, StoreKind, TestConfig, claim, executions, login_event,
    result_from_redirect, spawn_app, spawn_app_with,
};

fn copy(name: &'static str) -> ActionFixture {
    ActionFixture {
        file: "api-surface.js".into(),
        ..ActionFixture::named(name)
    }
}

fn event_for(case: &str) -> Value {
    let mut event = login_event();
    event["client"]["metadata"]["case"] = json!(case);
    event
}

/// Runs `case` through `copies` bound copies of the fixture (1 or 2).
async fn run_with(case: &str, copies: usize, event: Value) -> Value {
    let actions = [copy("first"), copy("second")]
        .into_iter()
        .take(copies)
        .collect();
    let app = spawn_app(StoreKind::InMemory, actions).await;
    let mut event = event;
    event["client"]["metadata"]["case"] = json!(case);
    app.post_login_outcome(event).await
}

async fn run(case: &str, copies: usize) -> Value {
    run_with(case, copies, login_event()).await
}

/// A case whose Action throws: the login is denied with the message.
async fn denied_with(case: &str) -> String {
    let outcome = run(case, 1).await;
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied");
    outcome["error_description"].as_str().unwrap().to_owned()
}

/// `outcome` without what differs from one run to the next.
fn steady(mut outcome: Value) -> Value {
    if let Some(records) = outcome["executions"].as_array_mut() {
        for record in records {
            if let Some(record) = record.as_object_mut() {
                record.remove("duration_ms");
            }
        }
    }
    outcome
}

#[tokio::test]
async fn every_namespace_answers_alike_when_each_execution_gets_a_fresh_context() {
    // Arrange: per_execution builds these namespaces on first use.
    let cases = [
        "challenge",
        "enroll",
        "bad_factor",
        "primary_user",
        "session",
        "session_bad_mode",
        "session_evict",
        "refresh",
        "refresh_revoke",
        "saml",
        "saml_bad_alg",
        "rules",
        "validation",
        "validation_bad",
    ];
    let mut outcomes = Vec::new();
    for isolation in ["per_instance", "per_execution"] {
        let mut config = TestConfig::new(StoreKind::InMemory, vec![copy("first"), copy("second")]);
        config.isolation = isolation;
        let app = spawn_app_with(config).await;

        // Act
        let mut answers = Vec::new();
        for case in cases {
            answers.push(steady(app.post_login_outcome(event_for(case)).await));
        }
        outcomes.push(answers);
    }

    // Assert
    for (case, (shared, fresh)) in cases.iter().zip(outcomes[0].iter().zip(&outcomes[1])) {
        assert_eq!(shared, fresh, "{case}");
    }
}

#[tokio::test]
async fn challenges_are_reported_to_the_upstream_in_call_order_and_later_actions_run() {
    let outcome = run("challenge", 2).await;
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        outcome["authentication"]["challenge"],
        json!([
            {"any": false, "factors": [{"type": "otp"}, {"type": "email"}]},
            {"any": true, "factors": [
                {"type": "phone", "options": {"preferredMethod": "sms"}},
                {"type": "webauthn-roaming"}
            ]}
        ])
    );
    assert_eq!(executions(&outcome).len(), 2);
}

#[tokio::test]
async fn enrolments_are_reported_to_the_upstream_in_call_order() {
    let outcome = run("enroll", 2).await;
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        outcome["authentication"]["enroll"],
        json!([
            {"any": false, "factors": [{"type": "push-notification", "options": {"otpFallback": true}}]},
            {"any": true, "factors": [{"type": "otp"}, {"type": "recovery-code"}]}
        ])
    );
}

#[tokio::test]
async fn invalid_factors_fail_the_login_with_a_message_naming_them() {
    assert!(
        denied_with("bad_factor")
            .await
            .contains(r#"invalid factor type "carrier-pigeon""#)
    );
    assert!(
        denied_with("bad_enroll")
            .await
            .contains(r#"enrollWithAny: invalid factor type "email""#)
    );
    assert!(
        denied_with("bad_phone")
            .await
            .contains("preferredMethod must be one of: sms, voice, both")
    );
    assert!(
        denied_with("empty_any")
            .await
            .contains("expected a non-empty array of factors")
    );
}

#[tokio::test]
async fn record_method_is_refused_in_on_execute_post_login() {
    assert_eq!(
        denied_with("record_in_execute").await,
        "api.authentication.recordMethod() can only be used in onContinuePostLogin."
    );
}

#[tokio::test]
async fn the_primary_user_is_reported_and_can_be_set_only_once_per_transaction() {
    let once = run("primary_user", 1).await;
    assert_eq!(once["outcome"], "allow", "{once:#}");
    assert_eq!(once["authentication"]["primary_user"], "auth0|primary-1");

    let twice = run("primary_user", 2).await;
    assert_eq!(twice["outcome"], "deny", "{twice:#}");
    assert_eq!(
        twice["error_description"],
        "The primary user can only be altered once per transaction"
    );
    assert!(
        denied_with("primary_user_long")
            .await
            .contains("at most 128 characters")
    );
}

#[tokio::test]
async fn session_expiries_keep_the_earliest_cookie_mode_the_last_and_metadata_merges_per_key() {
    let outcome = run("session", 2).await;
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        outcome["session"],
        json!({
            "expires_at": 1000,
            "idle_expires_at": 5000,
            "cookie_mode": "non-persistent",
            "metadata": {"a": null, "b": "2"}
        })
    );
}

#[tokio::test]
async fn evict_metadata_drops_earlier_changes_and_keeps_later_ones() {
    let outcome = run("session_evict", 2).await;
    assert_eq!(
        outcome["session"],
        json!({"evict_metadata": true, "metadata": {"c": "3"}})
    );
}

#[tokio::test]
async fn invalid_session_settings_fail_the_login_with_a_message() {
    assert!(
        denied_with("session_bad_mode")
            .await
            .contains(r#""persistent" or "non-persistent""#)
    );
    assert!(
        denied_with("session_bad_key")
            .await
            .contains("^[a-zA-Z0-9_-]{1,255}$")
    );
    assert!(
        denied_with("session_long_value")
            .await
            .contains("at most 255 characters")
    );
    assert!(
        denied_with("session_too_many")
            .await
            .contains("at most 25 keys")
    );
    assert!(
        denied_with("session_bad_time")
            .await
            .contains("milliseconds since the epoch")
    );
}

#[tokio::test]
async fn session_revoke_denies_the_login_and_stops_the_flow() {
    let outcome = run("session_revoke", 2).await;
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied");
    assert_eq!(outcome["error_description"], "revoked by 1");
    assert_eq!(
        outcome["session"]["revoke"],
        json!({"reason": "revoked by 1", "preserve_refresh_tokens": true})
    );
    assert_eq!(
        executions(&outcome).len(),
        1,
        "the second Action must not run"
    );
}

#[tokio::test]
async fn refresh_token_settings_merge_like_the_session_ones() {
    let outcome = run("refresh", 2).await;
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        outcome["refresh_token"],
        json!({"expires_at": 7000, "idle_expires_at": 100, "metadata": {"device": "phone"}})
    );
    assert!(
        denied_with("refresh_bad_value")
            .await
            .contains("must be a string")
    );
}

#[tokio::test]
async fn refresh_token_revoke_works_only_in_a_refresh_token_exchange() {
    assert!(
        denied_with("refresh_revoke")
            .await
            .contains("only be used in a refresh token exchange")
    );
    let mut event = login_event();
    event["transaction"]["protocol"] = json!("oauth2-refresh-token");
    let outcome = run_with("refresh_revoke", 2, event).await;
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error_description"], "stolen token");
    assert_eq!(
        outcome["refresh_token"]["revoke"],
        json!({"reason": "stolen token"})
    );
    assert_eq!(executions(&outcome).len(), 1);
}

#[tokio::test]
async fn saml_settings_keep_the_last_call_and_attributes_merge_per_name() {
    let outcome = run("saml", 2).await;
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        outcome["saml_response"],
        json!({
            "audience": "urn:second",
            "attributes": {"http://schemas.example/role": "admin", "http://schemas.example/old": null},
            "sign_response": true,
            "lifetime_in_seconds": 600,
            "name_identifier_probes": ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"]
        })
    );
    assert!(
        denied_with("saml_bad_alg")
            .await
            .contains("expected one of: rsa-sha256, rsa-sha1")
    );
    assert!(
        denied_with("saml_big_value")
            .await
            .contains("at most 2048 bytes")
    );
}

#[tokio::test]
async fn send_user_to_throws_a_type_error_for_a_url_it_cannot_redirect_to_and_the_login_goes_on() {
    let outcome = run("redirect_bad_url", 1).await;
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/relative"),
        Some(&json!("true Invalid URL: /relative"))
    );
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/ftp"),
        Some(&json!(
            "true Invalid URL: ftp://files.example.com/ (only http and https can be redirected to)"
        ))
    );
    let long = format!(
        "true Invalid URL: ftp://{}.example/ (only http and https can be redirected to)",
        "a".repeat(300)
    );
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/long"),
        Some(&json!(long))
    );
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/nul"),
        Some(&json!("true Invalid URL: x\u{0}y"))
    );
}

#[tokio::test]
async fn a_render_whose_command_cannot_be_written_leaves_nothing_behind() {
    let outcome = run("render_unwritable", 1).await;
    assert_eq!(outcome["outcome"], "redirect", "{outcome:#}");
}

#[tokio::test]
async fn claim_and_metadata_keys_that_need_escapes_arrive_the_same_login_after_login() {
    // The second login reads the keys' JSON text from the context's cache.
    let app = spawn_app(StoreKind::InMemory, vec![copy("first")]).await;
    let odd = "q\"uote\\back\u{1}ctl\u{FFFD}lone";
    for login in 1..=2 {
        let outcome = app.post_login_outcome(event_for("escaped")).await;
        assert_eq!(
            claim(&outcome, "id_token", &format!("https://detour.test/{odd}")),
            Some(&json!(odd)),
            "login {login}: {outcome:#}"
        );
        assert_eq!(
            outcome["user"]["user_metadata"][odd],
            json!(format!("{odd}!")),
            "login {login}: {outcome:#}"
        );
    }
}

#[tokio::test]
async fn array_claim_values_are_written_as_json_stringify_writes_them() {
    let outcome = run("array_claims", 1).await;
    let id =
        |name: &str| claim(&outcome, "id_token", &format!("https://detour.test/{name}")).cloned();
    assert_eq!(
        id("roles"),
        Some(json!(["admin", "q\"uote"])),
        "{outcome:#}"
    );
    assert_eq!(id("mixed"), Some(json!(["a", 1, null, {"b": true}])));
    assert_eq!(id("sparse"), Some(json!([null, "x"])));
    assert_eq!(id("hooked"), Some(json!("hooked 2")));
    assert_eq!(id("chain"), Some(json!("up the chain")));
    assert_eq!(id("proxy"), Some(json!(["a", "b"])));
}

#[tokio::test]
async fn rules_were_executed_only_when_the_event_says_so() {
    let outcome = run("rules", 1).await;
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/rule-1"),
        Some(&json!(false))
    );
    let mut event = login_event();
    event["rules_executed"] = json!(["rul_1"]);
    let outcome = run_with("rules", 1, event).await;
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/rule-1"),
        Some(&json!(true))
    );
}

#[tokio::test]
async fn a_validation_error_ends_the_login_with_its_message_and_code() {
    let outcome = run("validation", 2).await;
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied");
    assert_eq!(outcome["error_description"], "Phone number required (1)");
    assert_eq!(
        outcome["validation_error"],
        json!({"code": "invalid_phone", "message": "Phone number required (1)"})
    );
    assert_eq!(executions(&outcome).len(), 1);
    assert!(
        denied_with("validation_bad")
            .await
            .contains("error code must be a non-empty string")
    );
}

#[tokio::test]
async fn render_and_redirect_in_one_action_abort_with_auth0s_message() {
    assert_eq!(
        denied_with("render_and_redirect").await,
        "Redirect and render commands cannot be used in the same action."
    );
    assert_eq!(
        denied_with("render_twice").await,
        "Only 1 render command per action is allowed."
    );
}

#[tokio::test]
async fn a_rendered_form_suspends_and_resumes_the_same_action_with_event_prompt() {
    // Arrange
    let app = spawn_app(StoreKind::Redis, vec![copy("first"), copy("second")]).await;

    // Act
    let outcome = app.post_login_outcome(event_for("render")).await;

    // Assert: the upstream is asked to render the Form; vars stay in Detour.
    assert_eq!(outcome["outcome"], "prompt", "{outcome:#}");
    assert_eq!(outcome["prompt"]["id"], "ap_1");
    assert_eq!(outcome["prompt"]["fields"], json!({"nickname": "jane"}));
    assert_eq!(
        outcome["prompt"]["continue_uri"],
        "http://detour.test/continue"
    );
    assert!(outcome["prompt"].get("vars").is_none());
    let state = outcome["prompt"]["state"].as_str().unwrap().to_owned();

    // Act: the browser posts the Form's fields to /continue.
    let response = app
        .continue_post(&[("state", &state), ("nickname", "neo")])
        .await;

    // Assert
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(
        claim(&result, "id_token", "https://detour.test/prompt"),
        Some(
            &json!({"id": "ap_1", "fields": {"nickname": "neo"}, "vars": {"secret": "kept-here"}})
        )
    );
    assert_eq!(
        result["authentication"]["methods"][0]["name"],
        "https://forms.example.com/verified"
    );
    let ran: Vec<(String, String)> = executions(&result);
    assert_eq!(
        ran,
        vec![
            ("first".into(), "onExecutePostLogin".into()),
            ("first".into(), "onContinuePostLogin".into()),
            ("second".into(), "onExecutePostLogin".into()),
        ]
    );
}
