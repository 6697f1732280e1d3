//! Every limit on what an Action asks for, in one place: the size of each
//! `api` call's arguments (checked per command by `commands/`), Auth0's
//! totals for one login (checked after each execution by
//! `mutations.rs` and `effects.rs`) and the detours of one login
//! (checked by the state machine, `mod.rs`). A breach fails the execution:
//! the login is denied, never a server error.
//!
//! The limits on how an Action runs are enforced by the host, where the
//! resource is spent, and read from what the host knows, never from an
//! error's text: the trigger run's deadline (`engine.timeout_ms`) and CPU
//! pacing in `engine/pacer.rs`, memory (`engine.memory_limit_mb`) in
//! `engine/memory.rs`, console output per execution in `engine/console.rs`
//! and per login in `pipeline/runner.rs` (with the thrown message's cut),
//! the report of one execution in `engine/vm.rs`, outbound `fetch` in
//! `engine/fetch.rs`. Request bodies are capped at the HTTP boundary
//! (`http/mod.rs`). The user-facing table is in
//! docs/auth0-compatibility.md#limits.

// Per command: reasons, names, URLs.

/// Longest text an Action may hand to the user or the upstream as a reason
/// or message (`deny`, `revoke`, `validation.error`); also bounds an MFA
/// `provider_options` and one authentication factor, as JSON.
pub const MAX_REASON_BYTES: usize = 4096;
/// Longest claim name.
pub const MAX_CLAIM_NAME_BYTES: usize = 1024;
/// Longest metadata key (`api.user.set*Metadata`).
pub const MAX_METADATA_KEY_BYTES: usize = 1024;
/// Longest URL an Action may send a browser to or record.
pub const MAX_URL_BYTES: usize = 8192;
/// Longest `api.authentication.recordMethod` timestamp.
pub const MAX_TIMESTAMP_BYTES: usize = 64;
/// Longest `api.authentication.setPrimaryUser` user id, in characters.
pub const MAX_PRIMARY_USER_ID_CHARS: usize = 128;
/// Longest `api.validation.error` code.
pub const MAX_VALIDATION_CODE_BYTES: usize = 256;

// Per command: namespaces.

/// Longest scope (`api.accessToken.addScope` / `removeScope`), in characters.
pub const MAX_SCOPE_CHARS: usize = 280;
/// Longest `api.prompt.render` Form id.
pub const MAX_FORM_ID_BYTES: usize = 256;
/// `api.prompt.render` options (fields and vars), as JSON.
pub const MAX_RENDER_BYTES: usize = 24 * 1024;
/// Factors in one `challengeWith*` / `enrollWith*` call.
pub const MAX_FACTORS: usize = 16;
/// Longest `api.transaction.setMetadata` key, in characters.
pub const MAX_TRANSACTION_METADATA_KEY_CHARS: usize = 64;
/// Longest `api.transaction.setMetadata` string value.
pub const MAX_TRANSACTION_METADATA_VALUE_BYTES: usize = 8 * 1024;
/// Longest session or refresh-token metadata key.
pub const MAX_SESSION_METADATA_KEY_BYTES: usize = 255;
/// Longest session or refresh-token metadata value, in characters.
pub const MAX_SESSION_METADATA_VALUE_CHARS: usize = 255;
/// Longest SAML attribute name.
pub const MAX_SAML_ATTRIBUTE_NAME_BYTES: usize = 1024;
/// Longest SAML attribute value, as JSON.
pub const MAX_SAML_ATTRIBUTE_VALUE_BYTES: usize = 2048;
/// Longest SAML `audience`, `recipient` or `destination`.
pub const MAX_SAML_URL_BYTES: usize = 2048;
/// Longest SAML name identifier format, context class, relay state or
/// issuer; also each of the `name_identifier_probes`.
pub const MAX_SAML_NAME_BYTES: usize = 512;
/// Longest SAML certificate or key.
pub const MAX_SAML_CERT_BYTES: usize = 4096;
/// SAML `name_identifier_probes` in one setting.
pub const MAX_SAML_PROBES: usize = 10;

/// `api.cache` limits (Auth0's), per Action.
pub mod cache {
    /// Longest key.
    pub const MAX_KEY_BYTES: usize = 64;
    /// Longest value.
    pub const MAX_VALUE_BYTES: usize = 4096;
    /// Keys and values together.
    pub const MAX_TOTAL_BYTES: usize = 8192;
    /// Live entries.
    pub const MAX_ENTRIES: usize = 20;
    /// `set` and `delete` calls in one execution.
    pub const MAX_WRITES: usize = 20;
    /// Longest lifetime of an entry.
    pub const MAX_TTL_MS: u64 = 24 * 60 * 60 * 1000;
    /// Clock difference tolerated between the engine's `Date.now()` and
    /// this check.
    pub const CLOCK_SLACK_MS: u64 = 5_000;
}

// Per login: Auth0's totals over every Action.

/// Custom claims of one login, ID and access token together, as JSON
/// (docs/auth0-compatibility.md#custom-claims).
pub const MAX_CLAIMS_BYTES: usize = 100 * 1024;
/// User metadata changes, and separately app metadata changes, as JSON:
/// Auth0 persists at most 32 kB of each per login.
pub const MAX_METADATA_BYTES: usize = 32 * 1024;
/// `api.transaction.setMetadata`: at most 16 KB in all.
pub const MAX_TRANSACTION_METADATA_BYTES: usize = 16 * 1024;
/// `api.accessToken.addScope`: at most 1000 added scopes.
pub const MAX_ADDED_SCOPES: usize = 1000;
/// Metadata keys set on the session, and separately on the refresh token.
pub const MAX_SESSION_METADATA_KEYS: usize = 25;
/// SAML attributes of one response.
pub const MAX_SAML_ATTRIBUTES: usize = 100;
/// SAML attributes of one response, as JSON.
pub const MAX_SAML_ATTRIBUTES_BYTES: usize = 10 * 1024;

/// Redirects allowed in one login; past this the login is denied, so a
/// misbehaving Action cannot bounce a browser forever.
pub const MAX_REDIRECTS: u32 = 10;
