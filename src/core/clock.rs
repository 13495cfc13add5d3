//! The two clocks the core reads, in milliseconds.
//!
//! The wall clock (Unix time) is what a phone shows, and users, time zones and network time
//! set it: it decides only `event_time`, the age of events (`max_event_age`) and what is
//! written to the buffer. Every wait inside a process (backoff and `Retry-After`, the flush
//! interval, flush deadlines, the tracking-prompt wait, the background-for-open threshold)
//! runs on the monotonic clock, which never jumps. Its readings start at the wall clock's
//! reading when the process first read it, so a deadline kept on it can be stored and
//! compared after a restart (clamped, see the upload policy's `restore`).
//!
//! Apps get [`SystemClock`]. Tests get [`ManualClock`], which moves only when told, and whose
//! wall clock can jump without the monotonic one: a simulated week of a phone's life then
//! runs in seconds and the same way every time. Threads never sleep on the clock directly:
//! they ask [`Clock::sleep_for`] how long a real sleep may last, and a manual clock rings
//! every registered [`Ring`] when it moves, so sleepers look again.

use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use once_cell::sync::Lazy;

use crate::core::sync::lock;

/// Something a sleeping thread waits on, rung when a manual clock moves.
pub trait Ring: Send + Sync {
    /// Wakes the sleeper so it reads the clock again.
    fn ring(&self);
}

/// Where the core reads the time.
pub trait Clock: Send + Sync {
    /// The wall clock: milliseconds since the Unix epoch, as the device shows them.
    fn now_ms(&self) -> i64;

    /// The monotonic clock, in milliseconds: never jumps, and reads the wall clock's time at
    /// the moment this process first read it.
    fn monotonic_ms(&self) -> i64;

    /// How long a thread may sleep in real time to wake by `deadline_ms` (monotonic); `None`
    /// when only a signal (or a manual clock moving) can bring the deadline.
    fn sleep_for(&self, deadline_ms: i64) -> Option<Duration>;

    /// Registers a sleeper to ring whenever this clock moves by itself being told to.
    fn on_advance(&self, _ring: Weak<dyn Ring>) {}

    /// Seconds since the Unix epoch (wall clock).
    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The wall-clock time, Unix milliseconds, at which the monotonic `deadline_ms` comes if
    /// the wall clock does not jump before then (for diagnostics).
    fn wall_time_of(&self, deadline_ms: i64) -> i64 {
        let left = deadline_ms.saturating_sub(self.monotonic_ms());
        self.now_ms().saturating_add(left)
    }
}

/// The wall clock now, Unix milliseconds (0 before 1970).
fn system_wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The process's monotonic origin: an instant and the wall clock's reading at it.
static ORIGIN: Lazy<(Instant, i64)> = Lazy::new(|| (Instant::now(), system_wall_ms()));

/// The device's clocks: `SystemTime` for the wall clock, `Instant` for the monotonic one.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        system_wall_ms()
    }

    fn monotonic_ms(&self) -> i64 {
        let (at, wall) = *ORIGIN;
        let elapsed = i64::try_from(at.elapsed().as_millis()).unwrap_or(i64::MAX);
        wall.saturating_add(elapsed)
    }

    fn sleep_for(&self, deadline_ms: i64) -> Option<Duration> {
        let left = deadline_ms.saturating_sub(self.monotonic_ms()).max(0);
        Some(Duration::from_millis(left as u64))
    }
}

/// A clock that moves only when told. [`ManualClock::advance`] moves both clocks, as time
/// passing does; [`ManualClock::set`] moves the wall clock alone, as a user setting the time
/// does. For tests: sleepers registered with it wake whenever it moves.
pub struct ManualClock {
    /// (wall, monotonic) milliseconds.
    now: Mutex<(i64, i64)>,
    sleepers: Mutex<Vec<Weak<dyn Ring>>>,
}

impl ManualClock {
    /// A clock whose wall and monotonic clocks both read `start_ms` (Unix milliseconds).
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock {
            now: Mutex::new((start_ms, start_ms)),
            sleepers: Mutex::new(Vec::new()),
        }
    }

    /// Moves both clocks forward by `by` and wakes every sleeper.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        {
            let mut now = lock(&self.now);
            now.0 = now.0.saturating_add(by);
            now.1 = now.1.saturating_add(by);
        }
        self.ring_all();
    }

    /// Sets the wall clock to `at_ms` (it may move backwards, as a device clock can) while
    /// the monotonic clock stays, and wakes every sleeper.
    pub fn set(&self, at_ms: i64) {
        lock(&self.now).0 = at_ms;
        self.ring_all();
    }

    fn ring_all(&self) {
        let sleepers: Vec<_> = {
            let mut list = lock(&self.sleepers);
            list.retain(|s| s.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        for sleeper in sleepers {
            sleeper.ring();
        }
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        lock(&self.now).0
    }

    fn monotonic_ms(&self) -> i64 {
        lock(&self.now).1
    }

    fn sleep_for(&self, deadline_ms: i64) -> Option<Duration> {
        (deadline_ms <= self.monotonic_ms()).then_some(Duration::ZERO)
    }

    fn on_advance(&self, ring: Weak<dyn Ring>) {
        lock(&self.sleepers).push(ring);
    }
}

/// Milliseconds in `d`, saturating: how a caller's timeout becomes a monotonic deadline.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    struct Counter(AtomicU32);
    impl Ring for Counter {
        fn ring(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_manual_clock_moves_only_when_told_and_rings_its_sleepers() {
        let clock = ManualClock::new(1_000);
        let counter = Arc::new(Counter(AtomicU32::new(0)));
        let weak: Weak<dyn Ring> = Arc::downgrade(&counter) as Weak<dyn Ring>;
        clock.on_advance(weak);
        assert_eq!(clock.now_ms(), 1_000);
        assert_eq!(clock.sleep_for(2_000), None, "only advancing brings it");
        clock.advance(Duration::from_secs(1));
        assert_eq!((clock.now_ms(), clock.now_secs()), (2_000, 2));
        assert_eq!(clock.sleep_for(2_000), Some(Duration::ZERO));
        clock.set(500);
        assert_eq!(counter.0.load(Ordering::SeqCst), 2);
        assert_eq!(
            (clock.now_ms(), clock.monotonic_ms()),
            (500, 2_000),
            "setting the wall clock leaves the monotonic one"
        );
        assert_eq!(clock.sleep_for(2_000), Some(Duration::ZERO));
        assert_eq!(clock.wall_time_of(3_000), 1_500);
    }

    #[test]
    fn the_system_clock_sleeps_until_the_deadline() {
        let clock = SystemClock;
        assert!(clock.now_ms() > 1_600_000_000_000);
        let now = clock.monotonic_ms();
        assert!(
            (now - clock.now_ms()).abs() < 60_000,
            "starts at the wall clock"
        );
        assert_eq!(clock.sleep_for(now - 5), Some(Duration::ZERO));
        let wait = clock.sleep_for(now + 60_000).unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(59));
    }
}
