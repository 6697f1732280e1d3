//! A package's entry points: its `package.json` `exports` (subpaths,
//! patterns, conditions), or failing that its files as Node finds them.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::esm::esm_reason;
use super::{Probe, load_as_directory, load_as_file, normalize};

/// The `exports` conditions Detour matches. As in Node, this is a set: the
/// package's key order decides which matching condition wins. `browser` is
/// in it because Detour is a fetch-based runtime: a package's browser build
/// reaches the network through `fetch` where its Node build needs `http`.
/// A conditional target that is an ES module (`.mjs`, or `.js` under a
/// `"type": "module"` package.json) is skipped for the next matching key,
/// since Actions load CommonJS (most browser builds are ES modules).
pub const CONDITIONS: &[&str] = &["browser", "require", "node", "default"];

/// Resolves `sub` (empty or `/x`) inside the package at `package_dir`:
/// through its `exports` when it has them, else as files and directories.
pub(super) fn load_package(
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
