//! Host functions the prelude calls: token signing and checking, and URL
//! building. They speak JSON strings so the engine boundary stays narrow.

use std::cell::RefCell;
use std::rc::Rc;

use std::time::Duration;

use rquickjs::function::Async;
use rquickjs::{Ctx, Exception, Function, Object};
use serde_json::{Map, Value, json};

use super::fetch::Fetcher;
use crate::token::session::{self, Expected};

/// Console lines of the running execution, collected on the Rust side so
/// they survive an execution stopped by a limit.
pub type LogSink = Rc<RefCell<Vec<String>>>;

/// Installs `globalThis.__detour_host`; the prelude takes it and deletes it.
pub fn install(ctx: &Ctx<'_>, logs: LogSink, fetcher: Option<Fetcher>) -> rquickjs::Result<()> {
    let host = Object::new(ctx.clone())?;
    host.set(
        "sleep",
        Function::new(
            ctx.clone(),
            Async(|ms: f64| async move {
                let ms = if ms.is_finite() {
                    ms.clamp(0.0, 86_400_000.0)
                } else {
                    0.0
                };
                tokio::time::sleep(Duration::from_secs_f64(ms / 1000.0)).await;
                Ok::<(), rquickjs::Error>(())
            }),
        )?,
    )?;
    if let Some(fetcher) = fetcher {
        host.set(
            "fetch",
            Function::new(
                ctx.clone(),
                Async(move |url: String, request: String| {
                    let fetcher = fetcher.clone();
                    async move { Ok::<String, rquickjs::Error>(fetcher.fetch(url, request).await) }
                }),
            )?,
        )?;
    }
    host.set(
        "log",
        Function::new(ctx.clone(), move |line: String| {
            logs.borrow_mut().push(line)
        })?,
    )?;
    host.set("sign", Function::new(ctx.clone(), sign)?)?;
    host.set("verify", Function::new(ctx.clone(), verify)?)?;
    host.set("buildUrl", Function::new(ctx.clone(), build_url)?)?;
    ctx.globals().set("__detour_host", host)?;
    Ok(())
}

fn sign<'js>(ctx: Ctx<'js>, secret: String, claims: String) -> rquickjs::Result<String> {
    let claims: Map<String, Value> = serde_json::from_str(&claims)
        .map_err(|e| Exception::throw_message(&ctx, &format!("encodeToken: {e}")))?;
    session::encode(secret.as_bytes(), &claims)
        .map_err(|e| Exception::throw_message(&ctx, &format!("encodeToken: {e}")))
}

fn verify(token: String, secret: String, state: String, sub: String) -> String {
    let expected = Expected {
        state: &state,
        sub: &sub,
    };
    match session::validate(&token, secret.as_bytes(), &expected) {
        Ok(payload) => json!({"ok": true, "payload": payload}),
        Err(e) => json!({"ok": false, "reason": e.to_string()}),
    }
    .to_string()
}

/// `sendUserTo`'s URL rule: absolute http(s) URL; each query entry replaces
/// any parameter of the same name.
fn build_url(url: String, query: String) -> String {
    let result = (|| {
        let mut parsed = url::Url::parse(&url).map_err(|_| format!("Invalid URL: {url}"))?;
        if parsed.scheme() != "https" && parsed.scheme() != "http" {
            return Err(format!(
                "Invalid URL: {url} (only http and https can be redirected to)"
            ));
        }
        let query: Map<String, Value> = serde_json::from_str(&query)
            .map_err(|_| "sendUserTo: options.query must be an object".to_owned())?;
        if !query.is_empty() {
            let mut pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| !query.contains_key(k.as_ref()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            for (k, v) in &query {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                pairs.push((k.clone(), v));
            }
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
        }
        Ok(parsed.to_string())
    })();
    match result {
        Ok(url) => json!({"ok": true, "url": url}),
        Err(error) => json!({"ok": false, "error": error}),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_entries_replace_same_named_parameters() {
        let r: Value = serde_json::from_str(&build_url(
            "https://x.example/p?a=1&b=2".into(),
            r#"{"a":"9","c":"3"}"#.into(),
        ))
        .unwrap();
        assert_eq!(r["url"], "https://x.example/p?b=2&a=9&c=3");
    }

    #[test]
    fn relative_urls_are_refused() {
        let r: Value = serde_json::from_str(&build_url("/x".into(), "{}".into())).unwrap();
        assert_eq!(r["ok"], false);
    }
}
