//! The API's answer with one result per event, and the error body.
//!
//! A 200's body is `{"num_events_received","num_events_processed","events":[...]}`; a 422 is a
//! `DetailedError` `{"code","message","details"}` whose `details` is that same object. Each
//! result is `{"status":"processed"|"failed","error_message","warning_message"}`, in the order
//! the events were sent; live answers give `""` for no message. Every other error is
//! `{"code","message"}`.
//!
//! Reading is strict where a sender's decision depends on it and lenient elsewhere: the
//! results must be an array of known statuses (one per event sent, checked by
//! [`parse_event_results`]), or the answer counts as broken and the events are retried; the
//! counts and unknown keys are ignored. Writing (the sandbox, the relay's per-device answers)
//! gives the API's live shape: every key present, `""` for no message.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `code` of the API's 422 for events that were not all processed.
pub const UNPROCESSABLE_CODE: i64 = 953;

/// The `message` of the API's 422 for events that were not all processed.
pub const UNPROCESSABLE_MESSAGE: &str =
    "The action could not be processed properly due to some or all data provided being invalid.";

/// One event's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventResult {
    /// True for `processed`, false for `failed`.
    pub processed: bool,
    /// `error_message`, when non-empty.
    pub error_message: Option<String>,
    /// `warning_message`, when non-empty.
    pub warning_message: Option<String>,
}

impl EventResult {
    /// A `processed` result without messages.
    pub fn processed() -> EventResult {
        EventResult {
            processed: true,
            error_message: None,
            warning_message: None,
        }
    }

    /// A `failed` result with `message`.
    pub fn failed(message: impl Into<String>) -> EventResult {
        EventResult {
            processed: false,
            error_message: Some(message.into()).filter(|m| !m.is_empty()),
            warning_message: None,
        }
    }
}

impl Serialize for EventResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Written<'a> {
            status: &'a str,
            error_message: &'a str,
            warning_message: &'a str,
        }
        Written {
            status: if self.processed {
                "processed"
            } else {
                "failed"
            },
            error_message: self.error_message.as_deref().unwrap_or_default(),
            warning_message: self.warning_message.as_deref().unwrap_or_default(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for EventResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Read {
            status: String,
            #[serde(default)]
            error_message: Option<String>,
            #[serde(default)]
            warning_message: Option<String>,
        }
        let read = Read::deserialize(deserializer)?;
        let processed = match read.status.as_str() {
            "processed" => true,
            "failed" => false,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown event status {other:?}"
                )))
            }
        };
        let non_empty = |m: Option<String>| m.filter(|s| !s.is_empty());
        Ok(EventResult {
            processed,
            error_message: non_empty(read.error_message),
            warning_message: non_empty(read.warning_message),
        })
    }
}

/// The answer with per-event results (`ConversionApiResponse`): a 200's body, a 422's
/// `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventsAnswer {
    /// How many events the request carried.
    pub num_events_received: usize,
    /// How many of them were processed.
    pub num_events_processed: usize,
    /// One result per event, in request order.
    pub events: Vec<EventResult>,
}

impl EventsAnswer {
    /// The answer for `events`, with its counts.
    pub fn of(events: Vec<EventResult>) -> EventsAnswer {
        EventsAnswer {
            num_events_received: events.len(),
            num_events_processed: events.iter().filter(|e| e.processed).count(),
            events,
        }
    }

    /// True when every event was processed.
    pub fn all_processed(&self) -> bool {
        self.num_events_processed == self.num_events_received
    }
}

/// The API's 422 (`DetailedError`): events not all processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetailedError {
    /// The API's error code ([`UNPROCESSABLE_CODE`]).
    pub code: i64,
    /// What went wrong ([`UNPROCESSABLE_MESSAGE`]).
    pub message: String,
    /// The per-event results.
    pub details: EventsAnswer,
}

impl DetailedError {
    /// The API's 422 for `details`, with its code and message.
    pub fn unprocessable(details: EventsAnswer) -> DetailedError {
        DetailedError {
            code: UNPROCESSABLE_CODE,
            message: UNPROCESSABLE_MESSAGE.to_string(),
            details,
        }
    }
}

#[derive(Deserialize)]
struct ResultsRead {
    events: Vec<EventResult>,
}

#[derive(Deserialize)]
struct DetailedRead {
    details: ResultsRead,
}

/// The per-event results of a 200 (`events`) or 422 (`details.events`) answer, whatever their
/// number; `None` when `body` is not that JSON or a result's status is unknown.
pub fn event_results(status: u16, body: impl AsRef<[u8]>) -> Option<Vec<EventResult>> {
    let body = body.as_ref();
    let read = if status == 422 {
        serde_json::from_slice::<DetailedRead>(body).ok()?.details
    } else {
        serde_json::from_slice::<ResultsRead>(body).ok()?
    };
    Some(read.events)
}

/// The per-event results of a 200 or 422 answer to `sent` events. `None` when the body is not
/// the expected JSON, a status is unknown, or the count differs from `sent`: the sender then
/// treats the answer as a failure to retry (the relay answers 502, which the SDK retries).
pub fn parse_event_results(
    status: u16,
    body: impl AsRef<[u8]>,
    sent: usize,
) -> Option<Vec<EventResult>> {
    event_results(status, body).filter(|results| results.len() == sent)
}

/// The `message` of an error body `{"code":..,"message":..}`, if there is one.
pub fn error_message(body: impl AsRef<[u8]>) -> Option<String> {
    #[derive(Deserialize)]
    struct Read {
        message: String,
    }
    serde_json::from_slice::<Read>(body.as_ref())
        .ok()
        .map(|b| b.message)
}

/// The `code` of an error body `{"code":..,"message":..}`, if there is one.
pub fn error_code(body: impl AsRef<[u8]>) -> Option<i64> {
    #[derive(Deserialize)]
    struct Read {
        code: i64,
    }
    serde_json::from_slice::<Read>(body.as_ref())
        .ok()
        .map(|b| b.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"{"num_events_received":2,"num_events_processed":1,"events":[{"status":"processed","error_message":"","warning_message":"odd field"},{"status":"failed","error_message":"bad","warning_message":null}]}"#;

    fn two() -> Vec<EventResult> {
        vec![
            EventResult {
                warning_message: Some("odd field".into()),
                ..EventResult::processed()
            },
            EventResult::failed("bad"),
        ]
    }

    #[test]
    fn answers_parse_row_by_row() {
        let detailed = format!(r#"{{"code":953,"message":"x","details":{TWO}}}"#);
        let table: [(u16, &str, usize, Option<Vec<EventResult>>); 11] = [
            (200, TWO, 2, Some(two())),
            (422, &detailed, 2, Some(two())),
            // Only the results count: no counts, unknown keys.
            (
                200,
                r#"{"events":[{"status":"processed"}],"x":1}"#,
                1,
                Some(vec![EventResult::processed()]),
            ),
            (200, r#"{"events":[]}"#, 0, Some(vec![])),
            // One result per event sent, or the answer is broken.
            (200, TWO, 3, None),
            (200, TWO, 1, None),
            // A 422's results are in details; a 200's at the top.
            (422, TWO, 2, None),
            (200, &detailed, 2, None),
            (200, r#"{"events":[{"status":"maybe"}]}"#, 1, None),
            (
                200,
                r#"{"events":[{"status":"processed","error_message":7}]}"#,
                1,
                None,
            ),
            (200, "<html>", 1, None),
        ];
        for (status, body, sent, expected) in table {
            assert_eq!(
                parse_event_results(status, body, sent),
                expected,
                "{status} {body} {sent}"
            );
        }
        assert_eq!(event_results(200, TWO).map(|r| r.len()), Some(2));
    }

    #[test]
    fn answers_are_written_in_the_api_s_live_shape() {
        let answer = EventsAnswer::of(two());
        assert!(!answer.all_processed());
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            serde_json::json!({"num_events_received": 2, "num_events_processed": 1, "events": [
                {"status": "processed", "error_message": "", "warning_message": "odd field"},
                {"status": "failed", "error_message": "bad", "warning_message": ""}]})
        );
        let written = serde_json::to_string(&DetailedError::unprocessable(answer)).unwrap();
        assert_eq!(parse_event_results(422, &written, 2), Some(two()));
        assert_eq!(error_code(&written), Some(UNPROCESSABLE_CODE));
        assert_eq!(
            error_message(&written).as_deref(),
            Some(UNPROCESSABLE_MESSAGE)
        );
        assert!(EventsAnswer::of(vec![EventResult::processed()]).all_processed());
    }

    #[test]
    fn error_bodies() {
        let body = r#"{"code":2,"message":"Authentication failed."}"#;
        assert_eq!(error_code(body), Some(2));
        assert_eq!(
            error_message(body).as_deref(),
            Some("Authentication failed.")
        );
        assert_eq!(error_message("<html>"), None);
        assert_eq!(error_code(r#"{"message":"no code"}"#), None);
    }
}
