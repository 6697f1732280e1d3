//! Text from the export on its way to the terminal: parse errors without
//! the values they quote (a secret may sit on the line that failed), and
//! every line free of control characters.

/// `text` safe to print on one terminal line: control characters (a
/// newline, ESC of an escape sequence) and the bidirectional overrides
/// that reorder what a terminal shows are escaped (`\n`, `\u{1b}`), so an
/// export's names cannot forge report lines or recolour the terminal.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A parser's message about the export, fit for one line: its first line,
/// every double-quoted value in it replaced by `"…"` (serde quotes the
/// value it did not expect, which may be a secret), at most 200
/// characters.
pub fn scrub(message: &str) -> String {
    let first = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let mut out = String::with_capacity(first.len());
    let mut quoted = false;
    for c in first.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"…\"");
            }
            ('"', true) => quoted = false,
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    match out.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &out[..at]),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_has_no_control_characters() {
        assert_eq!(
            printable("a\nb\u{1b}[31m\u{202e}"),
            "a\\nb\\u{1b}[31m\\u{202e}"
        );
    }

    #[test]
    fn scrubbed_messages_keep_no_quoted_value() {
        assert_eq!(
            scrub("invalid type: string \"hunter2\", expected a sequence at line 3\n  | snippet"),
            "invalid type: string \"…\", expected a sequence at line 3"
        );
    }
}
