//! The commands an Action issues through `api`, as the prelude reports
//! them (one JSON object each, tagged by `op`, which comes first): the
//! wire format between the engine and the pipeline, which checks and
//! applies them.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, VariantAccess, Visitor,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A command an Action issued through `api`, in call order.
///
/// On the wire a command is `{"op": "id_claim", "key": …, "value": …}`.
/// The derive below reads the variants' fields (`remote = "Self"` makes it
/// an inherent `Command::deserialize` of the externally tagged form); the
/// [`Deserialize`] impl reads `op` first and hands it the rest of the
/// object. serde's own internally tagged form buffers every field of
/// every command before reading it: about 3 k instructions per command
/// (docs/performance.md).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// `api.access.deny(reason)`.
    Deny {
        /// Shown to the user.
        reason: String,
    },
    /// `api.idToken.setCustomClaim`.
    IdClaim {
        /// Claim name.
        key: String,
        /// Claim value.
        #[serde(default)]
        value: Value,
    },
    /// `api.accessToken.setCustomClaim`.
    AccessClaim {
        /// Claim name.
        key: String,
        /// Claim value.
        #[serde(default)]
        value: Value,
    },
    /// `api.accessToken.addScope`.
    AddScope {
        /// The trimmed scope.
        scope: String,
    },
    /// `api.accessToken.removeScope`.
    RemoveScope {
        /// The trimmed scope.
        scope: String,
    },
    /// `api.user.setUserMetadata`.
    UserMetadata {
        /// Top-level key.
        key: String,
        /// New value; `null` deletes.
        #[serde(default)]
        value: Value,
    },
    /// `api.user.setAppMetadata`.
    AppMetadata {
        /// Top-level key.
        key: String,
        /// New value; `null` deletes.
        #[serde(default)]
        value: Value,
    },
    /// `api.multifactor.enable`.
    Multifactor {
        /// `{provider, allow_remember_browser, provider_options?}`.
        value: Value,
    },
    /// `api.transaction.setMetadata`.
    TransactionMetadata {
        /// Key.
        key: String,
        /// Scalar value; `null` deletes.
        #[serde(default)]
        value: Value,
    },
    /// `api.cache.set`.
    CacheSet {
        /// Cache key.
        key: String,
        /// Cached string.
        value: String,
        /// Expiry, ms since the epoch.
        expires_at: u64,
    },
    /// `api.cache.delete`.
    CacheDelete {
        /// Cache key.
        key: String,
    },
    /// `api.authentication.challengeWith*` / `enrollWith*`.
    Authentication {
        /// Challenge or enrolment.
        kind: AuthenticationKind,
        /// `true` for the `*Any` forms (the user picks).
        any: bool,
        /// Factor selectors, in order.
        factors: Vec<Value>,
    },
    /// `api.authentication.recordMethod`.
    RecordMethod {
        /// The method's http(s) URL.
        url: String,
        /// When it was recorded (ISO 8601).
        timestamp: String,
    },
    /// `api.authentication.setPrimaryUser`.
    PrimaryUser {
        /// The new subject.
        user_id: String,
    },
    /// `api.session.revoke` / `api.refreshToken.revoke`.
    Revoke {
        /// Which one.
        target: Target,
        /// Shown to the user.
        reason: String,
        /// `session.revoke`'s `preserveRefreshTokens`.
        #[serde(default)]
        preserve_refresh_tokens: bool,
    },
    /// `setExpiresAt` / `setIdleExpiresAt` of the session or refresh token.
    Expiry {
        /// Which one.
        target: Target,
        /// Absolute or idle expiry.
        field: ExpiryField,
        /// Milliseconds since the epoch.
        at: u64,
    },
    /// `api.session.setCookieMode`.
    CookieMode {
        /// The mode.
        mode: CookieMode,
    },
    /// Session / refresh-token `setMetadata` and `deleteMetadata`.
    Metadata {
        /// Which one.
        target: Target,
        /// Key.
        key: String,
        /// String value; `null` deletes.
        #[serde(default)]
        value: Value,
    },
    /// Session / refresh-token `evictMetadata`.
    EvictMetadata {
        /// Which one.
        target: Target,
    },
    /// `api.samlResponse.setAttribute`.
    SamlAttribute {
        /// Attribute name.
        name: String,
        /// Value; `null` removes the attribute.
        #[serde(default)]
        value: Value,
    },
    /// Any other `api.samlResponse.set*`.
    Saml {
        /// Setting, snake_case (e.g. `audience`).
        key: String,
        /// Its value.
        value: Value,
    },
    /// `api.validation.error`.
    ValidationError {
        /// The error code.
        code: String,
        /// The message.
        message: String,
    },
    /// `api.prompt.render`.
    Render {
        /// The Form id.
        id: String,
        /// Data sent to the Form.
        #[serde(default)]
        fields: Value,
        /// Data kept server-side, given back in `event.prompt.vars`.
        #[serde(default)]
        vars: Value,
    },
    /// `api.redirect.sendUserTo`, with the query already applied.
    Redirect {
        /// Absolute URL, without `state`.
        url: String,
    },
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OpFirst)
    }
}

/// Reads a command object whose first key is `op`, as the prelude writes
/// every command; any other object is refused (the report is then not
/// one the prelude wrote).
struct OpFirst;

impl<'de> Visitor<'de> for OpFirst {
    type Value = Command;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a command object whose first key is `op`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Command, A::Error> {
        match map.next_key::<IsOp>()? {
            Some(IsOp(true)) => Command::deserialize(Tagged(map)),
            Some(IsOp(false)) => Err(de::Error::custom("a command's first key must be `op`")),
            None => Err(de::Error::missing_field("op")),
        }
    }
}

/// Whether a key is `op`, read without a copy of it.
struct IsOp(bool);

impl<'de> Deserialize<'de> for IsOp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Key;
        impl Visitor<'_> for Key {
            type Value = IsOp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<IsOp, E> {
                Ok(IsOp(key == "op"))
            }
        }
        deserializer.deserialize_identifier(Key)
    }
}

/// The rest of a command object after its `op` key, as the externally
/// tagged enum the derive reads: `op`'s value names the variant, the
/// remaining fields are its fields.
struct Tagged<A>(A);

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Tagged<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Tagged<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(
        mut self,
        seed: S,
    ) -> Result<(S::Value, Self), A::Error> {
        let variant = self.0.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Tagged<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        Err(de::Error::custom("every command has fields"))
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, _: S) -> Result<S::Value, A::Error> {
        Err(de::Error::custom("every command has named fields"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("every command has named fields"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }
}

/// `challenge` or `enroll` (`api.authentication`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticationKind {
    /// `challengeWith*`.
    Challenge,
    /// `enrollWith*`.
    Enroll,
}

/// `api.session` or `api.refreshToken`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// `api.session`.
    Session,
    /// `api.refreshToken`.
    RefreshToken,
}

/// Which expiry `setExpiresAt` / `setIdleExpiresAt` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryField {
    /// `setExpiresAt`.
    ExpiresAt,
    /// `setIdleExpiresAt`.
    IdleExpiresAt,
}

/// `api.session.setCookieMode`'s argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CookieMode {
    /// `persistent`.
    Persistent,
    /// `non-persistent`.
    NonPersistent,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> Result<Command, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn commands_are_read_as_the_prelude_writes_them() {
        let cases = [
            (
                r#"{"op":"id_claim","key":"https://a.test/roles","value":["admin"]}"#,
                Command::IdClaim {
                    key: "https://a.test/roles".into(),
                    value: json!(["admin"]),
                },
            ),
            (
                r#"{"op":"user_metadata","key":"color"}"#,
                Command::UserMetadata {
                    key: "color".into(),
                    value: Value::Null,
                },
            ),
            (
                r#"{"op":"deny","reason":"no"}"#,
                Command::Deny {
                    reason: "no".into(),
                },
            ),
            (
                r#"{"op":"authentication","kind":"enroll","any":true,"factors":[{"type":"otp"}]}"#,
                Command::Authentication {
                    kind: AuthenticationKind::Enroll,
                    any: true,
                    factors: vec![json!({"type": "otp"})],
                },
            ),
            (
                r#"{"op":"revoke","target":"refresh_token","reason":"r"}"#,
                Command::Revoke {
                    target: Target::RefreshToken,
                    reason: "r".into(),
                    preserve_refresh_tokens: false,
                },
            ),
            (
                r#"{"op":"cookie_mode","mode":"non-persistent"}"#,
                Command::CookieMode {
                    mode: CookieMode::NonPersistent,
                },
            ),
            // An escaped key or tag is the same key or tag.
            (
                r#"{"o\u0070":"add_scope","scope":"read"}"#,
                Command::AddScope {
                    scope: "read".into(),
                },
            ),
            (
                r#"{"op":"remove\u005fscope","scope":"read"}"#,
                Command::RemoveScope {
                    scope: "read".into(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(read(text).ok(), Some(expected), "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            r#"{"key":"k","op":"id_claim","value":1}"#,
            r#"{"op":"id_claim","op":"id_claim","key":"k"}"#,
            r#"{"op":"id_claim","key":"k","extra":1}"#,
            r#"{"op":"id_claim"}"#,
            r#"{"op":"no_such_op","key":"k"}"#,
            r#"{"op":1,"key":"k"}"#,
            r#"{"op":"deny","reason":"a","reason":"b"}"#,
            r#"{}"#,
            r#"["deny","no"]"#,
            r#""deny""#,
            r#"{"op":"authentication","kind":"other","any":true,"factors":[]}"#,
        ] {
            assert!(read(text).is_err(), "{text}");
        }
    }
}
