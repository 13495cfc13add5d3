//! Per-event checks that fail a single event rather than the whole request.
//!
//! These run after [`crate::schema`] has accepted the body, so every field already has
//! the right JSON type; the checks here are about meaning: a known `event_name`, enough
//! identifiers in `user_data`, hashed values that really are SHA-256 hex digests, and an
//! `event_time` inside the accepted window. The first problem found becomes the event's
//! `error_message`.

use conversions_wire::is_api_event_name;
use serde_json::Value;

/// `user_data` fields whose values must be SHA-256 digests (64 lowercase hex characters).
pub const HASHED_FIELDS: [&str; 12] = [
    "em",
    "ph",
    "fn",
    "ln",
    "ge",
    "db",
    "ct",
    "st",
    "zp",
    "country",
    "external_id",
    "hashed_maids",
];

/// What the per-event checks need to know besides the event itself.
pub(crate) struct Rules<'a> {
    /// Current Unix time in seconds.
    pub(crate) now: i64,
    /// Allowed clock skew into the future, in seconds.
    pub(crate) future_tolerance_secs: i64,
    /// Maximum age of an event, in seconds.
    pub(crate) max_event_age_secs: i64,
    /// Whether a non-standard name is a registered advertiser-defined event name.
    pub(crate) is_custom_name: &'a dyn Fn(&str) -> bool,
}

/// Whether `s` looks like a SHA-256 hex digest as the API expects it.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks one schema-valid event; `Err` carries its `error_message`.
pub(crate) fn check_event(event: &Value, rules: &Rules) -> Result<(), String> {
    let name = event
        .get("event_name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !(is_api_event_name(name) || (rules.is_custom_name)(name)) {
        return Err(format!(
            "Invalid event_name '{name}': it is neither a standard event name, 'custom', \
             nor an advertiser-defined event name of this ad account."
        ));
    }
    check_user_data(event.get("user_data").unwrap_or(&Value::Null))?;
    check_time(event.get("event_time").unwrap_or(&Value::Null), rules)
}

fn check_user_data(user_data: &Value) -> Result<(), String> {
    let non_empty_array = |key: &str| {
        user_data
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    let non_empty_string = |key: &str| {
        user_data
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let identified = non_empty_array("em")
        || non_empty_array("hashed_maids")
        || (non_empty_string("client_ip_address") && non_empty_string("client_user_agent"));
    if !identified {
        return Err(
            "user_data must contain at least one of: em, hashed_maids, or both \
                    client_ip_address and client_user_agent."
                .to_string(),
        );
    }
    for field in HASHED_FIELDS {
        let Some(values) = user_data.get(field).and_then(Value::as_array) else {
            continue;
        };
        for (i, value) in values.iter().enumerate() {
            let text = value.as_str().unwrap_or("");
            if !is_sha256_hex(text) {
                return Err(format!(
                    "user_data.{field}[{i}] must be in hashed format: the SHA-256 digest of the \
                     normalised value as 64 lowercase hexadecimal characters."
                ));
            }
        }
    }
    Ok(())
}

fn check_time(event_time: &Value, rules: &Rules) -> Result<(), String> {
    // Integers beyond i64 are certainly in the future.
    let given = event_time.as_i64().unwrap_or(i64::MAX);
    let now = rules.now;
    if given > now.saturating_add(rules.future_tolerance_secs) {
        return Err(format!(
            "Invalid event_timestamp parameter. Given timestamp is in the future. \
             Current timestamp: {now}, Given event_timestamp: {given}"
        ));
    }
    if given < now.saturating_sub(rules.max_event_age_secs) {
        return Err(format!(
            "Invalid event_timestamp parameter. Given timestamp is in the past. \
             Current timestamp: {now}, Given event_timestamp: {given}"
        ));
    }
    Ok(())
}
