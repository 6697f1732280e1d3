//! The elliptic curves Detour imports, signs and verifies with, and the
//! DER prefixes that recognise their public keys.

use aws_lc_rs::signature;

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
pub(super) struct Curve {
    pub(super) jwk: &'static str,
    pub(super) node: &'static str,
    pub(super) spki: &'static [u8],
    pub(super) size: usize,
    pub(super) asn1: &'static signature::EcdsaSigningAlgorithm,
    pub(super) fixed: &'static signature::EcdsaSigningAlgorithm,
}

pub(super) const CURVES: [Curve; 2] = [
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

/// The curve with this JWK or Node name.
pub(super) fn curve_named(name: &str) -> Option<&'static Curve> {
    CURVES.iter().find(|c| c.jwk == name || c.node == name)
}
