//! The raw config into [`Settings`]: scalar checks and defaults, then the
//! upstreams (`upstreams.rs`) and the Actions with their code
//! (`actions.rs`).

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::actions::{Sources, actions};
use super::file::EnvLookup;
use super::raw::RawConfig;
use super::upstreams::upstreams;
use super::{ConfigError, EngineSettings, ServerSettings, Settings, StoreSettings};

/// The secret held by environment variable `var`, named by config `field`.
pub(super) fn secret(
    env: &EnvLookup<'_>,
    var: &str,
    field: String,
) -> Result<SecretString, ConfigError> {
    env(var)
        .map(SecretString::from)
        .ok_or_else(|| ConfigError::MissingEnv {
            var: var.to_owned(),
            field,
        })
}

/// A problem with config field `field`.
pub(super) fn field_err(field: &str, message: &str) -> ConfigError {
    ConfigError::Field {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks `server.public_url` and makes it a base URL: its path ends with
/// `/`, so `join("continue")` lands under a path prefix
/// (`https://x/detour` → `https://x/detour/continue`) instead of replacing
/// its last segment (`https://x/continue`).
fn public_base(mut url: Url) -> Result<Url, ConfigError> {
    let field_err = |message: &str| ConfigError::Field {
        field: "server.public_url".into(),
        message: message.into(),
    };
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(field_err("must be an http or https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(field_err("must not have a query or a fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Checks the raw config, resolves environment-held secrets and reads the
/// Actions' code.
pub(super) fn settings(
    raw: RawConfig,
    env: &EnvLookup<'_>,
    sources: Sources<'_>,
) -> Result<Settings, ConfigError> {
    if raw.store.login_ttl_secs == 0 {
        return Err(field_err("store.login_ttl_secs", "must be at least 1"));
    }
    if raw.engine.timeout_ms == 0 {
        return Err(field_err("engine.timeout_ms", "must be at least 1"));
    }
    if raw.engine.memory_limit_mb == 0 {
        return Err(field_err("engine.memory_limit_mb", "must be at least 1"));
    }
    if raw.engine.workers == Some(0) {
        return Err(field_err("engine.workers", "must be at least 1"));
    }
    let fetch_proxy = match raw.engine.fetch_proxy.as_deref() {
        None | Some("") => None,
        Some(text) => {
            let url = Url::parse(text)
                .map_err(|e| field_err("engine.fetch_proxy", &format!("{e}: {text}")))?;
            if (url.scheme() != "http" && url.scheme() != "https") || url.host().is_none() {
                return Err(field_err(
                    "engine.fetch_proxy",
                    "must be an http or https URL such as http://proxy:3128",
                ));
            }
            Some(url)
        }
    };

    let public_url = public_base(raw.server.public_url)?;

    let upstreams = upstreams(raw.upstreams, env)?;
    let actions = actions(&raw.modules, raw.actions, env, &sources)?;

    // Twice the cores by default: an engine stuck in a CPU loop until its
    // deadline then shares a core with a healthy one (the OS time-slices
    // them) instead of leaving logins queued behind it.
    let workers = raw.engine.workers.unwrap_or_else(|| {
        2 * std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    Ok(Settings {
        server: ServerSettings {
            listen: raw.server.listen,
            browser_binding: raw
                .server
                .browser_binding
                .unwrap_or(public_url.scheme() == "https"),
            public_url,
        },
        store: StoreSettings {
            redis_url: raw.store.redis_url.filter(|u| !u.is_empty()),
            redis_cluster: raw.store.redis_cluster,
            login_ttl: Duration::from_secs(raw.store.login_ttl_secs),
        },
        engine: EngineSettings {
            isolation: raw.engine.isolation,
            timeout: Duration::from_millis(raw.engine.timeout_ms),
            memory_limit_bytes: usize::try_from(raw.engine.memory_limit_mb)
                .unwrap_or(usize::MAX / (1 << 20))
                .saturating_mul(1 << 20),
            workers,
            queue_capacity: raw.engine.queue_capacity.max(1),
            inline: raw.engine.inline,
            fetch_timeout: Duration::from_millis(raw.engine.fetch_timeout_ms.max(1)),
            fetch_max_response_bytes: raw.engine.fetch_max_response_kb.saturating_mul(1024),
            allow_private_networks: raw.engine.allow_private_networks,
            fetch_proxy,
            resolve_overrides: Vec::new(),
        },
        upstreams,
        actions,
    })
}

/// The sample mode's loader: sources come from the binary, not the disk.
pub(super) fn embedded_settings(
    raw: RawConfig,
    env: &EnvLookup<'_>,
    files: &[(&str, &str)],
) -> Result<Settings, ConfigError> {
    settings(raw, env, Sources::Embedded(files))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::file::{fake_env as env, parse};
    use super::settings as resolve;
    use super::*;

    #[test]
    fn browser_binding_is_on_by_default_for_https_only() {
        let load = |url: &str| {
            let raw = parse(&format!("[server]\npublic_url='{url}'\n"), &env(&[]))
                .ok()
                .unwrap();
            resolve(raw, &env(&[]), Sources::Disk(Path::new(".")))
                .ok()
                .unwrap()
                .server
                .browser_binding
        };
        assert!(load("https://detour.example"));
        assert!(!load("http://localhost:8080"));
    }

    #[test]
    fn a_public_url_path_prefix_is_kept_with_or_without_a_trailing_slash() {
        let load = |url: &str| {
            let raw = parse(&format!("[server]\npublic_url='{url}'\n"), &env(&[]))
                .ok()
                .unwrap();
            resolve(raw, &env(&[]), Sources::Disk(Path::new(".")))
                .ok()
                .unwrap()
                .server
        };
        for url in ["https://x.example/detour", "https://x.example/detour/"] {
            let server = load(url);
            assert_eq!(server.public_url.as_str(), "https://x.example/detour/");
            assert_eq!(
                server.public_url.join("continue").ok().unwrap().as_str(),
                "https://x.example/detour/continue"
            );
            assert_eq!(
                server.endpoint("redirect").as_str(),
                "https://x.example/detour/redirect"
            );
        }
        assert_eq!(
            load("http://localhost:8080").endpoint("continue").as_str(),
            "http://localhost:8080/continue"
        );
    }

    #[test]
    fn fetch_proxy_is_an_http_url_from_the_file_or_the_environment() {
        let load = |toml: &str, vars: &[(&str, &str)]| {
            let vars = env(vars);
            parse(toml, &vars)
                .and_then(|raw| resolve(raw, &vars, Sources::Disk(Path::new("."))))
                .map(|s| s.engine.fetch_proxy.map(|u| u.to_string()))
        };
        let server = "[server]\npublic_url='http://x'\n";

        assert_eq!(load(server, &[]).ok(), Some(None));
        assert_eq!(
            load(
                &format!("{server}[engine]\nfetch_proxy='http://proxy:3128'\n"),
                &[]
            )
            .ok(),
            Some(Some("http://proxy:3128/".into()))
        );
        assert_eq!(
            load(
                server,
                &[("DETOUR_ENGINE__FETCH_PROXY", "http://10.0.0.5:8080")]
            )
            .ok(),
            Some(Some("http://10.0.0.5:8080/".into()))
        );
        for bad in ["proxy:3128", "socks5://proxy:1080", "not a url"] {
            let err = load(&format!("{server}[engine]\nfetch_proxy='{bad}'\n"), &[])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("engine.fetch_proxy"), "{bad}: {err}");
        }
    }
}
