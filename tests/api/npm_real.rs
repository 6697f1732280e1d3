//! Real npm packages inside real Actions: axios, node-auth0's
//! `ManagementClient`, jsonwebtoken, jose, @xmldom/xmldom + xpath,
//! ipaddr.js, and ioredis (refused). Each Action talks to a server this
//! test starts on 127.0.0.1, and each test asserts what the upstream (and
//! that server) sees.
//!
//! Layout: `tests/fixtures/npm-real/package.json` pins the packages and its
//! lockfile; `npm ci --ignore-scripts` there (scripts/test.sh does it)
//! fills `tests/fixtures/npm-real/node_modules`. The Actions live in
//! `tests/fixtures/npm-real/actions/`; the whole directory is copied into the
//! config's directory, the actions root (`TestConfig::tree`), so the Actions
//! find `node_modules` the way an operator's do. Each Action declares its
//! `dependencies` with the versions pinned in package.json.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::helpers::process::DetourProcess;
use crate::helpers::tls::TestCa;
use crate::helpers::tokens::now;
use crate::helpers::{
    ExternalVisit, PreparedConfig, RETURN_TO, StoreKind, TestApp, TestConfig, USER_EMAIL, USER_ID,
    claim, error_chain, login_event, result_from_redirect, spawn_app_with,
};

/// `tests/fixtures/npm-real`: the package.json, node_modules and the Actions.
fn npm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npm-real")
}

/// The version of `package` pinned in the fixtures' package.json.
fn pinned(package: &str) -> String {
    let text = std::fs::read_to_string(npm_dir().join("package.json")).expect("package.json");
    let manifest: Value = serde_json::from_str(&text).expect("package.json is JSON");
    manifest["dependencies"][package]
        .as_str()
        .unwrap_or_else(|| panic!("{package} is not pinned in package.json"))
        .to_owned()
}

/// One `[[actions]]` entry of an npm fixture Action.
struct NpmAction {
    name: &'static str,
    packages: Vec<&'static str>,
    /// `event.secrets` name -> value (passed through the environment).
    secrets: Vec<(&'static str, String)>,
    allow_hosts: Vec<&'static str>,
}

impl NpmAction {
    fn new(name: &'static str, packages: &[&'static str]) -> NpmAction {
        NpmAction {
            name,
            packages: packages.to_vec(),
            secrets: Vec::new(),
            allow_hosts: vec!["127.0.0.1"],
        }
    }

    fn secret(mut self, name: &'static str, value: impl Into<String>) -> NpmAction {
        self.secrets.push((name, value.into()));
        self
    }
}

/// Starts Detour with `actions` loaded from `tests/fixtures/npm-real`, private
/// networks allowed (the servers of these tests are on 127.0.0.1).
async fn spawn_npm_app(actions: Vec<NpmAction>) -> TestApp {
    spawn_app_with(npm_config(actions)).await
}

/// The configuration of `spawn_npm_app`.
fn npm_config(actions: Vec<NpmAction>) -> TestConfig {
    assert!(
        npm_dir().join("node_modules").is_dir(),
        "tests/fixtures/npm-real/node_modules is missing: run scripts/test.sh, or \
         `npm ci --ignore-scripts --no-audit --no-fund` in tests/fixtures/npm-real"
    );
    let mut config = TestConfig::new(StoreKind::InMemory, Vec::new());
    // The whole tree (Actions, package.json, node_modules) is copied into
    // the config's directory, the actions root.
    config.tree = Some("npm-real");
    config.engine_extra = "allow_private_networks = true\n".to_owned();
    for action in &actions {
        let dependencies = action
            .packages
            .iter()
            .map(|p| format!("\"{p}\" = \"{}\"", pinned(p)))
            .collect::<Vec<_>>()
            .join(", ");
        let hosts = action
            .allow_hosts
            .iter()
            .map(|h| format!("\"{h}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut secrets = Vec::new();
        for (name, value) in &action.secrets {
            let var = format!(
                "NPM_{}_{name}",
                action.name.replace('-', "_").to_uppercase()
            );
            secrets.push(format!("{name} = \"{var}\""));
            config.env.insert(var, value.clone());
        }
        config.extra_toml.push_str(&format!(
            "\n[[actions]]\nname = \"{}\"\nfile = \"actions/{}.js\"\n\
             dependencies = {{ {dependencies} }}\nallow_hosts = [{hosts}]\nsecrets = {{ {} }}\n",
            action.name,
            action.name,
            secrets.join(", ")
        ));
    }
    config
}

// ---- a local HTTP server that records what it is sent ----------------------

/// One request as the local server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// Path and query, as sent.
    target: String,
    /// Header names lower-cased.
    headers: HashMap<String, String>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {} body is not JSON ({e}): {}",
                self.method, self.target, self.body
            )
        })
    }
}

/// What the local server answers.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A local server on 127.0.0.1: answers each request with `handler` and
/// keeps every request it received.
struct LocalServer {
    /// `http://127.0.0.1:<port>` (for a TLS server: `https://localhost:<port>`
    /// is the name its certificate carries).
    url: String,
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl LocalServer {
    /// A plain-HTTP server.
    async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> LocalServer {
        LocalServer::listen(None, handler).await
    }

    /// An HTTPS server with `ca`'s certificate for `localhost`.
    async fn start_tls(
        ca: &TestCa,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> LocalServer {
        LocalServer::listen(Some(tls_acceptor(ca)), handler).await
    }

    async fn listen(
        tls: Option<TlsAcceptor>,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> LocalServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let handler = handler.clone();
                let log = log.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(socket).await {
                                serve(stream, &*handler, &log).await;
                            }
                        }
                        None => serve(socket, &*handler, &log).await,
                    }
                });
            }
        });
        LocalServer {
            url: format!("http://127.0.0.1:{port}"),
            port,
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

/// Answers one request on `stream` and records it.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: &Handler,
    log: &Mutex<Vec<Seen>>,
) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    log.lock().expect("log").push(request.clone());
    let reply = handler(&request);
    tokio::time::sleep(reply.delay).await;
    let head = format!(
        "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(reply.body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads one HTTP/1.1 request with a `Content-Length` body (what Detour's
/// client sends for the bodies these Actions build).
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let mut lines = head.lines();
        let mut first = lines.next()?.split(' ');
        let method = first.next()?.to_owned();
        let target = first.next()?.to_owned();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length = headers
            .get("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
            return Some(Seen {
                method,
                target,
                headers,
                body,
            });
        }
    }
}

/// Runs the openssl CLI; its stdout.
fn openssl(args: &[&str]) -> String {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl CLI runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A TLS acceptor with `ca`'s server certificate (`localhost`, 127.0.0.1).
fn tls_acceptor(ca: &TestCa) -> TlsAcceptor {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cert = CertificateDer::from_pem_file(ca.server_cert()).expect("the server certificate");
    let key = PrivateKeyDer::from_pem_file(ca.server_key()).expect("the server key");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("the test certificate");
    TlsAcceptor::from(Arc::new(config))
}

fn id_claim(outcome: &Value, name: &str) -> Value {
    claim(outcome, "id_token", &format!("https://detour.test/{name}"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn no_errors(outcome: &Value) {
    for execution in outcome["executions"].as_array().into_iter().flatten() {
        assert_eq!(execution["error"], Value::Null, "{outcome:#}");
    }
}

// ---- axios -----------------------------------------------------------------

const CRM_KEY: &str = "crm-key-7d1f0a";

async fn crm_server(delay: Duration) -> LocalServer {
    LocalServer::start(move |seen| {
        let mut reply = if seen.method == "GET" {
            Reply::json(200, json!({ "tier": "gold", "region": "eu-west" }))
        } else {
            Reply::json(201, json!({ "risk": 12 }))
        };
        reply.delay = delay;
        reply
    })
    .await
}

#[tokio::test]
async fn axios_sends_the_crm_its_headers_query_and_json_and_the_claims_come_from_the_answers() {
    // Arrange
    let crm = crm_server(Duration::ZERO).await;
    let app = spawn_npm_app(vec![
        NpmAction::new("axios-crm", &["axios"])
            .secret("CRM_URL", crm.url.clone())
            .secret("CRM_API_KEY", CRM_KEY),
    ])
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert: what the upstream sees.
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    no_errors(&outcome);
    assert_eq!(id_claim(&outcome, "tier"), json!("gold"));
    assert_eq!(id_claim(&outcome, "region"), json!("eu-west"));
    assert_eq!(id_claim(&outcome, "risk"), json!(12));
    assert_eq!(id_claim(&outcome, "risk_status"), json!(201));
    // And what the CRM saw.
    let seen = crm.seen();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    let (get, post) = (&seen[0], &seen[1]);
    assert_eq!(get.method, "GET");
    assert_eq!(
        get.target,
        "/users/auth0%7C5f7c8ec7c33c6c004bbafe82?fields=tier,region"
    );
    assert_eq!(get.header("x-api-key"), Some(CRM_KEY));
    assert_eq!(get.header("accept"), Some("application/json"));
    assert_eq!(post.method, "POST");
    assert_eq!(post.target, "/risk-scores");
    assert_eq!(post.header("x-api-key"), Some(CRM_KEY));
    assert!(
        post.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{post:#?}"
    );
    assert_eq!(
        post.json(),
        json!({ "email": USER_EMAIL, "ip": "203.0.113.7", "roles": ["admin", "editor"] })
    );
}

#[tokio::test]
async fn an_axios_timeout_against_a_slow_crm_is_caught_by_the_action_and_the_login_goes_on() {
    // Arrange: the CRM answers after 5 s; the Action gives axios 300 ms.
    let crm = crm_server(Duration::from_secs(5)).await;
    let app = spawn_npm_app(vec![
        NpmAction::new("axios-crm", &["axios"])
            .secret("CRM_URL", crm.url.clone())
            .secret("CRM_API_KEY", CRM_KEY)
            .secret("CRM_TIMEOUT_MS", "300"),
    ])
    .await;
    let started = std::time::Instant::now();

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(
        id_claim(&outcome, "crm"),
        json!("unavailable: timeout of 300ms exceeded")
    );
    assert_eq!(id_claim(&outcome, "tier"), Value::Null);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout did not cut the request short: {:?}",
        started.elapsed()
    );
}

// ---- jsonwebtoken ----------------------------------------------------------

const HANDOFF_SECRET: &str = "handoff-shared-secret-4b9e2c7a1f";
const CONSENT_URL: &str = "https://consent.example.test/handoff";

/// An RSA key pair made by the openssl CLI for this test run only.
struct TestRsaKey {
    /// PKCS#8 PEM, for the Action's secrets.
    private_pem: String,
    /// SPKI PEM, for the Action's secrets.
    public_pem: String,
    /// The modulus, base64url (the JWK's `n`; `e` is 65537).
    modulus: String,
    /// PKCS#1 DER, for signing in the test.
    private_der: Vec<u8>,
}

impl TestRsaKey {
    fn generate() -> TestRsaKey {
        let dir = tempfile::tempdir().expect("temp dir");
        let private = dir.path().join("test-only-private.pem");
        let der = dir.path().join("test-only-private.der");
        let run = openssl;
        let private_path = private.to_str().expect("UTF-8 path");
        let der_path = der.to_str().expect("UTF-8 path");
        run(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            private_path,
        ]);
        let public_pem = run(&["pkey", "-in", private_path, "-pubout"]);
        run(&[
            "rsa",
            "-in",
            private_path,
            "-traditional",
            "-outform",
            "DER",
            "-out",
            der_path,
        ]);
        let modulus = run(&["rsa", "-in", private_path, "-noout", "-modulus"]);
        let hex = modulus.trim().trim_start_matches("Modulus=");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex modulus"))
            .collect();
        TestRsaKey {
            private_pem: std::fs::read_to_string(&private).expect("read the private key"),
            public_pem,
            modulus: URL_SAFE_NO_PAD.encode(bytes),
            private_der: std::fs::read(&der).expect("read the DER key"),
        }
    }

    fn encoding_key(&self) -> EncodingKey {
        EncodingKey::from_rsa_der(&self.private_der)
    }

    fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_rsa_components(&self.modulus, "AQAB").expect("RSA components")
    }
}

/// The handoff token the Action put into the redirect, verified as the
/// consent site verifies it.
fn verify_handoff(visit: &ExternalVisit, algorithm: Algorithm, key: &DecodingKey) -> Value {
    let token = visit.param("handoff").expect("a handoff parameter");
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&["consent-site"]);
    validation.set_issuer(&["detour-action"]);
    let decoded = jsonwebtoken::decode::<Value>(token, key, &validation)
        .unwrap_or_else(|e| panic!("the handoff token does not verify: {e}"));
    assert_eq!(decoded.header.kid.as_deref(), Some("handoff-1"));
    decoded.claims
}

/// The consent site's answer: a token for the Action's `onContinuePostLogin`.
fn consent_token(algorithm: Algorithm, key: &EncodingKey) -> String {
    let iat = now();
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &json!({
            "iss": "consent-site", "aud": "detour-action", "sub": USER_ID,
            "iat": iat, "exp": iat + 300, "consent_version": "tos-2025-11",
        }),
        key,
    )
    .expect("sign the consent token")
}

async fn handoff_round_trip(
    app: &TestApp,
    algorithm: Algorithm,
    verify: &DecodingKey,
    sign: &EncodingKey,
) -> Value {
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    assert_eq!(
        format!(
            "{}://{}{}",
            visit.location.scheme(),
            visit.location.host_str().unwrap_or_default(),
            visit.location.path()
        ),
        CONSENT_URL
    );
    let handoff = verify_handoff(&visit, algorithm, verify);
    assert_eq!(handoff["sub"], USER_ID);
    assert_eq!(handoff["email"], USER_EMAIL);
    assert_eq!(handoff["roles"], json!(["admin", "editor"]));
    assert_eq!(
        handoff["exp"].as_i64().unwrap_or_default() - handoff["iat"].as_i64().unwrap_or_default(),
        300
    );

    let consent = consent_token(algorithm, sign);
    let response = app
        .continue_post(&[("state", &visit.state), ("consent", &consent)])
        .await;
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    result
}

#[tokio::test]
async fn an_hs256_handoff_signed_with_jsonwebtoken_round_trips_through_the_consent_site() {
    // Arrange
    let app = spawn_npm_app(vec![
        NpmAction::new("jsonwebtoken-handoff", &["jsonwebtoken"])
            .secret("HANDOFF_ALG", "HS256")
            .secret("HANDOFF_SECRET", HANDOFF_SECRET)
            .secret("CONSENT_URL", CONSENT_URL),
    ])
    .await;
    let key = HANDOFF_SECRET.as_bytes();

    // Act
    let result = handoff_round_trip(
        &app,
        Algorithm::HS256,
        &DecodingKey::from_secret(key),
        &EncodingKey::from_secret(key),
    )
    .await;

    // Assert
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(id_claim(&result, "consent"), json!("tos-2025-11"));
    assert_eq!(
        result["user"]["app_metadata"]["consent"]["version"], "tos-2025-11",
        "{result:#}"
    );
}

#[tokio::test]
async fn an_rs256_handoff_signed_with_jsonwebtoken_round_trips_through_the_consent_site() {
    // Arrange: Detour's Action signs with its key pair, the site with its own.
    let action_key = TestRsaKey::generate();
    let site_key = TestRsaKey::generate();
    let app = spawn_npm_app(vec![
        NpmAction::new("jsonwebtoken-handoff", &["jsonwebtoken"])
            .secret("HANDOFF_ALG", "RS256")
            .secret("HANDOFF_PRIVATE_KEY", action_key.private_pem.clone())
            .secret("SITE_PUBLIC_KEY", site_key.public_pem.clone())
            .secret("CONSENT_URL", CONSENT_URL),
    ])
    .await;

    // Act
    let result = handoff_round_trip(
        &app,
        Algorithm::RS256,
        &action_key.decoding_key(),
        &site_key.encoding_key(),
    )
    .await;

    // Assert
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(id_claim(&result, "consent"), json!("tos-2025-11"));
    assert_eq!(
        result["user"]["app_metadata"]["consent"]["version"], "tos-2025-11",
        "{result:#}"
    );
}

#[tokio::test]
async fn a_consent_token_signed_with_another_secret_denies_the_login() {
    // Arrange
    let app = spawn_npm_app(vec![
        NpmAction::new("jsonwebtoken-handoff", &["jsonwebtoken"])
            .secret("HANDOFF_ALG", "HS256")
            .secret("HANDOFF_SECRET", HANDOFF_SECRET)
            .secret("CONSENT_URL", CONSENT_URL),
    ])
    .await;

    // Act
    let result = handoff_round_trip(
        &app,
        Algorithm::HS256,
        &DecodingKey::from_secret(HANDOFF_SECRET.as_bytes()),
        &EncodingKey::from_secret(b"not-the-shared-secret-at-all-0000"),
    )
    .await;

    // Assert
    assert_eq!(result["outcome"], "deny", "{result:#}");
    assert_eq!(
        result["error_description"],
        "Consent token rejected: JsonWebTokenError: invalid signature"
    );
}

// ---- jose ------------------------------------------------------------------

const PARTNER_ISSUER: &str = "https://partner.example.test/";

fn partner_token(key: &TestRsaKey, kid: &str, plan: &str) -> String {
    let iat = now();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        &json!({ "iss": PARTNER_ISSUER, "aud": "detour", "sub": "partner-user-9",
                 "plan": plan, "iat": iat, "exp": iat + 300 }),
        &key.encoding_key(),
    )
    .expect("sign the partner token")
}

fn event_with_partner_token(token: &str) -> Value {
    let mut event = login_event();
    event["request"]["query"]["partner_token"] = json!(token);
    event
}

#[tokio::test]
async fn jose_verifies_a_partner_token_against_the_partners_jwks_endpoint() {
    // Arrange: the partner publishes one RSA key; a second key signs a forgery.
    let partner_key = TestRsaKey::generate();
    let stranger = TestRsaKey::generate();
    let jwks = json!({ "keys": [
        { "kty": "RSA", "kid": "partner-2025", "use": "sig", "alg": "RS256", "n": partner_key.modulus, "e": "AQAB" }
    ]});
    let partner = LocalServer::start(move |_| Reply::json(200, jwks.clone())).await;
    let app = spawn_npm_app(vec![
        NpmAction::new("jose-partner-token", &["jose"])
            .secret(
                "PARTNER_JWKS_URL",
                format!("{}/.well-known/jwks.json", partner.url),
            )
            .secret("PARTNER_ISSUER", PARTNER_ISSUER),
    ])
    .await;

    // Act
    let good = app
        .post_login_outcome(event_with_partner_token(&partner_token(
            &partner_key,
            "partner-2025",
            "enterprise",
        )))
        .await;
    let forged = app
        .post_login_outcome(event_with_partner_token(&partner_token(
            &stranger,
            "partner-2025",
            "enterprise",
        )))
        .await;

    // Assert
    assert_eq!(good["outcome"], "allow", "{good:#}");
    no_errors(&good);
    assert_eq!(id_claim(&good, "partner_sub"), json!("partner-user-9"));
    assert_eq!(id_claim(&good, "partner_plan"), json!("enterprise"));
    assert_eq!(id_claim(&good, "partner_kid"), json!("partner-2025"));
    assert_eq!(forged["outcome"], "deny", "{forged:#}");
    assert_eq!(
        forged["error_description"],
        "Partner token rejected: ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
    let seen = partner.seen();
    assert!(!seen.is_empty(), "the JWKS was never fetched");
    assert!(
        seen.iter()
            .all(|s| s.method == "GET" && s.target == "/.well-known/jwks.json"),
        "{seen:#?}"
    );
}

// ---- @xmldom/xmldom + xpath ------------------------------------------------

const SOAP_ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <GetEntitlementsResponse xmlns="urn:example:entitlements">
      <Account id="acct-42"/>
      <Entitlement name="reports"><Level>2</Level></Entitlement>
      <Entitlement name="billing"><Level>1</Level></Entitlement>
    </GetEntitlementsResponse>
  </soap:Body>
</soap:Envelope>"#;

#[tokio::test]
async fn xpath_reads_the_entitlements_from_the_soap_services_answer() {
    // Arrange
    let service = LocalServer::start(|_| Reply {
        status: 200,
        content_type: "text/xml; charset=utf-8",
        body: SOAP_ANSWER.to_owned(),
        delay: Duration::ZERO,
    })
    .await;
    let app = spawn_npm_app(vec![
        NpmAction::new("xml-soap-entitlements", &["@xmldom/xmldom", "xpath"])
            .secret("ENTITLEMENTS_URL", format!("{}/soap", service.url)),
    ])
    .await;

    // Act
    let outcome = app.post_login_outcome(login_event()).await;

    // Assert
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    no_errors(&outcome);
    assert_eq!(
        id_claim(&outcome, "entitlements"),
        json!([{ "name": "reports", "level": 2 }, { "name": "billing", "level": 1 }])
    );
    assert_eq!(id_claim(&outcome, "account"), json!("acct-42"));
    let seen = service.seen();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(
        seen[0].header("soapaction"),
        Some("urn:example:entitlements#GetEntitlements")
    );
    assert!(
        seen[0]
            .body
            .contains(&format!("<e:UserId>{USER_ID}</e:UserId>")),
        "{}",
        seen[0].body
    );
}

// ---- ipaddr.js -------------------------------------------------------------

#[tokio::test]
async fn ipaddr_matches_the_request_ip_against_the_corporate_ranges() {
    // Arrange
    let app = spawn_npm_app(vec![NpmAction::new(
        "ipaddr-corporate-network",
        &["ipaddr.js"],
    )])
    .await;
    let login_from = |ip: &str| {
        let mut event = login_event();
        event["request"]["ip"] = json!(ip);
        app.post_login_outcome(event)
    };

    // Act
    let inside_v4 = login_from("10.20.30.40").await;
    let mapped = login_from("::ffff:198.51.100.9").await;
    let inside_v6 = login_from("2001:db8:c0:1::5").await;
    let outside = login_from("203.0.113.7").await;

    // Assert
    assert_eq!(id_claim(&inside_v4, "network"), json!("corporate"));
    assert_eq!(id_claim(&inside_v4, "cidr"), json!("10.0.0.0/8"));
    assert_eq!(id_claim(&mapped, "cidr"), json!("198.51.100.0/24"));
    assert_eq!(id_claim(&mapped, "ip_kind"), json!("ipv4"));
    assert_eq!(id_claim(&inside_v6, "cidr"), json!("2001:db8:c0::/48"));
    assert_eq!(id_claim(&outside, "network"), json!("public"));
    assert_eq!(id_claim(&outside, "cidr"), Value::Null);
    for outcome in [&inside_v4, &mapped, &inside_v6, &outside] {
        assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
        no_errors(outcome);
    }
}

// ---- ioredis: refused ------------------------------------------------------

#[tokio::test]
async fn an_action_that_requires_ioredis_stops_start_up_with_a_message_naming_the_refused_module() {
    // Arrange: ioredis needs raw TCP (`net`), the file system and DNS. Its
    // first such require (`fs`, in built/utils) throws while the Action
    // loads, and an Action that throws while loading stops start-up, so the
    // operator learns it before any login.
    let config = npm_config(vec![
        NpmAction::new("ioredis-counter", &["ioredis"])
            .secret("REDIS_URL", "redis://127.0.0.1:6379"),
    ]);
    let prepared = PreparedConfig::new(&config, None);

    // Act
    let error = match prepared.load() {
        Err(e) => error_chain(&e),
        Ok(settings) => match detour::startup::Application::build(settings).await {
            Err(e) => format!("{e:#}"),
            Ok(_) => panic!("Detour started with an Action that requires ioredis"),
        },
    };

    // Assert: the message names the Action, the refused module and why.
    assert!(error.contains("ioredis-counter"), "{error}");
    let named = ["'fs'", "'net'", "'tls'", "'dns'"]
        .iter()
        .find(|m| error.contains(*m));
    assert!(
        named.is_some(),
        "the message names no refused module: {error}"
    );
    assert!(
        error.contains("Cannot use") && error.contains("in an Action"),
        "the message does not say why: {error}"
    );
}

// ---- node-auth0's ManagementClient ------------------------------------------

const OTHER_ACCOUNT: &str = "google-oauth2|109876543210";

/// The two Management API endpoints the Action calls and the
/// client-credentials token endpoint, as an Auth0 tenant answers them.
fn fake_tenant(seen: &Seen) -> Reply {
    let path = seen.target.split('?').next().unwrap_or_default();
    match (seen.method.as_str(), path) {
        ("POST", "/oauth/token") => Reply::json(
            200,
            json!({ "access_token": "mgmt-token-1", "token_type": "Bearer", "expires_in": 86400,
                    "scope": "read:users update:users" }),
        ),
        ("GET", "/api/v2/users-by-email") => Reply::json(
            200,
            json!([
                { "user_id": USER_ID, "email": USER_EMAIL, "app_metadata": {} },
                { "user_id": OTHER_ACCOUNT, "email": USER_EMAIL, "app_metadata": {} },
            ]),
        ),
        ("PATCH", p) if p.starts_with("/api/v2/users/") => {
            let body: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
            Reply::json(
                200,
                json!({ "user_id": USER_ID, "email": USER_EMAIL, "app_metadata": body["app_metadata"] }),
            )
        }
        _ => Reply::json(404, json!({ "statusCode": 404, "error": "Not Found" })),
    }
}

#[tokio::test]
async fn the_management_client_finds_the_duplicate_account_by_email_and_records_it_in_app_metadata()
{
    // Arrange: a fake tenant over TLS (node-auth0 only calls https://), its
    // CA trusted by the Detour process through SSL_CERT_FILE.
    let ca = TestCa::generate();
    let tenant = LocalServer::start_tls(&ca, fake_tenant).await;
    let domain = format!("localhost:{}", tenant.port);
    let mut action = NpmAction::new("auth0-link-duplicates", &["auth0"])
        .secret("AUTH0_DOMAIN", domain.clone())
        .secret("AUTH0_CLIENT_ID", "mgmt-client-id")
        .secret("AUTH0_CLIENT_SECRET", "mgmt-client-secret");
    action.allow_hosts = vec!["localhost"];
    // Its own process: trusting a test CA (SSL_CERT_FILE) is process-wide.
    // The binary reads the config next to a copy of the npm fixtures.
    let config = npm_config(vec![action]);
    let prepared = PreparedConfig::new(&config, None);
    let ca_file = ca.ca_cert().to_string_lossy().into_owned();
    let detour = DetourProcess::start(&prepared, &[("SSL_CERT_FILE", &ca_file)]);

    // Act
    let response = detour.post_login(login_event()).await;

    // Assert: what the upstream sees.
    let status = response.status();
    let outcome: Value = response.json().await.expect("a JSON outcome");
    assert_eq!(status, 200, "{outcome:#}\n{}", detour.log());
    assert_eq!(outcome["outcome"], "allow", "{outcome:#}\n{}", detour.log());
    no_errors(&outcome);
    assert_eq!(id_claim(&outcome, "duplicates"), json!([OTHER_ACCOUNT]));
    assert_eq!(
        outcome["user"]["app_metadata"]["duplicates_checked"],
        json!(true),
        "{outcome:#}"
    );
    // And what the tenant saw: a client-credentials grant, then the two calls
    // with its access token.
    let seen = tenant.seen();
    let calls: Vec<(String, String)> = seen
        .iter()
        .map(|s| (s.method.clone(), s.target.clone()))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("POST".to_owned(), "/oauth/token".to_owned()),
            (
                "GET".to_owned(),
                "/api/v2/users-by-email?email=jane.doe%40corp.test".to_owned()
            ),
            (
                "PATCH".to_owned(),
                "/api/v2/users/auth0%7C5f7c8ec7c33c6c004bbafe82".to_owned()
            ),
        ]
    );
    let grant: HashMap<String, String> = url::form_urlencoded::parse(seen[0].body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(grant["grant_type"], "client_credentials");
    assert_eq!(grant["client_id"], "mgmt-client-id");
    assert_eq!(grant["client_secret"], "mgmt-client-secret");
    assert_eq!(grant["audience"], format!("https://{domain}/api/v2/"));
    for call in &seen[1..] {
        assert_eq!(
            call.header("authorization"),
            Some("Bearer mgmt-token-1"),
            "{call:#?}"
        );
    }
    assert_eq!(
        seen[2].json(),
        json!({ "app_metadata": { "duplicate_accounts": [OTHER_ACCOUNT] } })
    );
}
