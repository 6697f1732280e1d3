//! Hashes, HMACs, random bytes and WHATWG URL parsing for the JS globals
//! and Node built-ins (`crypto`, `URL`). Bytes cross the engine boundary as
//! lowercase hex, URLs as JSON of their WHATWG components.

use serde_json::{Value, json};
use sha2::Digest;

/// `(digest, block size)` of a supported algorithm, Node's names.
pub fn digest(alg: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match alg.to_ascii_lowercase().as_str() {
        "sha256" | "sha-256" => sha2::Sha256::digest(data).to_vec(),
        "sha224" | "sha-224" => sha2::Sha224::digest(data).to_vec(),
        "sha384" | "sha-384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" | "sha-512" => sha2::Sha512::digest(data).to_vec(),
        "sha1" | "sha-1" => sha1(data).to_vec(),
        _ => return None,
    })
}

fn block_size(alg: &str) -> usize {
    match alg.to_ascii_lowercase().as_str() {
        "sha384" | "sha-384" | "sha512" | "sha-512" => 128,
        _ => 64,
    }
}

/// HMAC (RFC 2104) over [`digest`].
pub fn hmac(alg: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let block = block_size(alg);
    let mut key = if key.len() > block {
        digest(alg, key)?
    } else {
        key.to_vec()
    };
    key.resize(block, 0);
    let mut inner: Vec<u8> = key.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(data);
    let inner = digest(alg, &inner)?;
    let mut outer: Vec<u8> = key.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&inner);
    digest(alg, &outer)
}

/// SHA-1 (FIPS 180-4): still used by HMAC-SHA1 webhooks and TOTP.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hex; `None` on odd length or a non-hex digit.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `n` random bytes from the OS-seeded thread generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

fn url_parts(u: &url::Url) -> Value {
    use url::quirks;
    json!({
        "ok": true,
        "href": quirks::href(u), "origin": quirks::origin(u), "protocol": quirks::protocol(u),
        "username": quirks::username(u), "password": quirks::password(u), "host": quirks::host(u),
        "hostname": quirks::hostname(u), "port": quirks::port(u), "pathname": quirks::pathname(u),
        "search": quirks::search(u), "hash": quirks::hash(u),
    })
}

/// `new URL(input, base)`: the WHATWG components, or `{ok: false}`.
pub fn parse_url(input: &str, base: Option<&str>) -> String {
    let parsed = match base {
        Some(base) => url::Url::parse(base).and_then(|b| b.join(input)),
        None => url::Url::parse(input),
    };
    match parsed {
        Ok(u) => url_parts(&u),
        Err(e) => json!({ "ok": false, "error": format!("Invalid URL: {input} ({e})") }),
    }
    .to_string()
}

/// A WHATWG URL setter (`url.pathname = ...`): the new components.
pub fn set_url(href: &str, field: &str, value: &str) -> String {
    use url::quirks;
    let Ok(mut u) = url::Url::parse(href) else {
        return json!({ "ok": false, "error": format!("Invalid URL: {href}") }).to_string();
    };
    let result = match field {
        "href" => quirks::set_href(&mut u, value).map_err(|e| e.to_string()),
        "protocol" => quirks::set_protocol(&mut u, value).map_err(|()| String::new()),
        "username" => quirks::set_username(&mut u, value).map_err(|()| String::new()),
        "password" => quirks::set_password(&mut u, value).map_err(|()| String::new()),
        "host" => quirks::set_host(&mut u, value).map_err(|()| String::new()),
        "hostname" => quirks::set_hostname(&mut u, value).map_err(|()| String::new()),
        "port" => quirks::set_port(&mut u, value).map_err(|()| String::new()),
        "pathname" => {
            quirks::set_pathname(&mut u, value);
            Ok(())
        }
        "search" => {
            quirks::set_search(&mut u, value);
            Ok(())
        }
        "hash" => {
            quirks::set_hash(&mut u, value);
            Ok(())
        }
        _ => Ok(()),
    };
    match result {
        Err(e) if field == "href" => {
            json!({ "ok": false, "error": format!("Invalid URL: {value} ({e})") }).to_string()
        }
        // Like browsers, other invalid assignments leave the URL unchanged.
        _ => url_parts(&u).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_hmacs_match_known_vectors() {
        assert_eq!(
            to_hex(&digest("sha1", b"abc").unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            to_hex(&digest("sha256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            to_hex(&hmac("sha256", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 2202 test case 2.
        assert_eq!(
            to_hex(&hmac("sha1", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert!(digest("md4", b"").is_none());
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(from_hex(&to_hex(&[0, 255, 16])), Some(vec![0, 255, 16]));
        assert_eq!(from_hex("abc"), None);
    }
}
