//! The remote settings documents the relay serves, one per ad account, checked and put in
//! their served form once, when they are loaded: the JSON text with `"version": 1`, its ETag
//! and its `max-age`. A request only looks one up.
//!
//! The relay refuses what the SDK would ignore (a value that is not an object, over 4 KB):
//! a broken configuration fails at start, or on a reload keeps the documents served so far.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The largest document served, as the SDK reads at most this many bytes.
pub(crate) const MAX_DOCUMENT_BYTES: usize = 4096;
/// `max-age` of a document that gives no `settings_ttl_secs` (the SDK's default TTL).
const DEFAULT_MAX_AGE_SECS: u64 = 86_400;
/// The SDK's bounds on a document's TTL.
const MIN_MAX_AGE_SECS: u64 = 300;
const MAX_MAX_AGE_SECS: u64 = 7 * 86_400;

/// One document as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Served {
    /// The JSON text.
    pub(crate) body: Arc<str>,
    /// `"<hex>"`: the first 16 bytes of the body's SHA-256.
    pub(crate) etag: String,
    /// The `Cache-Control: max-age` in seconds: the document's TTL.
    pub(crate) max_age_secs: u64,
}

impl Served {
    fn of(body: String, max_age_secs: u64) -> Served {
        let digest = Sha256::digest(body.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Served {
            body: Arc::from(body),
            etag: format!("\"{hex}\""),
            max_age_secs,
        }
    }

    /// The document of an ad account without settings: `{}`.
    pub(crate) fn empty() -> Served {
        Served::of("{}".into(), DEFAULT_MAX_AGE_SECS)
    }
}

/// Every ad account's document.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    by_account: HashMap<String, Served>,
}

impl Documents {
    /// Checks each `(ad account, settings)` and builds the served documents; the error names
    /// the ad account and the rule.
    pub(crate) fn build(settings: &BTreeMap<String, Value>) -> Result<Documents, String> {
        let mut by_account = HashMap::new();
        for (account, value) in settings {
            if account.is_empty()
                || account.len() > 18
                || !account.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(format!(
                    "sdk_settings: \"{account}\" is not an ad account id (1 to 18 digits)"
                ));
            }
            by_account.insert(account.clone(), served(account, value)?);
        }
        Ok(Documents { by_account })
    }

    /// The document for `account` (`{}` when it has none).
    pub(crate) fn get(&self, account: &str) -> Served {
        self.by_account
            .get(account)
            .cloned()
            .unwrap_or_else(Served::empty)
    }

    /// How many ad accounts have settings.
    pub(crate) fn len(&self) -> usize {
        self.by_account.len()
    }
}

fn served(account: &str, value: &Value) -> Result<Served, String> {
    let Value::Object(fields) = value else {
        return Err(format!("sdk_settings.{account}: must be an object"));
    };
    let mut document = Map::new();
    document.insert("version".into(), Value::from(1));
    for (key, value) in fields {
        document.insert(key.clone(), value.clone());
    }
    let body = Value::Object(document).to_string();
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "sdk_settings.{account}: {} bytes, more than the {MAX_DOCUMENT_BYTES} the SDK reads",
            body.len()
        ));
    }
    let max_age = fields
        .get("settings_ttl_secs")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_MAX_AGE_SECS, |ttl| {
            ttl.clamp(MIN_MAX_AGE_SECS, MAX_MAX_AGE_SECS)
        });
    Ok(Served::of(body, max_age))
}

/// Reads a settings file: JSON `{"<ad account id>": {...settings...}}`.
pub(crate) fn parse_file(text: &str) -> Result<BTreeMap<String, Value>, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("must be a JSON object of ad account ids to settings objects ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(value: Value) -> Result<Documents, String> {
        Documents::build(&serde_json::from_value(value).unwrap())
    }

    #[test]
    fn documents_are_versioned_with_an_etag_and_their_ttl_as_max_age() {
        let docs = build(json!({
            "42": {"collection_enabled": false, "settings_ttl_secs": 600},
            "43": {"max_batch": 100, "settings_ttl_secs": 1},
        }))
        .unwrap();
        let off = docs.get("42");
        let parsed: Value = serde_json::from_str(&off.body).unwrap();
        assert_eq!(
            parsed,
            json!({"version": 1, "collection_enabled": false, "settings_ttl_secs": 600})
        );
        assert_eq!(off.max_age_secs, 600);
        assert_eq!(
            docs.get("43").max_age_secs,
            300,
            "clamped to the SDK's bounds"
        );
        assert_ne!(off.etag, docs.get("43").etag);
        assert!(off.etag.starts_with('"') && off.etag.len() == 34);
        let unknown = docs.get("44");
        assert_eq!((&*unknown.body, unknown.max_age_secs), ("{}", 86_400));
    }

    #[test]
    fn the_same_settings_keep_the_same_etag() {
        let a = build(json!({"42": {"max_batch": 5}})).unwrap().get("42");
        let b = build(json!({"42": {"max_batch": 5}})).unwrap().get("42");
        assert_eq!(a, b);
    }

    #[test]
    fn what_the_sdk_would_ignore_is_refused_naming_the_account() {
        let big = "x".repeat(MAX_DOCUMENT_BYTES);
        for (value, expected) in [
            (json!({"42": false}), "sdk_settings.42: must be an object"),
            (json!({"42": [1]}), "sdk_settings.42: must be an object"),
            (json!({"42": {"pad": big}}), "more than the 4096"),
            (json!({"acct": {}}), "\"acct\" is not an ad account id"),
        ] {
            let error = build(value).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        assert!(parse_file("[1]").unwrap_err().contains("JSON object"));
        assert!(parse_file("{\"42\":").is_err());
    }
}
