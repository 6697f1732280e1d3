//! Every example Action of Auth0's post-login documentation as a fixture, run unmodified,
//! with the result its seed documents. The redirect example
//! (`favorite-color.js`) and its continuation are covered in
//! `redirect_flow.rs`; seed 003's `require('pg')` Action in `node_modules.rs`.

use serde_json::{Value, json};

use crate::helpers::{ActionFixture, StoreKind, claim, login_event, spawn_app};

async fn run(fixture: &'static str, event: Value) -> Value {
    let app = spawn_app(StoreKind::InMemory, vec![ActionFixture::named(fixture)]).await;
    app.post_login_outcome(event).await
}

fn with(mut event: Value, path: &[&str], value: Value) -> Value {
    let mut slot = &mut event;
    for key in path {
        slot = &mut slot[*key];
    }
    *slot = value;
    event
}

#[tokio::test]
async fn seed_000_domain_deny_names_the_client() {
    let event = with(login_event(), &["user", "email"], json!("jane@example.com"));
    let event = with(event, &["client", "name"], json!("My SPA"));
    let outcome = run("domain-deny", event).await;
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(
        outcome["error_description"],
        "Access to My SPA is not allowed."
    );
    assert_eq!(run("domain-deny", login_event()).await["outcome"], "allow");
}

#[tokio::test]
async fn seed_000_weekday_deny_follows_the_day_of_the_week() {
    let event = with(login_event(), &["client", "name"], json!("APP_NAME"));
    let outcome = run("seed-weekday-deny", event).await;
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    let weekend = matches!((days + 4) % 7, 0 | 6); // 1970-01-01 was a Thursday
    if weekend {
        assert_eq!(
            outcome["error_description"],
            "This app is only available during the week."
        );
    } else {
        assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    }
}

#[tokio::test]
async fn seed_000_api_audience_deny() {
    let event = with(
        login_event(),
        &["resource_server"],
        json!({"identifier": "http://todoapi2.api"}),
    );
    let outcome = run("seed-api-deny", event).await;
    assert_eq!(outcome["error_description"], "end_users_not_allowed");
    assert_eq!(
        run("seed-api-deny", login_event()).await["outcome"],
        "allow"
    );
}

#[tokio::test]
async fn seed_000_roles_reach_both_tokens() {
    let outcome = run("roles-claims", login_event()).await;
    for token in ["id_token", "access_token"] {
        assert_eq!(
            claim(&outcome, token, "https://my-app.example.com/roles"),
            Some(&json!(["admin", "editor"]))
        );
    }
}

#[tokio::test]
async fn seed_000_favorite_color_metadata() {
    let outcome = run("seed-favorite-color-metadata", login_event()).await;
    assert_eq!(
        outcome["user"]["user_metadata"],
        json!({"favorite_color": "blue"})
    );
}

#[tokio::test]
async fn seed_000_mfa_for_north_america_only() {
    let event = with(
        login_event(),
        &["request", "geoip", "continentCode"],
        json!("NA"),
    );
    let outcome = run("seed-mfa-north-america", event).await;
    assert_eq!(
        outcome["multifactor"],
        json!({"provider": "any", "allow_remember_browser": false})
    );
    let outcome = run("seed-mfa-north-america", login_event()).await;
    assert!(outcome.get("multifactor").is_none(), "{outcome:#}");
}

#[tokio::test]
async fn seed_000_passkey_logins_skip_mfa() {
    let event = with(
        login_event(),
        &["authentication", "methods"],
        json!([{"name": "passkey", "timestamp": "2025-11-23T09:59:58.000Z"}]),
    );
    let outcome = run("seed-passkey-skip-mfa", event).await;
    assert_eq!(outcome["multifactor"]["provider"], "none");
    let outcome = run("seed-passkey-skip-mfa", login_event()).await;
    assert!(outcome.get("multifactor").is_none(), "{outcome:#}");
    // A sparse event without `authentication` does not crash it.
    let mut sparse = login_event();
    sparse.as_object_mut().unwrap().remove("authentication");
    assert_eq!(
        run("seed-passkey-skip-mfa", sparse).await["outcome"],
        "allow"
    );
}

#[tokio::test]
async fn seed_000_add_scope_by_audience() {
    let event = with(
        login_event(),
        &["request", "query", "audience"],
        json!("https://example.com/api"),
    );
    let outcome = run("seed-add-scope", event).await;
    assert_eq!(
        outcome["access_token"]["scopes"]["add"],
        json!(["read:xyz"])
    );
    let outcome = run("seed-add-scope", login_event()).await;
    assert!(outcome.get("access_token").is_none(), "{outcome:#}");
}

#[tokio::test]
async fn seed_001_sovereign_roles_from_app_metadata() {
    let event = with(
        login_event(),
        &["user", "app_metadata", "is_admin"],
        json!(true),
    );
    let outcome = run("seed-sovereign-roles", event).await;
    assert_eq!(
        claim(&outcome, "id_token", "https://sovereign.corp/roles"),
        Some(&json!(["admin"]))
    );
    assert_eq!(
        claim(&outcome, "access_token", "https://sovereign.corp/roles"),
        Some(&json!(["admin"]))
    );
    let outcome = run("seed-sovereign-roles", login_event()).await;
    assert!(outcome.get("id_token").is_none(), "{outcome:#}");
}

#[tokio::test]
async fn seed_003_access_token_roles_and_tier() {
    let event = with(
        login_event(),
        &["user", "app_metadata", "subscription_tier"],
        json!("gold"),
    );
    let outcome = run("seed-roles-tier", event).await;
    assert_eq!(
        claim(&outcome, "access_token", "https://myapp.com/roles"),
        Some(&json!(["admin", "editor"]))
    );
    assert_eq!(
        claim(&outcome, "access_token", "https://myapp.com/tier"),
        Some(&json!("gold"))
    );
    // Sparse: no roles, no tier -> [] and "free".
    let mut sparse = login_event();
    sparse.as_object_mut().unwrap().remove("authorization");
    let outcome = run("seed-roles-tier", sparse).await;
    assert_eq!(
        claim(&outcome, "access_token", "https://myapp.com/roles"),
        Some(&json!([]))
    );
    assert_eq!(
        claim(&outcome, "access_token", "https://myapp.com/tier"),
        Some(&json!("free"))
    );
}

#[tokio::test]
async fn seed_003_block_logins_by_domain() {
    let outcome = run("seed-corporate-domains", login_event()).await;
    assert_eq!(
        outcome["error_description"],
        "Access restricted to corporate email addresses."
    );
    let event = with(
        login_event(),
        &["user", "email"],
        json!("jo@partnercompany.com"),
    );
    assert_eq!(
        run("seed-corporate-domains", event).await["outcome"],
        "allow"
    );
}
