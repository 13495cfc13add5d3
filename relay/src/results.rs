//! Cutting the upstream's answer for a merged batch into each device request's own answer.
//!
//! The API answers a batch with one result per event, in request order: a 200 with the
//! results, or a 422 whose `details` holds them (the wire contract's `EventsAnswer`). A device
//! request's events sit side by side in the merged batch, so its results are one slice, in its
//! own order. Each device gets the answer the API would have given its request alone: the
//! slice with its own counts, as 200 when the upstream said 200 or when all of its events were
//! processed, else as 422 with the upstream's `code` and `message`. An answer the SDK could
//! not read (not one known result per event, by the same parser) cannot be cut safely and
//! gives `None` (the caller answers 502, which the SDK retries).

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use conversions_wire::{
    error_code, error_message, event_results, parse_event_results, DetailedError, EventResult,
    EventsAnswer, UNPROCESSABLE_CODE,
};

use crate::forward::UpstreamReply;

/// Each device's answer, in the order of `counts` (each device's number of events), or
/// `None` when `reply` (a 200 or 422) does not hold exactly one result per event.
pub(crate) fn split(reply: &UpstreamReply, counts: &[usize]) -> Option<Vec<UpstreamReply>> {
    let status = reply.status.as_u16();
    let results = parse_event_results(status, &reply.body, counts.iter().sum())?;
    let partial = reply.status == StatusCode::UNPROCESSABLE_ENTITY;
    let mut results = results.into_iter();
    let answers = counts
        .iter()
        .map(|&count| {
            let own = EventsAnswer::of(results.by_ref().take(count).collect());
            if partial && !own.all_processed() {
                let failed = DetailedError {
                    code: error_code(&reply.body).unwrap_or(UNPROCESSABLE_CODE),
                    message: error_message(&reply.body).unwrap_or_default(),
                    details: own,
                };
                json_reply(StatusCode::UNPROCESSABLE_ENTITY, &failed)
            } else {
                json_reply(StatusCode::OK, &own)
            }
        })
        .collect();
    Some(answers)
}

/// True when `reply` (a 200 or 422) holds exactly `count` per-event results: the check a
/// device alone in its batch gets, so a broken answer is 502 for it as for a merged batch.
pub(crate) fn holds_results_for(reply: &UpstreamReply, count: usize) -> bool {
    parse_event_results(reply.status.as_u16(), &reply.body, count).is_some()
}

/// The per-event results of `reply` (a 200 or 422), however many.
pub(crate) fn results_of(reply: &UpstreamReply) -> Option<Vec<EventResult>> {
    event_results(reply.status.as_u16(), &reply.body)
}

/// A JSON answer of `status` with `body`.
pub(crate) fn json_reply(status: StatusCode, body: &impl serde::Serialize) -> UpstreamReply {
    UpstreamReply {
        status,
        content_type: Some(HeaderValue::from_static("application/json")),
        retry_after: None,
        // Serialising strings and numbers cannot fail.
        body: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn result(status: &str, error: &str) -> Value {
        json!({"status": status, "error_message": error, "warning_message": ""})
    }

    fn reply(status: u16, body: Value) -> UpstreamReply {
        UpstreamReply {
            status: StatusCode::from_u16(status).unwrap(),
            content_type: None,
            retry_after: None,
            body: Bytes::from(body.to_string()),
        }
    }

    fn json_of(r: &UpstreamReply) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    #[test]
    fn each_device_gets_its_own_slice_in_order() {
        let events = vec![
            result("processed", ""),
            result("failed", "too old"),
            result("processed", ""),
            result("processed", ""),
        ];
        let upstream = reply(
            422,
            json!({"code": 953, "message": "some failed", "details": {
                "num_events_received": 4, "num_events_processed": 3, "events": events}}),
        );
        let answers = split(&upstream, &[1, 2, 1]).unwrap();
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[0].status, 200);
        assert_eq!(
            json_of(&answers[0]),
            json!({"num_events_received": 1, "num_events_processed": 1,
                   "events": [result("processed", "")]})
        );
        assert_eq!(answers[1].status, 422);
        assert_eq!(
            json_of(&answers[1]),
            json!({"code": 953, "message": "some failed", "details": {
                "num_events_received": 2, "num_events_processed": 1,
                "events": [result("failed", "too old"), result("processed", "")]}})
        );
        assert_eq!(answers[2].status, 200);
    }

    #[test]
    fn a_200_stays_200_and_bad_answers_cannot_be_cut() {
        let ok = reply(
            200,
            json!({"num_events_received": 2, "num_events_processed": 1,
                   "events": [result("processed", ""), result("failed", "x")]}),
        );
        let answers = split(&ok, &[1, 1]).unwrap();
        assert_eq!(answers[1].status, 200);
        assert_eq!(json_of(&answers[1])["num_events_processed"], 0);
        assert!(split(&ok, &[1, 2]).is_none());
        assert!(split(&reply(200, json!({"events": 3})), &[1]).is_none());
        // A status the SDK would not read cannot be passed on either.
        let unknown = reply(200, json!({"events": [result("maybe", "")]}));
        assert!(split(&unknown, &[1]).is_none());
        assert!(!holds_results_for(&unknown, 1));
        let garbage = UpstreamReply {
            body: Bytes::from_static(b"<html>"),
            ..reply(200, json!({}))
        };
        assert!(split(&garbage, &[1]).is_none());
        assert!(!holds_results_for(&garbage, 1));
        assert!(holds_results_for(&ok, 2));
        assert!(!holds_results_for(&ok, 3));
        assert_eq!(results_of(&ok).map(|r| r.len()), Some(2));
    }
}
