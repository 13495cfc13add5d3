//! Injectable faults: what they are, their JSON form for the control endpoint, and the
//! default error bodies of the real API.
//!
//! A fault is data only; [`crate::server`] decides how to put it on the wire. Faults sit
//! in a FIFO queue and each one is consumed by exactly one later events request, so a
//! test can script "503, 503, then success" with three calls (or one `count`).

use conversions_wire::UNPROCESSABLE_MESSAGE;
use serde::Deserialize;
use serde_json::{json, Value};

/// A scripted misbehaviour applied to exactly one upcoming events request.
///
/// Faults decide the answer on their own: apart from [`Fault::Delay`] and
/// [`Fault::Trickle`], which answer normally, a faulted request never adds events to
/// [`crate::Sandbox::accepted`]. The request is recorded either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status. `body` replaces the default body, which is the real
    /// API's documented body for that status (401 code 2, 403 code 29, 422 code 953,
    /// 429 code 8, 503 code 4197, ...); `retry_after` is sent verbatim as a
    /// `Retry-After` header.
    Status {
        /// HTTP status code to answer with.
        status: u16,
        /// Value of the `Retry-After` header, sent verbatim (seconds or an HTTP date).
        retry_after: Option<String>,
        /// Response body to send instead of the default one.
        body: Option<String>,
    },
    /// Wait this long, then answer normally.
    Delay {
        /// Milliseconds to wait before answering.
        millis: u64,
    },
    /// Read the request, then close the TCP connection without sending anything.
    DropConnection,
    /// Send the status line, headers (with the full `Content-Length`) and half of a
    /// 200 body, then close the connection. Nothing is accepted.
    ResetMidResponse,
    /// Answer 200 with a body that is not JSON.
    GarbageBody,
    /// Answer 200 with a body of exactly `bytes` bytes: a JSON-looking prefix, then spaces.
    HugeBody {
        /// Total body length in bytes.
        bytes: usize,
    },
    /// Send the normal answer (head and body) at this rate.
    Trickle {
        /// Bytes written per second (at least 1).
        bytes_per_sec: u32,
    },
    /// Answer 200 with an `events` array one entry shorter than the request's `data`.
    WrongEventCount,
    /// Answer 307 Temporary Redirect with this `Location`.
    Redirect {
        /// Value of the `Location` header.
        location: String,
    },
}

/// The JSON accepted by `POST /_sandbox/faults` (one object; an array of them also works).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    kind: Option<String>,
    status: Option<u16>,
    retry_after: Option<String>,
    body: Option<String>,
    millis: Option<u64>,
    bytes: Option<usize>,
    bytes_per_sec: Option<u32>,
    location: Option<String>,
    count: Option<usize>,
}

/// Largest `count` accepted in one fault spec, to keep a typo from exhausting memory.
const MAX_COUNT: usize = 100_000;

/// Parses the control-endpoint JSON (an object or an array of objects) into faults,
/// expanding `count`.
pub(crate) fn parse_fault_specs(body: &[u8]) -> Result<Vec<Fault>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut faults = Vec::new();
    for item in items {
        let spec: FaultSpec =
            serde_json::from_value(item).map_err(|e| format!("bad fault spec: {e}"))?;
        let count = spec.count.unwrap_or(1);
        if count > MAX_COUNT {
            return Err(format!("count must be at most {MAX_COUNT}"));
        }
        let fault = spec_to_fault(spec)?;
        faults.extend(std::iter::repeat_n(fault, count));
    }
    Ok(faults)
}

fn spec_to_fault(spec: FaultSpec) -> Result<Fault, String> {
    let missing = |field: &str, kind: &str| format!("fault kind '{kind}' needs '{field}'");
    let kind = match (&spec.kind, spec.status) {
        (Some(kind), _) => kind.as_str(),
        (None, Some(_)) => "status",
        (None, None) => return Err("fault needs 'kind' or 'status'".to_string()),
    };
    let fault = match kind {
        "status" => Fault::Status {
            status: match spec.status {
                Some(s) if (200..=599).contains(&s) => s,
                Some(s) => {
                    return Err(format!(
                        "status {s} is not a usable HTTP status (200..=599)"
                    ))
                }
                None => return Err(missing("status", kind)),
            },
            retry_after: spec.retry_after,
            body: spec.body,
        },
        "delay" => Fault::Delay {
            millis: spec.millis.ok_or_else(|| missing("millis", kind))?,
        },
        "drop_connection" => Fault::DropConnection,
        "reset_mid_response" => Fault::ResetMidResponse,
        "garbage_body" => Fault::GarbageBody,
        "huge_body" => Fault::HugeBody {
            bytes: spec.bytes.ok_or_else(|| missing("bytes", kind))?,
        },
        "trickle" => Fault::Trickle {
            bytes_per_sec: spec
                .bytes_per_sec
                .ok_or_else(|| missing("bytes_per_sec", kind))?,
        },
        "wrong_event_count" => Fault::WrongEventCount,
        "redirect" => Fault::Redirect {
            location: spec.location.ok_or_else(|| missing("location", kind))?,
        },
        other => return Err(format!("unknown fault kind '{other}'")),
    };
    Ok(fault)
}

/// The real API's error body for `status` (spec 5.23 examples and observed bodies), or a generic
/// `{"code":status,"message":...}` for statuses it does not document.
///
/// `received` is the number of events in the request; it fills the `details` of a 422
/// (every event `failed`) and of a 200 (every event `processed`).
pub(crate) fn default_error_body(status: u16, received: usize) -> Value {
    match status {
        200 => json!({
            "num_events_received": received,
            "num_events_processed": received,
            "events": vec![json!({"status": "processed", "error_message": "", "warning_message": ""}); received],
        }),
        400 => json!({"code": 4196, "message": "The request was invalid."}),
        401 => json!({"code": 2, "message": "Authentication failed."}),
        403 => json!({"code": 29, "message": "You are not permitted to access that resource."}),
        404 => json!({"code": 404, "message": "The requested resource could not be found."}),
        413 => json!({"code": 413, "message": "Request entity too large."}),
        422 => json!({
            "code": 953,
            "message": UNPROCESSABLE_MESSAGE,
            "details": {
                "num_events_received": received,
                "num_events_processed": 0,
                "events": vec![json!({"status": "failed", "error_message": "Injected failure.", "warning_message": ""}); received],
            },
        }),
        429 => json!({
            "code": 8,
            "message": "This request exceeded a rate limit. This can happen if the client exceeds one\nof the published rate limits within a short time window.",
        }),
        500 => json!({"code": 1, "message": "Internal server error."}),
        503 => json!({
            "code": 4197,
            "message": "The endpoint has been ramped down and is currently not accepting any traffic.",
        }),
        other => json!({"code": other, "message": format!("Injected HTTP {other}.")}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_shorthand_and_count() {
        let faults = parse_fault_specs(br#"{"status":503,"retry_after":"1","count":2}"#);
        let expected = Fault::Status {
            status: 503,
            retry_after: Some("1".into()),
            body: None,
        };
        assert_eq!(faults, Ok(vec![expected.clone(), expected]));
    }

    #[test]
    fn every_kind_parses() {
        let body = br#"[{"kind":"status","status":429,"body":"x"},{"kind":"delay","millis":5},
            {"kind":"drop_connection"},{"kind":"reset_mid_response"},{"kind":"garbage_body"},
            {"kind":"huge_body","bytes":10},{"kind":"trickle","bytes_per_sec":3},
            {"kind":"wrong_event_count"},{"kind":"redirect","location":"http://x/"}]"#;
        let faults = parse_fault_specs(body).unwrap_or_default();
        assert_eq!(faults.len(), 9);
        assert_eq!(faults[1], Fault::Delay { millis: 5 });
        assert_eq!(faults[5], Fault::HugeBody { bytes: 10 });
        assert_eq!(
            faults[8],
            Fault::Redirect {
                location: "http://x/".into()
            }
        );
    }

    #[test]
    fn bad_specs_are_rejected() {
        for body in [
            &br#"{"kind":"delay"}"#[..],
            br#"{"kind":"nope"}"#,
            br#"{}"#,
            br#"{"status":99999}"#,
            br#"{"status":503,"extra":1}"#,
            br#"not json"#,
            br#"{"status":503,"count":100000000}"#,
        ] {
            assert!(
                parse_fault_specs(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn default_bodies_match_the_real_api() {
        assert_eq!(default_error_body(401, 0)["code"], 2);
        assert_eq!(default_error_body(403, 0)["code"], 29);
        assert_eq!(default_error_body(429, 0)["code"], 8);
        assert_eq!(default_error_body(503, 0)["code"], 4197);
        let detailed = default_error_body(422, 2);
        assert_eq!(detailed["code"], 953);
        assert_eq!(
            detailed["details"]["events"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(default_error_body(418, 0)["code"], 418);
    }
}
