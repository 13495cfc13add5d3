//! What one request's answer means for each event it carried: a pure function from the
//! policy's [`Decision`] and what was sent to the rows' [`Resolution`] (what the store does),
//! the [`BatchOutcome`] (what the app's listener hears) and the upload loop's next step.
//!
//! The policy decides what an answer means for the request; this file turns that into one
//! outcome per event, so the upload loop only waits, takes, sends and tells. Table tests
//! below, one per decision and per kind of per-event result.

use crate::core::model::{BatchOutcome, EventOutcome, EventStatus};
use crate::core::record::{QueuedEvent, Resolution};
use crate::core::upload::policy::Decision;
use crate::core::upload::timing;
use conversions_wire::EventResult;

/// What one request carried and when its answer came.
pub struct SentRequest<'a> {
    /// The events, in the order sent.
    pub events: &'a [QueuedEvent],
    /// The event_time each was sent with.
    pub wire_times: &'a [i64],
    /// The server's time when the answer came, Unix seconds.
    pub server_now: i64,
    /// The answer's HTTP status (`None`: no answer).
    pub status: Option<u16>,
    /// The request got no usable answer (a network failure or a broken body): the events
    /// may have reached the API.
    pub unanswered: bool,
}

/// What the upload loop does next with the events of this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Their outcome is decided: go on with the next group.
    Continue,
    /// Refused whole: send the first `at` events and the rest as two groups.
    Split {
        /// Where the events are cut.
        at: usize,
    },
    /// The batch limit was lowered: take a smaller batch.
    Smaller,
    /// A backoff or pause began: stop sending.
    Stop,
}

/// The request's outcome: for the store, for the app's listener, and for the loop.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestOutcome {
    /// What the store does with each row.
    pub resolution: Resolution,
    /// What the app's delivery listener hears.
    pub report: BatchOutcome,
    /// What the loop does next.
    pub next: Next,
}

/// The outcome of `decision` for the events of `sent`.
pub fn request_outcome(decision: Decision, sent: &SentRequest<'_>) -> RequestOutcome {
    let mut resolution = Resolution::default();
    let mut report = BatchOutcome {
        events: sent.events.len() as u32,
        status: sent.status,
        processed: 0,
        failed: 0,
        warnings: 0,
        will_retry: false,
        message: None,
        results: Vec::new(),
    };
    let rows = || sent.events.iter().map(|e| e.row);
    let every = |status, message, report: &mut BatchOutcome| {
        the_same_for_every_event(report, sent.events, status, message)
    };
    let next = match decision {
        Decision::Resolve(results) => {
            per_event(sent, results, &mut resolution, &mut report);
            Next::Continue
        }
        Decision::DeadLetter(message) => {
            resolution.dead = rows().map(|row| (row, message.clone())).collect();
            report.failed = sent.events.len() as u32;
            every(EventStatus::DeadLettered, message, &mut report);
            Next::Continue
        }
        Decision::Split => {
            let message = "request refused (400); splitting the batch".to_string();
            every(EventStatus::WillRetry, message, &mut report);
            Next::Split {
                at: sent.events.len() / 2,
            }
        }
        Decision::Smaller => {
            let message = "request too large; halving the batch".to_string();
            every(EventStatus::WillRetry, message, &mut report);
            Next::Smaller
        }
        Decision::RetryAt { at_ms, message } => {
            resolution.retry = rows().collect();
            resolution.retry_at_ms = at_ms;
            resolution.unanswered_at = sent.unanswered.then_some(sent.server_now);
            every(EventStatus::WillRetry, message, &mut report);
            Next::Stop
        }
        Decision::Pause { reason, .. } => {
            every(EventStatus::WillRetry, reason, &mut report);
            Next::Stop
        }
    };
    RequestOutcome {
        resolution,
        report,
        next,
    }
}

/// Fills `resolution` and `report` from the server's per-event results (in the order sent).
fn per_event(
    sent: &SentRequest<'_>,
    results: Vec<EventResult>,
    resolution: &mut Resolution,
    report: &mut BatchOutcome,
) {
    for ((event, wire_time), result) in sent.events.iter().zip(sent.wire_times).zip(results) {
        let mut one = EventOutcome {
            event_id: event.event_id.clone(),
            event_name: event.event_name.clone(),
            status: EventStatus::Processed,
            error_message: None,
            warning_message: result.warning_message.clone(),
        };
        if result.processed {
            resolution.delivered.push(event.row);
            if result.warning_message.is_some() {
                resolution.warnings += 1;
                report.warnings += 1;
            }
            resolution.sent_late += u64::from(timing::is_late(*wire_time, sent.server_now));
            resolution.resent_after_dedup_window +=
                u64::from(timing::resent_after_dedup_window(event, sent.server_now));
        } else {
            let message = result
                .error_message
                .unwrap_or_else(|| "refused by the server".into());
            if timing::owed_a_retry(event, &message) {
                one.status = EventStatus::WillRetry;
                resolution.refused_future.push(event.row);
                report.will_retry = true;
            } else {
                one.status = EventStatus::Failed;
                resolution.dead.push((event.row, message.clone()));
            }
            one.error_message = Some(message);
        }
        report.results.push(one);
    }
    report.processed = resolution.delivered.len() as u32;
    report.failed = resolution.dead.len() as u32;
}

/// The same `status` and `message` for every event of `events` (and for the request).
fn the_same_for_every_event(
    report: &mut BatchOutcome,
    events: &[QueuedEvent],
    status: EventStatus,
    message: String,
) {
    report.will_retry = status == EventStatus::WillRetry;
    report.results = events
        .iter()
        .map(|event| EventOutcome {
            event_id: event.event_id.clone(),
            event_name: event.event_name.clone(),
            status,
            error_message: Some(message.clone()),
            warning_message: None,
        })
        .collect();
    report.message = Some(message);
}

#[cfg(test)]
#[path = "outcome_tests.rs"]
mod tests;
