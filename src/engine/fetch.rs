//! Outbound HTTP for Actions (`fetch`), with the guard rails an identity
//! gateway needs: a per-Action host allowlist (checked on every redirect
//! hop too), a timeout, a response size cap, and no connections to
//! loopback, link-local or private addresses unless the operator allows
//! them. Private addresses are refused in the DNS resolver itself, so the
//! address that was checked is the address that is dialed (no DNS
//! rebinding).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::Deserialize;
use serde_json::{Value, json};

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
}

/// One Action's HTTP client.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allow: Arc<Vec<String>>,
    limits: FetchLimits,
}

/// Whether `host` matches an allowlist entry (`api.example.com`, or
/// `*.example.com` for any subdomain, or `*` for any host).
fn host_allowed(allow: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    allow.iter().any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.to_ascii_lowercase();
        match entry.strip_prefix("*.") {
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => host == entry,
        }
    })
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
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19)) // benchmarking
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
        }
    }
}

struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || !is_private(a.ip()))
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
        let allow = Arc::new(allow_hosts.to_vec());
        let hop_allow = allow.clone();
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver {
                allow_private: limits.allow_private_networks,
            })
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                let ok = attempt
                    .url()
                    .host_str()
                    .is_some_and(|h| host_allowed(&hop_allow, h));
                if attempt.previous().len() >= MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if ok {
                    attempt.follow()
                } else {
                    attempt.error("redirected to a host that is not in allow_hosts")
                }
            }))
            .timeout(limits.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            allow,
            limits,
        })
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
        let request: Request =
            serde_json::from_str(request).map_err(|e| format!("bad request options: {e}"))?;
        let parsed = url::Url::parse(url).map_err(|_| format!("Invalid URL: {url}"))?;
        if parsed.scheme() != "https" && parsed.scheme() != "http" {
            return Err(format!("only http and https URLs can be fetched: {url}"));
        }
        let host = parsed.host_str().unwrap_or_default();
        if !host_allowed(&self.allow, host) {
            return Err(format!(
                "{host} is not in this Action's allow_hosts; add it to the Action's config to call it"
            ));
        }
        // IP literals never reach the resolver; check them here.
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>()
            && is_private(ip)
            && !self.limits.allow_private_networks
        {
            return Err(format!(
                "{ip} is a private address, which Actions may not reach"
            ));
        }
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
            if body.len() + chunk.len() > self.limits.max_response_bytes {
                return Err(format!(
                    "the response is larger than {} bytes",
                    self.limits.max_response_bytes
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
        for ip in ["93.184.216.34", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}
