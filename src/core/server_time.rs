//! The server's time, learned from the `Date` header of every answer (relay and API), and
//! what it changes: the `event_time` put on the wire and the age at which events expire.
//!
//! Phones run minutes to hours off, and users set their clocks by hand. The SDK keeps the
//! server's time as an anchor (the server's reading and the monotonic clock's at the same
//! moment), so the offset between the wall clock and the server stays right when the wall
//! clock jumps between two answers. Before any answer, the anchor is the wall clock as the
//! process found it (only jumps since then are corrected); across restarts the last offset
//! is kept in the buffer. The event_time a `track()` records is never changed: each event
//! keeps the server time estimated when it was stored, and the wire carries it when it
//! differs from event_time by more than [`CORRECTION_THRESHOLD_SECS`]. Decisions are the
//! pure functions below; [`ServerTime`] only holds the anchor.

use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use crate::core::clock::Clock;
use crate::core::sync::lock;

/// Offsets up to this size are clock noise and request latency: event times are sent as
/// recorded.
pub const CORRECTION_THRESHOLD_SECS: i64 = 60;

/// An event sent more than this long after it happened (by server time) counts as late:
/// the API reports it as an offline conversion.
pub const LATE_AFTER_SECS: i64 = 3_600;

/// The API removes duplicates by event_id within this window only.
pub const DEDUP_WINDOW_SECS: i64 = 48 * 3_600;

/// `server - wall` in milliseconds from a `Date` header read at wall-clock `wall_ms`.
pub fn offset_from_date(date: &str, wall_ms: i64) -> Option<i64> {
    let at = httpdate::parse_http_date(date.trim()).ok()?;
    let server_ms = i64::try_from(at.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()?;
    Some(server_ms.saturating_sub(wall_ms))
}

/// The part of `offset_secs` that is corrected: none up to the threshold.
pub fn applied(offset_secs: i64) -> i64 {
    if offset_secs.abs() > CORRECTION_THRESHOLD_SECS {
        offset_secs
    } else {
        0
    }
}

/// The `event_time` to put on the wire for an event recorded at `event_time` whose server
/// time was estimated at `server_time` when stored (`None`: stored by an SDK that did not
/// estimate it). An event the server refused as in the future (`refused_future`) is sent
/// once more with the offset of now, `offset_now_secs`, learned from that refusal.
pub fn wire_time(
    event_time: i64,
    server_time: Option<i64>,
    refused_future: bool,
    offset_now_secs: i64,
) -> i64 {
    let estimate = if refused_future {
        event_time.saturating_add(offset_now_secs)
    } else {
        server_time.unwrap_or(event_time)
    };
    event_time.saturating_add(applied(estimate.saturating_sub(event_time)))
}

/// True when a per-event error says the event_time was in the future of the server.
pub fn refused_as_future(message: &str) -> bool {
    message.to_ascii_lowercase().contains("in the future")
}

/// The server's time as one client knows it.
pub struct ServerTime {
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    /// The server's reading (Unix milliseconds) at monotonic `mono_ms`.
    server_ms: i64,
    mono_ms: i64,
    /// An answer of this process carried the server's time.
    heard: bool,
    /// An earlier process's offset was read from the buffer.
    restored: bool,
}

impl ServerTime {
    /// Knows nothing yet: the wall clock as `clock` reads it now stands in for the server's.
    pub fn new(clock: &dyn Clock) -> ServerTime {
        ServerTime {
            state: Mutex::new(State {
                server_ms: clock.now_ms(),
                mono_ms: clock.monotonic_ms(),
                heard: false,
                restored: false,
            }),
        }
    }

    /// `server - wall` now, milliseconds: the last offset learned, less any jump of the wall
    /// clock since.
    pub fn offset_ms(&self, clock: &dyn Clock) -> i64 {
        let state = *lock(&self.state);
        let elapsed = clock.monotonic_ms().saturating_sub(state.mono_ms);
        state
            .server_ms
            .saturating_add(elapsed)
            .saturating_sub(clock.now_ms())
    }

    /// [`ServerTime::offset_ms`] in whole seconds.
    pub fn offset_secs(&self, clock: &dyn Clock) -> i64 {
        self.offset_ms(clock).div_euclid(1000)
    }

    /// Learns the server's time from an answer's `Date` header; returns the new offset.
    pub fn learn(&self, date: &str, clock: &dyn Clock) -> Option<i64> {
        let wall = clock.now_ms();
        let offset = offset_from_date(date, wall)?;
        *lock(&self.state) = State {
            server_ms: wall.saturating_add(offset),
            mono_ms: clock.monotonic_ms(),
            heard: true,
            restored: false,
        };
        Some(offset)
    }

    /// Takes the offset an earlier process stored, unless this one already heard the server.
    pub fn restore(&self, offset_ms: i64, clock: &dyn Clock) {
        let mut state = lock(&self.state);
        if !state.heard {
            *state = State {
                server_ms: clock.now_ms().saturating_add(offset_ms),
                mono_ms: clock.monotonic_ms(),
                heard: false,
                restored: true,
            };
        }
    }

    /// The server's time now (Unix seconds) by which events expire, or `None` while it is
    /// unsure: an offset read from the buffer, with no answer heard in this process yet,
    /// cannot tell a clock changed while the app was closed from time that passed, so
    /// nothing expires before the server has answered once.
    pub fn expiry_now_secs(&self, clock: &dyn Clock) -> Option<i64> {
        let state = *lock(&self.state);
        if state.restored && !state.heard {
            return None;
        }
        Some(
            clock
                .now_secs()
                .saturating_add(applied(self.offset_secs(clock))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::ManualClock;
    use std::time::Duration;

    const NOW_MS: i64 = 1_780_000_000_000;
    const HOUR: i64 = 3_600;

    fn date_at(ms: i64) -> String {
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms as u64))
    }

    #[test]
    fn the_offset_is_read_from_a_date_header() {
        assert_eq!(offset_from_date(&date_at(NOW_MS), NOW_MS), Some(0));
        assert_eq!(
            offset_from_date(&date_at(NOW_MS - 7_200_000), NOW_MS),
            Some(-7_200_000)
        );
        assert_eq!(offset_from_date("yesterday", NOW_MS), None);
    }

    #[test]
    fn wire_times_are_corrected_past_the_threshold_only() {
        let t = 1_780_000_000;
        // (server_time, refused_future, offset now, wire time)
        let table = [
            (Some(t), false, 0, t),
            (Some(t + 60), false, 0, t),
            (Some(t + 61), false, 0, t + 61),
            (Some(t - 2 * HOUR), false, 0, t - 2 * HOUR),
            (None, false, -2 * HOUR, t),
            (Some(t), true, -2 * HOUR, t - 2 * HOUR),
            (Some(t), true, -30, t),
            (Some(i64::MAX), false, 0, i64::MAX),
        ];
        for (server_time, refused, offset, wire) in table {
            assert_eq!(
                wire_time(t, server_time, refused, offset),
                wire,
                "{server_time:?} {refused} {offset}"
            );
        }
    }

    #[test]
    fn a_future_refusal_is_recognised() {
        assert!(refused_as_future(
            "Invalid event_timestamp parameter. Given timestamp is in the future. Current timestamp: 1, Given event_timestamp: 2"
        ));
        assert!(!refused_as_future(
            "Invalid event_timestamp parameter. Given timestamp is in the past."
        ));
    }

    #[test]
    fn the_offset_follows_jumps_of_the_wall_clock_between_answers() {
        let clock = ManualClock::new(NOW_MS);
        let server = ServerTime::new(&clock);
        assert_eq!(server.offset_ms(&clock), 0, "nothing known: the wall clock");
        clock.set(NOW_MS + 365 * 86_400_000);
        assert_eq!(
            server.offset_ms(&clock),
            -365 * 86_400_000,
            "a jump is seen"
        );
        assert_eq!(
            server.learn(&date_at(NOW_MS + 5_000), &clock),
            Some(5_000 - 365 * 86_400_000)
        );
        clock.advance(Duration::from_secs(10));
        clock.set(clock.now_ms() + 365 * 86_400_000);
        assert_eq!(server.offset_ms(&clock), 5_000 - 730 * 86_400_000);
        assert_eq!(
            server.expiry_now_secs(&clock),
            Some((NOW_MS + 15_000) / 1000),
            "expiry reads the server's time"
        );
    }

    #[test]
    fn a_restored_offset_waits_for_an_answer_before_anything_expires() {
        let clock = ManualClock::new(NOW_MS);
        let server = ServerTime::new(&clock);
        assert_eq!(server.expiry_now_secs(&clock), Some(NOW_MS / 1000));
        server.restore(-7_200_000, &clock);
        assert_eq!(server.offset_ms(&clock), -7_200_000);
        assert_eq!(server.expiry_now_secs(&clock), None);
        server.learn(&date_at(NOW_MS), &clock);
        server.restore(-7_200_000, &clock);
        assert_eq!(server.offset_ms(&clock), 0, "an answer outranks the buffer");
        assert_eq!(server.expiry_now_secs(&clock), Some(NOW_MS / 1000));
    }
}
