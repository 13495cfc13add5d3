//! JSON parsing that refuses duplicate object keys.
//!
//! `serde_json::from_slice::<Value>` keeps the last of two equal keys without a word, so a
//! body with `data` twice would have only its second array forwarded, and an event with two
//! `event_name`s would be sent as whichever came last. The relay cannot know which one the
//! device meant, so it refuses such a body with 400, naming the key. The visitor below builds
//! the same `serde_json::Value` serde_json's own would, checking each object's keys as it
//! goes (one lookup per key, no second pass).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `raw` as JSON; an error names a duplicate key (with its line and column).
pub(crate) fn from_slice(raw: &[u8]) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    let value = StrictValue.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Deserializes one JSON value, refusing duplicate keys at any depth.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(A::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_serde_json_parses() {
        let text = r#"{"a":[1,-2,3.5,18446744073709551615,true,null,"s\u00e9"],"b":{"c":{}}}"#;
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(from_slice(text.as_bytes()).unwrap(), theirs);
        assert!(from_slice(b"[1e400]").is_err());
    }

    #[test]
    fn duplicate_keys_at_any_depth_are_named() {
        for (text, key) in [
            (r#"{"data":[],"data":[]}"#, "data"),
            (
                r#"{"data":[{"event_name":"a","event_name":"b"}]}"#,
                "event_name",
            ),
            (r#"{"a":{"b":{"c":1,"c":1}}}"#, "c"),
        ] {
            let err = from_slice(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(&format!("duplicate key \"{key}\"")), "{err}");
        }
        assert!(from_slice(br#"{"a":1,"A":2}"#).is_ok());
        assert!(from_slice(b"{} x").is_err());
    }
}
