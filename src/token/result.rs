//! The result token: the final outcome, signed for the upstream that
//! started the login and delivered at its `return_to`.

use std::sync::LazyLock;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde::ser::SerializeMap;
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

/// A fresh result token id (`jti`): a random UUID, which the upstream
/// remembers to refuse a replay and quotes to fetch the result's execution
/// details.
pub fn new_jti() -> String {
    crate::domain::random_uuid()
}

/// Signs the outcome object with the upstream's result secret, adding
/// `iss`, `aud`, `iat` (now), `exp`, `jti` (from [`new_jti`]) and
/// `transaction_id`.
pub fn sign(
    secret: &[u8],
    outcome: Map<String, Value>,
    audience: &Audience<'_>,
    jti: &str,
) -> Result<String, TokenError> {
    sign_at(secret, outcome, audience, jti, now_secs())
}

/// [`sign`], issued at `now` (Unix seconds) as read from the caller's
/// clock.
pub fn sign_at(
    secret: &[u8],
    outcome: Map<String, Value>,
    audience: &Audience<'_>,
    jti: &str,
    now: u64,
) -> Result<String, TokenError> {
    sign_fields_at(secret, &outcome, audience, jti, now)
}

/// The fields a result token's claims start with: the outcome object,
/// as a map or written by the caller.
pub trait OutcomeFields {
    /// Writes the fields into the claims object; `claim` is the value of
    /// a claim of that name, which replaces the field in place.
    fn serialize_fields<M: SerializeMap>(
        &self,
        map: &mut M,
        claim: impl Fn(&str) -> Option<Value>,
    ) -> Result<(), M::Error>;

    /// Whether the outcome has a field of this name (a claim of that name
    /// then took its place instead of following the outcome).
    fn has_field(&self, name: &str) -> bool;
}

impl OutcomeFields for Map<String, Value> {
    fn serialize_fields<M: SerializeMap>(
        &self,
        map: &mut M,
        claim: impl Fn(&str) -> Option<Value>,
    ) -> Result<(), M::Error> {
        for (key, value) in self {
            match claim(key) {
                Some(claim) => map.serialize_entry(key, &claim)?,
                None => map.serialize_entry(key, value)?,
            }
        }
        Ok(())
    }

    fn has_field(&self, name: &str) -> bool {
        self.contains_key(name)
    }
}

/// An upstream's result secret as an HMAC-SHA256 key, made once (when the
/// configuration loads) rather than for every token.
#[derive(Clone)]
pub struct ResultKey(hmac::Key);

impl ResultKey {
    /// The key of `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }
}

/// The token's header, `{"typ":"JWT","alg":"HS256"}` as jsonwebtoken
/// writes it, base64url-encoded once.
static HEADER: LazyLock<String> = LazyLock::new(|| {
    let header = serde_json::to_vec(&Header::new(Algorithm::HS256)).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(header)
});

/// [`sign_at`] for an outcome given as its [`OutcomeFields`], so the
/// caller need not build its map.
pub fn sign_fields_at(
    secret: &[u8],
    outcome: &impl OutcomeFields,
    audience: &Audience<'_>,
    jti: &str,
    now: u64,
) -> Result<String, TokenError> {
    sign_fields_with(&ResultKey::new(secret), outcome, audience, jti, now)
        .map(ResultToken::into_string)
}

/// A signed result token: base64url segments joined by dots, characters
/// that URL and form encoding leave as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultToken(String);

impl ResultToken {
    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token as a `String`.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// [`sign_fields_at`] with the upstream's [`ResultKey`]: the same token,
/// the compact JWS jsonwebtoken would write, without a key made per token.
pub fn sign_fields_with(
    key: &ResultKey,
    outcome: &impl OutcomeFields,
    audience: &Audience<'_>,
    jti: &str,
    now: u64,
) -> Result<ResultToken, TokenError> {
    let claims = Claims {
        outcome,
        registered: [
            ("iss", Value::from(audience.issuer)),
            ("aud", Value::from(audience.upstream)),
            ("iat", Value::from(now)),
            ("exp", Value::from(now + RESULT_TTL_SECS)),
            ("jti", Value::from(jti)),
            (
                "transaction_id",
                audience.transaction_id.map(Value::from).unwrap_or_default(),
            ),
        ],
    };
    let payload = serde_json::to_vec(&claims).map_err(|e| TokenError::Sign(e.into()))?;
    let mut token = String::with_capacity(HEADER.len() + payload.len() * 4 / 3 + 48);
    token.push_str(&HEADER);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = hmac::sign(&key.0, token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
    Ok(ResultToken(token))
}

/// The outcome with the token's own claims, serialized as if each claim
/// were inserted into the outcome's map (a claim replaces a field of its
/// name in place, the others follow in order) without rebuilding the map.
/// A `null` `transaction_id` is left out.
struct Claims<'a, O> {
    outcome: &'a O,
    registered: [(&'static str, Value); 6],
}

impl<O> Claims<'_, O> {
    fn claim(&self, name: &str) -> Option<&Value> {
        self.registered
            .iter()
            .find(|(n, v)| *n == name && !v.is_null())
            .map(|(_, v)| v)
    }
}

impl<O: OutcomeFields> serde::Serialize for Claims<'_, O> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.outcome
            .serialize_fields(&mut map, |key| self.claim(key).cloned())?;
        for (name, value) in &self.registered {
            if !value.is_null() && !self.outcome.has_field(name) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// Verifies a result token the way an upstream must: HS256 only, the
/// upstream's secret, unexpired, `aud` = the upstream id and `iss` =
/// Detour's public URL. Returns the claims (the outcome plus `iss`, `aud`,
/// `iat`, `exp`, `jti`, `transaction_id`). Upstreams written in Rust can
/// call this; others do the same with their JWT library.
pub fn verify(
    token: &str,
    secret: &[u8],
    audience: &Audience<'_>,
) -> Result<Map<String, Value>, TokenError> {
    use jsonwebtoken::{DecodingKey, Validation};
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_audience(&[audience.upstream]);
    validation.set_issuer(&[audience.issuer]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    let claims = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret),
        &validation,
    )
    .map_err(TokenError::InvalidResult)?
    .claims;
    if let Some(expected) = audience.transaction_id
        && claims.get("transaction_id").and_then(Value::as_str) != Some(expected)
    {
        return Err(TokenError::WrongTransaction);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::EncodingKey;
    use serde_json::json;

    const AUDIENCE: Audience<'static> = Audience {
        issuer: "https://detour.example",
        upstream: "demo",
        transaction_id: Some("tx-1"),
    };

    fn outcome() -> Map<String, Value> {
        json!({"outcome": "allow", "executions": []})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn a_result_token_verifies_for_its_upstream() {
        let token = sign(b"secret", outcome(), &AUDIENCE, &new_jti()).unwrap();
        let claims = verify(&token, b"secret", &AUDIENCE).unwrap();
        assert_eq!(claims["outcome"], "allow");
        assert_eq!(claims["transaction_id"], "tx-1");
    }

    #[test]
    fn forged_or_misdirected_result_tokens_are_refused() {
        let token = sign(b"secret", outcome(), &AUDIENCE, &new_jti()).unwrap();
        // Wrong key.
        assert!(verify(&token, b"other", &AUDIENCE).is_err());
        // Wrong audience, issuer or transaction.
        for audience in [
            Audience {
                upstream: "other",
                ..AUDIENCE
            },
            Audience {
                issuer: "https://evil.example",
                ..AUDIENCE
            },
        ] {
            assert!(matches!(
                verify(&token, b"secret", &audience),
                Err(TokenError::InvalidResult(_))
            ));
        }
        let other_transaction = Audience {
            transaction_id: Some("tx-2"),
            ..AUDIENCE
        };
        assert!(matches!(
            verify(&token, b"secret", &other_transaction),
            Err(TokenError::WrongTransaction)
        ));
        // Tampered payload, same signature.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["outcome"] = json!("allow-everything");
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(verify(&parts.join("."), b"secret", &AUDIENCE).is_err());
        // alg: none.
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert!(verify(&unsigned, b"secret", &AUDIENCE).is_err());
    }

    /// The claims `sign_at(_, _, &AUDIENCE, "j1", 1000)` adds, in its order.
    fn insert_registered_claims(claims: &mut Map<String, Value>) {
        for (k, v) in [
            ("iss", json!(AUDIENCE.issuer)),
            ("aud", json!(AUDIENCE.upstream)),
            ("iat", json!(1000)),
            ("exp", json!(1000 + RESULT_TTL_SECS)),
            ("jti", json!("j1")),
            ("transaction_id", json!("tx-1")),
        ] {
            claims.insert(k.into(), v);
        }
    }

    #[test]
    fn the_claims_read_as_the_outcome_with_each_claim_inserted() {
        let mut outcome = outcome();
        outcome.insert("jti".into(), json!("from-the-outcome"));
        let token = sign_at(b"secret", outcome.clone(), &AUDIENCE, "j1", 1000).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let mut expected = outcome;
        insert_registered_claims(&mut expected);
        assert_eq!(text, serde_json::to_string(&expected).unwrap());
        let no_tx = Audience {
            transaction_id: None,
            ..AUDIENCE
        };
        let token = sign_at(b"secret", super::tests::outcome(), &no_tx, "j1", 1000).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(claims.get("transaction_id").is_none());
    }

    #[test]
    fn the_token_is_the_one_jsonwebtoken_writes() {
        let mut claims = outcome();
        claims.insert("note".into(), json!("é \u{1F600} </script>"));
        let token = sign_at(b"secret", claims.clone(), &AUDIENCE, "j1", 1000).unwrap();
        insert_registered_claims(&mut claims);
        let expected = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert_eq!(token, expected);
    }

    #[test]
    fn an_expired_result_token_is_refused() {
        let mut claims = outcome();
        let past = now_secs() - 600;
        claims.insert("iss".into(), AUDIENCE.issuer.into());
        claims.insert("aud".into(), AUDIENCE.upstream.into());
        claims.insert("iat".into(), past.into());
        claims.insert("exp".into(), (past + 1).into());
        claims.insert("transaction_id".into(), "tx-1".into());
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        let err = verify(&token, b"secret", &AUDIENCE).unwrap_err();
        assert!(
            matches!(&err, TokenError::InvalidResult(cause)
                if *cause.kind() == jsonwebtoken::errors::ErrorKind::ExpiredSignature),
            "{err:?}"
        );
    }
}
