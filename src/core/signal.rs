//! How the rest of the client wakes the upload thread: a kick (something is due), a backoff
//! reset (network back, new token), events committed into a queue the uploader thought empty,
//! a storage retry that failed, flushes (registered by the store worker once it committed what
//! came before them), and shutdown. A doorbell: it times nothing but the uploader's own sleep;
//! the store worker keeps its own deadlines.
//!
//! A mutex and a condition variable: cheap to signal from `track()`, and the uploader sleeps
//! until the earliest of its own deadlines (read on the core's [`Clock`]) and a signal. Each
//! signal rings only when the uploader needs it, so an idle SDK does not wake at all. Tests
//! can wait until the uploader sleeps with nothing left to do ([`UploadSignal::settle`]).

use std::sync::mpsc::Sender;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::core::sync::lock;
use std::time::{Duration, Instant};

use crate::core::clock::{Clock, Ring};
use crate::core::error::StoreFailure;
use crate::core::model::FlushReport;

/// A caller waiting in `flush()`.
pub struct FlushWaiter {
    /// Monotonic clock time (milliseconds) when the caller stops waiting.
    pub deadline_ms: i64,
    /// The highest row committed when the flush began: its events are those up to here.
    pub watermark: i64,
    /// Delivery counters when the flush began, to report the difference.
    pub start: FlushReport,
    /// Where the answer goes: the report, or the storage failure that stopped it.
    pub reply: Sender<Result<FlushReport, StoreFailure>>,
}

/// What woke the uploader.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Wake {
    /// Something may be due: look now (a flush, an install or open, a full batch, background).
    pub kick: bool,
    /// Forget the backoff and any pause.
    pub reset_backoff: bool,
    /// Events were committed that the uploader has not seen (rows past what it knew).
    pub committed: bool,
    /// With `committed`: the highest row committed, which the uploader now knows of.
    pub committed_through: i64,
    /// The store worker's retry of failing storage failed: flushes waiting are answered.
    pub storage_failed: bool,
    /// Stop the thread.
    pub shutdown: bool,
}

/// Where the uploader is while it sleeps.
#[derive(Debug, Clone, Copy)]
struct Sleep {
    /// Monotonic clock time it last looked at.
    seen_ms: i64,
    /// When it wakes by itself.
    until_ms: Option<i64>,
}

#[derive(Default)]
struct Signals {
    wake: Wake,
    flushes: Vec<FlushWaiter>,
    /// What the uploader knew when it last went to sleep.
    listening: Listening,
    /// The highest row committed, as the store worker last said.
    committed_row: i64,
    sleeping: Option<Sleep>,
}

impl Signals {
    /// Commits the uploader has not seen yet, into a queue it thought empty.
    fn unseen_commit(&self) -> bool {
        !self.listening.expects_events && self.committed_row > self.listening.known_row
    }

    fn pending(&self) -> bool {
        self.wake != Wake::default() || self.unseen_commit()
    }
}

/// What the uploader knows as it goes to sleep, so commits ring only when it needs them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Listening {
    /// It knows events wait (a look is scheduled): commits need not ring.
    pub expects_events: bool,
    /// The highest row id it has seen in a store answer: commits up to it are known.
    pub known_row: i64,
}

/// The uploader's doorbell.
#[derive(Default)]
pub struct UploadSignal {
    state: Mutex<Signals>,
    ring: Condvar,
    idle: Condvar,
}

impl Ring for UploadSignal {
    fn ring(&self) {
        let _state = self.lock();
        self.ring.notify_all();
    }
}

impl UploadSignal {
    fn lock(&self) -> MutexGuard<'_, Signals> {
        lock(&self.state)
    }

    fn set(&self, change: impl FnOnce(&mut Signals)) {
        let mut state = self.lock();
        change(&mut state);
        self.ring.notify_all();
    }

    /// Asks the uploader to look for due events now.
    pub fn kick(&self) {
        self.set(|s| s.wake.kick = true);
    }

    /// Asks the uploader to drop its backoff and pause, then look.
    pub fn reset_backoff(&self) {
        self.set(|s| s.wake.reset_backoff = true);
    }

    /// The store committed rows up to `row`: wakes the uploader only if it does not know
    /// events wait and has not seen that row.
    pub fn committed(&self, row: i64) {
        let mut state = self.lock();
        let was_pending = state.unseen_commit();
        state.committed_row = state.committed_row.max(row);
        if !was_pending && state.unseen_commit() {
            self.ring.notify_all();
        }
    }

    /// The store worker tried failing storage again and it still fails: waiting flushes are
    /// answered with the failure.
    pub fn storage_failed(&self) {
        self.set(|s| s.wake.storage_failed = true);
    }

    /// Registers a flush waiter and wakes the uploader for it (the store worker calls it once
    /// everything tracked before the flush is committed).
    pub fn flush(&self, waiter: FlushWaiter) {
        self.set(|s| {
            // Everything up to the watermark is committed: the uploader learns it here.
            s.committed_row = s.committed_row.max(waiter.watermark);
            s.flushes.push(waiter);
            s.wake.kick = true;
        });
    }

    /// Asks the uploader to stop.
    pub fn shutdown(&self) {
        self.set(|s| s.wake.shutdown = true);
    }

    /// True once shutdown was asked for (checked between requests of a long pass).
    pub fn shutting_down(&self) -> bool {
        self.lock().wake.shutdown
    }

    /// Sleeps until a signal or until `until_ms` on `clock`'s monotonic clock, then takes the signals. Flush
    /// waiters stay registered until answered. `listening` tells later commits whether they
    /// need to ring.
    pub fn wait(&self, clock: &dyn Clock, until_ms: Option<i64>, listening: Listening) -> Wake {
        let mut state = self.lock();
        state.listening = listening;
        loop {
            if state.pending() {
                break;
            }
            let now = clock.monotonic_ms();
            if until_ms.is_some_and(|until| now >= until) {
                break;
            }
            state.sleeping = Some(Sleep {
                seen_ms: now,
                until_ms,
            });
            self.idle.notify_all();
            state = match until_ms.and_then(|until| clock.sleep_for(until)) {
                Some(wait) => {
                    self.ring
                        .wait_timeout(state, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .ring
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
        state.sleeping = None;
        let mut wake = std::mem::take(&mut state.wake);
        if state.unseen_commit() {
            wake.committed = true;
            wake.committed_through = state.committed_row;
        }
        wake
    }

    /// True when a backoff reset waits for the uploader's next pass.
    pub fn reset_pending(&self) -> bool {
        self.lock().wake.reset_backoff
    }

    /// Removes and returns the waiters for which `done` holds.
    pub fn take_flushes(&self, mut done: impl FnMut(&FlushWaiter) -> bool) -> Vec<FlushWaiter> {
        let mut state = self.lock();
        let (finished, waiting) = std::mem::take(&mut state.flushes)
            .into_iter()
            .partition(|w| done(w));
        state.flushes = waiting;
        finished
    }

    /// The earliest deadline among flush waiters.
    pub fn earliest_flush_deadline(&self) -> Option<i64> {
        self.lock().flushes.iter().map(|w| w.deadline_ms).min()
    }

    /// Waits (at most `timeout`, real time) until the uploader sleeps with no signal pending
    /// and nothing due at the clock's current time. For tests driving a manual clock.
    pub fn settle(&self, clock: &dyn Clock, timeout: Duration) -> bool {
        let give_up = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            let now = clock.monotonic_ms();
            let asleep = state
                .sleeping
                .is_some_and(|s| s.seen_ms >= now && s.until_ms.map_or(true, |u| u > now));
            if asleep && !state.pending() {
                return true;
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .idle
                .wait_timeout(state, left.min(Duration::from_millis(50)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
