//! `fetch` cannot be steered to a private address: not by a redirect hop,
//! not by spelling the address as a number, not by a proxy in the
//! environment; a pinned host opens exactly one service; an explicit
//! `engine.fetch_proxy` carries every request.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::process::DetourProcess;
use crate::helpers::{
    ActionFixture, PreparedConfig, StoreKind, TestApp, TestConfig, claim, login_event,
    spawn_app_with, spawn_instance_with,
};

/// The requests a test server saw: each one's request line.
type Seen = Arc<Mutex<Vec<String>>>;

/// A loopback HTTP server that answers each request with `respond(request
/// line)` and records the request lines.
async fn server(respond: impl Fn(&str) -> String + Send + Sync + 'static) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen: Seen = Arc::default();
    let respond = Arc::new(respond);
    let recorded = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let respond = respond.clone();
            let recorded = recorded.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // The head, then as much body as Content-Length announces.
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else {
                        continue;
                    };
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() < length {
                        continue;
                    }
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    let response = respond(&line);
                    recorded.lock().expect("seen lock").push(line);
                    let _ = socket.write_all(response.as_bytes()).await;
                    return;
                }
            });
        }
    });
    (port, seen)
}

fn json_response(body: Value) -> String {
    let body = body.to_string();
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn redirect_response(location: &str) -> String {
    format!(
        "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
}

/// A service on loopback that must never be reached.
async fn internal_service() -> (u16, Seen) {
    server(|_| json_response(json!({ "reached": "internal" }))).await
}

/// The `fetch-probe` Action (fetches `event.request.query.url`, reports
/// `status`/`body` or `fetch_error` as ID-token claims) with `allow_hosts`.
fn fetch_probe(allow: Vec<&'static str>) -> ActionFixture {
    ActionFixture {
        allow_hosts: allow,
        ..ActionFixture::named("fetch-probe")
    }
}

fn event_fetching(url: &str) -> Value {
    let mut event = login_event();
    event["request"]["query"] = json!({ "url": url });
    event
}

/// What the Action saw: `Ok(body)` or `Err(fetch error)`.
async fn fetch_through(
    app_login: impl std::future::Future<Output = Value>,
) -> Result<Value, String> {
    let outcome = app_login.await;
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    match claim(&outcome, "id_token", "fetch_error") {
        Some(error) => Err(error.as_str().unwrap_or_default().to_owned()),
        None => Ok(claim(&outcome, "id_token", "body")
            .cloned()
            .unwrap_or(Value::Null)),
    }
}

/// A Detour whose only Action may fetch any host, with the private-address
/// guard on, and `hook.test` pinned to the loopback server on `hook_port`
/// (a stand-in for a public API that is hard to have offline).
async fn any_host_app_with_hook(hook_port: u16) -> TestApp {
    let config = TestConfig::new(StoreKind::InMemory, vec![fetch_probe(vec!["*"])]);
    spawn_instance_with(&config, None, |settings| {
        settings.engine.resolve_overrides = vec![detour::config::ResolveOverride::new(
            "hook.test",
            ([127, 0, 0, 1], hook_port).into(),
        )];
    })
    .await
}

/// Loopback, spelled every way the url crate accepts.
fn private_spellings(port: u16) -> Vec<String> {
    vec![
        format!("http://127.0.0.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::1]:{port}/"),
    ]
}

#[tokio::test]
async fn a_redirect_to_a_private_address_is_refused_even_when_any_host_is_allowed() {
    let (internal, reached) = internal_service().await;
    let targets = private_spellings(internal);
    let hops = targets.clone();
    // /hop/<i> redirects to the i-th spelling; /final is the public answer.
    let (hook, _) = server(move |line| {
        let path = line.split(' ').nth(1).unwrap_or_default();
        match path
            .strip_prefix("/hop/")
            .and_then(|i| i.parse::<usize>().ok())
        {
            Some(i) => redirect_response(&hops[i]),
            None => json_response(json!({ "reached": "hook" })),
        }
    })
    .await;
    let app = any_host_app_with_hook(hook).await;

    let public = fetch_through(
        app.post_login_outcome(event_fetching(&format!("http://hook.test:{hook}/final"))),
    )
    .await;
    let mut refusals = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let url = format!("http://hook.test:{hook}/hop/{i}");
        refusals.push((
            target,
            fetch_through(app.post_login_outcome(event_fetching(&url))).await,
        ));
    }

    assert_eq!(public, Ok(json!({ "reached": "hook" })));
    for (target, result) in refusals {
        let error = result.err().unwrap_or_default();
        assert!(
            error.contains("refused redirect") && error.contains("private address"),
            "redirect to {target}: {error}"
        );
    }
    assert_eq!(*reached.lock().expect("seen lock"), Vec::<String>::new());
}

#[tokio::test]
async fn a_private_address_spelled_as_a_number_is_refused_on_the_first_hop_too() {
    let (internal, reached) = internal_service().await;
    let app = any_host_app_with_hook(1).await;

    let mut results = Vec::new();
    for url in private_spellings(internal) {
        results.push((
            url.clone(),
            fetch_through(app.post_login_outcome(event_fetching(&url))).await,
        ));
    }

    for (url, result) in results {
        let error = result.err().unwrap_or_default();
        assert!(error.contains("private address"), "{url}: {error}");
    }
    assert_eq!(*reached.lock().expect("seen lock"), Vec::<String>::new());
}

#[tokio::test]
async fn a_pinned_host_opens_only_its_own_port() {
    let (internal, reached) = internal_service().await;
    let (hook, _) =
        server(move |_| redirect_response(&format!("http://hook.test:{internal}/"))).await;
    let app = any_host_app_with_hook(hook).await;

    let redirected =
        fetch_through(app.post_login_outcome(event_fetching(&format!("http://hook.test:{hook}/"))))
            .await;
    let direct = fetch_through(
        app.post_login_outcome(event_fetching(&format!("http://hook.test:{internal}/"))),
    )
    .await;

    for result in [redirected, direct] {
        let error = result.err().unwrap_or_default();
        assert!(
            error.contains(&format!("may only be fetched on port {hook}")),
            "{error}"
        );
    }
    assert_eq!(*reached.lock().expect("seen lock"), Vec::<String>::new());
}

#[tokio::test]
async fn a_proxy_in_the_environment_does_not_carry_fetch_past_the_guard() {
    let (internal, reached) = internal_service().await;
    let (proxy, proxied) = server(|_| json_response(json!({ "reached": "proxy" }))).await;
    let config = TestConfig::new(StoreKind::InMemory, vec![fetch_probe(vec!["localhost"])]);
    let prepared = PreparedConfig::new(&config, None);
    let proxy_url = format!("http://127.0.0.1:{proxy}");
    let detour = DetourProcess::start(
        &prepared,
        &[
            ("HTTP_PROXY", &proxy_url),
            ("http_proxy", &proxy_url),
            ("HTTPS_PROXY", &proxy_url),
            ("ALL_PROXY", &proxy_url),
        ],
    );

    let response = detour
        .post_login(event_fetching(&format!("http://localhost:{internal}/")))
        .await;
    let outcome: Value = response.json().await.expect("JSON outcome");

    let error = claim(&outcome, "id_token", "fetch_error")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("resolves only to private addresses"),
        "{outcome:#}\n{}",
        detour.log()
    );
    assert_eq!(*proxied.lock().expect("seen lock"), Vec::<String>::new());
    assert_eq!(*reached.lock().expect("seen lock"), Vec::<String>::new());
}

#[tokio::test]
async fn an_explicit_fetch_proxy_carries_every_request_and_resolves_the_names() {
    let (proxy, proxied) = server(|_| json_response(json!({ "reached": "proxy" }))).await;
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![fetch_probe(vec!["api.example.com"])],
    );
    // Named, on loopback: the proxy's own address is not held to the guard.
    config.engine_extra = format!("fetch_proxy = \"http://localhost:{proxy}\"\n");
    let app = spawn_app_with(config).await;

    let result =
        fetch_through(app.post_login_outcome(event_fetching("http://api.example.com/hook?x=1")))
            .await;

    assert_eq!(result, Ok(json!({ "reached": "proxy" })));
    assert_eq!(
        *proxied.lock().expect("seen lock"),
        vec!["POST http://api.example.com/hook?x=1 HTTP/1.1".to_owned()]
    );
}
