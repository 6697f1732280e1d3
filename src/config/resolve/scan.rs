//! The literal `require`s in a source, found without parsing it.

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

    #[test]
    fn the_scan_finds_literal_requires_only() {
        let found = scan_requires(
            "const a = require('a');\nconst b = require( \"@s/b/x\" );\nconst c = require(`c`);\nfoo.require('no'); myrequire('no');\nrequire(name); require(`t${x}`);",
        );
        assert_eq!(found, vec!["@s/b/x", "a", "c"]);
    }
}
