//! ES modules are refused: Actions load CommonJS.

use std::path::Path;

use serde_json::Value;

use super::Probe;

/// Refuses ES modules: `.mjs` files, and `.js` files whose nearest
/// `package.json` says `"type": "module"`.
pub(super) fn check_commonjs(probe: &mut dyn Probe, file: &Path) -> Result<(), String> {
    match esm_reason(probe, file)? {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// Why `file` is an ES module, if it is one.
pub(super) fn esm_reason(probe: &mut dyn Probe, file: &Path) -> Result<Option<String>, String> {
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
