//! Node's CommonJS resolution algorithm (`require.resolve`), run at
//! start-up against the disk and at run time against what start-up read.
//!
//! Relative and absolute specifiers are files (`X`, `X.js`, `X.json`,
//! `X.cjs`) or directories (`package.json` `main`, `index.js`,
//! `index.json`); bare specifiers are packages looked up in `node_modules`
//! directories from the requiring file's directory upward, honouring
//! `package.json` `exports` (subpaths, patterns, conditions) with the
//! conditions [`CONDITIONS`]. Nothing outside the actions root is ever
//! probed, and a file whose real path (symlinks followed) leaves the root is
//! refused.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

/// The `exports` conditions Detour matches. As in Node, this is a set: the
/// package's key order decides which matching condition wins. `browser` is
/// in it because Detour is a fetch-based runtime: a package's browser build
/// reaches the network through `fetch` where its Node build needs `http`.
/// A conditional target that is an ES module (`.mjs`, or `.js` under a
/// `"type": "module"` package.json) is skipped for the next matching key,
/// since Actions load CommonJS (most browser builds are ES modules).
pub const CONDITIONS: &[&str] = &["browser", "require", "node", "default"];

/// What resolution needs from a file system: whether a path is a file
/// (and its real path), and a directory's parsed `package.json`.
pub trait Probe {
    /// The actions root: every path probed lies under it.
    fn root(&self) -> &Path;
    /// `Some(real path)` when `path` is a regular file. An error when the
    /// file's real path leaves the root (a symlink out of it).
    fn file(&mut self, path: &Path) -> Result<Option<PathBuf>, String>;
    /// The parsed `package.json` in `dir`, if there is one.
    fn package_json(&mut self, dir: &Path) -> Result<Option<Arc<Value>>, String>;
}

/// Removes `.` and resolves `..` lexically (the path is absolute).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `(package name, subpath)` of a bare specifier: `@scope/pkg/a/b` →
/// `("@scope/pkg", "/a/b")`, `pkg` → `("pkg", "")`.
pub fn split_package(spec: &str) -> Option<(&str, &str)> {
    let name_end = if spec.starts_with('@') {
        let slash = spec.find('/')?;
        spec[slash + 1..]
            .find('/')
            .map_or(spec.len(), |i| slash + 1 + i)
    } else {
        spec.find('/').unwrap_or(spec.len())
    };
    let (name, sub) = spec.split_at(name_end);
    let valid = !name.is_empty()
        && !name.ends_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    valid.then_some((name, sub))
}

/// Whether `spec` names a file by path rather than a package.
pub fn is_path(spec: &str) -> bool {
    spec == "."
        || spec == ".."
        || spec.starts_with("./")
        || spec.starts_with("../")
        || spec.starts_with('/')
}

/// Resolves `spec` required from a file in `from_dir` to a file's real path.
/// The error says why, without the "Cannot find module" prefix.
pub fn resolve(probe: &mut dyn Probe, spec: &str, from_dir: &Path) -> Result<PathBuf, String> {
    let root = probe.root().to_path_buf();
    let file = if is_path(spec) {
        let joined = if spec.starts_with('/') {
            PathBuf::from(spec)
        } else {
            from_dir.join(spec)
        };
        let target = normalize(&joined);
        if !target.starts_with(&root) {
            return Err("the path leads outside the actions root".into());
        }
        let as_file = if spec.ends_with('/') || spec == "." || spec == ".." {
            None
        } else {
            load_as_file(probe, &target)?
        };
        match as_file {
            Some(file) => file,
            None => load_as_directory(probe, &target)?.ok_or_else(|| "no such file".to_owned())?,
        }
    } else if spec.starts_with('#') {
        return Err("package.json \"imports\" (#…) are not supported".into());
    } else {
        let (name, sub) =
            split_package(spec).ok_or_else(|| "not a valid package name".to_owned())?;
        load_node_modules(probe, name, sub, from_dir)?.ok_or_else(|| {
            format!("package '{name}' is not installed in a node_modules directory between the requiring file and the actions root")
        })?
    };
    check_commonjs(probe, &file)?;
    Ok(file)
}

fn load_as_file(probe: &mut dyn Probe, target: &Path) -> Result<Option<PathBuf>, String> {
    if let Some(file) = probe.file(target)? {
        return Ok(Some(file));
    }
    let Some(name) = target.file_name() else {
        return Ok(None);
    };
    for ext in [".js", ".json", ".cjs"] {
        let mut with_ext = name.to_os_string();
        with_ext.push(ext);
        if let Some(file) = probe.file(&target.with_file_name(with_ext))? {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

fn load_index(probe: &mut dyn Probe, dir: &Path) -> Result<Option<PathBuf>, String> {
    for index in ["index.js", "index.json"] {
        if let Some(file) = probe.file(&dir.join(index))? {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

fn load_as_directory(probe: &mut dyn Probe, dir: &Path) -> Result<Option<PathBuf>, String> {
    if let Some(package) = probe.package_json(dir)?
        && let Some(main) = package.get("main").and_then(Value::as_str)
        && !main.is_empty()
    {
        let target = normalize(&dir.join(main));
        if target.starts_with(probe.root()) {
            if let Some(file) = load_as_file(probe, &target)? {
                return Ok(Some(file));
            }
            if let Some(file) = load_index(probe, &target)? {
                return Ok(Some(file));
            }
        }
    }
    load_index(probe, dir)
}

fn load_node_modules(
    probe: &mut dyn Probe,
    name: &str,
    sub: &str,
    from_dir: &Path,
) -> Result<Option<PathBuf>, String> {
    let root = probe.root().to_path_buf();
    let mut dir = Some(from_dir.to_path_buf());
    while let Some(current) = dir {
        if !current.starts_with(&root) {
            break;
        }
        if current.file_name().is_none_or(|n| n != "node_modules") {
            let package_dir = current.join("node_modules").join(name);
            if let Some(file) = load_package(probe, &package_dir, name, sub)? {
                return Ok(Some(file));
            }
        }
        if current == root {
            break;
        }
        dir = current.parent().map(Path::to_path_buf);
    }
    Ok(None)
}

fn load_package(
    probe: &mut dyn Probe,
    package_dir: &Path,
    name: &str,
    sub: &str,
) -> Result<Option<PathBuf>, String> {
    let package = probe.package_json(package_dir)?;
    if let Some(exports) = package.as_ref().and_then(|p| p.get("exports"))
        && !exports.is_null()
    {
        let subpath = format!(".{sub}");
        let mut is_esm = |target: &str| -> Result<bool, String> {
            let file = normalize(&package_dir.join(target));
            if !file.starts_with(package_dir) {
                return Ok(false);
            }
            match probe.file(&file)? {
                Some(real) => Ok(esm_reason(probe, &real)?.is_some()),
                None => Ok(false),
            }
        };
        let target = exports_resolve(exports, &subpath, &mut is_esm)
            .map_err(|e| format!("package '{name}': {e}"))?;
        let file = normalize(&package_dir.join(&target));
        if !file.starts_with(package_dir) {
            return Err(format!(
                "package '{name}': \"exports\" maps '{subpath}' outside the package"
            ));
        }
        return match probe.file(&file)? {
            Some(found) => Ok(Some(found)),
            None => Err(format!(
                "package '{name}': \"exports\" maps '{subpath}' to '{target}', which does not exist"
            )),
        };
    }
    let target = normalize(&package_dir.join(sub.trim_start_matches('/')));
    if !target.starts_with(probe.root()) {
        return Err("the path leads outside the actions root".into());
    }
    if !sub.is_empty()
        && !sub.ends_with('/')
        && let Some(file) = load_as_file(probe, &target)?
    {
        return Ok(Some(file));
    }
    load_as_directory(probe, &target)
}

/// Whether an `exports` target (relative to its package) is an ES module.
type IsEsm<'a> = dyn FnMut(&str) -> Result<bool, String> + 'a;

/// Resolves `subpath` (`.` or `./x`) through a package's `exports`.
fn exports_resolve(
    exports: &Value,
    subpath: &str,
    is_esm: &mut IsEsm<'_>,
) -> Result<String, String> {
    let is_subpath_map = exports
        .as_object()
        .and_then(|o| o.keys().next())
        .is_some_and(|k| k.starts_with('.'));
    let (target, star) = if is_subpath_map {
        let map = exports.as_object().ok_or("invalid \"exports\"")?;
        if let Some(target) = map.get(subpath).filter(|_| !subpath.contains('*')) {
            (target, None)
        } else {
            // The pattern whose part before `*` is longest wins (Node's
            // PATTERN_KEY_COMPARE); a key ending in `/` maps a folder.
            let mut best: Option<(&str, &Value, String)> = None;
            for (key, target) in map {
                let matched = if let Some((prefix, suffix)) = key.split_once('*') {
                    subpath
                        .strip_prefix(prefix)
                        .and_then(|rest| rest.strip_suffix(suffix))
                        .filter(|m| !m.is_empty() && subpath.len() >= key.len())
                        .map(|m| (prefix, m.to_owned()))
                } else if key.ends_with('/') {
                    subpath
                        .strip_prefix(key.as_str())
                        .map(|m| (key.as_str(), m.to_owned()))
                } else {
                    None
                };
                if let Some((prefix, m)) = matched
                    && best.as_ref().is_none_or(|(p, _, _)| prefix.len() > p.len())
                {
                    best = Some((prefix, target, m));
                }
            }
            let (_, target, m) = best.ok_or_else(|| {
                format!("'{subpath}' is not exported by its package.json \"exports\"")
            })?;
            (target, Some(m))
        }
    } else if subpath == "." {
        (exports, None)
    } else {
        return Err(format!(
            "'{subpath}' is not exported by its package.json \"exports\""
        ));
    };
    // First the targets that are CommonJS; failing that, the first match
    // whatever its format, so that the error says it is an ES module.
    let found = match resolve_target(target, star.as_deref(), Some(is_esm))? {
        Some(found) => Some(found),
        None => resolve_target(target, star.as_deref(), None)?,
    };
    match found {
        Some(found) => Ok(found),
        None if offers_import(target) => Err(format!(
            "it is an ES module only: its \"exports\" for '{subpath}' offer `import` but no `require` (conditions {}); Actions load CommonJS",
            CONDITIONS.join(", ")
        )),
        None => Err(format!(
            "its \"exports\" have no target for '{subpath}' under the conditions {}",
            CONDITIONS.join(", ")
        )),
    }
}

/// The first target matching [`CONDITIONS`] in key order; with `skip_esm`,
/// a conditional target that is an ES module does not count as a match.
fn resolve_target(
    target: &Value,
    star: Option<&str>,
    mut skip_esm: Option<&mut IsEsm<'_>>,
) -> Result<Option<String>, String> {
    match target {
        Value::String(s) => {
            if !s.starts_with("./") {
                return Err(format!("invalid \"exports\" target '{s}'"));
            }
            Ok(Some(match star {
                Some(m) if s.contains('*') => s.replace('*', m),
                Some(m) if s.ends_with('/') => format!("{s}{m}"),
                _ => s.clone(),
            }))
        }
        Value::Array(items) => {
            for item in items {
                if let Ok(Some(found)) = resolve_target(item, star, skip_esm.as_deref_mut()) {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        }
        Value::Object(conditions) => {
            for (condition, nested) in conditions {
                if !CONDITIONS.contains(&condition.as_str()) {
                    continue;
                }
                let Some(found) = resolve_target(nested, star, skip_esm.as_deref_mut())? else {
                    continue;
                };
                if let Some(is_esm) = skip_esm.as_deref_mut()
                    && is_esm(&found)?
                {
                    continue;
                }
                return Ok(Some(found));
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

fn offers_import(target: &Value) -> bool {
    match target {
        Value::Object(conditions) => conditions
            .iter()
            .any(|(k, v)| k == "import" || offers_import(v)),
        Value::Array(items) => items.iter().any(offers_import),
        _ => false,
    }
}

/// Refuses ES modules: `.mjs` files, and `.js` files whose nearest
/// `package.json` says `"type": "module"`.
fn check_commonjs(probe: &mut dyn Probe, file: &Path) -> Result<(), String> {
    match esm_reason(probe, file)? {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// Why `file` is an ES module, if it is one.
fn esm_reason(probe: &mut dyn Probe, file: &Path) -> Result<Option<String>, String> {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "mjs" {
        return Ok(Some(
            "it is an ES module (.mjs); Actions load CommonJS".into(),
        ));
    }
    if ext != "js" {
        return Ok(None);
    }
    let root = probe.root().to_path_buf();
    let mut dir = file.parent().map(Path::to_path_buf);
    while let Some(current) = dir {
        if !current.starts_with(&root) {
            break;
        }
        if let Some(package) = probe.package_json(&current)? {
            if package.get("type").and_then(Value::as_str) == Some("module") {
                let name = package
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("(unnamed)");
                return Ok(Some(format!(
                    "package '{name}' is an ES module only (\"type\": \"module\"); Actions load CommonJS"
                )));
            }
            return Ok(None);
        }
        if current == root {
            break;
        }
        dir = current.parent().map(Path::to_path_buf);
    }
    Ok(None)
}

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

/// The string literals passed to `require(...)` in `source`: a plain scan
/// (a literal in a comment counts too), enough to know what an Action or a
/// package file will load.
pub fn scan_requires(source: &str) -> Vec<String> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = source[from..].find("require") {
        let start = from + at;
        from = start + "require".len();
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.')
        {
            continue;
        }
        let mut i = from;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b'(') {
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&quote) = bytes.get(i).filter(|b| matches!(b, b'\'' | b'"' | b'`')) else {
            continue;
        };
        let start_lit = i + 1;
        let Some(len) = source[start_lit..].find(|c: char| {
            c as u32 == u32::from(quote) || c == '\\' || c == '\n' || (quote == b'`' && c == '$')
        }) else {
            continue;
        };
        let end = start_lit + len;
        if bytes[end] != quote {
            continue;
        }
        let mut j = end + 1;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if bytes.get(j) == Some(&b')') && len > 0 {
            found.push(source[start_lit..end].to_owned());
        }
    }
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn package_names_split_like_node() {
        assert_eq!(split_package("axios"), Some(("axios", "")));
        assert_eq!(split_package("axios/lib/x"), Some(("axios", "/lib/x")));
        assert_eq!(
            split_package("@xmldom/xmldom"),
            Some(("@xmldom/xmldom", ""))
        );
        assert_eq!(split_package("@a/b/c.js"), Some(("@a/b", "/c.js")));
        assert_eq!(split_package("@a"), None);
    }

    #[test]
    fn exports_conditions_subpaths_and_patterns() {
        let mut cjs = |_: &str| Ok(false);
        let exports = json!({
            ".": { "import": "./esm/index.mjs", "require": "./cjs/index.js" },
            "./feature": { "node": { "require": "./cjs/feature-node.js" }, "default": "./cjs/feature.js" },
            "./lib/*": "./cjs/lib/*.js",
            "./lib/special/*": "./cjs/special/*.js",
            "./package.json": "./package.json",
            "./esm-only": { "import": "./esm/only.mjs" }
        });
        assert_eq!(
            exports_resolve(&exports, ".", &mut cjs).ok(),
            Some("./cjs/index.js".into())
        );
        assert_eq!(
            exports_resolve(&exports, "./feature", &mut cjs).ok(),
            Some("./cjs/feature-node.js".into())
        );
        assert_eq!(
            exports_resolve(&exports, "./lib/a/b", &mut cjs).ok(),
            Some("./cjs/lib/a/b.js".into())
        );
        assert_eq!(
            exports_resolve(&exports, "./lib/special/x", &mut cjs).ok(),
            Some("./cjs/special/x.js".into())
        );
        assert!(
            exports_resolve(&exports, "./hidden", &mut cjs)
                .is_err_and(|e| e.contains("not exported"))
        );
        assert!(
            exports_resolve(&exports, "./esm-only", &mut cjs)
                .is_err_and(|e| e.contains("ES module"))
        );
        assert_eq!(
            exports_resolve(&json!("./main.js"), ".", &mut cjs).ok(),
            Some("./main.js".into())
        );
        assert_eq!(
            exports_resolve(
                &json!({ "require": "./r.js", "default": "./d.js" }),
                ".",
                &mut cjs
            )
            .ok(),
            Some("./r.js".into())
        );
    }

    #[test]
    fn a_commonjs_browser_build_wins_in_key_order_and_an_es_module_one_is_skipped() {
        let exports = json!({
            ".": { "browser": "./browser/index.mjs", "worker": "./w.js", "import": "./esm.js", "require": "./node.cjs" },
            "./axios": { "browser": { "require": "./browser.cjs", "default": "./index.js" }, "default": { "require": "./node.cjs" } },
            "./uuid": { "node": { "require": "./node.cjs" }, "browser": { "require": "./browser.cjs" } },
            "./esm": { "browser": "./b.mjs", "default": "./d.mjs" }
        });
        let mut esm = |t: &str| Ok(t.ends_with(".mjs"));
        assert_eq!(
            exports_resolve(&exports, ".", &mut esm).ok(),
            Some("./node.cjs".into())
        );
        assert_eq!(
            exports_resolve(&exports, "./axios", &mut esm).ok(),
            Some("./browser.cjs".into())
        );
        assert_eq!(
            exports_resolve(&exports, "./uuid", &mut esm).ok(),
            Some("./node.cjs".into())
        );
        // Nothing but ES modules: the first match, which loading refuses.
        assert_eq!(
            exports_resolve(&exports, "./esm", &mut esm).ok(),
            Some("./b.mjs".into())
        );
    }

    #[test]
    fn the_scan_finds_literal_requires_only() {
        let found = scan_requires(
            "const a = require('a');\nconst b = require( \"@s/b/x\" );\nconst c = require(`c`);\nfoo.require('no'); myrequire('no');\nrequire(name); require(`t${x}`);",
        );
        assert_eq!(found, vec!["@s/b/x", "a", "c"]);
    }
}
