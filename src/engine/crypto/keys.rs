//! Key import: PEM, DER and JWK in, the one shape the JS side keeps out
//! (PKCS#8 or SubjectPublicKeyInfo, and the public JWK members).

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::curves::{CURVES, Curve, curve_named};
use super::signatures::verification;
use super::{b64, unb64};

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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in super::super) fn import(request: Value) -> Value {
        serde_json::from_str(&import_key(&request.to_string())).unwrap()
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
