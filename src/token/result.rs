//! The result token: the final outcome, signed for the upstream that
//! started the login and delivered at its `return_to`.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use super::{TokenError, now_secs};

/// How long a result token is valid: it only has to survive one browser
/// hop to `return_to`.
pub const RESULT_TTL_SECS: u64 = 120;

/// Who the result is for.
pub struct Audience<'a> {
    /// Detour's public URL (`iss`).
    pub issuer: &'a str,
    /// The upstream id (`aud`).
    pub upstream: &'a str,
    /// The upstream's own transaction id, echoed back.
    pub transaction_id: Option<&'a str>,
}

/// Signs the outcome object with the upstream's result secret, adding
/// `iss`, `aud`, `iat`, `exp`, `jti` and `transaction_id`.
pub fn sign(
    secret: &[u8],
    outcome: Map<String, Value>,
    audience: &Audience<'_>,
) -> Result<String, TokenError> {
    let mut claims = outcome;
    let now = now_secs();
    claims.insert("iss".into(), audience.issuer.into());
    claims.insert("aud".into(), audience.upstream.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + RESULT_TTL_SECS).into());
    claims.insert("jti".into(), uuid::Uuid::new_v4().to_string().into());
    if let Some(tx) = audience.transaction_id {
        claims.insert("transaction_id".into(), tx.into());
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| TokenError::Sign(e.to_string()))
}
