//! `POST /v1/post-login` outcomes that finish in one call: allow with token
//! changes, deny, failing Actions, and the upstream-facing errors.

use serde_json::{Value, json};

use crate::helpers::{
    API_KEY, ActionFixture, RETURN_TO, StoreKind, TestConfig, claim, executions, json_body,
    login_event, spawn_app, spawn_app_with,
};

const ROLES_CLAIM: &str = "https://my-app.example.com/roles";
const EXECUTIONS_CLAIM: &str = "https://detour.test/executions";

fn string_list(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect()
}

#[tokio::test]
async fn an_allowed_login_carries_the_id_and_access_token_claims_and_scopes() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("roles-claims"),
            ActionFixture::named("claims-and-scopes"),
        ],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        claim(&outcome, "id_token", ROLES_CLAIM),
        Some(&json!(["admin", "editor"]))
    );
    assert_eq!(
        claim(&outcome, "access_token", ROLES_CLAIM),
        Some(&json!(["admin", "editor"]))
    );
    assert_eq!(
        claim(&outcome, "access_token", "https://detour.test/tier"),
        Some(&json!("gold"))
    );
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/tier"),
        None
    );
    assert!(claim(&outcome, "id_token", EXECUTIONS_CLAIM).is_some_and(Value::is_u64));
    assert_eq!(
        string_list(&outcome["access_token"]["scopes"]["add"]),
        vec!["read:reports"]
    );
    assert_eq!(
        string_list(&outcome["access_token"]["scopes"]["remove"]),
        vec!["write:reports"]
    );
    assert_eq!(outcome.get("error"), None);
    assert_eq!(outcome.get("location"), None);
}

#[tokio::test]
async fn an_allowed_login_reports_one_execution_record_per_action_in_order() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("roles-claims"),
            ActionFixture::named("claims-and-scopes"),
        ],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(
        executions(&outcome),
        vec![
            ("roles-claims".to_owned(), "onExecutePostLogin".to_owned()),
            (
                "claims-and-scopes".to_owned(),
                "onExecutePostLogin".to_owned()
            ),
        ]
    );
    for record in outcome["executions"].as_array().expect("executions") {
        assert_eq!(record["error"], Value::Null, "{record:#}");
        assert!(record["duration_ms"].is_number(), "{record:#}");
    }
}

#[tokio::test]
async fn a_user_without_roles_gets_an_empty_roles_claim() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    )
    .await;
    let mut event = login_event();
    event["authorization"] = json!({ "roles": [] });

    // Act
    let outcome = app.post_login_outcome(event).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(claim(&outcome, "id_token", ROLES_CLAIM), Some(&json!([])));
    assert_eq!(
        claim(&outcome, "access_token", ROLES_CLAIM),
        Some(&json!([]))
    );
}

#[tokio::test]
async fn a_login_denied_by_an_action_carries_access_denied_and_the_reason() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("domain-deny"),
            ActionFixture::named("claims-and-scopes"),
        ],
    )
    .await;
    let mut event = login_event();
    event["user"]["email"] = json!("someone@example.com");
    event["client"]["name"] = json!("My SPA");

    // Act
    let outcome = app.post_login_outcome(event).await;

    // Assert
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied");
    assert_eq!(
        outcome["error_description"],
        "Access to My SPA is not allowed."
    );
    assert_eq!(
        executions(&outcome),
        vec![("domain-deny".to_owned(), "onExecutePostLogin".to_owned())],
        "no Action may run after a deny"
    );
    assert_eq!(claim(&outcome, "id_token", EXECUTIONS_CLAIM), None);
}

#[tokio::test]
async fn the_domain_rule_lets_users_of_other_domains_through() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("domain-deny")],
    )
    .await;
    let mut event = login_event();
    event["client"]["name"] = json!("My SPA");

    // Act
    let outcome = app.post_login_outcome(event).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
}

#[tokio::test]
async fn an_action_that_throws_denies_the_login_with_its_message() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("throws-boom"),
            ActionFixture::named("claims-and-scopes"),
        ],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied");
    let description = outcome["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains("boom"),
        "error_description: {description:?}"
    );
    let records = outcome["executions"].as_array().expect("executions");
    assert_eq!(
        records.len(),
        1,
        "no Action may run after a throw: {outcome:#}"
    );
    assert_eq!(records[0]["action"], "throws-boom");
    assert!(
        records[0]["error"].to_string().contains("boom"),
        "the execution record should carry the error: {:#}",
        records[0]
    );
    assert_eq!(claim(&outcome, "access_token", EXECUTIONS_CLAIM), None);
}

#[tokio::test]
async fn the_commands_of_an_action_that_throws_are_discarded() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("throws-boom")],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(
        claim(&outcome, "id_token", "https://detour.test/before-throw"),
        None,
        "a claim set before the throw must not reach the outcome"
    );
}

#[tokio::test]
async fn per_execution_isolation_runs_every_login_in_a_fresh_module_scope() {
    // Arrange
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("claims-and-scopes")],
    );
    config.isolation = "per_execution";
    let app = spawn_app_with(config).await;

    // Act
    let mut counts = Vec::new();
    for _ in 0..4 {
        let outcome = app.post_login_outcome(login_event()).await;
        counts.push(claim(&outcome, "id_token", EXECUTIONS_CLAIM).cloned());
    }

    // Assert
    assert_eq!(counts, vec![Some(json!(1)); 4]);
}

#[tokio::test]
async fn globals_and_api_namespaces_look_the_same_to_an_action_under_either_isolation() {
    // Arrange: under per_execution most of them are built on first use.
    let mut seen = Vec::new();
    for isolation in ["per_instance", "per_execution"] {
        let mut config = TestConfig::new(
            StoreKind::InMemory,
            vec![ActionFixture::named("lazy-surface")],
        );
        config.isolation = isolation;
        let app = spawn_app_with(config).await;

        // Act: twice, so a context that served one login serves another.
        for _ in 0..2 {
            let outcome = app.post_login_outcome(login_event()).await;
            let lazy = claim(&outcome, "id_token", "https://detour.test/lazy").cloned();
            seen.push((isolation, lazy.unwrap_or_else(|| panic!("{outcome:#}"))));
        }
    }

    // Assert
    let expected = json!({
        "url": "mine",
        "rules": "mine",
        "mfa": "function",
        "canRedirect": true,
        "keys": ["access", "idToken", "accessToken", "user", "multifactor", "transaction",
                 "cache", "redirect", "authentication", "session", "refreshToken",
                 "samlResponse", "rules", "validation", "prompt"],
        "buffer": "aGk=",
        "process": "object",
        "util": "n=1",
        "timers": "function",
        "waited": "done",
        "own": [true, true, true, true, true, true, true, true],
        "enumerable": ["Buffer", "crypto", "process", "setInterval"],
    });
    for (isolation, lazy) in seen {
        assert_eq!(lazy, expected, "{isolation}");
    }
}

#[tokio::test]
async fn a_global_built_on_first_use_is_one_object_even_when_the_action_froze_the_global_object() {
    for isolation in ["per_instance", "per_execution"] {
        // Arrange
        let mut config = TestConfig::new(
            StoreKind::InMemory,
            vec![ActionFixture::named("frozen-global")],
        );
        config.isolation = isolation;
        let app = spawn_app_with(config).await;

        // Act
        let outcome = app.post_login_outcome(login_event()).await;

        // Assert
        let same = claim(&outcome, "id_token", "https://detour.test/frozen-global")
            .unwrap_or_else(|| panic!("{isolation}: {outcome:#}"));
        for (name, one) in same.as_object().expect("an object") {
            assert_eq!(
                one,
                &json!(true),
                "{isolation}: {name} changed between reads"
            );
        }
        assert_eq!(
            outcome["executions"][0]["logs"],
            json!(["still logs"]),
            "{isolation}"
        );
    }
}

#[tokio::test]
async fn a_global_built_on_first_use_keeps_the_attributes_the_action_gave_it_before() {
    for isolation in ["per_instance", "per_execution"] {
        // Arrange
        let mut config = TestConfig::new(
            StoreKind::InMemory,
            vec![ActionFixture::named("global-attributes")],
        );
        config.isolation = isolation;
        let app = spawn_app_with(config).await;

        // Act
        let outcome = app.post_login_outcome(login_event()).await;

        // Assert
        let seen = claim(
            &outcome,
            "id_token",
            "https://detour.test/global-attributes",
        )
        .unwrap_or_else(|| panic!("{isolation}: {outcome:#}"));
        assert_eq!(
            seen,
            &json!({ "read": true, "buffer_listed": false, "cryptokey_listed": true }),
            "{isolation}"
        );
    }
}

#[tokio::test]
async fn per_instance_isolation_keeps_module_scope_across_logins() {
    // Arrange: a pool of at most 8 engines must reuse one within 9 logins.
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("claims-and-scopes")],
    )
    .await;

    // Act
    let mut counts = Vec::new();
    for _ in 0..9 {
        let outcome = app.post_login_outcome(login_event()).await;
        let count = claim(&outcome, "id_token", EXECUTIONS_CLAIM)
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("no execution count: {outcome:#}"));
        counts.push(count);
    }

    // Assert
    assert!(
        counts.iter().any(|&c| c >= 2),
        "module scope never survived an execution: {counts:?}"
    );
}

#[tokio::test]
async fn a_wrong_api_key_is_rejected_with_401_invalid_client() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    )
    .await;
    let body = json!({ "event": login_event(), "return_to": RETURN_TO }).to_string();

    // Act
    let response = app.post_login_raw(Some("not-the-demo-key"), body).await;

    // Assert
    let error = json_body(response, 401).await;
    assert_eq!(error["error"], "invalid_client", "{error:#}");
    assert!(error["error_description"].is_string(), "{error:#}");
    assert_eq!(error.get("outcome"), None);
}

#[tokio::test]
async fn a_missing_api_key_is_rejected_with_401() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    )
    .await;
    let body = json!({ "event": login_event(), "return_to": RETURN_TO }).to_string();

    // Act
    let response = app.post_login_raw(None, body).await;

    // Assert
    let error = json_body(response, 401).await;
    assert!(error["error"].is_string(), "{error:#}");
    assert_eq!(error.get("outcome"), None);
}

#[tokio::test]
async fn a_return_to_that_is_not_registered_is_rejected_with_400_invalid_request() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    )
    .await;

    // Act
    let response = app
        .post_login(login_event(), "https://attacker.example/callback")
        .await;

    // Assert
    let error = json_body(response, 400).await;
    assert_eq!(error["error"], "invalid_request", "{error:#}");
    assert!(error["error_description"].is_string(), "{error:#}");
}

#[tokio::test]
async fn a_return_to_that_only_shares_a_prefix_with_a_registered_one_is_rejected() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    )
    .await;

    // Act
    let response = app
        .post_login(login_event(), &format!("{RETURN_TO}x"))
        .await;

    // Assert
    let error = json_body(response, 400).await;
    assert_eq!(error["error"], "invalid_request", "{error:#}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_rejected_with_400_invalid_request() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    )
    .await;

    // Act
    let response = app
        .post_login_raw(Some(API_KEY), "{\"event\": ".to_owned())
        .await;

    // Assert
    let error = json_body(response, 400).await;
    assert_eq!(error["error"], "invalid_request", "{error:#}");
}

#[tokio::test]
async fn the_health_endpoints_answer_when_the_server_is_up() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    )
    .await;

    // Act
    let alive = app.get("/healthz").await.status().as_u16();
    let ready = app.get("/readyz").await.status().as_u16();

    // Assert
    assert_eq!((alive, ready), (200, 200));
}

#[tokio::test]
async fn more_than_100_kb_of_custom_claims_fails_the_login() {
    let app = crate::helpers::spawn_app(
        crate::helpers::StoreKind::InMemory,
        vec![crate::helpers::ActionFixture::named("huge-claims")],
    )
    .await;

    let outcome = app.post_login_outcome(crate::helpers::login_event()).await;

    assert_eq!(outcome["outcome"], "deny", "{}", outcome["outcome"]);
    assert_eq!(outcome["error"], "access_denied");
    assert!(
        outcome["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("100 KB of custom claims")),
        "{}",
        outcome["error_description"]
    );
}

#[tokio::test]
async fn an_action_that_throws_an_unreadable_value_is_denied_without_the_engines_own_text() {
    // Arrange
    let app = spawn_app(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("throws-unreadable-error"),
            ActionFixture::named("claims-and-scopes"),
        ],
    )
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert: a fixed sentence for the user and the upstream, never the
    // engine's own text (`Exception generated by quickjs: Null"null"`).
    let expected = "the Action threw a value that cannot be read";
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied");
    assert_eq!(outcome["error_description"], expected, "{outcome:#}");
    let records = outcome["executions"].as_array().expect("executions");
    assert_eq!(records.len(), 1, "{outcome:#}");
    assert_eq!(records[0]["error"], expected, "{outcome:#}");
}

#[tokio::test]
async fn a_claim_holding_half_a_surrogate_pair_arrives_with_the_replacement_character() {
    // JSON.stringify writes the lone half as `\ud83d`, which no UTF-8 text
    // holds: the login used to fail as if the Action had tampered with the
    // engine, and its runtime was thrown away.
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("lone-surrogate")],
    )
    .await;

    let first = app.post_login_outcome(login_event()).await;
    let second = app.post_login_outcome(login_event()).await;

    assert_eq!(first["outcome"], "allow", "{first:#}");
    assert_eq!(
        claim(&first, "id_token", "https://detour.test/name"),
        Some(&json!("Ana \u{FFFD}"))
    );
    assert_eq!(second["outcome"], "allow", "{second:#}");
}

#[tokio::test]
async fn a_handler_is_read_as_auth0_awaits_it_however_it_ends() {
    for isolation in ["per_instance", "per_execution"] {
        // Arrange
        let mut config = TestConfig::new(
            StoreKind::InMemory,
            vec![ActionFixture::named("handler-endings")],
        );
        config.isolation = isolation;
        let app = spawn_app_with(config).await;
        let login = |ending: &str| {
            let mut event = login_event();
            event["user"]["user_metadata"]["ending"] = json!(ending);
            event
        };

        for (ending, claims) in [
            // A job queued before the handler's promise fulfilled runs
            // before the report is read.
            ("queued-job", &["before-return", "queued-job"][..]),
            ("plain", &["plain"][..]),
            ("thenable", &["thenable"][..]),
        ] {
            // Act
            let outcome = app.post_login_outcome(login(ending)).await;

            // Assert
            assert_eq!(
                outcome["outcome"], "allow",
                "{isolation} {ending}: {outcome:#}"
            );
            for name in claims {
                assert_eq!(
                    claim(&outcome, "id_token", &format!("https://detour.test/{name}")),
                    Some(&json!(true)),
                    "{isolation} {ending}: {outcome:#}"
                );
            }
        }
        let outcome = app.post_login_outcome(login("rejects-late")).await;
        assert_eq!(outcome["outcome"], "deny", "{isolation}: {outcome:#}");
        assert!(
            outcome["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("late refusal")),
            "{isolation}: {outcome:#}"
        );
        assert_eq!(
            claim(&outcome, "id_token", "https://detour.test/thenable"),
            None,
            "{isolation}: a failed execution's commands are dropped"
        );
    }
}
