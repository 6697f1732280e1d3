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

/// A token could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signing failed (it cannot, for HS256, short of a bug in the backend).
    #[error("cannot sign token: {0}")]
    Sign(String),
    /// The token was refused; the text is safe to show to an Action.
    #[error("{0}")]
    Invalid(String),
}
