//! A real OpenID Provider with Detour as its post-login step, in Chromium.
//!
//! `scripts/local-stack.sh --oidc` on free loopback ports: redis-server,
//! Detour on `examples/demo/detour.toml`, the terms site, and the two Node.js
//! parties of `integrations/oidc-provider`: `oidc-provider` (an OpenID
//! Certified OpenID Provider) calling `POST /v1/post-login` from its login
//! interaction, and a relying party running the authorization code flow
//! with PKCE through `openid-client`. Headless Chromium signs in at the
//! relying party as a person would, and the tests read what the relying
//! party shows: the verified ID token's claims, or the OAuth error it got.
//!
//! The Actions: `roles-claims` (the roles claim), `deny-blocked` (mallory is
//! blocked), `terms` (jane, bob and grace have not accepted the terms yet;
//! grace's many roles make her result token too long for a URL). Needs
//! node and the integration's npm packages (`./scripts/test.sh` installs
//! them), besides what `tests/browser.rs` needs. The rules no demo Action
//! reaches (MFA, Forms and other effects refused, protocol claims dropped,
//! the jti store) are the integration's own `node --test` tests, run here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assumption fails the test

mod common;

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use common::{Parties, Rig, Session, Stack, expect_row};

/// The claim the sample roles Action sets.
const ROLES_CLAIM: &str = "https://my-app.example.com/roles";

#[tokio::test]
async fn a_login_through_the_terms_detour_ends_with_an_id_token_carrying_the_roles_an_action_set() {
    let rig = Rig::start(Parties::Oidc).await;
    let outcome = async {
        let (session, stack) = (&rig.session, &rig.stack);
        sign_in(session, stack, "jane").await?;
        session
            .wait_for_url(&format!("{}/terms?", stack.site_url))
            .await
            .context(
                "after signing in, the terms Action should send the browser to the terms site",
            )?;
        let accept = session.find("#accept").await?;
        session.screenshot("oidc-1-terms").await?;
        session.click(&accept).await?;

        session
            .wait_for_url(&format!("{}/callback", stack.rp_url))
            .await
            .context("after Accept, the browser should end at the relying party")?;
        expect_heading(session, "Logged in as oidc|jane").await?;
        session.screenshot("oidc-2-claims").await?;
        let claims = session.table("#id-token-claims").await?;
        expect_row(
            &claims,
            ROLES_CLAIM,
            r#"["admin","editor"]"#,
            "ID token claims",
        )?;
        expect_row(
            &claims,
            "email",
            r#""jane@yourcompany.com""#,
            "ID token claims",
        )?;

        // The provider stored the accepted terms (app_metadata): a silent
        // login runs the Actions again, server to server, and gets tokens.
        session
            .goto(&format!("{}/login?prompt=none", stack.rp_url))
            .await?;
        expect_heading(session, "Logged in as oidc|jane").await?;
        let claims = session.table("#id-token-claims").await?;
        expect_row(
            &claims,
            ROLES_CLAIM,
            r#"["admin","editor"]"#,
            "silent login's ID token claims",
        )
    }
    .await;
    rig.finish(outcome).await;
}

#[tokio::test]
async fn a_silent_login_of_a_user_who_has_not_accepted_the_terms_ends_with_interaction_required() {
    let rig = Rig::start(Parties::Oidc).await;
    let outcome = async {
        let (session, stack) = (&rig.session, &rig.stack);
        // Bob signs in (the provider has his session) but leaves at the terms.
        sign_in(session, stack, "bob").await?;
        session
            .wait_for_url(&format!("{}/terms?", stack.site_url))
            .await?;

        session
            .goto(&format!("{}/login?prompt=none", stack.rp_url))
            .await?;
        expect_heading(session, "Login failed: interaction_required").await?;
        session.screenshot("oidc-3-interaction-required").await?;
        let error = session.find("#error").await?;
        ensure!(session.text(&error).await? == "interaction_required");
        let description = session.find("#error-description").await?;
        let description = session.text(&description).await?;
        ensure!(
            description.contains("terms"),
            "the error_description should name the Action that wanted to redirect: {description:?}"
        );
        Ok(())
    }
    .await;
    rig.finish(outcome).await;
}

#[tokio::test]
async fn a_blocked_user_ends_with_access_denied_and_the_actions_reason_and_is_signed_out() {
    let rig = Rig::start(Parties::Oidc).await;
    let outcome = async {
        let (session, stack) = (&rig.session, &rig.stack);
        sign_in(session, stack, "mallory").await?;
        session
            .wait_for_url(&format!("{}/callback", stack.rp_url))
            .await
            .context("a denied login should end at the relying party, without a detour")?;
        expect_heading(session, "Login failed: access_denied").await?;
        session.screenshot("oidc-4-access-denied").await?;
        let description = session.find("#error-description").await?;
        let description = session.text(&description).await?;
        ensure!(
            description == "This account is blocked. Ask your administrator to unblock it.",
            "the relying party shows error_description {description:?}"
        );

        // The Action revoked the session: the provider no longer knows
        // mallory, so a silent login asks for a login instead of running the
        // Actions again.
        session
            .goto(&format!("{}/login?prompt=none", stack.rp_url))
            .await?;
        expect_heading(session, "Login failed: login_required").await?;
        Ok(())
    }
    .await;
    rig.finish(outcome).await;
}

#[tokio::test]
async fn a_tampered_or_replayed_result_token_is_refused_by_the_provider() {
    let rig = Rig::start(Parties::Oidc).await;
    let outcome = async {
        let (session, stack) = (&rig.session, &rig.stack);
        sign_in(session, stack, "bob").await?;
        session
            .wait_for_url(&format!("{}/terms?", stack.site_url))
            .await?;
        // Play the rest of the detour over plain HTTP, to hold the result
        // token: accept at the terms site, then /continue at Detour.
        let callback = accept_terms_over_http(session, stack).await?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;

        let tampered = tamper(&callback)?;
        let answer = http.get(&tampered).send().await?;
        let status = answer.status();
        let page = answer.text().await?;
        ensure!(
            status == 400
                && page.contains("The result of the login is refused")
                && page.contains("signature"),
            "a result token with a changed payload: {status}\n{page}"
        );

        // The genuine token, in the browser that started the login.
        session.goto(&callback).await?;
        expect_heading(session, "Logged in as oidc|bob").await?;
        let claims = session.table("#id-token-claims").await?;
        expect_row(&claims, ROLES_CLAIM, r#"["viewer"]"#, "ID token claims")?;

        // The same token again, in that browser and from elsewhere: the
        // login it was for has ended.
        session.goto(&callback).await?;
        let refused = session.find("#refused").await?;
        ensure!(session.text(&refused).await? == "The result of the login is refused");
        let answer = http.get(&callback).send().await?;
        let status = answer.status();
        let page = answer.text().await?;
        ensure!(
            status == 400 && page.contains("The result of the login is refused"),
            "the same result token a second time: {status}\n{page}"
        );
        Ok(())
    }
    .await;
    rig.finish(outcome).await;
}

#[tokio::test]
async fn a_result_token_sent_from_another_browser_is_refused_and_still_completes_the_login_in_its_own()
 {
    let rig = Rig::start(Parties::Oidc).await;
    let outcome = async {
        let (session, stack) = (&rig.session, &rig.stack);
        sign_in(session, stack, "bob").await?;
        session
            .wait_for_url(&format!("{}/terms?", stack.site_url))
            .await?;
        let callback = accept_terms_over_http(session, stack).await?;

        // Someone who got hold of the URL (a log, a shared screen) opens it
        // without the browser's binding cookie.
        let answer = reqwest::get(&callback).await?;
        let status = answer.status();
        let page = answer.text().await?;
        ensure!(
            status == 400 && page.contains("did not start here"),
            "the result token from a client that did not start the login: {status}\n{page}"
        );

        // That did not use the token up: the browser that left for the
        // terms still finishes its login with it.
        session.goto(&callback).await?;
        expect_heading(session, "Logged in as oidc|bob").await?;
        let claims = session.table("#id-token-claims").await?;
        expect_row(&claims, ROLES_CLAIM, r#"["viewer"]"#, "ID token claims")
    }
    .await;
    rig.finish(outcome).await;
}

#[tokio::test]
async fn a_result_too_long_for_a_url_comes_back_by_form_post_and_ends_with_all_the_roles() {
    let rig = Rig::start(Parties::Oidc).await;
    let outcome = async {
        let (session, stack) = (&rig.session, &rig.stack);
        sign_in(session, stack, "grace").await?;
        session
            .wait_for_url(&format!("{}/terms?", stack.site_url))
            .await?;
        let accept = session.find("#accept").await?;
        session.click(&accept).await?;

        // Detour's auto-submitting page POSTs the result to the provider.
        session
            .wait_for_url(&format!("{}/callback", stack.rp_url))
            .await
            .context("after Accept, the form POST should end at the relying party")?;
        expect_heading(session, "Logged in as oidc|grace").await?;
        let claims = session.table("#id-token-claims").await?;
        let roles = claims
            .iter()
            .find(|(k, _)| k == ROLES_CLAIM)
            .map(|(_, v)| v.clone())
            .with_context(|| format!("no roles claim in {claims:?}"))?;
        let count = serde_json::from_str::<Vec<String>>(&roles)?.len();
        ensure!(count == 36, "grace has 36 roles, the ID token {count}");
        // The result carries the roles twice (ID and access token claims),
        // base64url-encoded: well over the 2000 characters a URL may take.
        ensure!(
            roles.len() * 2 * 4 / 3 > 2000,
            "the roles ({} characters) no longer make the result token long",
            roles.len()
        );
        Ok(())
    }
    .await;
    rig.finish(outcome).await;
}

#[test]
fn the_integrations_rules_for_outcomes_and_result_tokens_hold_in_its_node_tests() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("integrations/oidc-provider");
    let output = std::process::Command::new("node")
        .arg("--test")
        .current_dir(&dir)
        .output()
        .expect("run node --test (needs node and the integration's npm packages)");
    assert!(
        output.status.success(),
        "node --test in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Opens the relying party, logs in, and signs in as `user` at the provider.
async fn sign_in(session: &Session, stack: &Stack, user: &str) -> Result<()> {
    session.goto(&stack.rp_url).await?;
    let login = session.find("#login").await?;
    session.click(&login).await?;
    session
        .wait_for_url(&format!("{}/interaction/", stack.op_url))
        .await
        .context("Log in should lead to the provider's sign-in page")?;
    let username = session.find("#username").await?;
    session.type_into(&username, user).await?;
    let password = session.find("#password").await?;
    session.type_into(&password, "demo").await?;
    session.screenshot(&format!("oidc-sign-in-{user}")).await?;
    let submit = session.find("#sign-in").await?;
    session.click(&submit).await
}

async fn expect_heading(session: &Session, expected: &str) -> Result<()> {
    let heading = session.find("#outcome").await?;
    let heading = session.text(&heading).await?;
    ensure!(
        heading == expected,
        "the relying party says {heading:?}, expected {expected:?}"
    );
    Ok(())
}

/// From the terms page the browser is on: Accept at the terms site and the
/// POST to Detour's `/continue`, over HTTP. Returns where Detour sends the
/// browser: the provider's callback with `?result=<JWT>`.
async fn accept_terms_over_http(session: &Session, stack: &Stack) -> Result<String> {
    let field = |name: &'static str| async move {
        let input = session.find(&format!("input[name={name}]")).await?;
        session.property(&input, "value").await
    };
    let state = field("state").await?;
    let token = field("session_token").await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let back = http
        .post(format!("{}/decision", stack.site_url))
        .form(&[
            ("state", state.as_str()),
            ("session_token", &token),
            ("decision", "accept"),
        ])
        .send()
        .await?
        .text()
        .await?;
    let signed = hidden_value(&back, "session_token")
        .with_context(|| format!("the terms site's answer has no session_token:\n{back}"))?;
    let answer = http
        .post(format!("{}/continue", stack.detour_url))
        .form(&[("state", state.as_str()), ("session_token", signed)])
        .send()
        .await?;
    let location = answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let expected = format!("{}/detour/callback?result=", stack.op_url);
    ensure!(
        answer.status() == 302 && location.starts_with(&expected),
        "Detour's /continue answered {} to {location:?}, expected a redirect to {expected}…",
        answer.status()
    );
    Ok(location)
}

/// The `value` of the hidden input `name` in an HTML page.
fn hidden_value<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(&html[start..start + len])
}

/// The callback URL with the result token's payload changed (bob's roles
/// become admin's) and its signature kept.
fn tamper(callback: &str) -> Result<String> {
    let (base, token) = callback
        .split_once("?result=")
        .context("no result parameter")?;
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        bail!("the result is not a JWT: {token}");
    };
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload)?)?;
    ensure!(
        payload.contains(r#"["viewer"]"#),
        "bob's roles are not in the token: {payload}"
    );
    let forged = URL_SAFE_NO_PAD.encode(payload.replace(r#"["viewer"]"#, r#"["admin"]"#));
    Ok(format!("{base}?result={header}.{forged}.{signature}"))
}
