//! Small validated types shared by every layer.

pub mod state;

use sha2::{Digest, Sha256};

/// SHA-256 of `bytes` as lowercase hex: the one digest format Detour
/// stores and logs (state keys, binding cookies, Action source versions).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
