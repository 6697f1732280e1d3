//! Digests and HMACs under Node and WebCrypto algorithm names.

use aws_lc_rs::{digest as lc_digest, hmac as lc_hmac};
use md5::Digest as _;

/// The aws-lc digest of a Node or WebCrypto algorithm name.
pub(super) fn lc_alg(alg: &str) -> Option<&'static lc_digest::Algorithm> {
    Some(match alg.to_ascii_lowercase().as_str() {
        "sha256" | "sha-256" | "rsa-sha256" => &lc_digest::SHA256,
        "sha224" | "sha-224" | "rsa-sha224" => &lc_digest::SHA224,
        "sha384" | "sha-384" | "rsa-sha384" => &lc_digest::SHA384,
        "sha512" | "sha-512" | "rsa-sha512" => &lc_digest::SHA512,
        "sha1" | "sha-1" | "rsa-sha1" => &lc_digest::SHA1_FOR_LEGACY_USE_ONLY,
        _ => return None,
    })
}

/// The digest of `data` under a Node or WebCrypto algorithm name.
pub fn digest(alg: &str, data: &[u8]) -> Option<Vec<u8>> {
    if alg.eq_ignore_ascii_case("md5") {
        return Some(md5::Md5::digest(data).to_vec());
    }
    Some(lc_digest::digest(lc_alg(alg)?, data).as_ref().to_vec())
}

/// HMAC of `data` under `key` (MD5 is not offered: no current protocol
/// needs HMAC-MD5 and aws-lc-rs does not expose it).
pub fn hmac(alg: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let alg = match alg.to_ascii_lowercase().as_str() {
        "sha256" | "sha-256" => lc_hmac::HMAC_SHA256,
        "sha224" | "sha-224" => lc_hmac::HMAC_SHA224,
        "sha384" | "sha-384" => lc_hmac::HMAC_SHA384,
        "sha512" | "sha-512" => lc_hmac::HMAC_SHA512,
        "sha1" | "sha-1" => lc_hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        _ => return None,
    };
    Some(
        lc_hmac::sign(&lc_hmac::Key::new(alg, key), data)
            .as_ref()
            .to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn digests_and_hmacs_match_known_vectors() {
        assert_eq!(
            hex(&digest("md5", b"abc").unwrap()),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex(&digest("sha1", b"abc").unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&digest("SHA-256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac("sha256", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 2202 test case 2.
        assert_eq!(
            hex(&hmac("sha1", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert!(digest("md4", b"").is_none());
        assert!(hmac("md5", b"k", b"").is_none());
    }
}
