//! The event as a login carries it through its runs: its top-level fields
//! in order, each kept as the JSON text it was last read or written as
//! until Rust needs its value.
//!
//! A run hands each field to the engine as JSON text, and a suspended
//! login is stored as JSON; a field nothing in Rust reads (most of them)
//! is neither parsed back into a map when a login resumes nor written
//! again when it suspends. The order of the fields, and what a removal
//! does to it, are `serde_json::Map`'s (a removal swaps the last field
//! into the gap, as `Map::remove` does), so the event an Action sees is
//! the one a map would have given it.

use std::cell::OnceCell;
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// An event's top-level fields, each parsed on first use.
#[derive(Debug, Clone, Default)]
pub struct Event {
    fields: Vec<(String, Field)>,
}

/// One field: its JSON text, its value, or both (then they agree).
#[derive(Debug, Clone)]
struct Field {
    text: Option<Box<RawValue>>,
    value: OnceCell<Value>,
}

impl Field {
    fn of_value(value: Value) -> Self {
        Self {
            text: None,
            value: OnceCell::from(value),
        }
    }

    fn of_text(text: Box<RawValue>) -> Self {
        Self {
            text: Some(text),
            value: OnceCell::new(),
        }
    }

    /// The value, parsed from the text on first use. The text is JSON that
    /// `serde_json` wrote from a value (a stored login), which parses back;
    /// anything else reads as `null`.
    fn value(&self) -> &Value {
        self.value.get_or_init(|| match &self.text {
            Some(text) => serde_json::from_str(text.get()).unwrap_or(Value::Null),
            None => Value::Null,
        })
    }

    /// The value for a change: the text no longer describes it.
    fn value_mut(&mut self) -> &mut Value {
        self.value();
        self.text = None;
        match self.value.get_mut() {
            Some(value) => value,
            // `value()` just set it.
            None => unreachable!("the value was just parsed"),
        }
    }

    fn into_value(self) -> Value {
        self.value();
        self.value.into_inner().unwrap_or(Value::Null)
    }

    /// The field's JSON text, written once and kept.
    fn text(&mut self) -> serde_json::Result<&str> {
        if self.text.is_none() {
            // `to_raw_value` keeps what it writes as it is; `from_string`
            // would parse it again to check it.
            self.text = Some(serde_json::value::to_raw_value(self.value())?);
        }
        Ok(self.text.as_deref().map_or("null", RawValue::get))
    }
}

impl Event {
    fn position(&self, key: &str) -> Option<usize> {
        self.fields.iter().position(|(k, _)| k == key)
    }

    /// The field `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, field)| field.value())
    }

    /// The field `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.fields
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, field)| field.value_mut())
    }

    /// The field `key`, first added at the end as `make()` when missing.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> Value) -> &mut Value {
        let index = match self.position(key) {
            Some(index) => index,
            None => {
                self.fields.push((key.to_owned(), Field::of_value(make())));
                self.fields.len() - 1
            }
        };
        self.fields[index].1.value_mut()
    }

    /// Sets the field `key`: in its place when present, else at the end
    /// (as `Map::insert`).
    pub fn insert(&mut self, key: String, value: Value) {
        match self.position(&key) {
            Some(index) => self.fields[index].1 = Field::of_value(value),
            None => self.fields.push((key, Field::of_value(value))),
        }
    }

    /// Removes the field `key`, moving the last field into its place (as
    /// `Map::remove`, which is `swap_remove`).
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.position(key)?;
        Some(self.fields.swap_remove(index).1.into_value())
    }

    /// Removes the field `key` and reads what `T` wants of it: from its
    /// text when it has one, without building the whole value.
    pub fn remove_as<T: serde::de::DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        let index = self.position(key)?;
        let (_, field) = self.fields.swap_remove(index);
        match &field.text {
            Some(text) => serde_json::from_str(text.get()).ok(),
            None => T::deserialize(field.into_value()).ok(),
        }
    }

    /// The fields as the engine takes them: each key and each value as
    /// JSON, in order. A field's text is written once and kept, so a later
    /// run (or the stored login) does not write it again.
    pub fn fields_json(&mut self) -> serde_json::Result<Arc<[String]>> {
        let mut out = Vec::with_capacity(self.fields.len() * 2);
        for (key, field) in &mut self.fields {
            out.push(serde_json::to_string(key)?);
            out.push(field.text()?.to_owned());
        }
        Ok(out.into())
    }

    /// The event as a map (every field parsed).
    pub fn into_map(self) -> Map<String, Value> {
        self.fields
            .into_iter()
            .map(|(key, field)| (key, field.into_value()))
            .collect()
    }
}

impl From<Map<String, Value>> for Event {
    fn from(map: Map<String, Value>) -> Self {
        Self {
            fields: map
                .into_iter()
                .map(|(key, value)| (key, Field::of_value(value)))
                .collect(),
        }
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, field) in &self.fields {
            match &field.text {
                Some(text) => map.serialize_entry(key, text)?,
                None => map.serialize_entry(key, field.value())?,
            }
        }
        map.end()
    }
}

/// How [`Fields`] reads each value.
trait ReadField<'de>: Deserialize<'de> {
    fn field(self) -> Field;
}

impl ReadField<'_> for Value {
    fn field(self) -> Field {
        Field::of_value(self)
    }
}

impl ReadField<'_> for Box<RawValue> {
    fn field(self) -> Field {
        Field::of_text(self)
    }
}

/// Reads a JSON object as `Map<String, Value>` reads it (the same errors;
/// a repeated key keeps its first place and its last value), each value as
/// `V`.
struct Fields<V>(std::marker::PhantomData<V>);

impl<'de, V: ReadField<'de>> Visitor<'de> for Fields<V> {
    type Value = Event;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Map<String, Value>'s own words.
        f.write_str("a map")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Event, E> {
        // As a map reads `null`: an empty object.
        Ok(Event::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Event, A::Error> {
        let mut event = Event {
            fields: Vec::with_capacity(access.size_hint().unwrap_or(16)),
        };
        while let Some((key, value)) = access.next_entry::<String, V>()? {
            match event.position(&key) {
                Some(index) => event.fields[index].1 = value.field(),
                None => event.fields.push((key, value.field())),
            }
        }
        Ok(event)
    }
}

impl<'de> Deserialize<'de> for Event {
    /// Reads the event of a request: each field parsed, as a map would.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(Fields::<Value>(std::marker::PhantomData))
    }
}

/// Reads a stored event (`#[serde(deserialize_with)]`), keeping each
/// field's text: a field is parsed only if Rust reads it.
pub fn read_texts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
    deserializer.deserialize_map(Fields::<Box<RawValue>>(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    /// The event as JSON, for a comparison with a map.
    fn as_json(event: &Event) -> String {
        serde_json::to_string(event).unwrap()
    }

    /// A stored event, read as a record reads it.
    fn stored(text: &str) -> Event {
        read_texts(&mut serde_json::Deserializer::from_str(text)).unwrap()
    }

    #[test]
    fn a_stored_event_reads_back_as_the_map_it_was() {
        let original = map(json!({
            "user": {"user_id": "u", "app_metadata": {"a": [1, 2.5, "é\u{1F600}\n"]}},
            "request": {"ip": "1.2.3.4", "geoip": {"c": "NZ"}},
            "stats": {"logins_count": 18446744073709551615u64},
            "z": null,
        }));
        let text = serde_json::to_string(&original).unwrap();
        let mut event = stored(&text);
        assert_eq!(as_json(&event), text);
        assert_eq!(event.get("user").unwrap()["user_id"], "u");
        let fields = event.fields_json().unwrap();
        let expected: Vec<String> = original
            .iter()
            .flat_map(|(k, v)| [serde_json::to_string(k).unwrap(), v.to_string()])
            .collect();
        assert_eq!(&*fields, expected.as_slice());
        assert_eq!(event.into_map(), original);
    }

    #[test]
    fn changes_follow_the_order_a_map_gives() {
        let original = map(json!({"a": 1, "b": {"x": 1}, "c": 3, "d": 4}));
        let text = serde_json::to_string(&original).unwrap();
        let mut event = stored(&text);
        let mut expected = original.clone();
        assert_eq!(event.remove("b"), expected.remove("b"));
        event.insert("b".into(), json!(2));
        expected.insert("b".into(), json!(2));
        event.insert("a".into(), json!(9));
        expected.insert("a".into(), json!(9));
        assert!(event.remove("nope").is_none());
        assert_eq!(as_json(&event), Value::Object(expected.clone()).to_string());
        // A change through get_mut drops the stale text.
        event.fields_json().unwrap();
        *event.get_mut("c").unwrap() = json!({"n": 1});
        expected["c"] = json!({"n": 1});
        *event.get_or_insert_with("e", || json!({})) = json!([1]);
        expected.insert("e".into(), json!([1]));
        assert_eq!(as_json(&event), Value::Object(expected.clone()).to_string());
        let fields = event.fields_json().unwrap();
        assert_eq!(fields[5], r#"{"n":1}"#);
        assert_eq!(event.into_map(), expected);
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value() {
        let text = r#"{"a": 1, "b": 2, "a": {"x": 3}}"#;
        let parsed: Map<String, Value> = serde_json::from_str(text).unwrap();
        assert_eq!(stored(text).into_map(), parsed);
        let event: Event = serde_json::from_str(text).unwrap();
        assert_eq!(event.into_map(), parsed);
    }

    #[test]
    fn part_of_a_field_reads_from_its_text() {
        #[derive(serde::Deserialize)]
        struct Geo {
            geoip: Value,
        }
        let mut event = stored(r#"{"request": {"ip": "x", "geoip": {"c": 1}}, "u": 1}"#);
        let geo: Geo = event.remove_as("request").unwrap();
        assert_eq!(geo.geoip, json!({"c": 1}));
        assert_eq!(as_json(&event), r#"{"u":1}"#);
    }
}
