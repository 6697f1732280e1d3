//! The `/continue` state: a random, URL-safe capability handed to the
//! browser, and the hash of it that is the only thing the store ever sees.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes of randomness in a state: 256 bits, well past the 128 needed to
/// make guessing hopeless.
const STATE_BYTES: usize = 32;
/// Longest state accepted back; anything longer is not one of ours.
const MAX_STATE_LEN: usize = 128;

/// A state value as it travels through the browser.
#[derive(Clone, PartialEq, Eq)]
pub struct StateParam(String);

impl StateParam {
    /// A fresh state from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let bytes: [u8; STATE_BYTES] = rand::random();
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts a state that came back from a browser; `None` when it cannot
    /// be one Detour issued (empty, too long, or not URL-safe base64).
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_STATE_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    /// The raw value, for the redirect URL and token checks only.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The store key material for this state.
    pub fn key(&self) -> StateKey {
        StateKey(super::sha256_hex(self.0.as_bytes()))
    }
}

impl StateParam {
    /// Encrypts `text` under a key derived from this state, for a value the
    /// store must keep but must not be able to read or use (the external
    /// location of a bound login carries the state itself). Only a holder
    /// of the state, i.e. the browser coming back, can open it.
    pub fn seal(&self, text: &str) -> Option<String> {
        let key = self.sealing_key()?;
        let mut buf = text.as_bytes().to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key([0; NONCE_LEN]),
            Aad::empty(),
            &mut buf,
        )
        .ok()?;
        Some(URL_SAFE_NO_PAD.encode(buf))
    }

    /// Opens what [`StateParam::seal`] made with the same state.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let key = self.sealing_key()?;
        let mut buf = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key([0; NONCE_LEN]),
                Aad::empty(),
                &mut buf,
            )
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// AES-256-GCM under SHA-256 of a label and the state. The state is
    /// 256 random bits and each one seals one value, so a fixed nonce never
    /// repeats under a key.
    fn sealing_key(&self) -> Option<LessSafeKey> {
        let mut material = b"detour sealed value v1\0".to_vec();
        material.extend_from_slice(self.0.as_bytes());
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &material);
        UnboundKey::new(&AES_256_GCM, digest.as_ref())
            .ok()
            .map(LessSafeKey::new)
    }
}

impl std::fmt::Debug for StateParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the capability itself.
        write!(f, "StateParam({})", self.key().0)
    }
}

/// SHA-256 of a state, hex-encoded: safe to log and to use as a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateKey(String);

impl StateKey {
    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_states_are_url_safe_and_parse_back() {
        let s = StateParam::generate();
        assert_eq!(s.as_str().len(), 43);
        assert_eq!(StateParam::parse(s.as_str()), Some(s));
    }

    #[test]
    fn states_that_detour_never_issues_are_refused() {
        for bad in ["", "a b", "a/b", "x=1", &"a".repeat(129)] {
            assert!(StateParam::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_own_state() {
        let s = StateParam::generate();
        let sealed = s.seal("https://x.example/?state=abc").unwrap();
        assert!(!sealed.contains("x.example"));
        assert_eq!(
            s.open(&sealed).as_deref(),
            Some("https://x.example/?state=abc")
        );
        assert_eq!(StateParam::generate().open(&sealed), None);
        assert_eq!(s.open("tampered"), None);
    }

    #[test]
    fn the_key_is_the_hash_not_the_state() {
        let s = StateParam::parse("abc").unwrap();
        assert_eq!(
            s.key().as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
