//! How the rest of the client wakes the upload thread: a kick (something is due), a backoff
//! reset (network back, new token), flush requests with their deadlines, and shutdown.
//! A mutex and a condition variable: cheap to signal from `track()`, and the uploader sleeps
//! until the earliest of its own timers and a signal.

use std::sync::mpsc::Sender;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::core::model::FlushReport;

/// A caller waiting in `flush()`.
pub struct FlushWaiter {
    /// When the caller stops waiting.
    pub deadline: Instant,
    /// Delivery counters when the flush began, to report the difference.
    pub start: FlushReport,
    /// Where the report goes.
    pub reply: Sender<FlushReport>,
    /// Registration order (set by [`UploadSignal::flush`]).
    pub sequence: u64,
}

/// Pending signals for the uploader.
#[derive(Default)]
pub struct Signals {
    /// Something may be due: look now.
    pub kick: bool,
    /// Forget the backoff and any pause.
    pub reset_backoff: bool,
    /// Callers waiting in `flush()`.
    pub flushes: Vec<FlushWaiter>,
    /// Stop the thread.
    pub shutdown: bool,
    /// Flush waiters registered so far.
    pub registered: u64,
}

/// The uploader's doorbell.
#[derive(Default)]
pub struct UploadSignal {
    state: Mutex<Signals>,
    ring: Condvar,
}

impl UploadSignal {
    fn lock(&self) -> MutexGuard<'_, Signals> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the uploader to look for due events now.
    pub fn kick(&self) {
        self.lock().kick = true;
        self.ring.notify_one();
    }

    /// Asks the uploader to drop its backoff and pause, then look.
    pub fn reset_backoff(&self) {
        let mut state = self.lock();
        state.reset_backoff = true;
        state.kick = true;
        self.ring.notify_one();
    }

    /// Registers a flush waiter.
    pub fn flush(&self, mut waiter: FlushWaiter) {
        let mut state = self.lock();
        state.registered += 1;
        waiter.sequence = state.registered;
        state.flushes.push(waiter);
        state.kick = true;
        self.ring.notify_one();
    }

    /// Asks the uploader to stop.
    pub fn shutdown(&self) {
        self.lock().shutdown = true;
        self.ring.notify_one();
    }

    /// Sleeps until a signal or `until`, then takes the kick and reset flags (flush waiters
    /// stay registered until answered).
    pub fn wait(&self, until: Option<Instant>) -> (bool, bool, bool) {
        let mut state = self.lock();
        while !state.kick && !state.shutdown {
            match until {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    state = self
                        .ring
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                None => {
                    state = self
                        .ring
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner)
                }
            }
        }
        let taken = (state.kick, state.reset_backoff, state.shutdown);
        state.kick = false;
        state.reset_backoff = false;
        taken
    }

    /// Removes and returns the waiters for which `done` holds. `done` is also told whether a
    /// backoff reset is pending: the uploader has not taken it yet, so its backoff and pause no
    /// longer hold for a waiter that registered after the reset.
    pub fn take_flushes(
        &self,
        mut done: impl FnMut(&FlushWaiter, bool) -> bool,
    ) -> Vec<FlushWaiter> {
        let mut state = self.lock();
        let reset_pending = state.reset_backoff;
        let (finished, waiting) = std::mem::take(&mut state.flushes)
            .into_iter()
            .partition(|w| done(w, reset_pending));
        state.flushes = waiting;
        finished
    }

    /// How many flush waiters were registered so far.
    pub fn registered(&self) -> u64 {
        self.lock().registered
    }

    /// The earliest deadline among flush waiters.
    pub fn earliest_flush_deadline(&self) -> Option<Instant> {
        self.lock().flushes.iter().map(|w| w.deadline).min()
    }
}
