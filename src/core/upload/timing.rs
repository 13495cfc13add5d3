//! The times a request carries and what its answer says about them: each event's wire
//! `event_time` (see [`crate::core::server_time`]), and, once the server has answered, which
//! events were late, re-sent past the dedup window, or refused as in the future and owed one
//! more try. Pure functions of the events, the server's time and the results.

use std::borrow::Cow;

use crate::core::record::{flags, QueuedEvent};
use crate::core::server_time::{refused_as_future, wire_time, DEDUP_WINDOW_SECS, LATE_AFTER_SECS};
use crate::core::wire::WireEvent;

/// The event_time to send for `event` when the wall clock is `offset_secs` off the server's.
pub fn wire_time_of(event: &QueuedEvent, offset_secs: i64) -> i64 {
    let refused_before = event.flags & flags::REFUSED_FUTURE != 0;
    wire_time(
        event.event_time,
        event.server_time,
        refused_before,
        offset_secs,
    )
}

/// `body` carrying `time` as its event_time (unchanged when that is the recorded time).
pub fn with_event_time<'a>(body: Cow<'a, str>, event: &QueuedEvent, time: i64) -> Cow<'a, str> {
    if time == event.event_time {
        return body;
    }
    match serde_json::from_str::<WireEvent>(&body) {
        Ok(mut wire) => {
            wire.event_time = time;
            Cow::Owned(wire.to_json())
        }
        Err(_) => body,
    }
}

/// True when an event sent with `wire_time` at server time `now_secs` happened more than an
/// hour before: the API counts it as an offline conversion.
pub fn is_late(wire_time: i64, now_secs: i64) -> bool {
    now_secs.saturating_sub(wire_time) > LATE_AFTER_SECS
}

/// True when `event` is sent at server time `now_secs` more than the dedup window after a
/// request with it went unanswered: if that request did reach the API, this copy is not
/// removed as a duplicate.
pub fn resent_after_dedup_window(event: &QueuedEvent, now_secs: i64) -> bool {
    event
        .unanswered_since
        .is_some_and(|since| now_secs.saturating_sub(since) > DEDUP_WINDOW_SECS)
}

/// True when the server refused `event` with `message` as in the future and it has not had
/// its second try yet.
pub fn owed_a_retry(event: &QueuedEvent, message: &str) -> bool {
    event.flags & flags::REFUSED_FUTURE == 0 && refused_as_future(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_780_000_000;

    fn event(server_time: Option<i64>, flags: i64, unanswered_since: Option<i64>) -> QueuedEvent {
        let wire = WireEvent {
            event_name: "checkout".into(),
            event_time: T,
            event_id: "e1".into(),
            ..Default::default()
        };
        QueuedEvent {
            row: 1,
            event_id: "e1".into(),
            event_name: "checkout".into(),
            body: wire.to_json(),
            attempts: 0,
            flags,
            event_time: T,
            server_time,
            unanswered_since,
        }
    }

    #[test]
    fn the_wire_carries_the_server_time_and_the_buffer_keeps_its_own() {
        let skewed = event(Some(T - 7_200), 0, None);
        let time = wire_time_of(&skewed, 0);
        assert_eq!(time, T - 7_200);
        let body = with_event_time(Cow::Borrowed(&skewed.body), &skewed, time);
        assert!(body.contains(&format!("\"event_time\":{}", T - 7_200)));
        assert!(skewed.body.contains(&format!("\"event_time\":{T}")));
        let on_time = event(Some(T + 30), 0, None);
        let time = wire_time_of(&on_time, 0);
        assert!(matches!(
            with_event_time(Cow::Borrowed(&on_time.body), &on_time, time),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_future_refusal_is_retried_once_with_the_offset_of_now() {
        let fresh = event(Some(T), 0, None);
        let message = "Invalid event_timestamp parameter. Given timestamp is in the future.";
        assert!(owed_a_retry(&fresh, message));
        assert!(!owed_a_retry(
            &fresh,
            "Invalid event_timestamp parameter. Given timestamp is in the past."
        ));
        let retried = event(Some(T), flags::REFUSED_FUTURE, None);
        assert!(!owed_a_retry(&retried, message), "once only");
        assert_eq!(wire_time_of(&retried, -7_200), T - 7_200);
    }

    #[test]
    fn late_and_past_the_dedup_window() {
        assert!(!is_late(T, T + 3_600));
        assert!(is_late(T, T + 3_601));
        let unanswered = event(None, 0, Some(T));
        assert!(!resent_after_dedup_window(&unanswered, T + 48 * 3_600));
        assert!(resent_after_dedup_window(&unanswered, T + 48 * 3_600 + 1));
        assert!(!resent_after_dedup_window(
            &event(None, 0, None),
            T + 400 * 86_400
        ));
    }
}
