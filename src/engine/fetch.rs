//! Outbound HTTP for Actions (`fetch`), with the guard rails an identity
//! gateway needs: a per-Action host allowlist, a timeout, a response size
//! cap, and no connections to loopback, link-local or private addresses
//! unless the operator allows them.
//!
//! Every URL the client is about to request, the first one and every
//! redirect hop, goes through one check (`Guard::check_target`): its host must be in
//! the allowlist, and an IP literal (which never reaches a resolver) must
//! not be private. Names are checked in the DNS resolver itself, so the
//! address that was checked is the address that is dialed (no DNS
//! rebinding). The client never uses a proxy from the environment: a proxy
//! resolves names itself, out of the guard's sight; only an explicitly
//! configured [`FetchLimits::proxy`] is used.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::Deserialize;
use serde_json::{Value, json};
use url::{Host, Url};

pub use crate::config::ResolveOverride;

/// How many redirects a fetch follows.
const MAX_REDIRECTS: usize = 5;

/// Limits of outbound HTTP, shared by every Action.
#[derive(Debug, Clone)]
pub struct FetchLimits {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Largest response body read.
    pub max_response_bytes: usize,
    /// Whether loopback, link-local and private addresses may be reached.
    pub allow_private_networks: bool,
    /// Hosts pinned to an address, like curl's `--resolve host:port:addr`;
    /// the only way to reach a private address with the guard on.
    pub resolve_overrides: Vec<ResolveOverride>,
    /// An HTTP proxy every request goes through. The proxy, not Detour,
    /// then resolves names, so the private-address guard sees only IP
    /// literals.
    pub proxy: Option<Url>,
}

/// One Action's HTTP client.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    guard: Arc<Guard>,
}

/// The rules every URL and every resolved address must pass.
struct Guard {
    allow: Vec<String>,
    allow_private: bool,
    overrides: Vec<ResolveOverride>,
    max_response_bytes: usize,
}

fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `host` matches an allowlist entry (`api.example.com`, or
/// `*.example.com` for any subdomain, or `*` for any host).
/// Entries are compared case-insensitively; [`normalized_allowlist`]
/// lower-cases them once, when the client is built.
fn host_allowed(allow: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.');
    allow.iter().any(|entry| {
        if entry == "*" {
            return true;
        }
        match entry.strip_prefix("*.") {
            Some(suffix) => {
                let at = host.len().saturating_sub(suffix.len());
                at > 0
                    && host.is_char_boundary(at)
                    && host.as_bytes()[at - 1] == b'.'
                    && host[at..].eq_ignore_ascii_case(suffix)
            }
            None => host.eq_ignore_ascii_case(entry),
        }
    })
}

/// The allowlist as [`host_allowed`] reads it: lower case, no trailing dot.
fn normalized_allowlist(allow: &[String]) -> Vec<String> {
    allow
        .iter()
        .map(|e| e.trim_end_matches('.').to_ascii_lowercase())
        .collect()
}

/// Addresses an Action may never reach unless private networks are allowed.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240 // reserved
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19)) // benchmarking
        }
        IpAddr::V6(v6) => {
            // IPv4-mapped and IPv4-compatible addresses reach the IPv4 host.
            if let Some(v4) = v6.to_ipv4() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let o = v6.octets();
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4
            // address a gateway may forward to.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_private(IpAddr::from([o[12], o[13], o[14], o[15]]));
            }
            if s[0] == 0x2002 {
                return is_private(IpAddr::from([o[2], o[3], o[4], o[5]]));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routable inside)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        }
    }
}

/// Resolves names for the client: pinned hosts to their address, every
/// other name through the system resolver with private addresses dropped.
struct GuardedResolver {
    guard: Arc<Guard>,
    /// The configured proxy's host: Detour must reach it wherever it is.
    proxy_host: Option<String>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = normalize_host(name.as_str());
        let unguarded = guard.allow_private || self.proxy_host.as_deref() == Some(host.as_str());
        Box::pin(async move {
            if let Some(pinned) = guard.overrides.iter().find(|o| o.host == host) {
                return Ok(Box::new(std::iter::once(pinned.addr)) as Addrs);
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| unguarded || !is_private(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!(
                    "{host} resolves only to private addresses, which Actions may not reach"
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl Guard {
    /// Whether an Action may request `url`: the scheme is http(s), the host
    /// is allowed, an IP literal is not private, and a pinned host is
    /// requested on its pinned port. Checked for the first URL and for
    /// every redirect hop.
    fn check_target(&self, url: &Url) -> Result<(), String> {
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!("only http and https URLs can be fetched: {url}"));
        }
        let Some(host) = url.host() else {
            return Err(format!("Invalid URL: {url}"));
        };
        // `host_str` is the url crate's normal form: dotted IPv4, `[…]` IPv6.
        let name = normalize_host(url.host_str().unwrap_or_default());
        if !host_allowed(&self.allow, &name) {
            return Err(format!(
                "{name} is not in this Action's allow_hosts; add it to the Action's config to call it"
            ));
        }
        // IP literals never reach the resolver (the url crate has already
        // turned `2130706433` or `0x7f.1` into 127.0.0.1): check them here.
        let literal = match host {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        };
        if let Some(ip) = literal
            && is_private(ip)
            && !self.allow_private
        {
            return Err(format!(
                "{ip} is a private address, which Actions may not reach"
            ));
        }
        if literal.is_none()
            && let Some(pinned) = self.overrides.iter().find(|o| o.host == name)
            && url.port_or_known_default() != Some(pinned.addr.port())
        {
            return Err(format!(
                "{name} is pinned to {} and may only be fetched on port {}",
                pinned.addr,
                pinned.addr.port()
            ));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Request {
    #[serde(default = "get")]
    method: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// A text body, sent as its UTF-8 bytes.
    #[serde(default)]
    body: Option<String>,
    /// A binary body (Blob, FormData, typed array), standard base64.
    #[serde(default)]
    body_base64: Option<String>,
}

fn get() -> String {
    "GET".into()
}

impl Fetcher {
    /// Builds the client of one Action.
    pub fn new(allow_hosts: &[String], limits: FetchLimits) -> Result<Self, String> {
        let guard = Arc::new(Guard {
            allow: normalized_allowlist(allow_hosts),
            allow_private: limits.allow_private_networks,
            // Normalized again: the fields are public, `new` may be bypassed.
            overrides: limits
                .resolve_overrides
                .iter()
                .map(|o| ResolveOverride::new(&o.host, o.addr))
                .collect(),
            max_response_bytes: limits.max_response_bytes,
        });
        let hop_guard = guard.clone();
        // Never a proxy from HTTP_PROXY and friends: it would resolve names
        // where the guard cannot see them.
        // The process's TLS configuration: the system's roots are loaded
        // once, not once per client (a spare engine builds one per Action).
        let tls = super::tls::client_config()?;
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .tls_backend_preconfigured(tls);
        if let Some(proxy) = &limits.proxy {
            builder =
                builder.proxy(reqwest::Proxy::all(proxy.as_str()).map_err(|e| e.to_string())?);
        }
        let client = builder
            .dns_resolver(GuardedResolver {
                guard: guard.clone(),
                proxy_host: limits
                    .proxy
                    .as_ref()
                    .and_then(|p| p.host_str())
                    .map(normalize_host),
            })
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error("too many redirects");
                }
                match hop_guard.check_target(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(refused) => attempt.error(format!("refused redirect: {refused}")),
                }
            }))
            .timeout(limits.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, guard })
    }

    /// Performs one request; answers `{ok, status, statusText, url,
    /// headers: [[name, value], ...], body | base64}` or `{ok: false, error}`
    /// as JSON text.
    pub async fn fetch(self, url: String, request: String) -> String {
        match self.try_fetch(&url, &request).await {
            Ok(v) => v,
            Err(error) => json!({"ok": false, "error": error}),
        }
        .to_string()
    }

    async fn try_fetch(&self, url: &str, request: &str) -> Result<Value, String> {
        let request: Request = serde_json::from_str(&super::surrogates::well_formed(request))
            .map_err(|e| format!("bad request options: {e}"))?;
        let parsed = Url::parse(url).map_err(|_| format!("Invalid URL: {url}"))?;
        self.guard.check_target(&parsed)?;
        let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("invalid method {}", request.method))?;
        let mut builder = self.client.request(method, parsed);
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        } else if let Some(body) = request.body_base64 {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|_| "bad request body encoding".to_owned())?;
            builder = builder.body(bytes);
        }
        let mut response = builder.send().await.map_err(describe)?;
        let status = response.status();
        // Pairs, not a map: a repeated header (Set-Cookie) keeps every value.
        let headers: Vec<(&str, &str)> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let headers = json!(headers);
        let final_url = response.url().to_string();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > self.guard.max_response_bytes {
                return Err(format!(
                    "the response is larger than {} bytes",
                    self.guard.max_response_bytes
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let mut reply = json!({
            "ok": true,
            "status": status.as_u16(),
            "statusText": status.canonical_reason().unwrap_or(""),
            "url": final_url,
            "headers": headers,
        });
        // Text stays text (no re-encoding on the common JSON path); bytes
        // that are not UTF-8 cross as base64, so binary bodies arrive whole.
        match String::from_utf8(body) {
            Ok(text) => reply["body"] = Value::String(text),
            Err(e) => {
                use base64::Engine as _;
                reply["base64"] =
                    Value::String(base64::engine::general_purpose::STANDARD.encode(e.into_bytes()));
            }
        }
        Ok(reply)
    }
}

fn describe(e: reqwest::Error) -> String {
    use std::error::Error as _;
    if e.is_timeout() {
        return "the request timed out".into();
    }
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_matches_exact_hosts_and_wildcard_subdomains() {
        let allow = vec!["api.example.com".to_owned(), "*.corp.example".to_owned()];
        assert!(host_allowed(&allow, "api.example.com"));
        assert!(host_allowed(&allow, "API.example.com."));
        assert!(host_allowed(&allow, "a.corp.example"));
        assert!(!host_allowed(&allow, "corp.example"));
        assert!(!host_allowed(&allow, "evil-api.example.com"));
    }

    #[test]
    fn private_and_local_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "240.0.0.1",
            "192.0.0.8",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:a00:1::",
            "fec0::1",
            "2001:db8::1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::",
        ] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    fn guard(allow: &[&str], overrides: Vec<ResolveOverride>) -> Guard {
        Guard {
            allow: allow.iter().map(|h| h.to_string()).collect(),
            allow_private: false,
            overrides,
            max_response_bytes: 1024,
        }
    }

    #[test]
    fn every_spelling_of_a_private_address_is_refused_even_when_any_host_is_allowed() {
        let any = guard(&["*"], Vec::new());
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1:8443/",
        ] {
            let refused = any.check_target(&Url::parse(url).unwrap());
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.contains("private address")),
                "{url}: {refused:?}"
            );
        }
        assert_eq!(
            any.check_target(&Url::parse("https://93.184.216.34/").unwrap()),
            Ok(())
        );
    }

    #[test]
    fn a_pinned_host_is_allowed_only_on_its_port_and_only_if_listed() {
        let pin = ResolveOverride::new("Hook.Test.", "127.0.0.1:8080".parse().unwrap());
        let listed = guard(&["hook.test"], vec![pin.clone()]);
        let unlisted = guard(&["other.test"], vec![pin]);

        assert_eq!(
            listed.check_target(&Url::parse("http://hook.test:8080/x").unwrap()),
            Ok(())
        );
        let other_port = listed.check_target(&Url::parse("http://hook.test:8081/x").unwrap());
        assert!(
            other_port
                .as_ref()
                .is_err_and(|e| e.contains("only be fetched on port 8080")),
            "{other_port:?}"
        );
        let default_port = listed.check_target(&Url::parse("http://hook.test/x").unwrap());
        assert!(default_port.is_err(), "{default_port:?}");
        let not_listed = unlisted.check_target(&Url::parse("http://hook.test:8080/x").unwrap());
        assert!(
            not_listed
                .as_ref()
                .is_err_and(|e| e.contains("not in this Action's allow_hosts")),
            "{not_listed:?}"
        );
    }
}
