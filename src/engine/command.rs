//! The commands an Action issues through `api`, as the prelude reports
//! them (one JSON object each, tagged by `op`): the wire format between
//! the engine and the pipeline, which checks and applies them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A command an Action issued through `api`, in call order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
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
