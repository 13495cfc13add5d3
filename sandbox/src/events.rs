//! The emulated endpoint `POST /v5/ad_accounts/{ad_account_id}/events`.
//!
//! One request is handled in this order: a queued fault first, then
//! authentication and the ad account, then the structural schema check (400), then the
//! per-event checks, and finally the 200 / 422 answer. The body is parsed once into a
//! `serde_json::Value` for the checks, and scanned once more for where each event's text
//! lies: an accepted event is stored as that range of the recorded body, so a 1,000-event
//! batch is never copied or re-serialised, and the parsed tree is freed with the answer.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use conversions_wire::{DetailedError, EventResult, EventsAnswer, TEST_MODE_EVENTS};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::encoding;
use crate::faults::{default_error_body, Fault};
use crate::http::RequestHead;
use crate::response::{Reply, Response};
use crate::schema;
use crate::state::{AcceptedEvent, RecordedRequest, Shared};
use crate::validate::{check_event, Rules};

/// Largest request body read (8 MiB); larger bodies get 413.
pub(crate) const BODY_CAP: usize = 8 * 1024 * 1024;

/// The ad account id in an events path, or `None` when the path is not an events path.
pub(crate) fn events_path_account(path: &str) -> Option<&str> {
    let id = path
        .strip_prefix("/v5/ad_accounts/")?
        .strip_suffix("/events")?;
    (!id.contains('/')).then_some(id)
}

/// Whether the query string carries `test=true` (value compared case-insensitively).
fn is_test_mode(query: &str) -> bool {
    query.split('&').any(|pair| {
        pair.split_once('=')
            .is_some_and(|(k, v)| k == "test" && v.eq_ignore_ascii_case("true"))
    })
}

/// Where each element of the body's `data` array lies in the body, in order; empty when
/// the body is not an object with a `data` array.
fn event_ranges(body: &[u8]) -> Vec<Range<usize>> {
    #[derive(Deserialize)]
    struct Data<'a> {
        #[serde(borrow)]
        data: Vec<&'a RawValue>,
    }
    let Ok(parsed) = serde_json::from_slice::<Data>(body) else {
        return Vec::new();
    };
    let base = body.as_ptr() as usize;
    parsed
        .data
        .iter()
        .map(|raw| {
            let start = raw.get().as_ptr() as usize - base;
            start..start + raw.get().len()
        })
        .collect()
}

fn invalid(message: &str) -> Response {
    Response::error(400, 4196, &format!("Invalid request: {message}"))
}

/// Handles one request on an events path. `body` is `None` when it exceeded [`BODY_CAP`].
pub(crate) fn handle(
    shared: &Shared,
    stop: &AtomicBool,
    head: &RequestHead,
    account: &str,
    body: Option<Vec<u8>>,
) -> Reply {
    let test_mode = is_test_mode(&head.query);
    let is_post = head.method == "POST";
    let wire_bytes = body.as_ref().map_or(0, Vec::len);
    let decoded = encoding::encoding(head).and_then(|e| encoding::decode(body, e, BODY_CAP));
    let body = match decoded {
        Ok(body) => body,
        Err(refusal) => return Reply::Send(refusal),
    };
    let fault = if is_post { shared.pop_fault() } else { None };
    let parsed = body.as_deref().map(serde_json::from_slice::<Value>);
    let received = match &parsed {
        Some(Ok(v)) => v.get("data").and_then(Value::as_array).map_or(0, Vec::len),
        _ => 0,
    };
    // Only an events POST outside test mode keeps what it accepts.
    let ranges = match (&parsed, &body) {
        (Some(Ok(_)), Some(bytes)) if is_post && !test_mode && received > 0 => event_ranges(bytes),
        _ => Vec::new(),
    };
    let record_id = shared.record(RecordedRequest {
        path: head.path.clone(),
        query: head.query.clone(),
        test_mode,
        authorization: head.header("authorization").map(str::to_string),
        user_agent: head.header("user-agent").map(str::to_string),
        content_encoding: head.header("content-encoding").map(str::to_string),
        wire_bytes,
        body: body
            .map(|b| {
                String::from_utf8(b)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            })
            .unwrap_or_default(),
        status: 0,
    });
    let request = Request {
        head,
        account,
        test_mode,
        record_id,
        ranges,
    };
    let reply = if !is_post {
        Reply::Send(
            Response::error(405, 405, "Method not allowed: use POST.")
                .with_header("Allow", "POST".to_string()),
        )
    } else {
        match fault {
            None => Reply::Send(answer(shared, &request, parsed)),
            Some(Fault::Delay { millis }) => {
                sleep_unless_stopped(Duration::from_millis(millis), stop);
                Reply::Send(answer(shared, &request, parsed))
            }
            Some(Fault::Trickle { bytes_per_sec }) => {
                Reply::Trickle(answer(shared, &request, parsed), bytes_per_sec)
            }
            Some(other) => fault_reply(other, received),
        }
    };
    shared.set_status(record_id, reply.status());
    reply
}

/// Sleeps in short steps so that stopping the server is not held up by a long delay.
fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let deadline = Instant::now() + total;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

/// The answer for a fault that decides the response on its own.
fn fault_reply(fault: Fault, received: usize) -> Reply {
    match fault {
        Fault::Status {
            status,
            retry_after,
            body,
        } => {
            let body = body.map(String::into_bytes).unwrap_or_else(|| {
                serde_json::to_vec(&default_error_body(status, received)).unwrap_or_default()
            });
            let mut response = Response::json_bytes(status, body);
            if let Some(value) = retry_after {
                response = response.with_header("Retry-After", value);
            }
            Reply::Send(response)
        }
        Fault::DropConnection => Reply::Drop,
        Fault::ResetMidResponse => {
            Reply::CutShort(Response::json(200, &default_error_body(200, received)))
        }
        Fault::GarbageBody => Reply::Send(Response::json_bytes(
            200,
            b"<html><body>502 Bad Gateway</body></html> \x00\x01 not json {".to_vec(),
        )),
        Fault::HugeBody { bytes } => Reply::Huge(bytes),
        Fault::WrongEventCount => {
            let mut body = default_error_body(200, received.saturating_sub(1));
            body["num_events_received"] = received.into();
            Reply::Send(Response::json(200, &body))
        }
        Fault::Redirect { location } => Reply::Send(
            Response::error(307, 307, "Temporary redirect.").with_header("Location", location),
        ),
        // Answered normally (after a pause, or slowly) by the caller.
        Fault::Delay { .. } | Fault::Trickle { .. } => {
            Reply::Send(Response::error(500, 1, "Internal server error."))
        }
    }
}

/// What [`answer`] needs to know of a request besides its parsed body.
struct Request<'a> {
    head: &'a RequestHead,
    account: &'a str,
    test_mode: bool,
    /// Its id in the request log, where its body is kept.
    record_id: u64,
    /// Where each event lies in the body (see [`event_ranges`]); empty in test mode and
    /// for anything but a POST, where nothing is kept.
    ranges: Vec<Range<usize>>,
}

/// The normal answer: authentication, schema, per-event checks, acceptance.
fn answer(
    shared: &Shared,
    request: &Request,
    parsed: Option<Result<Value, serde_json::Error>>,
) -> Response {
    let Request {
        head,
        account,
        test_mode,
        ..
    } = *request;
    let config = &shared.config;
    let authorized = head
        .header("authorization")
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim() == config.token
        });
    if !authorized {
        return Response::json(401, &default_error_body(401, 0));
    }
    let well_formed =
        !account.is_empty() && account.len() <= 18 && account.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return invalid(&format!(
            "ad_account_id '{account}' does not match '^\\d{{1,18}}$'"
        ));
    }
    if account != config.ad_account_id {
        return Response::json(403, &default_error_body(403, 0));
    }
    let value = match parsed {
        None => {
            return Response::error(
                413,
                413,
                &format!("Request body too large: at most {BODY_CAP} bytes are accepted."),
            )
        }
        Some(Err(e)) => return invalid(&format!("the body is not valid JSON ({e})")),
        Some(Ok(value)) => value,
    };
    if let Err(message) = schema::check_body(&value) {
        return invalid(&message);
    }
    let events = match value {
        Value::Object(mut map) => match map.remove("data") {
            Some(Value::Array(events)) => events,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let is_custom_name = |name: &str| shared.is_custom_name(name);
    let rules = Rules {
        now,
        future_tolerance_secs: config.future_tolerance_secs,
        max_event_age_secs: config.max_event_age_secs,
        is_custom_name: &is_custom_name,
    };
    let mut results = Vec::with_capacity(events.len());
    let mut accepted = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        let outcome = if test_mode && i >= TEST_MODE_EVENTS {
            Err("Test requests process only the first 20 events.".to_string())
        } else {
            check_event(&event, &rules)
        };
        results.push(match outcome {
            Ok(()) => {
                if let Some(text) = request.ranges.get(i) {
                    accepted.push(AcceptedEvent {
                        request: request.record_id,
                        text: text.clone(),
                        event_id: event
                            .get("event_id")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    });
                }
                EventResult::processed()
            }
            Err(message) => EventResult::failed(message),
        });
    }
    let batch = EventsAnswer::of(results);
    shared.accept(accepted);
    if batch.all_processed() {
        return Response::json(200, &batch);
    }
    let status = if batch.num_events_processed == 0 {
        422
    } else {
        config.partial_failure_status
    };
    if status == 200 {
        Response::json(200, &batch)
    } else {
        Response::json(status, &DetailedError::unprocessable(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_events_paths() {
        assert_eq!(
            events_path_account("/v5/ad_accounts/123/events"),
            Some("123")
        );
        assert_eq!(
            events_path_account("/v5/ad_accounts/abc/events"),
            Some("abc")
        );
        assert_eq!(events_path_account("/v5/ad_accounts/1/2/events"), None);
        assert_eq!(events_path_account("/v5/ad_accounts/1/events/x"), None);
    }

    #[test]
    fn parses_test_flag_case_insensitively() {
        assert!(is_test_mode("test=True"));
        assert!(is_test_mode("a=b&test=TRUE"));
        assert!(!is_test_mode("test=false"));
        assert!(!is_test_mode("test"));
        assert!(!is_test_mode("contest=true"));
    }
}
