//! HS256 tokens: the session tokens Actions exchange with external sites
//! ([`session`]) and the result tokens Detour hands to upstreams
//! ([`result`]). Only HS256 is accepted anywhere; `alg: none` and every
//! other algorithm are refused before any claim is read.

pub mod result;
pub mod session;

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A token could not be made or checked. Each refusal is its own variant;
/// the text of a session-token refusal is the `<reason>` an Action reads
/// in `The session token is invalid: <reason>` (Auth0's wording where
/// Auth0 has one).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signing failed (it cannot, for HS256, short of a bug in the backend).
    #[error("cannot sign the token")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// The token's `exp` has passed.
    #[error("Token has expired.")]
    Expired,
    /// The signature does not match the secret.
    #[error("invalid signature.")]
    BadSignature,
    /// The token is signed with another algorithm than HS256 (or none).
    #[error("the token must be signed with HS256.")]
    WrongAlgorithm,
    /// `exp`, `iat`, `iss` or `sub` is missing or of the wrong type.
    #[error("Missing or invalid standard claims")]
    MissingClaims,
    /// The token is not a JWT.
    #[error("the token is malformed.")]
    Malformed,
    /// The session token's `sub` is not the user of the login.
    #[error("The sub claim does not match the user of this login.")]
    WrongUser,
    /// The session token's `state` is not the `/continue` state.
    #[error("State in the token does not match the /continue state.")]
    WrongState,
    /// A result token failed its signature, expiry, `aud` or `iss` check.
    #[error("the result token is invalid")]
    InvalidResult(#[source] jsonwebtoken::errors::Error),
    /// A result token carries another `transaction_id`.
    #[error("the result token is for another transaction")]
    WrongTransaction,
}
