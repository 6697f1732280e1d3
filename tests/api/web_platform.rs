//! The Web and Node surface npm packages use, exercised by Actions written
//! the way real ones are: `FormData` and `URLSearchParams` bodies, binary
//! responses, `AbortController` / `AbortSignal.timeout`, `setInterval`,
//! Node's `crypto` (hashes, HMACs, RS256/ES256/PS256, PEM and JWK keys) and
//! `crypto.subtle`, `events`, and the refusal of sandbox-opening modules.
//! Outbound calls go to a local server started by the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{
    ActionFixture, StoreKind, TestApp, TestConfig, USER_ID, claim, login_event, spawn_app_with,
};

fn id_claim(outcome: &Value, name: &str) -> Value {
    claim(outcome, "id_token", name)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Reads one request: its path and body (by Content-Length).
async fn read_request(socket: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
            let content_type = head
                .lines()
                .find_map(|l| {
                    let lower = l.to_ascii_lowercase();
                    lower
                        .starts_with("content-type:")
                        .then(|| l["content-type:".len()..].trim().to_owned())
                })
                .unwrap_or_default();
            return Some((path, content_type, buf[end + 4..end + 4 + length].to_vec()));
        }
    }
}

async fn answer(socket: &mut TcpStream, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(body).await;
}

/// A local upstream: `/echo` answers what it received (content type, body
/// as text and as bytes), `/binary` answers bytes that are not UTF-8,
/// `/cookies` answers repeated headers, `/slow` never answers and counts
/// the connections the client closes,
/// `/closed` answers that count.
async fn upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let closed = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let closed = closed.clone();
            tokio::spawn(async move {
                let Some((path, content_type, body)) = read_request(&mut socket).await else {
                    return;
                };
                match path.as_str() {
                    "/echo" => {
                        let reply = json!({
                            "content_type": content_type,
                            "text": String::from_utf8_lossy(&body),
                            "bytes": body,
                        });
                        answer(
                            &mut socket,
                            "application/json",
                            reply.to_string().as_bytes(),
                        )
                        .await;
                    }
                    "/binary" => {
                        answer(
                            &mut socket,
                            "application/octet-stream",
                            &[0, 1, 0xfe, 0xff, 0x80],
                        )
                        .await;
                    }
                    "/slow" => {
                        // Hold the request until the client goes away.
                        let mut rest = [0u8; 64];
                        while matches!(socket.read(&mut rest).await, Ok(n) if n > 0) {}
                        closed.fetch_add(1, Ordering::SeqCst);
                    }
                    "/cookies" => {
                        let reply = "HTTP/1.1 200 OK\r\nset-cookie: a=1; Path=/\r\nset-cookie: b=2\r\nx-seen: one\r\nx-seen: two\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                        let _ = socket.write_all(reply.as_bytes()).await;
                    }
                    "/closed" => {
                        let count = closed.load(Ordering::SeqCst).to_string();
                        answer(&mut socket, "application/json", count.as_bytes()).await;
                    }
                    _ => answer(&mut socket, "text/plain", b"not found").await,
                }
            });
        }
    });
    port
}

async fn app_calling_local(fixture: &'static str) -> TestApp {
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture {
            allow_hosts: vec!["127.0.0.1"],
            ..ActionFixture::named(fixture)
        }],
    );
    config.timeout_ms = 5_000;
    config.engine_extra = "allow_private_networks = true".to_owned();
    spawn_app_with(config).await
}

fn event_with_base(port: u16) -> Value {
    let mut event = login_event();
    event["request"]["query"] = json!({ "base": format!("http://127.0.0.1:{port}") });
    event
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn an_action_posts_form_data_and_url_search_params_and_reads_binary_bodies() {
    let port = upstream().await;
    let app = app_calling_local("web-fetch").await;

    let outcome = app.post_login_outcome(event_with_base(port)).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    // FormData went out as multipart/form-data with its boundary.
    let form = id_claim(&outcome, "form");
    let content_type = form["content_type"].as_str().unwrap_or_default();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let bytes: Vec<u8> = serde_json::from_value(form["bytes"].clone()).unwrap();
    let field = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\n{USER_ID}\r\n"
    );
    assert!(contains(&bytes, field.as_bytes()), "{form:#}");
    assert!(
        contains(
            &bytes,
            b"Content-Disposition: form-data; name=\"note\"; filename=\"note.txt\"\r\nContent-Type: text/plain\r\n\r\nhello multipart\r\n"
        ),
        "{form:#}"
    );
    assert!(
        contains(
            &bytes,
            b"filename=\"raw.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x9f\xff\r\n"
        ),
        "binary file bytes are sent as they are: {form:#}"
    );
    assert!(contains(&bytes, format!("--{boundary}--\r\n").as_bytes()));
    assert_eq!(
        id_claim(&outcome, "form_type"),
        json!("multipart/form-data"),
        "a FormData body keeps its own type over the caller's"
    );
    // URLSearchParams went out form-encoded.
    assert_eq!(
        id_claim(&outcome, "urlencoded"),
        json!({
            "content_type": "application/x-www-form-urlencoded;charset=UTF-8",
            "text": "grant_type=client_credentials&scope=read%3Ausers+write",
            "bytes": b"grant_type=client_credentials&scope=read%3Ausers+write".to_vec(),
        })
    );
    // A Request object is fetched as built.
    assert_eq!(
        id_claim(&outcome, "request_object"),
        json!({ "method": "POST", "echo": "{\"a\":1}", "url": true, "redirected": false })
    );
    // A typed array goes out byte for byte.
    assert_eq!(
        id_claim(&outcome, "raw_bytes"),
        json!([0, 255, 128, 10]),
        "{outcome:#}"
    );
    // Repeated response headers keep every value.
    assert_eq!(
        id_claim(&outcome, "response_cookies"),
        json!({ "cookies": ["a=1; Path=/", "b=2"], "seen": "one, two" })
    );
    // A body that is not UTF-8 arrives byte for byte.
    assert_eq!(
        id_claim(&outcome, "binary"),
        json!({ "bytes": [0, 1, 254, 255, 128], "blobSize": 5, "blobType": "application/octet-stream", "status": 200, "ok": true })
    );
    assert_eq!(
        id_claim(&outcome, "web"),
        json!({
            "get": "1, 2",
            "cookies": ["a=1", "b=2"],
            "keys": ["set-cookie", "set-cookie", "x-one"],
            "response": { "status": 201, "ok": true, "type": "application/json", "body": { "hi": "there" } },
            "blobText": "bc",
            "signalReason": "AbortError",
        })
    );
}

#[tokio::test]
async fn an_aborted_fetch_rejects_with_abort_error_and_its_request_is_dropped() {
    let port = upstream().await;
    let app = app_calling_local("web-fetch").await;

    let outcome = app.post_login_outcome(event_with_base(port)).await;

    assert_eq!(
        id_claim(&outcome, "abort"),
        json!({ "name": "AbortError", "aborted": true, "onabort": 1 }),
        "{outcome:#}"
    );
    // The server saw the aborted request's connection close while the
    // execution was still running.
    assert_eq!(id_claim(&outcome, "slow_closed"), json!(1), "{outcome:#}");
}

#[tokio::test]
async fn set_interval_ticks_until_cleared_and_timers_answer_unref() {
    let port = upstream().await;
    let app = app_calling_local("web-fetch").await;

    let outcome = app.post_login_outcome(event_with_base(port)).await;

    assert_eq!(id_claim(&outcome, "ticks"), json!(3), "{outcome:#}");
    assert_eq!(id_claim(&outcome, "timer_unref"), json!(true));
}

#[tokio::test]
async fn an_abort_signal_timeout_on_a_slow_upstream_lets_the_action_deny_with_its_message() {
    let port = upstream().await;
    let app = app_calling_local("fetch-timeout").await;

    let started = std::time::Instant::now();
    let outcome = app.post_login_outcome(event_with_base(port)).await;

    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(
        outcome["error_description"],
        "The profile service did not answer in time (TimeoutError: The operation was aborted due to timeout)"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}

#[tokio::test]
async fn node_crypto_hashes_signatures_and_keys_agree_with_node() {
    let app = spawn_app_with(TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("node-crypto")],
    ))
    .await;

    let outcome = app.post_login_outcome(login_event()).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    let c = |k: &str| id_claim(&outcome, k);
    assert_eq!(c("md5"), json!("900150983cd24fb0d6963f7d28e17f72"));
    assert_eq!(c("sha1"), json!("a9993e364706816aba3e25717850c26c9cd0d89d"));
    assert_eq!(
        c("sha256"),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(c("sha512_b64url"), json!("z4PhNX7vuL3xVChQ"));
    // RFC 4231 test case 2, with a string key and with a KeyObject.
    let rfc4231 = json!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_eq!(c("hmac"), rfc4231);
    assert_eq!(c("hmac_key_object"), rfc4231);
    assert_eq!(c("subtle_hmac"), rfc4231);
    // The RS256 signature Node itself makes over the same input and key.
    assert_eq!(
        c("rs256"),
        json!(
            "h09MRNUsEjIoEghli14dJwatDWAbv9PZB+VVxrfNlf84NLiLHc2pC/VITZN2VAKIUZJF9FT5aUyWfoWZ2CymevY1Kkds1j0+OSboNdqXda0er95DdI+KdS0Ny0Wvcqta+gTXpOOJS/Wmly88PoZNKS/iI+MyLBXKwO7TKxz+zPp+4Mt+j+yigTe1koe0FTMf4sLwz2Dx1ZaDcsnknQJS9rDQuUuC15xCvf/EMV2AnlP8EcVGWv2BGr9UKz72DXlh3Sr44WtIyYFwysbe6bXMzNExA24HpAYG6TBFLk3vPkzhYXby1W2TuNhGxksP5GvFsLvjSgciN3ODo42fnKPGrA=="
        )
    );
    for yes in [
        "rs256_verifies",
        "rs256_jwk_verifies",
        "rsa_jwk_round_trip",
        "rsa_pem_round_trip",
        "ps256_verifies",
        "es256_der_verifies",
        "es256_raw_verifies_jwk",
        "ec_public_of_private",
        "subtle_es256_verifies",
        "subtle_es256_verifies_node",
        "subtle_rs256_same_as_node",
        "subtle_rs256_verifies",
        "subtle_exported_jwk",
    ] {
        assert_eq!(c(yes), json!(true), "{yes}: {outcome:#}");
    }
    assert_eq!(c("rs256_tampered"), json!(false));
    assert_eq!(
        c("rsa_key"),
        json!({ "type": "public", "asymmetricKeyType": "rsa", "modulusLength": 2048 })
    );
    assert_eq!(
        c("ec_key"),
        json!({ "type": "private", "asymmetricKeyType": "ec", "namedCurve": "prime256v1" })
    );
    assert_eq!(c("es256_raw_length"), json!(64));
    assert_eq!(c("subtle_es256_length"), json!(64));
    assert_eq!(
        c("subtle_digest"),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(c("key_object_from"), json!("ec"));
    assert_eq!(
        c("emitter"),
        json!({ "seen": [1, "once:1", 2], "value": "go", "count": 1 }),
        "{outcome:#}"
    );
    assert_eq!(c("emitter_error"), json!("boom"));
}

#[tokio::test]
async fn requiring_fs_net_or_child_process_is_refused_naming_the_module() {
    let app = spawn_app_with(TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("require-sandboxed")],
    ))
    .await;

    let outcome = app.post_login_outcome(login_event()).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    for name in ["fs", "net", "node:child_process"] {
        let message = id_claim(&outcome, name);
        let message = message.as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("'{name}'")) && !message.contains("loaded"),
            "{name}: {message}"
        );
    }
    assert_eq!(
        id_claim(&outcome, "allowed"),
        json!([
            "events",
            "stream",
            "string_decoder",
            "assert",
            "path",
            "os",
            "util",
            "buffer",
            "timers",
            "util/types",
            "perf_hooks",
            "node:process",
            "tty"
        ])
    );
}

#[tokio::test]
async fn node_built_ins_behave_like_node_for_the_packages_that_use_them() {
    let app = spawn_app_with(TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("node-builtins")],
    ))
    .await;

    let outcome = app.post_login_outcome(login_event()).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    let c = |k: &str| id_claim(&outcome, k);
    assert_eq!(c("classic_stream"), json!("payload"), "{outcome:#}");
    assert_eq!(c("decoder"), json!("|€|"));
    assert_eq!(
        c("path"),
        json!(["/a/c/d.js", "/y/z", "w", ".gz", "../../d", "/a"])
    );
    assert_eq!(c("assert"), json!("AssertionError:ERR_ASSERTION"));
    assert_eq!(c("stream"), json!("AB"));
    assert_eq!(
        c("process"),
        json!(["v22.12.0", "linux", "bigint", "[object Object]", "/"])
    );
    assert_eq!(
        c("buffer"),
        json!(["deadbeef", -2, "deadbeeffeff0000", "hi", "aGk", true, "hé€"])
    );
    assert_eq!(c("util"), json!([true, true, "symbol", "x=5"]));
    assert_eq!(c("ticks"), json!(2));
}

#[tokio::test]
async fn an_interval_left_running_by_a_login_never_ticks_in_a_later_one() {
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("leaves-interval")],
    );
    // One engine: both logins meet the same module instance.
    config.engine_extra = "workers = 1\ninline = false".to_owned();
    let app = spawn_app_with(config).await;

    let first = app.post_login_outcome(login_event()).await;
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    let second = app.post_login_outcome(login_event()).await;

    assert_eq!(first["outcome"], "allow", "{first:#}");
    assert_eq!(second["outcome"], "allow", "{second:#}");
    assert_eq!(id_claim(&second, "run"), json!(2), "same module instance");
}

#[tokio::test]
async fn calling_something_that_is_not_a_function_names_it_as_node_does() {
    let app = spawn_app_with(TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("calls-missing")],
    ))
    .await;

    let outcome = app.post_login_outcome(login_event()).await;
    let mut event = login_event();
    event["request"]["query"] = json!({ "case": "object" });
    let missing_object = app.post_login_outcome(event).await;

    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(
        outcome["error_description"],
        "api.access.denyWithReason is not a function"
    );
    // A missing object is named by QuickJS-NG itself.
    assert_eq!(
        missing_object["error_description"],
        "cannot read property 'addMember' of undefined"
    );
}
