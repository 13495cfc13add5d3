//! The events request: `POST /v5/ad_accounts/{ad_account_id}/events[?test=true]` with the body
//! `{"data":[event, ...]}`, and how many events one request may carry.
//!
//! Events are kept as finished JSON text (the SDK stores each event's text at track time, the
//! relay holds each device's events as received), so a body is those texts joined inside the
//! envelope, never a parse and a re-serialisation.

/// Most events the API accepts in one request.
pub const MAX_EVENTS_PER_REQUEST: usize = 1000;

/// Events of a test request (`?test=true`) that the API processes: the first 20.
pub const TEST_MODE_EVENTS: usize = 20;

const OPEN: &str = "{\"data\":[";
const SEPARATOR: &str = ",";
const CLOSE: &str = "]}";

/// The body `{"data":[...]}` of `events`, each already a JSON object's text, in order.
pub fn request_body<'a>(events: impl IntoIterator<Item = &'a str>) -> String {
    let mut body = String::from(OPEN);
    for (i, event) in events.into_iter().enumerate() {
        if i > 0 {
            body.push_str(SEPARATOR);
        }
        body.push_str(event);
    }
    body.push_str(CLOSE);
    body
}

/// [`request_body`] for texts held as bytes (the relay's device requests): each item is one
/// event, or several already joined by commas.
pub fn request_body_bytes<'a>(events: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let events: Vec<&[u8]> = events.into_iter().collect();
    let len = events.iter().map(|e| e.len() + 1).sum::<usize>() + OPEN.len() + CLOSE.len();
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(OPEN.as_bytes());
    for (i, event) in events.into_iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(SEPARATOR.as_bytes());
        }
        body.extend_from_slice(event);
    }
    body.extend_from_slice(CLOSE.as_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_join_event_texts_in_order() {
        let cases: [(&[&str], &str); 3] = [
            (&[], r#"{"data":[]}"#),
            (&[r#"{"a":1}"#], r#"{"data":[{"a":1}]}"#),
            (
                &[r#"{"a":1}"#, r#"{"b":2},{"c":3}"#],
                r#"{"data":[{"a":1},{"b":2},{"c":3}]}"#,
            ),
        ];
        for (events, expected) in cases {
            assert_eq!(request_body(events.iter().copied()), expected);
            let bytes = request_body_bytes(events.iter().map(|e| e.as_bytes()));
            assert_eq!(bytes, expected.as_bytes());
            let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert!(parsed["data"].is_array());
        }
    }
}
