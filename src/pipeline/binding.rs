//! Browser binding: a suspended login can only be continued by the browser
//! that went on the detour.
//!
//! The upstream gets `location = <public_url>/redirect?state=…` instead of
//! the external site. That first visit sets a cookie holding a random
//! secret, records the secret's hash next to the login (first browser wins),
//! and forwards to the external site. `/continue` then requires the cookie
//! before it takes the login, so a stolen `state` is useless elsewhere, and
//! a wrong cookie cannot burn the legitimate user's login.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::domain::sha256_hex;
use crate::domain::state::StateKey;

/// A cookie to set on the browser.
#[derive(Debug, Clone)]
pub struct BindingCookie {
    /// Cookie name, unique per login so parallel logins in two tabs do not
    /// overwrite each other.
    pub name: String,
    /// The secret.
    pub value: String,
    /// Lifetime: the login's remaining lifetime.
    pub max_age: Duration,
}

/// The cookie name for a login.
pub fn cookie_name(key: &StateKey) -> String {
    format!("detour_b_{}", &key.as_str()[..16])
}

/// A fresh cookie and the hash to store.
pub fn new_cookie(key: &StateKey, max_age: Duration) -> (BindingCookie, String) {
    let secret: [u8; 32] = rand::random();
    let value = URL_SAFE_NO_PAD.encode(secret);
    let hash = hash(&value);
    (
        BindingCookie {
            name: cookie_name(key),
            value,
            max_age,
        },
        hash,
    )
}

/// Whether the presented cookie matches the stored hash.
pub fn matches(presented: Option<&str>, stored_hash: &str) -> bool {
    presented.is_some_and(|value| bool::from(hash(value).as_bytes().ct_eq(stored_hash.as_bytes())))
}

fn hash(value: &str) -> String {
    sha256_hex(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::state::StateParam;

    #[test]
    fn only_the_issued_cookie_matches() {
        let key = StateParam::generate().key();
        let (cookie, hash) = new_cookie(&key, Duration::from_secs(60));
        assert!(matches(Some(&cookie.value), &hash));
        assert!(!matches(Some("forged"), &hash));
        assert!(!matches(None, &hash));
        assert!(cookie.name.starts_with("detour_b_"));
    }
}
