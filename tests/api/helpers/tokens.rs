//! Minting and checking the JWTs that cross Detour's edges: the session token
//! an external site receives and sends back, and the result token the
//! upstream receives at `return_to`.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, TokenData, Validation};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Signs `claims` with HS256 (header `typ: JWT`), as an external site does.
pub fn sign_hs256(secret: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("JWT".to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign a test token")
}

/// The claims an external site puts into the token it sends back to
/// `/continue`: `state`, `sub`, `iss`, `iat`, `exp` (5 minutes ahead).
/// Tests change or add claims on the returned value before signing it.
pub fn returned_token_claims(state: &str, sub: &str) -> Value {
    let iat = now();
    json!({
        "state": state,
        "sub": sub,
        "iss": "https://my-app.example.com",
        "iat": iat,
        "exp": iat + 300,
    })
}

/// Verifies a session token minted by `api.redirect.encodeToken`: HS256
/// signature with `secret`, not expired, `iat`/`iss`/`sub` present.
pub fn verify_session_token(secret: &str, token: &str) -> TokenData<Value> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .unwrap_or_else(|e| panic!("session token {token} does not verify: {e}"))
}

/// Verifies a result token the way an upstream does: HS256 with its result
/// secret, `aud` = its id, `iss` = Detour's public URL, not expired.
/// Returns the claims.
pub fn verify_result_token(secret: &str, audience: &str, issuer: &str, token: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .unwrap_or_else(|e| panic!("result token {token} does not verify: {e}"))
    .claims
}
