//! The upload thread: a plain loop that sleeps until the [`policy`] says to look (or a signal
//! comes), takes due events oldest first from the store worker, applies the privacy state of
//! the moment, POSTs them, tells the policy what the server said and does what it decides,
//! then answers the flushes that are done ([`flush`]).
//!
//! It owns the HTTP agent and talks to the store only through store-worker commands, which the
//! worker runs in the order sent. That order is what lets the thread pipeline: while one
//! request is in flight the worker already reads the next batch (the rows after it), and an
//! outcome is stored while the next request is sent. Remote settings are fetched here too
//! (`settings_fetcher`), at start and on a later wake once their TTL has run out.
//! Flushes are answered only after the
//! outcomes of their events are stored. The thread checks shutdown and consent before every
//! request, so neither waits for a long pass to end, and the erase count
//! ([`Shared::erase_epoch`]): events it holds in memory that were erased since they were read
//! are dropped unsent.
//!
//! The thread only waits, takes, sends and tells: this file is the loop (wait, then a pass);
//! `sending` takes batches and sends them; `telling` hands outcomes to the store, tells the
//! app's listener and answers flushes. What an answer means is decided by pure functions:
//! [`policy`] for the request, [`outcome`] for each event, [`flush`] for each waiting flush.

pub mod backoff;
pub mod exchange;
pub mod flush;
pub mod outcome;
pub mod policy;
#[cfg(feature = "rust-transport")]
pub mod rust_transport;
pub mod settings_fetch;
mod settings_fetcher;
pub mod timing;
pub mod transport;

mod sending;
mod telling;

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use crate::core::error::StoreFailure;
use crate::core::model::SettingsInForce;
use crate::core::shared::Shared;
use crate::core::signal::{Listening, Wake};
use crate::core::sync::lock;
use crate::core::upload::exchange::Exchange;
use crate::core::upload::policy::UploadPolicy;
use crate::core::upload::settings_fetcher::SettingsFetcher;
use crate::core::upload::transport::HttpTransport;
use crate::core::worker::{Batch, Command, Resolved};

/// Starts the upload thread, sending through `transport`; `done` is dropped when it ends.
pub fn spawn(
    shared: Arc<Shared>,
    store: Sender<Command>,
    done: Sender<()>,
    transport: Arc<dyn HttpTransport>,
) -> std::io::Result<()> {
    let settings = &shared.settings;
    let fetcher = SettingsFetcher::new(&shared, transport.clone());
    let transport = Exchange::new(
        transport,
        settings.events_url.clone(),
        u64::try_from(settings.request_timeout.as_millis()).unwrap_or(u64::MAX),
        settings.sends_through_relay || settings.config.endpoint_accepts_gzip,
    );
    std::thread::Builder::new()
        .name("app-conversions-upload".into())
        .spawn(move || {
            Uploader::new(shared, store, transport, fetcher).run();
            drop(done);
        })
        .map(drop)
}

/// A store call whose answer never came (the worker stopped).
const NO_ANSWER: StoreFailure = StoreFailure::NoAnswer("no answer from the store");

/// A batch asked of the store worker, answered later.
struct BatchRequest {
    /// Rows after this one were asked for (0: from the oldest).
    after_row: i64,
    answer: Receiver<Result<Batch, StoreFailure>>,
}

/// What one pass learned, for the flush answers at its end.
#[derive(Default)]
struct Pass {
    /// A store call failed.
    storage_error: Option<StoreFailure>,
    /// Every due row up to here was handed out in this pass (valid once its outcomes are stored).
    drained_candidate: Option<i64>,
}

struct Uploader {
    shared: Arc<Shared>,
    store: Sender<Command>,
    transport: Exchange,
    policy: UploadPolicy,
    /// Every row up to this id was sent with its outcome stored, or has left the queue.
    drained_through: i64,
    /// Outcomes sent to the store whose replies are not read yet, oldest first.
    storing: VecDeque<Receiver<Result<Resolved, StoreFailure>>>,
    /// The highest row id seen in a store answer.
    known_row: i64,
    /// A stored outcome failed since the pass began (read before the flushes are answered).
    storing_failed: Option<StoreFailure>,
    /// Events refused as in the future were given the server's time: take from the oldest
    /// again, so they get their second try in this pass.
    retimed: bool,
    /// The server offset last handed to the store (milliseconds).
    saved_offset_ms: Option<i64>,
    /// Fetches remote settings (only when the endpoint is a relay).
    settings: Option<SettingsFetcher>,
}

impl Uploader {
    fn new(
        shared: Arc<Shared>,
        store: Sender<Command>,
        transport: Exchange,
        settings: Option<SettingsFetcher>,
    ) -> Uploader {
        let policy = UploadPolicy::new(shared.settings.policy.clone());
        Uploader {
            shared,
            store,
            transport,
            policy,
            drained_through: 0,
            storing: VecDeque::new(),
            known_row: 0,
            storing_failed: None,
            retimed: false,
            saved_offset_ms: None,
            settings,
        }
    }

    /// Monotonic milliseconds: every wait of the uploader is kept on this clock.
    fn now(&self) -> i64 {
        self.shared.clock.monotonic_ms()
    }

    fn run(mut self) {
        self.restore();
        if let Some(mut fetcher) = self.settings.take() {
            let in_force = fetcher.restore(&self.shared, &self.store);
            self.retune(&in_force);
            self.settings = Some(fetcher);
            self.refresh_settings();
        }
        loop {
            let now = self.now();
            self.publish(now);
            let wake = self.next_wake();
            let listening = Listening {
                expects_events: self.policy.queued() > 0,
                known_row: self.known_row,
            };
            let signals = self
                .shared
                .signal
                .wait(self.shared.clock.as_ref(), wake, listening);
            self.shared.upload_wakeups.fetch_add(1, Ordering::Relaxed);
            if signals.shutdown {
                self.answer_flushes(&Pass::default(), true);
                return;
            }
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.pass(signals);
            }));
            if self.shared.upload_abandoned() {
                return;
            }
            if result.is_err() {
                self.storing.clear();
                self.shared.note_panic("upload");
            }
        }
    }

    /// Reads the stored backoff deadline and the queue size (the store may be failing now; the
    /// first batch read then brings the deadline).
    fn restore(&mut self) {
        let (reply, answer) = channel();
        if self.store.send(Command::Snapshot(reply)).is_ok() {
            if let Ok(Ok(snapshot)) = answer.recv() {
                let now = self.now();
                self.policy
                    .restore(snapshot.not_before, snapshot.queued, now);
            }
        }
    }

    fn next_wake(&self) -> Option<i64> {
        let flush_deadline = self.shared.signal.earliest_flush_deadline();
        // Turned off by remote settings, waiting events cannot go: the only wake is the next
        // settings check, which may turn collection back on.
        let sending = if self.shared.remote.is_off() {
            self.settings
                .as_ref()
                .map(|fetcher| fetcher.next_check_ms(&self.shared))
        } else {
            self.policy.next_wake()
        };
        [sending, flush_deadline].into_iter().flatten().min()
    }

    fn pass(&mut self, signals: Wake) {
        let now = self.now();
        if signals.reset_backoff {
            self.policy.on_reset();
            let _ = self.store.send(Command::MakeAllDue);
        }
        if signals.committed {
            self.known_row = self.known_row.max(signals.committed_through);
            self.policy.on_committed(now);
        }
        let mut pass = Pass::default();
        if signals.storage_failed {
            // The worker's retry failed: flushes waiting learn it (unless it recovered since).
            pass.storage_error = lock(&self.shared.storage_error)
                .clone()
                .map(StoreFailure::Storage);
        }
        // Remote settings that turned collection back on send what waited at once.
        let back_on = self.refresh_settings();
        // A commit alone only schedules the interval: waiting events go out together.
        let due = signals.kick || signals.reset_backoff || back_on || self.policy.due(now);
        if due {
            self.deliver_due(&mut pass);
        }
        if self.shared.upload_abandoned() {
            return;
        }
        self.finish_storing(&mut pass);
        if let Some(row) = pass
            .drained_candidate
            .filter(|_| pass.storage_error.is_none())
        {
            self.drained_through = self.drained_through.max(row);
        }
        self.policy.on_pass_end(self.now());
        self.publish(self.now());
        self.answer_flushes(&pass, false);
    }

    /// Fetches remote settings when a check is due (never a wake of its own) and follows what
    /// they put in force; true when they turned collection back on.
    fn refresh_settings(&mut self) -> bool {
        let was_off = self.shared.remote.is_off();
        let Some(fetcher) = self.settings.as_mut() else {
            return false;
        };
        if let Some(in_force) = fetcher.refresh_if_due(&self.shared, &self.store) {
            self.retune(&in_force);
        }
        was_off && !self.shared.remote.is_off()
    }

    /// Follows the batch size and flush interval in force.
    fn retune(&mut self, in_force: &SettingsInForce) {
        let interval_ms = i64::try_from(in_force.flush_interval_secs.max(1))
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        self.policy.retune(in_force.max_batch as usize, interval_ms);
    }

    /// True when a request may go out now: collection enabled (by the user and by remote
    /// settings), not stopping, no backoff.
    fn may_send(&self, now: i64) -> bool {
        self.shared.context().privacy.collection_enabled
            && !self.shared.remote.is_off()
            && !self.shared.signal.shutting_down()
            && self.policy.may_send(now)
    }

    /// A store call of this pass failed: flushes waiting are answered with it. (The store
    /// worker, which reported it, retries the storage on its own timer.)
    fn storage_failed(&mut self, pass: &mut Pass, error: StoreFailure) {
        pass.storage_error = Some(error);
    }
}
