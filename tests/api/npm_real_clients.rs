//! Real API client packages in real Actions, each against a local server
//! standing in for the API it calls: axios (its CommonJS browser build,
//! picked by the `browser` condition, on Detour's fetch), node-auth0 v4's
//! `ManagementClient` (over TLS, with a test CA), and jose 5 fetching a
//! remote JWKS (its Node build's `https.get`, which Detour carries over
//! fetch, so `allow_hosts` and the private-address guard still apply).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::helpers::process::DetourProcess;
use crate::helpers::tls::TestCa;
use crate::helpers::tokens::now;
use crate::helpers::{PreparedConfig, USER_EMAIL, USER_ID, login_event};
use crate::npm_real::{
    LocalServer, NpmAction, Reply, Seen, TestRsaKey, id_claim, no_errors, npm_config, spawn_npm_app,
};

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {} body is not JSON ({e}): {}",
                self.method, self.target, self.body
            )
        })
    }
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

impl LocalServer {
    /// An HTTPS server with `ca`'s certificate for `localhost`.
    async fn start_tls(
        ca: &TestCa,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> LocalServer {
        LocalServer::listen(Some(tls_acceptor(ca)), handler).await
    }

    /// The port it listens on.
    fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the URL")
    }
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
    let domain = format!("localhost:{}", tenant.port());
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
