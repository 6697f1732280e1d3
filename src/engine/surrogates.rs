//! Lone surrogates in a report. QuickJS's `JSON.stringify` writes a string
//! holding half of a UTF-16 surrogate pair as a `\udXXX` escape, as the
//! language requires and as Node does; `serde_json` (like any UTF-8 text)
//! cannot hold one and refuses the whole report. Such a claim or message
//! is the Action's data, not tampering: the half is replaced with U+FFFD,
//! the replacement character, and the report is read as usual.

use std::borrow::Cow;

/// `json` with every lone surrogate escape replaced by `\ufffd`; borrowed
/// when there is none (almost always).
pub fn well_formed(json: &str) -> Cow<'_, str> {
    let bytes = json.as_bytes();
    if !has_surrogate_escape(bytes) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = escape_at(bytes, i) else {
            i += 2; // any other escape, `\\` included, is two bytes
            continue;
        };
        let high = (0xD800..=0xDBFF).contains(&unit);
        let low = (0xDC00..=0xDFFF).contains(&unit);
        if high && escape_at(bytes, i + 6).is_some_and(|next| (0xDC00..=0xDFFF).contains(&next)) {
            i += 12; // a whole pair
        } else if high || low {
            out.push_str(&json[copied..i]);
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    out.push_str(&json[copied..]);
    Cow::Owned(out)
}

fn has_surrogate_escape(bytes: &[u8]) -> bool {
    bytes
        .windows(3)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && matches!(w[2], b'd' | b'D'))
}

/// The code unit of a `\uXXXX` escape starting at `at`.
fn escape_at(bytes: &[u8], at: usize) -> Option<u32> {
    let escape = bytes.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    std::str::from_utf8(&escape[2..])
        .ok()
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(json: &str) -> serde_json::Value {
        serde_json::from_str(&well_formed(json)).unwrap()
    }

    #[test]
    fn a_lone_half_becomes_the_replacement_character_and_pairs_stay() {
        assert_eq!(parsed(r#""a\ud800b""#), "a\u{FFFD}b");
        assert_eq!(parsed(r#""\udc00""#), "\u{FFFD}");
        assert_eq!(parsed(r#""\ud83d\ude00""#), "\u{1F600}");
        assert_eq!(parsed(r#""\ud83d\ud83d\ude00""#), "\u{FFFD}\u{1F600}");
        assert_eq!(parsed(r#""x\ud800""#), "x\u{FFFD}");
    }

    #[test]
    fn escaped_backslashes_and_other_escapes_are_left_alone() {
        assert!(matches!(well_formed(r#"{"a":"\u00e9"}"#), Cow::Borrowed(_)));
        // `\\ud800` is a backslash followed by the text "ud800".
        assert_eq!(parsed(r#""\\ud800\ud800""#), "\\ud800\u{FFFD}");
        assert_eq!(parsed(r#""\"\n\u0041""#), "\"\nA");
    }
}
