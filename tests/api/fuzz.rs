//! Property tests over `/continue`: whatever the parameters, cookies and
//! tokens, Detour never answers 5xx and never completes a login that had no
//! valid state and token.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::header::COOKIE;
use serde_json::json;

use crate::helpers::tokens::sign_hs256;
use crate::helpers::{
    ActionFixture, ExternalVisit, SHARED_SECRET, StoreKind, TestApp, TestConfig, USER_ID,
    login_event, spawn_app_with,
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn app(rt: &tokio::runtime::Runtime) -> TestApp {
    let mut config = TestConfig::new(StoreKind::InMemory, vec![ActionFixture::favorite_color()]);
    config.server_extra = "browser_binding = false".into();
    rt.block_on(spawn_app_with(config))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_-]{0,64}",
        ".{0,80}",
        Just(String::new()),
        Just("a".repeat(200)),
    ]
}

/// Cookie header text (printable ASCII, as a browser could send).
fn cookie() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,80}",
        "detour_b_[0-9a-f]{16}=[A-Za-z0-9_-]{0,43}",
        Just(String::new()),
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("state".to_owned()),
                Just("session_token".to_owned()),
                text()
            ],
            text(),
        ),
        0..6,
    )
}

/// What came back, reduced to what the property needs.
struct Seen {
    status: u16,
    completed: bool,
}

async fn send(
    app: &TestApp,
    post: bool,
    query: &[(String, String)],
    form: &[(String, String)],
    cookie: &str,
) -> Seen {
    let url = format!("{}/continue", app.address);
    let mut request = if post {
        app.client.post(url).query(query).form(form)
    } else {
        app.client.get(url).query(query)
    };
    if !cookie.is_empty() {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.expect("Detour answers");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let completed = location.contains("result=") && result_outcome(&location) == "allow";
    Seen { status, completed }
}

fn result_outcome(location: &str) -> String {
    let url = url::Url::parse(location).expect("a URL");
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "result")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let payload = token.split('.').nth(1).unwrap_or_default();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["outcome"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn random_continue_requests_never_fail_the_server_or_complete_a_login() {
    let rt = runtime();
    let app = app(&rt);
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });

    runner
        .run(
            &(any::<bool>(), params(), params(), cookie()),
            |(post, query, form, cookie)| {
                let seen = rt.block_on(send(&app, post, &query, &form, &cookie));
                prop_assert!(seen.status < 500, "status {}", seen.status);
                prop_assert!(!seen.completed, "a login completed without a valid state");
                prop_assert!(
                    [400, 413, 415].contains(&seen.status),
                    "unexpected status {}",
                    seen.status
                );
                Ok(())
            },
        )
        .expect("the property holds");
}

#[test]
fn a_valid_state_with_a_random_token_never_completes_the_login() {
    let rt = runtime();
    let app = app(&rt);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });

    runner
        .run(
            &(text(), any::<bool>(), any::<i64>()),
            |(garbage, signed_wrong, exp_offset)| {
                let outcome = rt.block_on(app.post_login_outcome(login_event()));
                let visit = ExternalVisit::from_outcome(&outcome);
                // Either garbage, or a well-signed token that is wrong in one way.
                let token = if signed_wrong {
                    let exp = json!(1_700_000_000_i64.saturating_add(exp_offset % 1_000_000));
                    sign_hs256(
                        SHARED_SECRET,
                        &json!({ "sub": USER_ID, "iss": "x", "iat": 1, "exp": exp, "state": garbage }),
                    )
                } else {
                    garbage
                };
                let form = vec![
                    ("state".to_owned(), visit.state.clone()),
                    ("session_token".to_owned(), token),
                ];
                let seen = rt.block_on(send(&app, true, &[], &form, ""));
                prop_assert!(seen.status < 500, "status {}", seen.status);
                prop_assert!(!seen.completed, "a login completed with a bad token");
                Ok(())
            },
        )
        .expect("the property holds");
}
