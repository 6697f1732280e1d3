//! Hashes, HMACs, signatures, key import and random bytes for the JS
//! globals and Node built-ins (`crypto`, `crypto.subtle`, `URL`), all from
//! aws-lc-rs (already in the tree through rustls and jsonwebtoken) except
//! MD5, which aws-lc-rs does not expose (the `md-5` crate). Nothing here is
//! hand-written cryptography: this module only picks algorithms and moves
//! key material between the formats Node speaks (PEM, DER, JWK).
//!
//! Bytes cross the engine boundary as standard base64 (QuickJS-NG encodes
//! and decodes it natively with `Uint8Array.fromBase64`/`toBase64`), keys
//! and URLs as JSON.

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use aws_lc_rs::{digest as lc_digest, hmac as lc_hmac};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use md5::Digest as _;
use serde_json::{Map, Value, json};

/// Standard base64, the byte encoding of the engine boundary.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes boundary base64.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

fn lc_alg(alg: &str) -> Option<&'static lc_digest::Algorithm> {
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

/// `n` random bytes from aws-lc's generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    // The system generator only fails when the OS has no entropy source;
    // fall back to the thread generator rather than hand back zeros.
    if aws_lc_rs::rand::SecureRandom::fill(&SystemRandom::new(), &mut out).is_err() {
        out.iter_mut().for_each(|b| *b = rand::random::<u8>());
    }
    out
}

// ---- keys ------------------------------------------------------------------

/// The DER prefix of a SubjectPublicKeyInfo holding an uncompressed P-256
/// point (id-ecPublicKey, prime256v1, BIT STRING of 66 bytes): the point
/// follows. Fixed-length encodings, so a prefix is the whole structure.
const P256_SPKI: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// The same for P-384 (secp384r1).
const P384_SPKI: &[u8] = &[
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
];

/// The curves Detour signs with: `(JWK name, Node name, SPKI prefix,
/// coordinate length, ASN.1 signing, fixed signing)`.
struct Curve {
    jwk: &'static str,
    node: &'static str,
    spki: &'static [u8],
    size: usize,
    asn1: &'static signature::EcdsaSigningAlgorithm,
    fixed: &'static signature::EcdsaSigningAlgorithm,
}

const CURVES: [Curve; 2] = [
    Curve {
        jwk: "P-256",
        node: "prime256v1",
        spki: P256_SPKI,
        size: 32,
        asn1: &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        fixed: &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    },
    Curve {
        jwk: "P-384",
        node: "secp384r1",
        spki: P384_SPKI,
        size: 48,
        asn1: &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        fixed: &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
    },
];

fn curve_named(name: &str) -> Option<&'static Curve> {
    CURVES.iter().find(|c| c.jwk == name || c.node == name)
}

/// A key in the one shape the JS side keeps: PKCS#8 for a private key,
/// SubjectPublicKeyInfo for the public half, and its public JWK members.
fn described(
    kind: &str,
    private: Option<Vec<u8>>,
    spki: Vec<u8>,
    jwk: Value,
    extra: Value,
) -> Value {
    let mut out = json!({
        "ok": true,
        "type": if private.is_some() { "private" } else { "public" },
        "kty": kind,
        "spki": b64(&spki),
        "jwk": jwk,
    });
    if let Some(pkcs8) = private {
        out["pkcs8"] = Value::String(b64(&pkcs8));
    }
    if let (Some(o), Value::Object(extra)) = (out.as_object_mut(), extra) {
        o.extend(extra);
    }
    out
}

fn rsa_public(n: &[u8], e: &[u8]) -> Result<(Vec<u8>, Value), String> {
    let components = signature::RsaPublicKeyComponents { n, e };
    let spki = components
        .as_der()
        .map_err(|_| "invalid RSA public key".to_owned())?;
    let jwk = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)});
    Ok((spki.as_ref().to_vec(), jwk))
}

fn rsa_private(pair: &RsaKeyPair) -> Result<Value, String> {
    let pkcs8 = pair.as_der().map_err(|_| "invalid RSA key".to_owned())?;
    let public = pair.public_key();
    let (spki, jwk) = rsa_public(
        public.modulus().big_endian_without_leading_zero(),
        public.exponent().big_endian_without_leading_zero(),
    )?;
    Ok(described(
        "rsa",
        Some(pkcs8.as_ref().to_vec()),
        spki,
        jwk,
        json!({"bits": pair.public_modulus_len() * 8}),
    ))
}

fn ec_private(pair: &EcdsaKeyPair, curve: &Curve) -> Result<Value, String> {
    let pkcs8 = pair.to_pkcs8v1().map_err(|_| "invalid EC key".to_owned())?;
    let d = pair
        .private_key()
        .as_be_bytes()
        .map_err(|_| "invalid EC key".to_owned())?;
    let point = pair.public_key().as_ref().to_vec();
    let (spki, mut jwk) = ec_public(&point, curve)?;
    jwk["d"] = Value::String(URL_SAFE_NO_PAD.encode(d.as_ref()));
    Ok(described(
        "ec",
        Some(pkcs8.as_ref().to_vec()),
        spki,
        jwk,
        json!({"curve": curve.node}),
    ))
}

fn ec_public(point: &[u8], curve: &Curve) -> Result<(Vec<u8>, Value), String> {
    if point.len() != 1 + 2 * curve.size || point[0] != 4 {
        return Err("invalid EC public key (only uncompressed points are supported)".into());
    }
    let mut spki = curve.spki.to_vec();
    spki.extend_from_slice(point);
    let jwk = json!({
        "kty": "EC", "crv": curve.jwk,
        "x": URL_SAFE_NO_PAD.encode(&point[1..=curve.size]),
        "y": URL_SAFE_NO_PAD.encode(&point[1 + curve.size..]),
    });
    Ok((spki, jwk))
}

fn public_from_spki(der: &[u8]) -> Result<Value, String> {
    for curve in &CURVES {
        if let Some(point) = der.strip_prefix(curve.spki) {
            let (spki, jwk) = ec_public(point, curve)?;
            // aws-lc checks that the point is on the curve.
            signature::UnparsedPublicKey::new(verification(curve, "sha256", false), &spki)
                .parse()
                .map_err(|_| "invalid EC public key".to_owned())?;
            return Ok(described(
                "ec",
                None,
                spki,
                jwk,
                json!({"curve": curve.node}),
            ));
        }
    }
    let public = signature::RsaSubjectPublicKey::from_der(der).map_err(|_| {
        "unsupported public key: Detour reads RSA and EC (P-256, P-384) keys".to_owned()
    })?;
    let n = public.modulus().big_endian_without_leading_zero().to_vec();
    let (spki, jwk) = rsa_public(&n, public.exponent().big_endian_without_leading_zero())?;
    Ok(described(
        "rsa",
        None,
        spki,
        jwk,
        json!({"bits": n.len() * 8}),
    ))
}

fn private_from_der(der: &[u8]) -> Result<Value, String> {
    if let Ok(pair) = RsaKeyPair::from_pkcs8(der).or_else(|_| RsaKeyPair::from_der(der)) {
        return rsa_private(&pair);
    }
    for curve in &CURVES {
        if let Ok(pair) = EcdsaKeyPair::from_private_key_der(curve.asn1, der) {
            return ec_private(&pair, curve);
        }
    }
    Err("unsupported private key: Detour reads unencrypted RSA and EC (P-256, P-384) keys".into())
}

/// PEM armour off: the label and the DER inside.
fn pem(text: &str) -> Result<(String, Vec<u8>), String> {
    let begin = text.find("-----BEGIN ").ok_or("not a PEM key")?;
    let rest = &text[begin + 11..];
    let label_end = rest.find("-----").ok_or("not a PEM key")?;
    let label = rest[..label_end].to_owned();
    let body = &rest[label_end + 5..];
    let end = body.find("-----END ").ok_or("not a PEM key")?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(b64)
        .map_err(|_| "the PEM key is not valid base64".to_owned())?;
    Ok((label, der))
}

fn jwk_bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the JWK has no \"{name}\""))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| format!("the JWK's \"{name}\" is not base64url"))
}

fn from_jwk(jwk: &Map<String, Value>, want_private: bool) -> Result<Value, String> {
    let private = want_private && jwk.contains_key("d");
    if want_private && !private {
        return Err("the JWK has no private part (\"d\")".into());
    }
    match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => {
            let n = jwk_bytes(jwk, "n")?;
            let e = jwk_bytes(jwk, "e")?;
            if !private {
                let (spki, jwk) = rsa_public(&n, &e)?;
                return Ok(described(
                    "rsa",
                    None,
                    spki,
                    jwk,
                    json!({"bits": n.len() * 8}),
                ));
            }
            let [d, p, q, dp, dq, qi] =
                ["d", "p", "q", "dp", "dq", "qi"].map(|k| jwk_bytes(jwk, k));
            let components = aws_lc_rs::rsa::KeyPairComponents {
                public_key: signature::RsaPublicKeyComponents { n: &n, e: &e },
                d: d?,
                p: p?,
                q: q?,
                dP: dp?,
                dQ: dq?,
                qInv: qi?,
            };
            let pair = RsaKeyPair::from_components(&components)
                .map_err(|e| format!("invalid RSA JWK: {e}"))?;
            rsa_private(&pair)
        }
        Some("EC") => {
            let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or_default();
            let curve = curve_named(crv).ok_or_else(|| format!("unsupported curve {crv}"))?;
            let mut point = vec![4];
            point.extend(jwk_bytes(jwk, "x")?);
            point.extend(jwk_bytes(jwk, "y")?);
            if !private {
                let (spki, _) = ec_public(&point, curve)?;
                return public_from_spki(&spki);
            }
            let d = jwk_bytes(jwk, "d")?;
            let pair = EcdsaKeyPair::from_private_key_and_public_key(curve.asn1, &d, &point)
                .map_err(|e| format!("invalid EC JWK: {e}"))?;
            ec_private(&pair, curve)
        }
        other => Err(format!(
            "unsupported JWK key type {}: Detour reads RSA and EC keys",
            other.unwrap_or("(none)")
        )),
    }
}

/// `crypto.createPrivateKey` / `createPublicKey` / `subtle.importKey` for
/// asymmetric keys. `request` is JSON `{private, format: "pem"|"der"|"jwk",
/// data}` (PEM text, base64 DER, or the JWK object). Answers JSON
/// `{ok, type, kty, spki, pkcs8?, jwk, bits?|curve?}` or `{ok: false, error}`.
/// A public key asked of a private key is its public half, as in Node.
pub fn import_key(request: &str) -> String {
    let result = (|| {
        let request: Value = serde_json::from_str(request).map_err(|e| e.to_string())?;
        let want_private = request["private"].as_bool().unwrap_or(false);
        let format = request["format"].as_str().unwrap_or("pem");
        let key = match format {
            "jwk" => {
                let jwk = request["data"]
                    .as_object()
                    .ok_or("the JWK must be an object")?;
                from_jwk(jwk, want_private)?
            }
            "pem" | "der" => {
                let (label, der) = if format == "pem" {
                    pem(request["data"].as_str().unwrap_or_default())?
                } else {
                    let der = unb64(request["data"].as_str().unwrap_or_default())
                        .ok_or("invalid DER bytes")?;
                    (String::new(), der)
                };
                if label.contains("ENCRYPTED") {
                    return Err("encrypted private keys are not supported".into());
                }
                if label.contains("PRIVATE") || (label.is_empty() && want_private) {
                    private_from_der(&der)?
                } else if label == "RSA PUBLIC KEY" {
                    let public = signature::RsaSubjectPublicKey::from_der(&der)
                        .map_err(|_| "invalid RSA public key".to_owned())?;
                    let n = public.modulus().big_endian_without_leading_zero().to_vec();
                    let (spki, jwk) =
                        rsa_public(&n, public.exponent().big_endian_without_leading_zero())?;
                    described("rsa", None, spki, jwk, json!({"bits": n.len() * 8}))
                } else if label.contains("CERTIFICATE") {
                    return Err("certificates are not supported; pass the public key".into());
                } else {
                    public_from_spki(&der)?
                }
            }
            other => return Err(format!("unsupported key format {other}")),
        };
        if want_private && key["type"] != "private" {
            return Err("a private key was expected".into());
        }
        Ok::<Value, String>(key)
    })();
    match result {
        Ok(key) => key,
        Err(error) => json!({"ok": false, "error": error}),
    }
    .to_string()
}

/// The signature scheme of a sign or verify call.
pub struct Scheme<'a> {
    /// Node's digest name (`sha256`, `RSA-SHA256`, ...).
    pub hash: &'a str,
    /// RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only).
    pub pss: bool,
    /// ECDSA signatures as `r || s` (JOSE, WebCrypto) instead of DER.
    pub p1363: bool,
}

fn hash_bits(hash: &str) -> Option<u16> {
    Some(match lc_alg(hash)?.output_len() {
        20 => 1,
        32 => 256,
        48 => 384,
        64 => 512,
        _ => return None,
    })
}

fn rsa_encoding(scheme: &Scheme<'_>) -> Result<&'static dyn signature::RsaEncoding, String> {
    Ok(match (hash_bits(scheme.hash), scheme.pss) {
        (Some(256), false) => &signature::RSA_PKCS1_SHA256,
        (Some(384), false) => &signature::RSA_PKCS1_SHA384,
        (Some(512), false) => &signature::RSA_PKCS1_SHA512,
        (Some(256), true) => &signature::RSA_PSS_SHA256,
        (Some(384), true) => &signature::RSA_PSS_SHA384,
        (Some(512), true) => &signature::RSA_PSS_SHA512,
        _ => return Err(format!("unsupported RSA signature digest {}", scheme.hash)),
    })
}

fn rsa_verification(scheme: &Scheme<'_>) -> Result<&'static signature::RsaParameters, String> {
    Ok(match (hash_bits(scheme.hash), scheme.pss) {
        (Some(1), false) => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (Some(256), false) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (Some(384), false) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (Some(512), false) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (Some(256), true) => &signature::RSA_PSS_2048_8192_SHA256,
        (Some(384), true) => &signature::RSA_PSS_2048_8192_SHA384,
        (Some(512), true) => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return Err(format!("unsupported RSA signature digest {}", scheme.hash)),
    })
}

fn verification(
    curve: &Curve,
    hash: &str,
    p1363: bool,
) -> &'static signature::EcdsaVerificationAlgorithm {
    match (curve.size, hash_bits(hash), p1363) {
        (32, Some(384), false) => &signature::ECDSA_P256_SHA384_ASN1,
        (32, Some(512), false) => &signature::ECDSA_P256_SHA512_ASN1,
        (32, _, false) => &signature::ECDSA_P256_SHA256_ASN1,
        (32, _, true) => &signature::ECDSA_P256_SHA256_FIXED,
        (_, Some(256), false) => &signature::ECDSA_P384_SHA256_ASN1,
        (_, Some(512), false) => &signature::ECDSA_P384_SHA512_ASN1,
        (_, _, false) => &signature::ECDSA_P384_SHA384_ASN1,
        (_, _, true) => &signature::ECDSA_P384_SHA384_FIXED,
    }
}

/// Signs `data` with a PKCS#8 private key. RSA keys sign with the digest
/// asked for; EC keys with their curve's digest (SHA-256 on P-256,
/// SHA-384 on P-384), as JOSE and WebCrypto use them.
pub fn sign(scheme: &Scheme<'_>, pkcs8: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let rng = SystemRandom::new();
    if let Ok(pair) = RsaKeyPair::from_pkcs8(pkcs8) {
        let mut out = vec![0; pair.public_modulus_len()];
        pair.sign(rsa_encoding(scheme)?, &rng, data, &mut out)
            .map_err(|_| "RSA signing failed".to_owned())?;
        return Ok(out);
    }
    for curve in &CURVES {
        let alg = if scheme.p1363 {
            curve.fixed
        } else {
            curve.asn1
        };
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(alg, pkcs8) {
            let sig = pair
                .sign(&rng, data)
                .map_err(|_| "ECDSA signing failed".to_owned())?;
            return Ok(sig.as_ref().to_vec());
        }
    }
    Err("unsupported private key".into())
}

/// Checks a signature with a SubjectPublicKeyInfo public key.
pub fn verify(scheme: &Scheme<'_>, spki: &[u8], data: &[u8], sig: &[u8]) -> Result<bool, String> {
    for curve in &CURVES {
        if spki.starts_with(curve.spki) {
            let alg = verification(curve, scheme.hash, scheme.p1363);
            return Ok(signature::UnparsedPublicKey::new(alg, spki)
                .verify(data, sig)
                .is_ok());
        }
    }
    let alg = rsa_verification(scheme)?;
    Ok(signature::UnparsedPublicKey::new(alg, spki)
        .verify(data, sig)
        .is_ok())
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

    fn import(request: Value) -> Value {
        serde_json::from_str(&import_key(&request.to_string())).unwrap()
    }

    #[test]
    fn an_ec_key_signs_and_its_jwk_and_pem_forms_verify() {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        let private =
            import(json!({"private": true, "format": "der", "data": b64(pkcs8.as_ref())}));
        assert_eq!(private["type"], "private", "{private}");
        assert_eq!(private["jwk"]["crv"], "P-256");
        let public = import(json!({"format": "jwk", "data": private["jwk"]}));
        assert_eq!(public["type"], "public", "{public}");
        assert_eq!(public["spki"], private["spki"]);
        let key = unb64(private["pkcs8"].as_str().unwrap()).unwrap();
        let spki = unb64(public["spki"].as_str().unwrap()).unwrap();
        for p1363 in [false, true] {
            let scheme = Scheme {
                hash: "sha256",
                pss: false,
                p1363,
            };
            let sig = sign(&scheme, &key, b"hello").unwrap();
            assert_eq!(sig.len() == 64, p1363);
            assert!(verify(&scheme, &spki, b"hello", &sig).unwrap());
            assert!(!verify(&scheme, &spki, b"hellO", &sig).unwrap());
        }
        let again = import(json!({"private": true, "format": "jwk", "data": private["jwk"]}));
        assert_eq!(again["spki"], private["spki"], "{again}");
    }

    #[test]
    fn an_rsa_key_signs_pkcs1_and_pss_and_its_public_half_verifies() {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 = pair.as_der().unwrap();
        let private =
            import(json!({"private": true, "format": "der", "data": b64(pkcs8.as_ref())}));
        assert_eq!(private["bits"], 2048, "{private}");
        let public = import(json!({"format": "jwk", "data": private["jwk"]}));
        assert_eq!(public["spki"], private["spki"], "{public}");
        let key = unb64(private["pkcs8"].as_str().unwrap()).unwrap();
        let spki = unb64(public["spki"].as_str().unwrap()).unwrap();
        for pss in [false, true] {
            let scheme = Scheme {
                hash: "RSA-SHA256",
                pss,
                p1363: false,
            };
            let sig = sign(&scheme, &key, b"hello").unwrap();
            assert!(verify(&scheme, &spki, b"hello", &sig).unwrap());
            assert!(!verify(&scheme, &spki, b"other", &sig).unwrap());
        }
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            public["spki"].as_str().unwrap()
        );
        assert_eq!(
            import(json!({"format": "pem", "data": pem}))["jwk"],
            public["jwk"]
        );
    }

    #[test]
    fn garbage_keys_are_refused_with_a_reason() {
        let r = import(json!({"format": "pem", "data": "nope"}));
        assert_eq!(r["ok"], false);
        let r = import(json!({"format": "jwk", "data": {"kty": "oct", "k": "AA"}}));
        assert!(
            r["error"]
                .as_str()
                .unwrap()
                .contains("unsupported JWK key type oct"),
            "{r}"
        );
    }
}
