//! Checking an event that no Action will read: the same refusals as
//! [`normalize`](super::normalize), read straight from the request's JSON
//! without building the event (a login with no Action to run needs only
//! the verdict).
//!
//! [`CheckedEvent`] deserializes wherever a `Map<String, Value>` would, and
//! fails where the map would fail, with the same error: every value is
//! read through `deserialize_any` as `Value` reads it (numbers in range,
//! strings whole), so only the map and its allocations are skipped. Of an
//! object it keeps the type of each field the checks look at, the last one
//! when a key repeats (as a parsed map keeps it).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{DEFAULTS, EventError, kind_name, mistyped};

/// The key `serde_json` reads as "the value is JSON text in this string"
/// when it is the first key of an object parsed as a `Value` (its
/// `raw_value` feature); mirrored so such an object checks as it parses.
const RAW_VALUE_KEY: &str = "$serde_json::private::RawValue";

/// The JSON type of a value, as the checks compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn of(value: &Value) -> Self {
        match value {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }

    /// The name [`mistyped`] uses, the same as for a parsed value.
    fn name(self) -> &'static str {
        kind_name(&match self {
            Kind::Null => Value::Null,
            Kind::Bool => Value::Bool(false),
            Kind::Number => Value::from(0),
            Kind::String => Value::String(String::new()),
            Kind::Array => Value::Array(Vec::new()),
            Kind::Object => Value::Object(Map::new()),
        })
    }
}

/// What the checks read of one value.
#[derive(Debug)]
struct Shape {
    kind: Kind,
    /// A string with at least one character (`user.user_id`).
    non_empty: bool,
    /// For an object: the fields the checks look at, by name.
    fields: Vec<(&'static str, Shape)>,
}

impl Shape {
    fn of(kind: Kind) -> Self {
        Self {
            kind,
            non_empty: false,
            fields: Vec::new(),
        }
    }

    fn field(&self, name: &str) -> Option<&Shape> {
        self.fields.iter().find(|(k, _)| *k == name).map(|(_, s)| s)
    }

    /// Keeps `shape` as field `name`, over an earlier one of that name.
    fn set(&mut self, name: &'static str, shape: Shape) {
        match self.fields.iter_mut().find(|(k, _)| *k == name) {
            Some((_, old)) => *old = shape,
            None => self.fields.push((name, shape)),
        }
    }

    /// The shape of an already parsed value.
    fn of_value(value: &Value, wanted: Option<&'static Map<String, Value>>) -> Self {
        let mut shape = Shape::of(Kind::of(value));
        match value {
            Value::String(s) => shape.non_empty = !s.is_empty(),
            Value::Object(map) => {
                if let Some(wanted) = wanted {
                    for (name, inner) in wanted {
                        if let Some(v) = map.get(name) {
                            shape.set(name, Shape::of_value(v, inner.as_object()));
                        }
                    }
                }
            }
            _ => {}
        }
        shape
    }
}

/// The fields the checks look at, nested as in the event: every default
/// of [`DEFAULTS`], plus `user.user_id` and `request.hostname`.
static WANTED: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(|| {
    let mut wanted = DEFAULTS.clone();
    if let Some(Value::Object(user)) = wanted.get_mut("user") {
        user.insert("user_id".into(), Value::Null);
    }
    if let Some(Value::Object(request)) = wanted.get_mut("request") {
        request.insert("hostname".into(), Value::Null);
    }
    wanted
});

/// An event read only for its checks: it deserializes wherever the
/// event's `Map<String, Value>` does, with the same errors, and
/// [`CheckedEvent::check`] refuses what [`normalize`](super::normalize)
/// refuses, with the same message.
#[derive(Debug)]
pub struct CheckedEvent(Shape);

impl CheckedEvent {
    /// [`normalize`](super::normalize)'s verdict on this event, first
    /// refusal first.
    pub fn check(&self) -> Result<(), EventError> {
        let root = &self.0;
        let user_id_ok = root
            .field("user")
            .filter(|u| u.kind == Kind::Object)
            .and_then(|u| u.field("user_id"))
            .is_some_and(|id| id.kind == Kind::String && id.non_empty);
        if !user_id_ok {
            return Err(super::missing_user_id());
        }
        check_fields(root, &DEFAULTS, &mut vec!["event"])?;
        // A missing or null `request` is filled with a default that has no
        // hostname; only one sent as an object can carry a wrong one.
        if let Some(request) = root.field("request").filter(|r| r.kind == Kind::Object)
            && let Some(hostname) = request.field("hostname")
            && !matches!(hostname.kind, Kind::Null | Kind::String)
        {
            return Err(super::mistyped_hostname(hostname.kind.name()));
        }
        Ok(())
    }
}

/// [`fill`](super::fill)'s refusals, in its order.
fn check_fields<'a>(
    shape: &Shape,
    defaults: &'a Map<String, Value>,
    path: &mut Vec<&'a str>,
) -> Result<(), EventError> {
    for (key, default) in defaults {
        path.push(key);
        match shape.field(key) {
            None => {}
            Some(value) => match value.kind {
                Kind::Null => {}
                Kind::Object => match default {
                    Value::Object(d) => check_fields(value, d, path)?,
                    _ => return Err(mistyped(&path.join("."), default, "an object")),
                },
                kind => {
                    if kind != Kind::of(default) {
                        return Err(mistyped(&path.join("."), default, kind.name()));
                    }
                }
            },
        }
        path.pop();
    }
    Ok(())
}

impl<'de> de::Deserialize<'de> for CheckedEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

/// The event's own object, read as `Map<String, Value>` reads it: its
/// keys are plain strings (no `raw_value` marker at this level).
struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = CheckedEvent;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_unit<E: de::Error>(self) -> Result<CheckedEvent, E> {
        Ok(CheckedEvent(Shape::of(Kind::Object)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CheckedEvent, A::Error> {
        let mut shape = Shape::of(Kind::Object);
        while let Some(key) = map.next_key_seed(KeySeed(Some(&WANTED)))? {
            read_field(&mut map, &mut shape, key.wanted)?;
        }
        Ok(CheckedEvent(shape))
    }
}

/// Reads one field's value, keeping its shape if the checks look at it.
fn read_field<'de, A: MapAccess<'de>>(
    map: &mut A,
    shape: &mut Shape,
    wanted: Option<(&'static str, &'static Value)>,
) -> Result<(), A::Error> {
    match wanted {
        Some((name, inner)) => {
            let value = map.next_value_seed(ShapeSeed(inner.as_object()))?;
            shape.set(name, value);
        }
        None => {
            map.next_value_seed(ShapeSeed(None))?;
        }
    }
    Ok(())
}

/// A key, matched against the fields the checks look at.
struct Key {
    wanted: Option<(&'static str, &'static Value)>,
    raw_value: bool,
}

struct KeySeed(Option<&'static Map<String, Value>>);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
        Ok(Key {
            // A scan, not the map's hash lookup: each level has at most
            // nine wanted fields, and most keys are not among them.
            wanted: self
                .0
                .and_then(|w| w.iter().find(|(k, _)| k.as_str() == s))
                .map(|(k, v)| (k.as_str(), v)),
            raw_value: s == RAW_VALUE_KEY,
        })
    }
}

/// Reads any value as `Value` would, keeping its shape; inside an object
/// only the fields in its map (the wanted fields below this one).
struct ShapeSeed(Option<&'static Map<String, Value>>);

impl<'de> DeserializeSeed<'de> for ShapeSeed {
    type Value = Shape;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ShapeSeed {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::of(Kind::Bool))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::of(Kind::Number))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::of(Kind::Number))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Shape, E> {
        // `Value` keeps a float it cannot represent as `null`.
        Ok(Shape::of(if v.is_finite() {
            Kind::Number
        } else {
            Kind::Null
        }))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Shape, E> {
        Ok(Shape {
            non_empty: !v.is_empty(),
            ..Shape::of(Kind::String)
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::of(Kind::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::of(Kind::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element_seed(ShapeSeed(None))?.is_some() {}
        Ok(Shape::of(Kind::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let wanted = self.0;
        let mut shape = Shape::of(Kind::Object);
        let Some(first) = map.next_key_seed(KeySeed(wanted))? else {
            return Ok(shape);
        };
        if first.raw_value {
            // As `Value` does: the string is JSON text, parsed on its own.
            let text = map.next_value_seed(RawText)?;
            let value: Value = serde_json::from_str(&text).map_err(de::Error::custom)?;
            return Ok(Shape::of_value(&value, wanted));
        }
        read_field(&mut map, &mut shape, first.wanted)?;
        while let Some(key) = map.next_key_seed(KeySeed(wanted))? {
            read_field(&mut map, &mut shape, key.wanted)?;
        }
        Ok(shape)
    }
}

/// The string after a `raw_value` key, with `serde_json`'s own wording
/// when it is not one.
struct RawText;

impl<'de> DeserializeSeed<'de> for RawText {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for RawText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("raw value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<String, E> {
        Ok(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The verdict of the full path: parse the event, then normalize.
    fn full(text: &str) -> Result<Result<(), String>, String> {
        let mut event: super::super::Event =
            serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(super::super::normalize(&mut event, "h").map_err(|e| e.to_string()))
    }

    /// The event parsed as [`super::super::Event`] is the map it parsed as
    /// before (fields, order, repeated keys), or fails with the same error.
    fn parses_as_a_map(text: &str) -> Result<(), String> {
        let map = serde_json::from_str::<Map<String, Value>>(text).map_err(|e| e.to_string());
        let event = serde_json::from_str::<super::super::Event>(text)
            .map(super::super::Event::into_map)
            .map_err(|e| e.to_string());
        if map == event {
            Ok(())
        } else {
            Err(format!("{map:?} != {event:?}"))
        }
    }

    /// The verdict of the check alone.
    fn checked(text: &str) -> Result<Result<(), String>, String> {
        let event: CheckedEvent = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(event.check().map_err(|e| e.to_string()))
    }

    #[test]
    fn the_check_refuses_what_normalize_refuses_with_the_same_words() {
        let cases = [
            r#"{"user": {"user_id": "u"}}"#,
            r#"{"user": {"user_id": ""}}"#,
            r#"{"user": {"user_id": 5}}"#,
            r#"{"user": []}"#,
            r#"{"user": {"user_id": "u"}, "user": {"user_id": ""}}"#,
            r#"{"user": {"user_id": ""}, "user": {"user_id": "u"}}"#,
            r#"{"user": {"user_id": "u", "app_metadata": "x"}}"#,
            r#"{"user": {"user_id": "u", "app_metadata": null}}"#,
            r#"{"user": {"user_id": "u", "identities": {}}}"#,
            r#"{"user": {"user_id": "u"}, "stats": {"logins_count": "3"}}"#,
            r#"{"user": {"user_id": "u"}, "stats": {"logins_count": 3.5}}"#,
            r#"{"user": {"user_id": "u"}, "request": []}"#,
            r#"{"user": {"user_id": "u"}, "request": {"hostname": 1}}"#,
            r#"{"user": {"user_id": "u"}, "request": {"hostname": null}}"#,
            r#"{"user": {"user_id": "u"}, "request": {"hostname": {}, "ip": 1}}"#,
            r#"{"user": {"user_id": "u"}, "configuration": []}"#,
            r#"{"user": {"user_id": "u"}, "tenant": {"id": {}}}"#,
            r#"{"user": {"user_id": "u"}, "secrets": 5, "request": {"query": []}}"#,
            r#"{"user": {"user_id": "u"}, "x": {"$serde_json::private::RawValue": "{\"a\": 1}"}}"#,
            r#"{"user": {"$serde_json::private::RawValue": "{\"user_id\": \"u\"}"}}"#,
            r#"{"user": {"$serde_json::private::RawValue": 5}}"#,
            r#"{"user": {"$serde_json::private::RawValue": "{"}}"#,
            r#"{"user": {"user_id": "u"}, "x": 1e999}"#,
            r#"{"user": {"user_id": "u"}, "x": "\ud800"}"#,
            r#"{"user": {"user_id": "u"}, "x": [1, 2,]}"#,
            r#"{"user": {"user_id": "u"},}"#,
            r#"{"user": {"user_id": "\u0075"}}"#,
            r#"null"#,
            r#"[]"#,
            r#"5"#,
            r#"{"user": {"user_id": "u"}} x"#,
        ];
        for case in cases {
            assert_eq!(checked(case), full(case), "{case}");
            assert_eq!(parses_as_a_map(case), Ok(()), "{case}");
        }
    }

    #[test]
    fn a_request_with_a_checked_event_fails_as_the_full_request_fails() {
        use crate::pipeline::PostLoginRequest;
        let bodies = [
            r#"{"event": {"user": {"user_id": "u"}}, "return_to": "r"}"#,
            r#"{"event": {"user": {"user_id": "u"}}}"#,
            r#"{"return_to": "r"}"#,
            r#"{"event": {}, "event": {}, "return_to": "r"}"#,
            r#"{"event": null, "return_to": "r"}"#,
            r#"{"event": [], "return_to": "r"}"#,
            r#"{"event": {"a": 1}, "return_to": "r", "extra": 1}"#,
            r#"{"event": {"a": 1}, "return_to": 5}"#,
            r#"{"event": {"a": 1}, "return_to": "r", "transaction_id": null}"#,
            r#"[{"a": 1}, "r"]"#,
            r#"{"event": {"a": 1,}, "return_to": "r"}"#,
        ];
        for body in bodies {
            let full = serde_json::from_str::<PostLoginRequest>(body).map(|_| ());
            let checked = serde_json::from_str::<PostLoginRequest<CheckedEvent>>(body).map(|_| ());
            let map =
                serde_json::from_str::<PostLoginRequest<Map<String, Value>>>(body).map(|_| ());
            assert_eq!(
                checked.map_err(|e| e.to_string()),
                full.as_ref().map_err(|e| e.to_string()).copied(),
                "{body}"
            );
            assert_eq!(
                map.map_err(|e| e.to_string()),
                full.map_err(|e| e.to_string()),
                "{body}"
            );
        }
    }

    /// A small vocabulary of the keys and values the checks care about,
    /// nested and repeated at random.
    fn json_text() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "user",
            "user_id",
            "request",
            "hostname",
            "app_metadata",
            "identities",
            "email_verified",
            "stats",
            "logins_count",
            "configuration",
            "client",
            "metadata",
            "query",
            "x",
        ]);
        let leaf = prop::sample::select(vec![
            "null", "true", "0", "1.5", "-3", "\"\"", "\"u\"", "[]", "{}", "[1]", "1e999",
        ])
        .prop_map(str::to_owned);
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|fields| {
                    let body: Vec<String> =
                        fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", body.join(","))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_check_agrees_with_normalize_on_any_event(text in json_text()) {
            prop_assert_eq!(checked(&text), full(&text), "{}", text);
            prop_assert_eq!(parses_as_a_map(&text), Ok(()), "{}", text);
        }

        #[test]
        fn the_check_agrees_with_normalize_on_a_damaged_event(text in json_text(), at in 0usize..200, byte in 0u8..128) {
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            prop_assert_eq!(checked(&text), full(&text), "{}", text);
            prop_assert_eq!(parses_as_a_map(&text), Ok(()), "{}", text);
        }
    }
}
