//! The TLS client configuration of every fetch client, built once per
//! process.
//!
//! Building it loads and parses the system's root certificates (hundreds
//! of millions of instructions), which each `reqwest::Client` would
//! otherwise do for itself: once per Action per engine thread, so on every
//! spare engine started while an execution runs slow. The configuration is
//! the one reqwest builds by default with this crate's features (the
//! platform verifier over the system's roots, aws-lc-rs, TLS 1.2 and 1.3,
//! HTTP/1.1 only); the roots are read once, at the first client built, so
//! a change to the system's store takes a restart to be seen.

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;

/// The shared configuration, or why it could not be built (no usable root
/// certificate): every client built then fails the same way.
static SHARED: OnceLock<Result<ClientConfig, String>> = OnceLock::new();

/// A copy of the process's TLS client configuration for one more client.
/// The copy shares the verifier and its root store (`Arc`s); only the
/// small per-client settings are duplicated. Each client keeps its own TLS
/// session cache, as it did with a configuration of its own: one Action's
/// client never resumes a session another Action's client opened.
pub fn client_config() -> Result<ClientConfig, String> {
    let mut config = SHARED.get_or_init(build).clone()?;
    config.resumption = Resumption::default();
    Ok(config)
}

fn build() -> Result<ClientConfig, String> {
    // The provider reqwest would pick: one installed for the process, else
    // aws-lc-rs's default.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier =
        rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| e.to_string())?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // reqwest is built without HTTP/2: it offers only HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_gets_the_configuration_reqwest_would_build() {
        let (Ok(a), Ok(b)) = (client_config(), client_config()) else {
            return; // no system roots on this machine: nothing to share
        };
        assert!(Arc::ptr_eq(a.crypto_provider(), b.crypto_provider()));
        assert_eq!(a.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(a.enable_sni);
    }
}
