//! Node's built-in modules, and why those that would open the sandbox
//! are refused.

/// Node's built-in modules (`require('module').builtinModules`, Node 22),
/// without the `node:` prefix.
pub const NODE_BUILTINS: &[&str] = &[
    "assert",
    "assert/strict",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "dns/promises",
    "domain",
    "events",
    "fs",
    "fs/promises",
    "http",
    "http2",
    "https",
    "inspector",
    "inspector/promises",
    "module",
    "net",
    "os",
    "path",
    "path/posix",
    "path/win32",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "readline/promises",
    "repl",
    "stream",
    "stream/consumers",
    "stream/promises",
    "stream/web",
    "string_decoder",
    "sys",
    "timers",
    "timers/promises",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "util/types",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
    "test",
    "sqlite",
    "sea",
];

/// The built-in `spec` names (with or without `node:`), if it is one.
pub fn builtin(spec: &str) -> Option<&str> {
    let name = spec.strip_prefix("node:").unwrap_or(spec);
    NODE_BUILTINS.contains(&name).then_some(name)
}

/// Why a Node built-in would open the sandbox, for those that would.
fn sandbox_reason(name: &str) -> Option<&'static str> {
    Some(match name {
        "net" | "tls" | "dgram" | "http2" => "Detour does not give Actions raw sockets; use fetch",
        "http" | "https" => "Detour does not give Actions Node's HTTP stack; use fetch",
        "fs" | "fs/promises" => "Actions have no file system",
        "child_process" | "cluster" | "worker_threads" => {
            "Actions cannot start processes or threads"
        }
        "dns" | "dns/promises" => "Actions do not resolve names themselves; fetch does",
        "vm" | "v8" | "inspector" | "inspector/promises" | "repl" | "wasi" | "module"
        | "trace_events" | "sqlite" | "sea" | "test" | "process" | "os" => {
            "it would reach outside the Action's sandbox"
        }
        _ => return None,
    })
}

/// Why a Node built-in that Detour does not serve is unavailable: those
/// that would open the sandbox say so; the others are simply not provided.
pub fn builtin_refusal(spec: &str, name: &str) -> String {
    match sandbox_reason(name) {
        Some(why) => format!("Cannot use '{spec}' in an Action: {why}"),
        None => format!(
            "Cannot find module '{spec}': Detour does not provide this Node built-in to Actions"
        ),
    }
}

/// For a built-in that would open the sandbox, the message every use of it
/// throws. Requiring one succeeds (packages require `http` or `fs` at load
/// for code paths an Action never takes) but yields a module whose every
/// member throws this.
pub fn refused_on_use(spec: &str) -> Option<String> {
    let name = builtin(spec)?;
    sandbox_reason(name).map(|why| format!("Cannot use '{spec}' in an Action: {why}"))
}
