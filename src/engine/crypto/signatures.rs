//! Signing and verifying with imported keys: RSA (PKCS#1 v1.5, PSS) and
//! ECDSA (DER or `r || s`).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};

use super::curves::{CURVES, Curve};
use super::digest::lc_alg;

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

/// The ECDSA verification of `curve` for a Node digest name (the
/// curve's own digest for `r || s` signatures and unknown names).
pub(super) fn verification(
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

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer;
    use serde_json::json;

    use super::super::keys::tests::import;
    use super::super::{b64, unb64};
    use super::*;

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
}
