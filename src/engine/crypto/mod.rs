//! Hashes, HMACs, signatures, key import and random bytes for the JS
//! globals and Node built-ins (`crypto`, `crypto.subtle`), all from
//! aws-lc-rs (already in the tree through rustls and jsonwebtoken) except
//! MD5, which aws-lc-rs does not expose (the `md-5` crate). Nothing here is
//! hand-written cryptography: this module only picks algorithms and moves
//! key material between the formats Node speaks (PEM, DER, JWK).
//!
//! Bytes cross the engine boundary as standard base64 (QuickJS-NG encodes
//! and decodes it natively with `Uint8Array.fromBase64`/`toBase64`), keys
//! and URLs as JSON.
//!
//! One file per concern: digests and HMACs (`digest.rs`), random bytes
//! (`random.rs`), the curves Detour knows and their SPKI prefixes
//! (`curves.rs`), key import between PEM, DER and JWK (`keys.rs`), signing
//! and verifying (`signatures.rs`).

mod curves;
mod digest;
mod keys;
mod random;
mod signatures;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub use digest::{digest, hmac};
pub use keys::import_key;
pub use random::random_bytes;
pub use signatures::{Scheme, sign, verify};

/// Standard base64, the byte encoding of the engine boundary.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes boundary base64.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}
