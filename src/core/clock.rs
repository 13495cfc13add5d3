//! The one clock the core reads: event times, the install window, the background-for-open
//! threshold, retry deadlines, the flush interval, flush deadlines and event expiry all come
//! from a [`Clock`], in Unix milliseconds.
//!
//! Apps get [`SystemClock`]. Tests get [`ManualClock`], which moves only when told: a simulated
//! week of a phone's life (offline hours, a server down for six hours, events expiring after
//! seven days) then runs in seconds and the same way every time. Threads never sleep on the
//! clock directly: they ask [`Clock::sleep_for`] how long a real sleep may last, and a manual
//! clock rings every registered [`Ring`] when it moves, so sleepers look again.

use std::sync::{Mutex, Weak};

use crate::core::sync::lock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Something a sleeping thread waits on, rung when a manual clock moves.
pub trait Ring: Send + Sync {
    /// Wakes the sleeper so it reads the clock again.
    fn ring(&self);
}

/// Where the core reads the time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;

    /// How long a thread may sleep in real time to wake by `deadline_ms`; `None` when only a
    /// signal (or a manual clock moving) can bring the deadline.
    fn sleep_for(&self, deadline_ms: i64) -> Option<Duration>;

    /// Registers a sleeper to ring whenever this clock moves by itself being told to.
    fn on_advance(&self, _ring: Weak<dyn Ring>) {}

    /// Seconds since the Unix epoch.
    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// The device's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn sleep_for(&self, deadline_ms: i64) -> Option<Duration> {
        let left = deadline_ms.saturating_sub(self.now_ms()).max(0);
        Some(Duration::from_millis(left as u64))
    }
}

/// A clock that moves only when [`ManualClock::advance`] or [`ManualClock::set`] is called.
/// For tests: sleepers registered with it wake whenever it moves.
pub struct ManualClock {
    now_ms: Mutex<i64>,
    sleepers: Mutex<Vec<Weak<dyn Ring>>>,
}

impl ManualClock {
    /// A clock reading `start_ms` (Unix milliseconds).
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock {
            now_ms: Mutex::new(start_ms),
            sleepers: Mutex::new(Vec::new()),
        }
    }

    /// Moves the clock forward by `by` and wakes every sleeper.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        {
            let mut now = lock(&self.now_ms);
            *now = now.saturating_add(by);
        }
        self.ring_all();
    }

    /// Sets the clock to `at_ms` (it may move backwards, as a device clock can) and wakes
    /// every sleeper.
    pub fn set(&self, at_ms: i64) {
        *lock(&self.now_ms) = at_ms;
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
        *lock(&self.now_ms)
    }

    fn sleep_for(&self, deadline_ms: i64) -> Option<Duration> {
        (deadline_ms <= self.now_ms()).then_some(Duration::ZERO)
    }

    fn on_advance(&self, ring: Weak<dyn Ring>) {
        lock(&self.sleepers).push(ring);
    }
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
    }

    #[test]
    fn the_system_clock_sleeps_until_the_deadline() {
        let clock = SystemClock;
        let now = clock.now_ms();
        assert!(now > 1_600_000_000_000);
        assert_eq!(clock.sleep_for(now - 5), Some(Duration::ZERO));
        let wait = clock.sleep_for(now + 60_000).unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(59));
    }
}
