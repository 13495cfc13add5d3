//! The remote settings document the app's backend serves (docs/remote-settings.md) and its
//! parser: a pure function from the answer's bytes to a [`RemoteDocument`] or the reason the
//! whole document is ignored.
//!
//! The design choice is all or nothing: a document that is too large, nested deeper than its
//! shape, not JSON, not an object, of an unknown format version, or with any known field of
//! the wrong type (a negative number, a fraction, a string for a number, an unreadable version
//! rule) changes nothing at all, so a half-read document can never half-apply. Fields this
//! version does not know are skipped: a later backend may add some. Values of the right type
//! but beyond what the app allowed are not refused here; `narrow` clamps them.

use serde_json::{Map, Value};

use crate::core::remote_settings::versions::{VersionRule, VERSION_RULE};

/// The largest document read, in bytes: the whole format fits in a few hundred.
pub const MAX_DOCUMENT_BYTES: usize = 4096;

/// The format nests two levels (a list of strings in the object); two more are left for fields
/// a later backend may add. Anything deeper is refused before the JSON parser sees it.
const MAX_DEPTH: usize = 4;

/// The format version this SDK reads (`"version"`, optional).
pub const FORMAT_VERSION: u64 = 1;

/// The most rules `disabled_sdk_versions` may hold.
const MAX_VERSION_RULES: usize = 32;

/// A parsed document: every field optional, each as the backend wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteDocument {
    /// `false` is the kill switch; `true` changes nothing.
    pub collection_enabled: Option<bool>,
    /// Seconds between sends of waiting events.
    pub flush_interval_secs: Option<u64>,
    /// Events per request.
    pub max_batch: Option<u64>,
    /// SDK versions that turn themselves off.
    pub disabled_sdk_versions: Vec<VersionRule>,
    /// How long this document stays fresh, seconds.
    pub settings_ttl_secs: Option<u64>,
}

/// Why a document was ignored whole; the message names the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Longer than [`MAX_DOCUMENT_BYTES`].
    #[error("remote settings ignored: {bytes} bytes, more than the limit of {MAX_DOCUMENT_BYTES}")]
    TooLarge {
        /// The document's length.
        bytes: usize,
    },
    /// Nested deeper than the format.
    #[error("remote settings ignored: nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// Not JSON, or not a JSON object.
    #[error("remote settings ignored: {0}")]
    NotAnObject(String),
    /// A known field with a value of the wrong type or shape.
    #[error("remote settings ignored: {field} {rule}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it must be.
        rule: &'static str,
    },
}

/// Reads `bytes` as a remote settings document (see the module documentation).
pub fn parse(bytes: &[u8]) -> Result<RemoteDocument, Rejection> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Rejection::TooLarge { bytes: bytes.len() });
    }
    if nesting_depth(bytes) > MAX_DEPTH {
        return Err(Rejection::TooDeep);
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| Rejection::NotAnObject(format!("not JSON ({e})")))?;
    let Value::Object(fields) = value else {
        return Err(Rejection::NotAnObject("not a JSON object".into()));
    };
    if let Some(version) = present(&fields, "version") {
        if version.as_u64() != Some(FORMAT_VERSION) {
            return Err(Rejection::WrongType {
                field: "version",
                rule: "must be 1, the format this SDK reads",
            });
        }
    }
    Ok(RemoteDocument {
        collection_enabled: present(&fields, "collection_enabled")
            .map(|v| {
                v.as_bool().ok_or(Rejection::WrongType {
                    field: "collection_enabled",
                    rule: "must be true or false",
                })
            })
            .transpose()?,
        flush_interval_secs: whole_number(&fields, "flush_interval_secs")?,
        max_batch: whole_number(&fields, "max_batch")?,
        disabled_sdk_versions: version_rules(&fields)?,
        settings_ttl_secs: whole_number(&fields, "settings_ttl_secs")?,
    })
}

/// The field's value; an explicit `null` counts as absent.
fn present<'a>(fields: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    fields.get(field).filter(|v| !v.is_null())
}

fn whole_number(
    fields: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<u64>, Rejection> {
    present(fields, field)
        .map(|v| {
            v.as_u64().ok_or(Rejection::WrongType {
                field,
                rule: "must be a whole number, 0 or more",
            })
        })
        .transpose()
}

fn version_rules(fields: &Map<String, Value>) -> Result<Vec<VersionRule>, Rejection> {
    let field = "disabled_sdk_versions";
    let Some(value) = present(fields, field) else {
        return Ok(Vec::new());
    };
    let wrong = Rejection::WrongType {
        field,
        rule: "must be a list of at most 32 strings",
    };
    let list = value.as_array().ok_or(wrong.clone())?;
    if list.len() > MAX_VERSION_RULES {
        return Err(wrong);
    }
    list.iter()
        .map(|entry| {
            let text = entry.as_str().ok_or(wrong.clone())?;
            VersionRule::parse(text).ok_or(Rejection::WrongType {
                field,
                rule: VERSION_RULE,
            })
        })
        .collect()
}

/// The deepest nesting of arrays and objects in `bytes`, brackets inside strings left out. A
/// cheap scan that bounds what the JSON parser is given, whatever the bytes.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_document_is_read_field_by_field() {
        let doc = parse(
            br#"{"version":1,"collection_enabled":false,"flush_interval_secs":600,
                "max_batch":50,"disabled_sdk_versions":["0.1.0",">=0.2 <0.3"],
                "settings_ttl_secs":3600,"added_later":{"x":[1]}}"#,
        )
        .unwrap();
        assert_eq!(doc.collection_enabled, Some(false));
        assert_eq!(doc.flush_interval_secs, Some(600));
        assert_eq!(doc.max_batch, Some(50));
        assert_eq!(doc.settings_ttl_secs, Some(3600));
        let rules: Vec<&str> = doc
            .disabled_sdk_versions
            .iter()
            .map(|r| r.text.as_str())
            .collect();
        assert_eq!(rules, ["0.1.0", ">=0.2 <0.3"]);
    }

    #[test]
    fn an_empty_document_and_nulls_say_nothing() {
        for body in [&b"{}"[..], br#"{"version":1,"max_batch":null}"#, b" {} \n"] {
            assert_eq!(parse(body).unwrap(), RemoteDocument::default());
        }
    }

    #[test]
    fn broken_documents_are_ignored_whole_naming_the_reason() {
        // Within the size limit, and deeper than any JSON parser should recurse.
        let deep = format!("{}{}", "[".repeat(2_000), "]".repeat(2_000));
        let huge = format!(r#"{{"pad":"{}"}}"#, "x".repeat(MAX_DOCUMENT_BYTES));
        let long_list = format!(
            r#"{{"disabled_sdk_versions":[{}"0.1"]}}"#,
            "\"0.1\",".repeat(32)
        );
        let cases: Vec<(&[u8], &str)> = vec![
            (b"", "not JSON"),
            (b"<html>502 Bad Gateway</html>", "not JSON"),
            (b"\xff\xfe{", "not JSON"),
            (b"{\"collection_enabled\":false", "not JSON"),
            (b"[]", "not a JSON object"),
            (b"null", "not a JSON object"),
            (b"\"kill\"", "not a JSON object"),
            (huge.as_bytes(), "more than the limit"),
            (deep.as_bytes(), "nested deeper"),
            (br#"{"a":{"b":{"c":{"d":[1]}}}}"#, "nested deeper"),
            (br#"{"version":2}"#, "version must be 1"),
            (br#"{"version":"1"}"#, "version must be 1"),
            (
                br#"{"collection_enabled":"false"}"#,
                "collection_enabled must be true or false",
            ),
            (
                br#"{"collection_enabled":0}"#,
                "collection_enabled must be true or false",
            ),
            (
                br#"{"flush_interval_secs":-5}"#,
                "flush_interval_secs must be a whole number",
            ),
            (
                br#"{"flush_interval_secs":1.5}"#,
                "flush_interval_secs must be a whole number",
            ),
            (
                br#"{"flush_interval_secs":"600"}"#,
                "flush_interval_secs must be a whole number",
            ),
            (br#"{"max_batch":-1}"#, "max_batch must be a whole number"),
            (br#"{"max_batch":1e400}"#, "not JSON"),
            (
                br#"{"max_batch":18446744073709551616}"#,
                "max_batch must be a whole number",
            ),
            (
                br#"{"settings_ttl_secs":[]}"#,
                "settings_ttl_secs must be a whole number",
            ),
            (
                br#"{"disabled_sdk_versions":"0.1.0"}"#,
                "disabled_sdk_versions must be a list",
            ),
            (
                br#"{"disabled_sdk_versions":[1]}"#,
                "disabled_sdk_versions must be a list",
            ),
            (
                br#"{"disabled_sdk_versions":["~0.1"]}"#,
                "each entry must be a version",
            ),
            (long_list.as_bytes(), "at most 32"),
        ];
        for (body, expected) in cases {
            let rejection = parse(body).unwrap_err().to_string();
            assert!(
                rejection.starts_with("remote settings ignored: ") && rejection.contains(expected),
                "{:?}: {rejection}",
                String::from_utf8_lossy(&body[..body.len().min(60)])
            );
        }
    }

    #[test]
    fn brackets_inside_strings_do_not_count_as_nesting() {
        assert_eq!(nesting_depth(br#"{"a":"[[[{{{\"]]]"}"#), 1);
        assert!(parse(br#"{"note":"[[[[[[[[[[","max_batch":5}"#).is_ok());
    }
}
