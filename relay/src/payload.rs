//! The request body: check its shape, add the client IP to events that lack one, and turn
//! the events into the text a coalesced batch is assembled from.
//!
//! The body is parsed into `serde_json::Value` and each event re-encoded, so a batch is built
//! by joining device requests' event texts without parsing them again. Key order: without
//! serde_json's `preserve_order` feature (which would switch every crate in the workspace
//! build to `IndexMap` through feature unification) objects are sorted maps, so events come
//! out with their keys in sorted order. JSON gives member order no meaning (RFC 8259 §4) and
//! the API does not depend on it; values and array order (and so the per-event result order)
//! are unchanged. A key twice in one object is refused ([`crate::strict_json`]): which of the
//! two the device meant cannot be known. A top-level member other than `data` is refused here, as the API's
//! `additionalProperties: false` would refuse it, rather than dropped from the merged batch.
//!
//! What counts as lacking: `user_data` is an object without `client_ip_address`, or with it
//! `null` or `""`. Any other value, valid or not, is the event's own and is kept. Events that
//! are not objects or have no `user_data` object are forwarded as they are, so the API reports
//! the real error for them.

use std::net::IpAddr;
use std::ops::Range;

use axum::body::Bytes;
use serde_json::Value;

use crate::config::MAX_EVENTS_PER_REQUEST;
use crate::custom_names::custom_name;
use crate::strict_json;

/// Why a body was refused before reaching the upstream (all answered with 400 code 4196).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PayloadError {
    /// Not JSON, or not an object with a `data` array.
    Malformed(String),
    /// `data` has no events.
    Empty,
    /// `data` has more than [`MAX_EVENTS_PER_REQUEST`] events.
    TooMany(usize),
}

impl PayloadError {
    /// The API-style message, `Invalid request: ...`.
    pub(crate) fn message(&self) -> String {
        match self {
            PayloadError::Malformed(why) => format!("Invalid request: {why}"),
            PayloadError::Empty => {
                "Invalid request: [] is too short (data must hold 1 to 1000 events)".to_string()
            }
            PayloadError::TooMany(n) => format!(
                "Invalid request: data holds {n} events, more than the maximum of {MAX_EVENTS_PER_REQUEST}"
            ),
        }
    }
}

/// A body ready to join a batch.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The events as JSON array members without the brackets: `{...},{...}`.
    pub body: Bytes,
    /// Number of events in `data`.
    pub events: usize,
    /// How many events received the client IP.
    pub ips_added: usize,
    /// Where each event's text lies in `body`.
    pub spans: Vec<Range<usize>>,
    /// Each event's custom name ([`custom_name`]), `None` for a standard name or none.
    pub custom_names: Vec<Option<String>>,
}

impl Prepared {
    /// The events not `dropped`, joined as in `body`.
    pub(crate) fn without(&self, dropped: &[bool]) -> Bytes {
        let mut body = Vec::with_capacity(self.body.len());
        for (span, _) in self.spans.iter().zip(dropped).filter(|(_, d)| !**d) {
            if !body.is_empty() {
                body.push(b',');
            }
            body.extend_from_slice(&self.body[span.clone()]);
        }
        Bytes::from(body)
    }
}

/// Checks the body's shape and fills `client_ip_address` from `client_ip` where it is lacking.
pub(crate) fn prepare(raw: Bytes, client_ip: Option<IpAddr>) -> Result<Prepared, PayloadError> {
    let mut doc = strict_json::from_slice(&raw)
        .map_err(|e| PayloadError::Malformed(format!("body is not valid JSON ({e})")))?;
    let shape =
        || PayloadError::Malformed("the body must be an object with a data array".to_string());
    let object = doc.as_object_mut().ok_or_else(shape)?;
    if let Some(extra) = object.keys().find(|k| *k != "data") {
        return Err(PayloadError::Malformed(format!(
            "Additional properties are not allowed ({extra:?} was unexpected)"
        )));
    }
    let data = object
        .get_mut("data")
        .and_then(Value::as_array_mut)
        .ok_or_else(shape)?;
    let events = data.len();
    if events == 0 {
        return Err(PayloadError::Empty);
    }
    if events > MAX_EVENTS_PER_REQUEST {
        return Err(PayloadError::TooMany(events));
    }
    let ips_added = match client_ip {
        Some(ip) => fill_ips(data, &ip.to_string()),
        None => 0,
    };
    let custom_names = data
        .iter()
        .map(|e| {
            e.get("event_name")
                .and_then(Value::as_str)
                .and_then(custom_name)
        })
        .collect();
    // `a,b`: the array's members, ready to join other requests' members.
    let mut body = Vec::new();
    let mut spans = Vec::with_capacity(events);
    for event in data.iter() {
        if !body.is_empty() {
            body.push(b',');
        }
        let start = body.len();
        serde_json::to_writer(&mut body, event)
            .map_err(|e| PayloadError::Malformed(format!("body could not be re-encoded ({e})")))?;
        spans.push(start..body.len());
    }
    Ok(Prepared {
        body: Bytes::from(body),
        events,
        ips_added,
        spans,
        custom_names,
    })
}

/// Sets `client_ip_address` to `ip` where it is lacking; how many events received it.
fn fill_ips(events: &mut [Value], ip: &str) -> usize {
    let mut added = 0;
    for event in events {
        let Some(user_data) = event.get_mut("user_data").and_then(Value::as_object_mut) else {
            continue;
        };
        let lacking = match user_data.get("client_ip_address") {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if lacking {
            user_data.insert(
                "client_ip_address".to_string(),
                Value::String(ip.to_string()),
            );
            added += 1;
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ip() -> Option<IpAddr> {
        Some("203.0.113.9".parse().unwrap())
    }

    fn run(body: Value) -> (Value, Prepared) {
        let p = prepare(Bytes::from(body.to_string()), ip()).unwrap();
        let mut text = b"{\"data\":[".to_vec();
        text.extend_from_slice(&p.body);
        text.extend_from_slice(b"]}");
        (serde_json::from_slice(&text).unwrap(), p)
    }

    #[test]
    fn fills_only_where_lacking() {
        let (out, p) = run(json!({"data": [
            {"event_name": "lead", "user_data": {"client_user_agent": "ua"}},
            {"event_name": "lead", "user_data": {"client_ip_address": "198.51.100.1"}},
            {"event_name": "lead", "user_data": {"client_ip_address": null}},
            {"event_name": "lead", "user_data": {"client_ip_address": ""}},
            {"event_name": "lead", "user_data": {"client_ip_address": 5}},
            {"event_name": "lead"},
            "not an event",
        ]}));
        assert_eq!(p.events, 7);
        assert_eq!(p.ips_added, 3);
        let ips: Vec<_> = out["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["user_data"]["client_ip_address"].clone())
            .collect();
        assert_eq!(
            ips,
            vec![
                json!("203.0.113.9"),
                json!("198.51.100.1"),
                json!("203.0.113.9"),
                json!("203.0.113.9"),
                json!(5),
                Value::Null,
                Value::Null
            ]
        );
        assert_eq!(out["data"][0]["user_data"]["client_user_agent"], "ua");
        assert_eq!(out["data"][6], "not an event");
    }

    #[test]
    fn events_become_joinable_members() {
        let raw = r#"{"data":[{"user_data":{"client_ip_address":"1.2.3.4"},"event_name":"x"}]}"#;
        let p = prepare(Bytes::from(raw), ip()).unwrap();
        assert_eq!(p.ips_added, 0);
        assert_eq!(
            &p.body[..],
            br#"{"event_name":"x","user_data":{"client_ip_address":"1.2.3.4"}}"#
        );
        let p = prepare(Bytes::from(r#"{"data":[{"user_data":{}},{}]}"#), None).unwrap();
        assert_eq!(p.ips_added, 0);
        assert_eq!(&p.body[..], br#"{"user_data":{}},{}"#);
        assert_eq!(&p.without(&[true, false])[..], b"{}");
        assert_eq!(&p.without(&[false, true])[..], br#"{"user_data":{}}"#);
        let raw = r#"{"data":[{"event_name":"lead"},{"event_name":"Took"},{"event_name":5}]}"#;
        let p = prepare(Bytes::from(raw), None).unwrap();
        assert_eq!(p.custom_names, [None, Some("took".to_string()), None]);
    }

    #[test]
    fn shape_errors() {
        let err = |s: &str| prepare(Bytes::from(s.to_string()), ip()).unwrap_err();
        assert!(matches!(err("{"), PayloadError::Malformed(_)));
        assert!(matches!(err("[]"), PayloadError::Malformed(_)));
        assert!(matches!(err(r#"{"data":{}}"#), PayloadError::Malformed(_)));
        assert_eq!(err(r#"{"data":[]}"#), PayloadError::Empty);
        let extra = err(r#"{"data":[{}],"access_token":"x"}"#).message();
        assert!(extra.contains("access_token"), "{extra}");
        let many = json!({ "data": vec![json!({}); 1001] }).to_string();
        assert_eq!(err(&many), PayloadError::TooMany(1001));
        assert!(err(&many).message().starts_with("Invalid request: "));
        let max = json!({ "data": vec![json!({}); 1000] }).to_string();
        assert_eq!(prepare(Bytes::from(max), ip()).unwrap().events, 1000);
    }
}
