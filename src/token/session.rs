//! `api.redirect.encodeToken` and `api.redirect.validateToken` semantics
//! (docs/auth0-compatibility.md#session-tokens-encodetoken--validatetoken).

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

use super::TokenError;

/// Signs `claims` with HS256 and header `typ: JWT`.
pub fn encode(secret: &[u8], claims: &Map<String, Value>) -> Result<String, TokenError> {
    let header = Header::new(Algorithm::HS256);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret))
        .map_err(TokenError::Sign)
}

/// What an incoming session token must match.
pub struct Expected<'a> {
    /// The `state` of this `/continue`.
    pub state: &'a str,
    /// The user id of the suspended login.
    pub sub: &'a str,
}

/// Checks an incoming session token and returns its claims. The error text
/// is the `<reason>` of `The session token is invalid: <reason>`.
pub fn validate(
    token: &str,
    secret: &[u8],
    expected: &Expected<'_>,
) -> Result<Map<String, Value>, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // No leeway: the token's lifetime is the external site's promise and a
    // replay window should not grow beyond it.
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.required_spec_claims.insert("exp".into());
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret),
        &validation,
    )
    .map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
        ErrorKind::MissingRequiredClaim(_) => TokenError::MissingClaims,
        _ => TokenError::Malformed,
    })?;
    let claims = data.claims;
    let has_number = |k: &str| claims.get(k).is_some_and(Value::is_number);
    let has_string = |k: &str| claims.get(k).is_some_and(Value::is_string);
    if !has_number("iat") || !has_string("iss") || !has_string("sub") {
        return Err(TokenError::MissingClaims);
    }
    if claims.get("sub").and_then(Value::as_str) != Some(expected.sub) {
        return Err(TokenError::WrongUser);
    }
    if claims.get("state").and_then(Value::as_str) != Some(expected.state) {
        return Err(TokenError::WrongState);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn now() -> i64 {
        i64::try_from(super::super::now_secs()).unwrap_or(0)
    }

    const EXPECTED: Expected<'static> = Expected {
        state: "st",
        sub: "auth0|1",
    };

    #[test]
    fn a_well_formed_token_round_trips() {
        let t = encode(
            b"k",
            &claims(json!({"iat": now(), "exp": now() + 60, "iss": "x", "sub": "auth0|1", "state": "st", "c": 1})),
        )
        .unwrap();
        assert_eq!(validate(&t, b"k", &EXPECTED).unwrap()["c"], 1);
    }

    #[test]
    fn each_defect_is_refused_with_its_reason() {
        let base =
            json!({"iat": now(), "exp": now() + 60, "iss": "x", "sub": "auth0|1", "state": "st"});
        type IsExpected = fn(&TokenError) -> bool;
        let cases: [(Value, IsExpected); 4] = [
            (json!({"exp": now() - 1}), |e| {
                matches!(e, TokenError::Expired)
            }),
            (json!({"state": "other"}), |e| {
                matches!(e, TokenError::WrongState)
            }),
            (json!({"sub": "auth0|2"}), |e| {
                matches!(e, TokenError::WrongUser)
            }),
            (json!({"iss": null}), |e| {
                matches!(e, TokenError::MissingClaims)
            }),
        ];
        for (patch, expected) in cases {
            let mut c = claims(base.clone());
            for (k, v) in claims(patch.clone()) {
                if v.is_null() {
                    c.remove(&k);
                } else {
                    c.insert(k, v);
                }
            }
            let t = encode(b"k", &c).unwrap();
            let err = validate(&t, b"k", &EXPECTED).unwrap_err();
            assert!(expected(&err), "{patch}: {err:?}");
        }
        let t = encode(b"k", &claims(base)).unwrap();
        assert!(matches!(
            validate(&t, b"wrong", &EXPECTED),
            Err(TokenError::BadSignature)
        ));
    }

    #[test]
    fn the_reasons_an_action_reads_keep_their_auth0_wording() {
        assert_eq!(TokenError::Expired.to_string(), "Token has expired.");
        assert_eq!(
            TokenError::MissingClaims.to_string(),
            "Missing or invalid standard claims"
        );
    }

    #[test]
    fn alg_none_is_refused() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let t = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(format!(
                r#"{{"iat":{0},"exp":{1},"iss":"x","sub":"auth0|1","state":"st"}}"#,
                now(),
                now() + 60
            ))
        );
        assert!(matches!(
            validate(&t, b"k", &EXPECTED),
            Err(TokenError::WrongAlgorithm | TokenError::Malformed)
        ));
    }
}
