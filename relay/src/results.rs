//! Cutting the upstream's answer for a merged batch into each device request's own answer.
//!
//! The API answers a batch with one result per event, in request order: a 200
//! `{"num_events_received","num_events_processed","events":[...]}`, or a 422 `DetailedError`
//! whose `details` is that same object. A device request's events sit side by side in the
//! merged batch, so its results are one slice of `events`, in its own order. Each device gets
//! the answer the API would have given its request alone: the slice with its own counts, as
//! 200 when the upstream said 200 or when all of its events were processed, else as 422 with
//! the upstream's `code` and `message`. An answer whose `events` array is missing or has the
//! wrong length cannot be cut safely and gives `None` (the caller answers 502, which the SDK
//! retries).

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use serde_json::{json, Value};

use crate::forward::UpstreamReply;

/// Each device's answer, in the order of `counts` (each device's number of events), or
/// `None` when `reply` (a 200 or 422) does not hold exactly one result per event.
pub(crate) fn split(reply: &UpstreamReply, counts: &[usize]) -> Option<Vec<UpstreamReply>> {
    let doc: Value = serde_json::from_slice(&reply.body).ok()?;
    let partial = reply.status == StatusCode::UNPROCESSABLE_ENTITY;
    let results = if partial { doc.get("details")? } else { &doc };
    let events = results.get("events")?.as_array()?;
    if events.len() != counts.iter().sum::<usize>() {
        return None;
    }
    let mut answers = Vec::with_capacity(counts.len());
    let mut offset = 0;
    for &count in counts {
        let slice = &events[offset..offset + count];
        offset += count;
        let processed = slice
            .iter()
            .filter(|e| e.get("status").and_then(Value::as_str) == Some("processed"))
            .count();
        let own = json!({
            "num_events_received": count,
            "num_events_processed": processed,
            "events": slice,
        });
        let (status, body) = if partial && processed < count {
            let failed = json!({
                "code": doc.get("code").cloned().unwrap_or(json!(953)),
                "message": doc.get("message").cloned().unwrap_or(json!("")),
                "details": own,
            });
            (StatusCode::UNPROCESSABLE_ENTITY, failed)
        } else {
            (StatusCode::OK, own)
        };
        answers.push(UpstreamReply {
            status,
            content_type: Some(HeaderValue::from_static("application/json")),
            retry_after: None,
            body: Bytes::from(body.to_string()),
        });
    }
    Some(answers)
}

/// True when `reply` (a 200 or 422) holds exactly `count` per-event results: the check a
/// device alone in its batch gets, so a broken answer is 502 for it as for a merged batch.
pub(crate) fn holds_results_for(reply: &UpstreamReply, count: usize) -> bool {
    let Ok(doc) = serde_json::from_slice::<Value>(&reply.body) else {
        return false;
    };
    let results = if reply.status == StatusCode::UNPROCESSABLE_ENTITY {
        doc.get("details")
    } else {
        Some(&doc)
    };
    results
        .and_then(|r| r.get("events"))
        .and_then(Value::as_array)
        .is_some_and(|events| events.len() == count)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let garbage = UpstreamReply {
            body: Bytes::from_static(b"<html>"),
            ..reply(200, json!({}))
        };
        assert!(split(&garbage, &[1]).is_none());
        assert!(!holds_results_for(&garbage, 1));
        assert!(holds_results_for(&ok, 2));
        assert!(!holds_results_for(&ok, 3));
    }
}
