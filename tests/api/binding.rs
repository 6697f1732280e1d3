//! Browser binding: only the browser that went on the detour can continue
//! it, and a wrong or missing cookie cannot burn the real user's login.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::helpers::tokens::verify_result_token;
use crate::helpers::{
    ActionFixture, ExternalVisit, PUBLIC_URL, RESULT_SECRET, RETURN_TO, StoreKind, TestApp,
    TestConfig, UPSTREAM_ID, assert_invalid_request_page, login_event, result_from_redirect,
    spawn_app_with,
};

async fn bound_app(store: StoreKind) -> TestApp {
    let mut config = TestConfig::new(store, vec![ActionFixture::favorite_color()]);
    config.server_extra = "browser_binding = true".into();
    spawn_app_with(config).await
}

/// The upstream's redirect outcome points at Detour's `/redirect`; the
/// browser follows it and gets the cookie and the external site.
async fn go_on_the_detour(app: &TestApp) -> (ExternalVisit, String) {
    let outcome = app.post_login_outcome(login_event()).await;
    let bounce = outcome["location"].as_str().expect("location").to_owned();
    let path = bounce
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{bounce} is not on Detour"));
    assert!(path.starts_with("/redirect?state="), "{bounce}");
    let response = app.get(path).await;
    assert_eq!(response.status(), 302);
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a binding cookie")
        .to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/continue"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
    let external = response.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        external.starts_with("https://my-app.example.com/"),
        "{external}"
    );
    (ExternalVisit::from_location(&external), cookie)
}

async fn continue_with_cookie(
    app: &TestApp,
    visit: &ExternalVisit,
    cookie: Option<&str>,
) -> reqwest::Response {
    let token = app.token_from_external_site(visit, json!({ "favorite_color": "red" }));
    let mut request = app.client.post(format!("{}/continue", app.address)).form(&[
        ("state", visit.state.as_str()),
        ("session_token", token.as_str()),
    ]);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.expect("POST /continue")
}

#[tokio::test]
async fn only_the_bound_browser_can_continue_and_a_wrong_cookie_burns_nothing() {
    let app = bound_app(StoreKind::Redis).await;
    let (visit, cookie) = go_on_the_detour(&app).await;
    let (_, other_browsers_cookie) = go_on_the_detour(&app).await;
    let name = cookie.split('=').next().unwrap_or_default();
    let forged = format!("{name}=forged");

    let without = continue_with_cookie(&app, &visit, None).await;
    let forged_response = continue_with_cookie(&app, &visit, Some(&forged)).await;
    let other = continue_with_cookie(&app, &visit, Some(&other_browsers_cookie)).await;
    let rightful = continue_with_cookie(&app, &visit, Some(&cookie)).await;

    for refused in [without, forged_response, other] {
        let page = assert_invalid_request_page(refused).await;
        assert!(page.contains("another browser"), "{page}");
    }
    let (result, _) = result_from_redirect(rightful, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
}

#[tokio::test]
async fn a_detour_can_be_opened_by_one_browser_only() {
    let app = bound_app(StoreKind::Redis).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let bounce = outcome["location"].as_str().expect("location").to_owned();
    let path = bounce
        .strip_prefix(PUBLIC_URL)
        .expect("on Detour")
        .to_owned();

    let first = app.get(&path).await;
    let second = app.get(&path).await;

    assert_eq!(first.status(), 302);
    let page = assert_invalid_request_page(second).await;
    assert!(page.contains("already opened"), "{page}");
}

#[tokio::test]
async fn a_bound_login_that_skipped_the_redirect_cannot_be_continued() {
    let app = bound_app(StoreKind::InMemory).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let bounce = outcome["location"].as_str().expect("location");
    let visit = ExternalVisit::from_location(bounce);

    let response = continue_with_cookie(&app, &visit, None).await;

    let page = assert_invalid_request_page(response).await;
    assert!(page.contains("not opened through Detour"), "{page}");
}

/// Detour behind a reverse proxy that serves it under `/detour` and strips
/// the prefix: the browser only ever sees `https://id.example.com/detour/…`.
async fn behind_a_path_prefix_the_detour_and_its_cookie_stay_under_it(public_url: &str) {
    const BEHIND_PROXY: &str = "https://id.example.com/detour";
    let mut config = TestConfig::new(StoreKind::InMemory, vec![ActionFixture::favorite_color()]);
    config
        .env
        .insert("DETOUR_SERVER__PUBLIC_URL".into(), public_url.into());
    let app = spawn_app_with(config).await;

    // The upstream sends the browser to /redirect under the prefix.
    let outcome = app.post_login_outcome(login_event()).await;
    let bounce = outcome["location"].as_str().expect("location").to_owned();
    let path = bounce
        .strip_prefix(BEHIND_PROXY)
        .unwrap_or_else(|| panic!("{bounce} is not under {BEHIND_PROXY}"));
    assert!(path.starts_with("/redirect?state="), "{bounce}");
    // The proxy strips the prefix on the way in.
    let response = app.get(path).await;
    assert_eq!(response.status(), 302);
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a binding cookie")
        .to_owned();
    let external = response.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();

    // The browser sends the cookie back only to the /continue it sees.
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(
        attributes.contains(&"Path=/detour/continue"),
        "{set_cookie}"
    );
    let cookie = attributes[0];
    let visit = ExternalVisit::from_location(&external);
    let response = continue_with_cookie(&app, &visit, Some(cookie)).await;
    let location = response.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    let result = location
        .strip_prefix(&format!("{RETURN_TO}?result="))
        .unwrap_or_else(|| panic!("{location} is not return_to"));
    let claims = verify_result_token(RESULT_SECRET, UPSTREAM_ID, BEHIND_PROXY, result);
    assert_eq!(claims["outcome"], "allow", "{claims:#}");
}

#[tokio::test]
async fn behind_a_path_prefix_with_a_trailing_slash_the_detour_and_its_cookie_stay_under_it() {
    behind_a_path_prefix_the_detour_and_its_cookie_stay_under_it("https://id.example.com/detour/")
        .await;
}

#[tokio::test]
async fn behind_a_path_prefix_without_a_trailing_slash_the_detour_and_its_cookie_stay_under_it() {
    behind_a_path_prefix_the_detour_and_its_cookie_stay_under_it("https://id.example.com/detour")
        .await;
}
