//! A Deploy CLI list field (`dependencies`, `secrets`, …), or in its place
//! a string: the keyword marker the Deploy CLI fills when it deploys.

use serde::Deserialize;

use super::files::keyword_marker;
use crate::import::{Origin, Problem};

/// A list, or in its place a string: a keyword-replacement marker
/// (`"@@SECRETS@@"`, which the Deploy CLI's own dump writes for secrets
/// kept as keywords).
pub(super) enum ListOr<T> {
    List(Vec<T>),
    Text(String),
}

/// By hand rather than `#[serde(untagged)]`: an entry's own error (a
/// dependency without `version`) is kept, not folded into "did not match
/// any variant"; `null` is an empty list.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for ListOr<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = ListOr<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list (or a keyword marker string)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ListOr::Text(v.to_owned()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(ListOr::List(Vec::new()))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(ListOr::List(Vec::new()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut list = Vec::new();
                while let Some(item) = seq.next_element()? {
                    list.push(item);
                }
                Ok(ListOr::List(list))
            }
        }
        deserializer.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

impl<T> Default for ListOr<T> {
    fn default() -> Self {
        ListOr::List(Vec::new())
    }
}

impl<T> ListOr<T> {
    /// The list, or why there is none (naming the field) in `problems`.
    pub(super) fn take(self, field: &str, origin: &Origin, problems: &mut Vec<Problem>) -> Vec<T> {
        match self {
            ListOr::List(list) => list,
            ListOr::Text(text) => {
                problems.push(Problem {
                    origin: origin.clone(),
                    message: match keyword_marker(&text) {
                        Some(marker) => format!(
                            "`{field}` is the keyword marker {marker}, which the Deploy CLI fills from AUTH0_KEYWORD_REPLACE_MAPPINGS when it deploys: detour import reads no mappings; write the list in the export"
                        ),
                        None => format!("`{field}` is a string where a list belongs"),
                    },
                });
                Vec::new()
            }
        }
    }
}
