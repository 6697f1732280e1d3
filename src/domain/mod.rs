//! Small validated types shared by every layer.

pub mod state;

/// SHA-256 of `bytes` as lowercase hex: the one digest format Detour
/// stores and logs (state keys, binding cookies, Action source versions).
/// aws-lc's SHA-256 (assembly, SHA extensions where the CPU has them) and
/// a table for the hex: two of these per detour.
pub fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut hex = String::with_capacity(64);
    for b in digest.as_ref() {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

/// `T` from JSON bytes. The bytes are checked as UTF-8 once, in one pass,
/// and parsed as text: `serde_json::from_slice` checks every string it
/// reads again, which cost about 4.5 k instructions per login, 7 % of a
/// login without Actions (docs/performance.md). Bytes that are not UTF-8
/// get `from_slice`'s own error, with its position.
pub fn json_from_bytes<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// A random (version 4) UUID in its hyphenated form: login ids and result
/// token ids. Drawn from `rand`'s thread-local CSPRNG (seeded from the
/// operating system, like [`state::StateParam::generate`]), so it stays
/// unguessable without a system call per id.
pub fn random_uuid() -> String {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut text).to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_from_bytes_parses_text_and_names_where_bytes_are_not_utf8() {
        let v: serde_json::Value = super::json_from_bytes(br#"{"a":"\u00e9t\u00e9"}"#).unwrap();
        assert_eq!(v["a"], "été");
        let e = super::json_from_bytes::<serde_json::Value>(b"{\"a\":\"\xff\"}").unwrap_err();
        assert!(e.to_string().contains("column 7"), "{e}");
    }

    #[test]
    fn sha256_hex_is_the_lowercase_hex_digest() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn random_uuids_are_version_4_and_differ() {
        let a = super::random_uuid();
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(a, parsed.hyphenated().to_string());
        assert_ne!(a, super::random_uuid());
    }
}
