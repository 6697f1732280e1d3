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
//!
//! The API client packages (axios, node-auth0, jose) are in
//! npm_real_clients.rs.

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
pub(crate) struct NpmAction {
    name: &'static str,
    packages: Vec<&'static str>,
    /// `event.secrets` name -> value (passed through the environment).
    secrets: Vec<(&'static str, String)>,
    pub(crate) allow_hosts: Vec<&'static str>,
}

impl NpmAction {
    pub(crate) fn new(name: &'static str, packages: &[&'static str]) -> NpmAction {
        NpmAction {
            name,
            packages: packages.to_vec(),
            secrets: Vec::new(),
            allow_hosts: vec!["127.0.0.1"],
        }
    }

    pub(crate) fn secret(mut self, name: &'static str, value: impl Into<String>) -> NpmAction {
        self.secrets.push((name, value.into()));
        self
    }
}

/// Starts Detour with `actions` loaded from `tests/fixtures/npm-real`, private
/// networks allowed (the servers of these tests are on 127.0.0.1).
pub(crate) async fn spawn_npm_app(actions: Vec<NpmAction>) -> TestApp {
    spawn_app_with(npm_config(actions)).await
}

/// The configuration of `spawn_npm_app`.
pub(crate) fn npm_config(actions: Vec<NpmAction>) -> TestConfig {
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
pub(crate) struct Seen {
    pub(crate) method: String,
    /// Path and query, as sent.
    pub(crate) target: String,
    /// Header names lower-cased.
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// What the local server answers.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
    pub(crate) delay: Duration,
}

pub(crate) type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A local server on 127.0.0.1: answers each request with `handler` and
/// keeps every request it received.
pub(crate) struct LocalServer {
    /// `http://127.0.0.1:<port>` (a TLS server's certificate names
    /// `localhost`: reach it as `https://localhost:<port>`).
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl LocalServer {
    /// A plain-HTTP server.
    pub(crate) async fn start(
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> LocalServer {
        LocalServer::listen(None, handler).await
    }

    pub(crate) async fn listen(
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
            seen,
        }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
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

pub(crate) fn id_claim(outcome: &Value, name: &str) -> Value {
    claim(outcome, "id_token", &format!("https://detour.test/{name}"))
        .cloned()
        .unwrap_or(Value::Null)
}

pub(crate) fn no_errors(outcome: &Value) {
    for execution in outcome["executions"].as_array().into_iter().flatten() {
        assert_eq!(execution["error"], Value::Null, "{outcome:#}");
    }
}

// ---- jsonwebtoken ----------------------------------------------------------

const HANDOFF_SECRET: &str = "handoff-shared-secret-4b9e2c7a1f";
const CONSENT_URL: &str = "https://consent.example.test/handoff";

/// An RSA key pair made by the openssl CLI for this test run only.
pub(crate) struct TestRsaKey {
    /// PKCS#8 PEM, for the Action's secrets.
    private_pem: String,
    /// SPKI PEM, for the Action's secrets.
    public_pem: String,
    /// The modulus, base64url (the JWK's `n`; `e` is 65537).
    pub(crate) modulus: String,
    /// PKCS#1 DER, for signing in the test.
    private_der: Vec<u8>,
}

impl TestRsaKey {
    pub(crate) fn generate() -> TestRsaKey {
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

    pub(crate) fn encoding_key(&self) -> EncodingKey {
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
        (seen[0].method.as_str(), seen[0].target.as_str()),
        ("POST", "/soap")
    );
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
