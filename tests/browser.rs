//! The local demo stack in a real browser.
//!
//! Starts `scripts/local-stack.sh` on free loopback ports (redis-server,
//! Detour on `examples/demo/detour.toml`, the demo upstream and the demo
//! terms site), then drives headless Chromium through chromedriver over the
//! W3C WebDriver protocol, as a person would: open the upstream, log in,
//! accept the terms on the demo site, come back through Detour's
//! `/continue`, and read the claims page. A second login then goes straight
//! through, because the upstream stored the accepted terms in the user's
//! `app_metadata`.
//!
//! Detour and the upstream are on `localhost`, the terms site on
//! `127.0.0.1`: another site for the browser, as a real external site is,
//! so its POST back to `/continue` is cross-site (what `SameSite` cookies
//! see).
//!
//! Needs Chromium and chromedriver: Debian's `chromium` and
//! `chromium-driver` (`./scripts/test.sh` installs them), or `CHROME_BIN` and
//! `CHROMEDRIVER` naming them. With `BROWSER_TEST_SCREENSHOTS=DIR` it saves a
//! PNG of every page it reads there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assumption fails the test

mod common;

use anyhow::{Context, Result, bail};

use common::{Parties, Rig, Session, Stack, expect_row};

/// The claim the sample roles Action sets.
const ROLES_CLAIM: &str = "https://my-app.example.com/roles";

#[tokio::test]
async fn a_person_walks_the_whole_detour_in_chromium() {
    let rig = Rig::start(Parties::Demo).await;
    let outcome = walk_the_detour(&rig.session, &rig.stack).await;
    rig.finish(outcome).await;
}

/// The scenario: login, terms, accept, claims page; then a second login.
async fn walk_the_detour(session: &Session, stack: &Stack) -> Result<()> {
    // The one URL a person opens.
    session.goto(&stack.upstream_url).await?;
    let login = session.find("#login").await?;
    session.screenshot("1-login").await?;
    let label = session.text(&login).await?;
    if label != "Log in as Jane" {
        bail!("the login page's button says {label:?}");
    }
    session.click(&login).await?;

    // Detour's terms Action sent the browser to the demo site.
    session
        .wait_for_url(&format!("{}/terms?", stack.site_url))
        .await
        .context("after Log in, the browser should be on the terms site")?;
    let accept = session.find("#accept").await?;
    session.screenshot("2-terms").await?;
    let terms = session.body_text().await?;
    for expected in [
        "Our terms of service changed",
        "jane@yourcompany.com",
        "2025-06",
    ] {
        if !terms.contains(expected) {
            bail!("the terms page does not show {expected:?}:\n{terms}");
        }
    }
    session.click(&accept).await?;

    // The site posted back to Detour's /continue, which sent the browser to
    // the upstream's callback with the result token.
    session
        // `?result=…`, or a POST by Detour's auto-submitting page when long.
        .wait_for_url(&format!("{}/callback", stack.upstream_url))
        .await
        .context("after Accept, the browser should come back through /continue to the callback")?;
    let outcome = session.find("#outcome").await?;
    session.screenshot("3-callback").await?;
    let heading = session.text(&outcome).await?;
    if heading != "Logged in: outcome allow" {
        bail!("the callback page says {heading:?}");
    }
    let claims = session.table("#id-token-claims").await?;
    expect_row(
        &claims,
        ROLES_CLAIM,
        r#"["admin","editor"]"#,
        "ID token claims",
    )?;
    let access = session.table("#access-token-claims").await?;
    expect_row(
        &access,
        ROLES_CLAIM,
        r#"["admin","editor"]"#,
        "access token claims",
    )?;
    let metadata = session.table("#metadata-changes").await?;
    expect_row(
        &metadata,
        "app_metadata.tos_accepted",
        "true",
        "metadata changes",
    )?;
    expect_row(
        &metadata,
        "app_metadata.tos_accepted_version",
        r#""2025-06""#,
        "metadata changes",
    )?;
    let page = session.body_text().await?;
    if !page.contains("Verified result token from Detour") {
        bail!("the callback page does not say the result token was verified:\n{page}");
    }
    // The token came through the browser without the Actions' console
    // output; the upstream fetched it from Detour's back channel.
    let executions = session.table("#executions").await?;
    let terms = executions
        .iter()
        .find(|(k, _)| k == "terms onContinuePostLogin")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if !terms.contains("accepted by") {
        bail!("the terms Action's console output is not on the callback page: {executions:?}");
    }

    // The upstream applied the metadata: the next login needs no detour.
    session.goto(&stack.upstream_url).await?;
    let home = session.body_text().await?;
    if !home.contains(r#""tos_accepted":true"#) {
        bail!("the login page does not show the stored app_metadata:\n{home}");
    }
    let login = session.find("#login").await?;
    session.click(&login).await?;
    session
        .wait_for_url(&format!("{}/login", stack.upstream_url))
        .await
        .context("the second login should be answered at once, without a detour")?;
    let outcome = session.find("#outcome").await?;
    session.screenshot("4-second-login").await?;
    let heading = session.text(&outcome).await?;
    if heading != "Logged in: outcome allow" {
        bail!("the second login's page says {heading:?}");
    }
    let claims = session.table("#id-token-claims").await?;
    expect_row(
        &claims,
        ROLES_CLAIM,
        r#"["admin","editor"]"#,
        "ID token claims",
    )?;
    Ok(())
}
