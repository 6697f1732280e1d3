//! Host functions the prelude calls: the console, token signing and
//! checking, URLs, crypto, zlib, `fetch`, timers and the lazily loaded
//! modules. They speak JSON strings and base64 so the engine boundary stays
//! narrow; the work itself is in the modules named for it (console.rs,
//! urls.rs, crypto/, zlib.rs, fetch.rs).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use std::time::Duration;

use rquickjs::function::{Async, Opt};
use rquickjs::{Ctx, Exception, Function, Object};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};

use super::console::LogSink;
use super::fetch::Fetcher;
use super::{crypto, urls};
use crate::token::session::{self, Expected};

/// Bumped by the engine when an execution ends. Timers and requests still
/// pending then settle at once, so the engine can drain what the execution
/// left behind before the next login runs, instead of letting it wake up
/// inside that login (the prelude drops such late results).
pub type EndSignal = Rc<watch::Sender<u64>>;

/// Resolves when the execution that `over` was subscribed in ends; never,
/// for an operation that belongs to no execution.
async fn until_ended(over: Option<watch::Receiver<u64>>) {
    match over {
        Some(mut over) => {
            let _ = over.changed().await;
        }
        None => std::future::pending().await,
    }
}

/// A fresh [`EndSignal`].
pub fn end_signal() -> EndSignal {
    Rc::new(watch::Sender::new(0))
}

/// What the host functions share with their engine.
#[derive(Clone)]
pub struct Links {
    /// Console output of the running execution.
    pub logs: LogSink,
    /// Ends pending host operations.
    pub ended: EndSignal,
    /// Whether the runtime drives promises. The start-up check loads each
    /// Action on a plain runtime, where an async host function would panic;
    /// there timers and requests never settle instead.
    pub asynchronous: bool,
    /// Set on an engine that runs executions on the HTTP worker
    /// (inline.rs): such an engine never waits, so an execution's timer or
    /// request is refused there and the execution runs again on an engine
    /// thread.
    pub inline: Option<Rc<InlineGate>>,
}

/// What an inline engine's host functions tell it: whether the running
/// execution asked to wait (a timer or a request) and must move to an
/// engine thread.
#[derive(Default)]
pub struct InlineGate {
    refused: Cell<bool>,
}

impl InlineGate {
    /// Whether the execution asked to wait since the last call; clears it.
    pub fn take_refused(&self) -> bool {
        self.refused.replace(false)
    }

    /// The execution waits: it must move.
    pub fn refuse(&self) {
        self.refused.set(true);
    }
}

impl Links {
    /// For an engine's async runtime.
    pub fn engine() -> Self {
        Self {
            logs: LogSink::default(),
            ended: end_signal(),
            asynchronous: true,
            inline: None,
        }
    }

    /// For an engine on an HTTP worker, whose executions never wait.
    pub fn inline(gate: Rc<InlineGate>) -> Self {
        Self {
            inline: Some(gate),
            ..Self::engine()
        }
    }

    /// For the start-up check's plain runtime.
    pub fn check() -> Self {
        Self {
            asynchronous: false,
            ..Self::engine()
        }
    }
}

/// Installs `globalThis.__detour_host`; the prelude takes it and deletes it.
pub fn install(ctx: &Ctx<'_>, links: Links, fetcher: Option<Fetcher>) -> rquickjs::Result<()> {
    let Links {
        logs,
        ended,
        asynchronous,
        inline,
    } = links;
    let host = Object::new(ctx.clone())?;
    if !asynchronous {
        let never: Function = ctx.eval("() => new Promise(() => {})")?;
        host.set("sleep", never.clone())?;
        host.set("fetch", never)?;
        return finish_install(ctx, host, logs);
    }
    // On an inline engine a wait (a timer, a request) is refused when it is
    // asked for, not when its future first runs (a fire-and-forget request
    // is never awaited): the engine then hands the execution over, and what
    // the Action does with the answer, given at once, is dropped. Waits
    // that belong to no execution (module scope, leftovers) are refused
    // too: on an engine thread they would reach the network.
    if let Some(gate) = inline {
        let sleep_gate = gate.clone();
        host.set(
            "sleep",
            Function::new(
                ctx.clone(),
                Async(move |_ms: f64, _owned: Opt<bool>| {
                    sleep_gate.refuse();
                    async { Ok::<(), rquickjs::Error>(()) }
                }),
            )?,
        )?;
        host.set(
            "fetch",
            Function::new(
                ctx.clone(),
                Async(
                    move |_url: String, _request: String, _owned: Opt<bool>, _token: Opt<u32>| {
                        gate.refuse();
                        async {
                            Ok::<String, rquickjs::Error>(
                                json!({"ok": false, "error": "the execution moved"}).to_string(),
                            )
                        }
                    },
                ),
            )?,
        )?;
        host.set("abortFetch", Function::new(ctx.clone(), |_token: u32| {})?)?;
        return finish_install(ctx, host, logs);
    }
    let sleep_ended = ended.clone();
    host.set(
        "sleep",
        Function::new(
            ctx.clone(),
            Async(move |ms: f64, owned: Opt<bool>| {
                let over = owned.0.unwrap_or(true).then(|| sleep_ended.subscribe());
                async move {
                    let ms = if ms.is_finite() {
                        ms.clamp(0.0, 86_400_000.0)
                    } else {
                        0.0
                    };
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs_f64(ms / 1000.0)) => {}
                        () = until_ended(over) => {}
                    }
                    Ok::<(), rquickjs::Error>(())
                }
            }),
        )?,
    )?;
    if let Some(fetcher) = fetcher {
        // Requests an `AbortSignal` may cancel, by the token the prelude
        // gave them: aborting drops the host request (its connection
        // closes) instead of leaving it to run to its timeout.
        let aborts: Rc<RefCell<HashMap<u32, Rc<Notify>>>> = Rc::default();
        let registry = aborts.clone();
        host.set(
            "fetch",
            Function::new(
                ctx.clone(),
                Async(move |url: String, request: String, owned: Opt<bool>, token: Opt<u32>| {
                    let fetcher = fetcher.clone();
                    let over = owned.0.unwrap_or(true).then(|| ended.subscribe());
                    let abort = token.0.map(|t| {
                        let notify = Rc::new(Notify::new());
                        registry.borrow_mut().insert(t, notify.clone());
                        (t, notify)
                    });
                    let registry = registry.clone();
                    async move {
                        let aborted = async {
                            match &abort {
                                Some((_, notify)) => notify.notified().await,
                                None => std::future::pending().await,
                            }
                        };
                        let reply = tokio::select! {
                            reply = fetcher.fetch(url, request) => reply,
                            () = until_ended(over) => {
                                json!({"ok": false, "error": "the execution ended"}).to_string()
                            }
                            () = aborted => {
                                json!({"ok": false, "error": "the request was aborted"}).to_string()
                            }
                        };
                        if let Some((t, _)) = abort {
                            registry.borrow_mut().remove(&t);
                        }
                        Ok::<String, rquickjs::Error>(reply)
                    }
                }),
            )?,
        )?;
        host.set(
            "abortFetch",
            Function::new(ctx.clone(), move |token: u32| {
                if let Some(notify) = aborts.borrow_mut().remove(&token) {
                    // Stored as a permit if the request has not polled yet.
                    notify.notify_one();
                }
            })?,
        )?;
    }
    finish_install(ctx, host, logs)
}

/// The synchronous host functions, then `globalThis.__detour_host`.
fn finish_install<'js>(ctx: &Ctx<'js>, host: Object<'js>, logs: LogSink) -> rquickjs::Result<()> {
    host.set(
        "log",
        Function::new(ctx.clone(), move |line: rquickjs::String<'_>| {
            let mut logs = logs.borrow_mut();
            // Past the cap nothing is even copied out of the engine.
            if !logs.truncated() {
                logs.push(line.to_string().unwrap_or_default());
            }
            // Whether more is wanted: lets the prelude stop building lines
            // nobody keeps (a hint only; the cap holds either way).
            !logs.truncated()
        })?,
    )?;
    host.set("sign", Function::new(ctx.clone(), sign)?)?;
    host.set("verify", Function::new(ctx.clone(), verify)?)?;
    host.set(
        "redirectCommand",
        // The message goes back as text, not thrown from here: a thrown
        // message passes through a 256-byte C buffer (cut at a NUL too).
        Function::new(ctx.clone(), |url: String, query: String| {
            urls::redirect_command(&url, &query).unwrap_or_else(|message| message)
        })?,
    )?;
    host.set("digest", Function::new(ctx.clone(), digest)?)?;
    host.set("hmac", Function::new(ctx.clone(), hmac)?)?;
    host.set(
        "randomBytes",
        Function::new(ctx.clone(), |n: usize| {
            crypto::b64(&crypto::random_bytes(n.min(65_536)))
        })?,
    )?;
    host.set(
        "importKey",
        Function::new(ctx.clone(), |request: String| crypto::import_key(&request))?,
    )?;
    host.set("loadModule", Function::new(ctx.clone(), load_module)?)?;
    host.set(
        "lazyGlobals",
        Function::new(ctx.clone(), super::lazy_globals::define)?,
    )?;
    host.set("zlib", Function::new(ctx.clone(), zlib)?)?;
    host.set("signBytes", Function::new(ctx.clone(), sign_bytes)?)?;
    host.set("verifyBytes", Function::new(ctx.clone(), verify_bytes)?)?;
    host.set(
        "parseUrl",
        Function::new(ctx.clone(), |input: String, base: Option<String>| {
            urls::parse_url(&input, base.as_deref())
        })?,
    )?;
    host.set(
        "setUrl",
        Function::new(ctx.clone(), |href: String, field: String, value: String| {
            urls::set_url(&href, &field, &value)
        })?,
    )?;
    ctx.globals().set("__detour_host", host)?;
    Ok(())
}

/// Loads one of the lazily loaded parts of the JS surface into this
/// context (web_classes.js, node_builtins.js) and answers its `build`.
fn load_module<'js>(ctx: Ctx<'js>, name: String) -> rquickjs::Result<Function<'js>> {
    let bytecode = super::compile::lazy_module_bytecode(&name)
        .map_err(|e| Exception::throw_message(&ctx, &e))?;
    super::script::run(&ctx, bytecode)?
        .into_function()
        .ok_or_else(|| Exception::throw_type(&ctx, &format!("the {name} module has no build")))
}

/// `zlib`'s one-shot operations (node.js), bytes as base64.
fn zlib<'js>(ctx: Ctx<'js>, op: String, data: String, level: i32) -> rquickjs::Result<String> {
    let data = bytes_arg(&ctx, &data)?;
    super::zlib::run(&op, &data, level)
        .map(|out| crypto::b64(&out))
        .map_err(|e| Exception::throw_message(&ctx, &e))
}

fn bytes_arg(ctx: &Ctx<'_>, text: &str) -> rquickjs::Result<Vec<u8>> {
    crypto::unb64(text).ok_or_else(|| Exception::throw_type(ctx, "invalid byte string"))
}

fn unknown_digest(ctx: &Ctx<'_>, alg: &str) -> rquickjs::Error {
    Exception::throw_message(
        ctx,
        &format!(
            "Digest method not supported: {alg} (Detour has md5, sha1, sha224, sha256, sha384, sha512)"
        ),
    )
}

/// `crypto.createHash(alg).update(data).digest()`, bytes as base64.
fn digest<'js>(ctx: Ctx<'js>, alg: String, data: String) -> rquickjs::Result<String> {
    let data = bytes_arg(&ctx, &data)?;
    crypto::digest(&alg, &data)
        .map(|d| crypto::b64(&d))
        .ok_or_else(|| unknown_digest(&ctx, &alg))
}

/// `crypto.createHmac(alg, key).update(data).digest()`, bytes as base64.
fn hmac<'js>(ctx: Ctx<'js>, alg: String, key: String, data: String) -> rquickjs::Result<String> {
    let key = bytes_arg(&ctx, &key)?;
    let data = bytes_arg(&ctx, &data)?;
    crypto::hmac(&alg, &key, &data)
        .map(|d| crypto::b64(&d))
        .ok_or_else(|| {
            if alg.eq_ignore_ascii_case("md5") {
                Exception::throw_message(&ctx, "HMAC-MD5 is not supported by Detour")
            } else {
                unknown_digest(&ctx, &alg)
            }
        })
}

/// `sign(hash, pss, p1363, pkcs8, data)`: a signature, base64.
fn sign_bytes<'js>(
    ctx: Ctx<'js>,
    hash: String,
    pss: bool,
    p1363: bool,
    key: String,
    data: String,
) -> rquickjs::Result<String> {
    let key = bytes_arg(&ctx, &key)?;
    let data = bytes_arg(&ctx, &data)?;
    let scheme = crypto::Scheme {
        hash: &hash,
        pss,
        p1363,
    };
    crypto::sign(&scheme, &key, &data)
        .map(|s| crypto::b64(&s))
        .map_err(|e| Exception::throw_message(&ctx, &e))
}

/// `verify(hash, pss, p1363, spki, data, signature)`: whether it holds.
#[allow(clippy::too_many_arguments)]
fn verify_bytes<'js>(
    ctx: Ctx<'js>,
    hash: String,
    pss: bool,
    p1363: bool,
    key: String,
    data: String,
    sig: String,
) -> rquickjs::Result<bool> {
    let key = bytes_arg(&ctx, &key)?;
    let data = bytes_arg(&ctx, &data)?;
    let sig = bytes_arg(&ctx, &sig)?;
    let scheme = crypto::Scheme {
        hash: &hash,
        pss,
        p1363,
    };
    crypto::verify(&scheme, &key, &data, &sig).map_err(|e| Exception::throw_message(&ctx, &e))
}

fn sign<'js>(ctx: Ctx<'js>, secret: String, claims: String) -> rquickjs::Result<String> {
    // A claim holding half a surrogate pair is read with U+FFFD (as the
    // report is), not refused as malformed JSON.
    let claims: Map<String, Value> = serde_json::from_str(&super::surrogates::well_formed(&claims))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A local server that answers `reply` and hands back the request it read.
    async fn one_shot_server(
        reply: &'static [u8],
    ) -> (u16, tokio::sync::oneshot::Receiver<Vec<u8>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then the 4-byte body the test sends.
            while !request.ends_with(&[0, 255, 128, 10]) {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            socket.write_all(reply).await.unwrap();
            let _ = tx.send(request);
        });
        (port, rx)
    }

    #[tokio::test]
    async fn fetch_carries_binary_bodies_both_ways_and_every_repeated_header() {
        let (port, request) = one_shot_server(
            b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: 3\r\nconnection: close\r\n\r\n\xff\x00\x80",
        )
        .await;
        let fetcher = Fetcher::new(
            &["127.0.0.1".to_owned()],
            super::super::fetch::FetchLimits {
                timeout: Duration::from_secs(5),
                max_response_bytes: 1024,
                allow_private_networks: true,
                resolve_overrides: Vec::new(),
                proxy: None,
            },
        )
        .unwrap();
        let body = crypto::b64(&[0, 255, 128, 10]);
        let reply = fetcher
            .fetch(
                format!("http://127.0.0.1:{port}/up"),
                json!({"method": "PUT", "headers": [], "body_base64": body}).to_string(),
            )
            .await;
        let reply: Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(reply["ok"], true, "{reply}");
        // Not UTF-8: base64, byte for byte.
        assert_eq!(reply["base64"], crypto::b64(&[0xff, 0, 0x80]));
        assert_eq!(reply.get("body"), None);
        let cookies: Vec<&Value> = reply["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|pair| pair[0] == "set-cookie")
            .map(|pair| &pair[1])
            .collect();
        assert_eq!(cookies, [&json!("a=1"), &json!("b=2")]);
        let sent = request.await.unwrap();
        assert!(
            sent.starts_with(b"PUT /up "),
            "{}",
            String::from_utf8_lossy(&sent)
        );
        assert!(sent.ends_with(&[0, 255, 128, 10]));
    }
}
