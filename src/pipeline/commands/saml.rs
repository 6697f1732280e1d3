//! `api.samlResponse`: attributes, and the settings Auth0 knows with the
//! type and size each takes.

use serde_json::Value;

use super::rules::{json_len, max_bytes, non_empty};
use crate::pipeline::limits::{
    MAX_SAML_ATTRIBUTE_NAME_BYTES, MAX_SAML_ATTRIBUTE_VALUE_BYTES, MAX_SAML_CERT_BYTES,
    MAX_SAML_NAME_BYTES, MAX_SAML_PROBES, MAX_SAML_URL_BYTES,
};

/// `setAttribute(name, value)`.
pub(super) fn check_saml_attribute(name: &str, value: &Value) -> Result<(), String> {
    non_empty("the SAML attribute name", name)?;
    max_bytes(
        "the SAML attribute name",
        name,
        MAX_SAML_ATTRIBUTE_NAME_BYTES,
    )?;
    if !value.is_null() && json_len(value) > MAX_SAML_ATTRIBUTE_VALUE_BYTES {
        return Err(format!(
            "a SAML attribute value must be at most {MAX_SAML_ATTRIBUTE_VALUE_BYTES} bytes"
        ));
    }
    Ok(())
}

/// One `set<Setting>(value)`: a known setting with a value of its type.
pub(super) fn check_saml_setting(key: &str, value: &Value) -> Result<(), String> {
    let string_max = match key {
        "audience" | "recipient" | "destination" => Some(MAX_SAML_URL_BYTES),
        "name_identifier_format" | "authn_context_class_ref" | "relay_state" | "issuer" => {
            Some(MAX_SAML_NAME_BYTES)
        }
        "signing_cert" | "encryption_cert" | "encryption_public_key" | "cert" | "key" => {
            Some(MAX_SAML_CERT_BYTES)
        }
        _ => None,
    };
    let ok = match (key, string_max) {
        (_, Some(max)) => value.as_str().is_some_and(|s| s.len() <= max),
        (
            "create_upn_claim"
            | "passthrough_claims_with_no_mapping"
            | "map_unknown_claims_as_is"
            | "map_identities"
            | "sign_response"
            | "include_attribute_name_format"
            | "typed_attributes",
            None,
        ) => value.is_boolean(),
        ("signature_algorithm", None) => matches!(value.as_str(), Some("rsa-sha256" | "rsa-sha1")),
        ("digest_algorithm", None) => matches!(value.as_str(), Some("sha256" | "sha1")),
        ("encryption_algorithm", None) => {
            matches!(value.as_str(), Some("aes256-gcm" | "aes256-cbc"))
        }
        ("lifetime_in_seconds", None) => value.as_u64().is_some_and(|n| n > 0),
        ("name_identifier_probes", None) => value.as_array().is_some_and(|probes| {
            probes.len() <= MAX_SAML_PROBES
                && probes
                    .iter()
                    .all(|p| p.as_str().is_some_and(|s| s.len() <= MAX_SAML_NAME_BYTES))
        }),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("samlResponse: invalid value for {key:?}"))
    }
}
