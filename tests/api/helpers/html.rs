//! Just enough HTML reading to check the pages Detour renders (the
//! form_post page and error pages) the way a browser would see them.

use std::collections::HashMap;

/// The attributes of every `<tag ...>` in `html` (names lower-cased, values
/// with the usual HTML entities decoded).
pub fn html_tags(html: &str, tag: &str) -> Vec<HashMap<String, String>> {
    let lower = html.to_ascii_lowercase();
    let opening = format!("<{}", tag.to_ascii_lowercase());
    let mut tags = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find(&opening) {
        let start = from + found + opening.len();
        let end = start + html[start..].find('>').expect("tag is closed");
        from = end;
        if !html[start..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            continue;
        }
        tags.push(parse_attributes(&html[start..end]));
    }
    tags
}

fn parse_attributes(mut text: &str) -> HashMap<String, String> {
    let mut attributes = HashMap::new();
    loop {
        text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if text.is_empty() {
            return attributes;
        }
        let name_end = text
            .find(|c: char| c == '=' || c.is_whitespace() || c == '/')
            .unwrap_or(text.len());
        let name = text[..name_end].to_ascii_lowercase();
        text = text[name_end..].trim_start();
        let value = if let Some(rest) = text.strip_prefix('=') {
            let rest = rest.trim_start();
            let (value, remainder) = match rest.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let close = rest[1..].find(quote).expect("attribute quote is closed") + 1;
                    (&rest[1..close], &rest[close + 1..])
                }
                _ => {
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    (&rest[..end], &rest[end..])
                }
            };
            text = remainder;
            decode_entities(value)
        } else {
            String::new()
        };
        attributes.insert(name, value);
    }
}

fn decode_entities(value: &str) -> String {
    let mut decoded = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        decoded.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let character = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if entity.starts_with("#x") || entity.starts_with("#X") => {
                u32::from_str_radix(&entity[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if entity.starts_with('#') => entity[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match character {
            Some(c) => {
                decoded.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                decoded.push('&');
                rest = &rest[1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}
