//! A session's description: the flat JSON object of tags the plugin sends, stored as JSON text
//! in the client's key order and read back as ordered pairs.

use std::borrow::Cow;

use crate::error::{AppError, AppResult};

/// Reads a description: a flat JSON object whose values are strings (numbers and booleans are
/// kept as their text). A string holding such an object is accepted too, as seed 000's curl
/// example sends it. Anything else is the legacy "Bad description format".
pub fn parse_description(value: &serde_json::Value) -> AppResult<Vec<(String, String)>> {
    let bad = || AppError::bad_request("Bad description format");
    let parsed;
    let obj = match value {
        serde_json::Value::Object(o) => o,
        serde_json::Value::String(s) => {
            parsed = serde_json::from_str::<serde_json::Value>(s).map_err(|_| bad())?;
            parsed.as_object().ok_or_else(bad)?
        }
        _ => return Err(bad()),
    };
    obj.iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return Err(bad()),
            };
            Ok((k.clone(), v))
        })
        .collect()
}

pub(super) fn tags_to_json(tags: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = tags
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// The stored description (a JSON object, written by `tags_to_json`) as ordered pairs.
pub(super) fn tags_from_json(text: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    // Stored descriptions hold only strings (with unique keys: `tags_to_json` writes them from a
    // map): read them straight into the pairs, without a `Value` tree or a hashed map. Every
    // session of a listed page goes through here.
    if let Ok(StringPairs(pairs)) = serde_json::from_str::<StringPairs<'_>>(text) {
        return pairs;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(o)) => o
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (Cow::Owned(k), Cow::Owned(v))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A JSON object of strings, as its pairs in document order.
struct StringPairs<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

/// A JSON string, borrowed from the document unless it had escapes. (serde's own `Cow<str>`
/// always copies.)
struct CowStr<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> serde::de::Visitor<'de> for Text {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                s: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(s)))
            }
        }
        d.deserialize_str(Text)
    }
}

impl<'de> serde::Deserialize<'de> for StringPairs<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = StringPairs<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<StringPairs<'de>, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some((CowStr(k), CowStr(v))) = map.next_entry()? {
                    pairs.push((k, v));
                }
                Ok(StringPairs(pairs))
            }
        }
        d.deserialize_map(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: Vec<(Cow<'_, str>, Cow<'_, str>)>) -> Vec<(String, String)> {
        pairs
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn stored_tags_read_back_in_order_borrowed_unless_escaped() {
        let tags = vec![
            ("pipeline_branch".to_owned(), "main".to_owned()),
            ("quote\"d".to_owned(), "tab\there, é, \u{1}".to_owned()),
            ("empty".to_owned(), String::new()),
        ];
        let text = tags_to_json(&tags);
        let read = tags_from_json(&text);
        assert!(matches!(read[0].0, Cow::Borrowed(_)), "{read:?}");
        assert!(matches!(read[0].1, Cow::Borrowed(_)), "{read:?}");
        assert!(matches!(read[1].0, Cow::Owned(_)), "{read:?}");
        assert_eq!(owned(read), tags, "in the client's order");
    }

    #[test]
    fn descriptions_not_written_by_this_server_still_read() {
        // Values that are not strings are shown as their JSON text.
        let mut read = owned(tags_from_json(r#"{"n": 3, "b": true, "s": "x"}"#));
        read.sort();
        let expected: Vec<(String, String)> = [("b", "true"), ("n", "3"), ("s", "x")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(read, expected);
        assert!(tags_from_json("not json").is_empty());
        assert!(tags_from_json("[1, 2]").is_empty());
    }
}
