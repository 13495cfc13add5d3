//! The upload thread: a plain loop that sleeps until the [`policy`] says to look (or a signal
//! comes), takes due events oldest first from the store worker, applies the privacy state of
//! the moment, POSTs them, tells the policy what the server said and does what it decides,
//! then answers the flushes that are done ([`flush`]).
//!
//! It owns the HTTP agent and talks to the store only through store-worker commands, which the
//! worker runs in the order sent. That order is what lets the thread pipeline: while one
//! request is in flight the worker already reads the next batch (the rows after it), and an
//! outcome is stored while the next request is sent. Remote settings are fetched here too
//! (`remote_settings::fetcher`), at start and on a later wake once their TTL has run out. Flushes are answered only after the
//! outcomes of their events are stored. The thread checks shutdown and consent before every
//! request, so neither waits for a long pass to end, and the erase count
//! ([`Shared::erase_epoch`]): events it holds in memory that were erased since they were read
//! are dropped unsent.

pub mod backoff;
pub mod exchange;
pub mod flush;
pub mod policy;
#[cfg(feature = "rust-transport")]
pub mod rust_transport;
pub mod timing;
pub mod transport;

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use crate::core::model::{BatchOutcome, EventOutcome, EventStatus, FlushReport, LogLevel};
use crate::core::privacy::{for_send, meets_identity_rule};
use crate::core::remote_settings::fetcher::SettingsFetcher;
use crate::core::remote_settings::in_force::SettingsInForce;
use crate::core::shared::Shared;
use crate::core::signal::{Listening, Wake};
use crate::core::store::{QueuedEvent, Resolution};
use crate::core::sync::lock;
use crate::core::upload::backoff::random_u64;
use crate::core::upload::exchange::Exchange;
use crate::core::upload::exchange::HttpAnswer;
use crate::core::upload::flush::{FlushAnswer, Progress};
use crate::core::upload::policy::{classify, split_budget, Decision, UploadPolicy};
use crate::core::upload::transport::HttpTransport;
use crate::core::worker::{Batch, Command, Resolved};
use conversions_wire::{request_body, EventResult};

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

/// A batch asked of the store worker, answered later.
struct BatchRequest {
    /// Rows after this one were asked for (0: from the oldest).
    after_row: i64,
    answer: Receiver<Result<Batch, String>>,
}

/// What one pass learned, for the flush answers at its end.
#[derive(Default)]
struct Pass {
    /// A store call failed.
    storage_error: Option<String>,
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
    storing: VecDeque<Receiver<Result<Resolved, String>>>,
    /// The highest row id seen in a store answer.
    known_row: i64,
    /// A stored outcome failed since the pass began (read before the flushes are answered).
    storing_failed: Option<String>,
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
        let signal = &self.shared.signal;
        // Turned off by remote settings, waiting events cannot go: the only wake is the next
        // settings check, which may turn collection back on.
        let sending = if self.shared.remote.is_off() {
            self.settings
                .as_ref()
                .map(|fetcher| fetcher.next_check_ms(&self.shared))
        } else {
            self.policy.next_wake()
        };
        [
            sending,
            signal.earliest_flush_deadline(),
            signal.launch_hold_until(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn pass(&mut self, signals: Wake) {
        let now = self.now();
        if self.shared.signal.take_ended_launch_hold(now) {
            let _ = self.store.send(Command::ReleaseLaunch);
        }
        if signals.reset_backoff {
            self.policy.on_reset();
            let _ = self.store.send(Command::MakeAllDue);
        }
        if signals.committed {
            self.known_row = self.known_row.max(signals.committed_through);
            self.policy.on_committed(now);
        }
        if signals.storage_failed {
            self.policy.on_storage_failed(now);
        }
        // Remote settings that turned collection back on send what waited at once.
        let back_on = self.refresh_settings();
        // A commit alone only schedules the interval: waiting events go out together.
        let due = signals.kick || signals.reset_backoff || back_on || self.policy.due(now);
        let mut pass = Pass::default();
        if self.policy.storage_retry_due(now) && !(due && self.may_send(now)) {
            self.probe_storage(&mut pass);
        }
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

    /// Tries a failed store again while nothing is to be sent (a commit of what waits).
    fn probe_storage(&mut self, pass: &mut Pass) {
        let (reply, answer) = channel();
        let result = self
            .store
            .send(Command::Sync(reply))
            .map_err(|_| "the store worker stopped".to_string())
            .and_then(|()| answer.recv().map_err(|_| "no answer from the store".into()));
        match result {
            Ok(Ok(_)) => self.policy.on_storage_ok(),
            Ok(Err(e)) | Err(e) => self.storage_failed(pass, e),
        }
    }

    fn storage_failed(&mut self, pass: &mut Pass, error: String) {
        let now = self.now();
        self.policy.on_storage_failed(now);
        pass.storage_error = Some(error);
    }

    /// Sends due batches until none is left or delivery has to stop.
    fn deliver_due(&mut self, pass: &mut Pass) {
        let mut next: Option<BatchRequest> = None;
        while self.may_send(self.now()) {
            let limit = self.policy.batch_limit();
            let Some(request) = next.take().or_else(|| self.request_batch(limit, 0)) else {
                return;
            };
            let batch = match request.answer.recv() {
                Ok(Ok(batch)) => batch,
                Ok(Err(e)) => return self.storage_failed(pass, e),
                Err(_) => return self.storage_failed(pass, "no answer from the store".into()),
            };
            let now = self.now();
            self.policy.on_batch(
                batch.queued,
                batch.next_retry_at,
                batch.stored_not_before,
                now,
            );
            let Batch {
                events,
                max_row,
                erase_epoch,
                ..
            } = batch;
            self.known_row = self.known_row.max(max_row);
            let full = events.len() == limit;
            if full {
                let last_row = events.last().map_or(0, |e| e.row);
                next = self.request_batch(limit, last_row);
            }
            let sent = if events.is_empty() {
                Sent::All
            } else {
                self.send(events, erase_epoch)
            };
            match sent {
                Sent::Stop => return,
                // Erased while held here: what was read ahead is stale too.
                Sent::Erased => next = None,
                // A lowered limit: the batch read ahead is too large.
                Sent::Retake => next = None,
                Sent::All if std::mem::take(&mut self.retimed) => next = None,
                Sent::All if full => {}
                // Read ahead of earlier rows' outcomes: a fresh take from the oldest decides
                // (rows may have fallen due since).
                Sent::All if request.after_row > 0 => {}
                Sent::All => {
                    pass.drained_candidate = Some(max_row);
                    return;
                }
            }
        }
    }

    /// Asks the store worker for up to `limit` due events after `after_row`.
    fn request_batch(&self, limit: usize, after_row: i64) -> Option<BatchRequest> {
        let (reply, answer) = channel();
        let command = Command::TakeBatch {
            limit,
            after_row,
            reply,
        };
        self.store.send(command).ok()?;
        Some(BatchRequest { after_row, answer })
    }

    /// Sends `events` (read at erase count `erase_epoch`), splitting them while the server
    /// refuses the request whole. Before every request: nothing erased since they were read
    /// is sent (the groups still held are dropped; the store has deleted their rows).
    fn send(&mut self, events: Vec<QueuedEvent>, erase_epoch: u64) -> Sent {
        let mut splits_left = split_budget(events.len());
        let mut groups = vec![events];
        while let Some(group) = groups.pop() {
            if self.shared.erase_epoch() != erase_epoch {
                return Sent::Erased;
            }
            if !self.may_send(self.now()) {
                return Sent::Stop;
            }
            match self.attempt(group, splits_left) {
                Attempt::Sent => {}
                Attempt::Split(first, second) => {
                    splits_left = splits_left.saturating_sub(2);
                    groups.push(second);
                    groups.push(first);
                }
                Attempt::Smaller => return Sent::Retake,
                Attempt::Stop => return Sent::Stop,
            }
        }
        Sent::All
    }

    /// One request: privacy applied, the identity rule checked, the answer decided and its
    /// outcome handed to the store.
    fn attempt(&mut self, events: Vec<QueuedEvent>, splits_left: u32) -> Attempt {
        let privacy = self.shared.context().privacy.clone();
        let relay = self.shared.settings.sends_through_relay;
        let (sendable, unsendable): (Vec<QueuedEvent>, Vec<QueuedEvent>) = events
            .into_iter()
            .partition(|e| relay || meets_identity_rule(e, &privacy));
        let mut resolution = Resolution {
            no_identity: unsendable.iter().map(|e| e.row).collect(),
            ..Default::default()
        };
        if !unsendable.is_empty() {
            self.shared.logger.log(
                LogLevel::Warn,
                format!(
                    "{} events dropped: no em, hashed_maids or client IP plus user agent; send through a relay that adds the IP",
                    unsendable.len()
                ),
            );
        }
        let prepared = for_send(sendable, &privacy);
        let sendable = prepared.events;
        resolution.unreadable = prepared.unreadable;
        if !resolution.unreadable.is_empty() {
            self.shared.logger.log(
                LogLevel::Warn,
                format!(
                    "{} stored events dropped unsent: their stored body cannot be read",
                    resolution.unreadable.len()
                ),
            );
        }
        if sendable.is_empty() {
            self.store_outcome(resolution);
            return Attempt::Sent;
        }
        let offset = self
            .shared
            .server_time
            .offset_secs(self.shared.clock.as_ref());
        let wire_times: Vec<i64> = sendable
            .iter()
            .map(|e| timing::wire_time_of(e, offset))
            .collect();
        let bodies: Vec<_> = prepared
            .bodies
            .into_iter()
            .zip(sendable.iter().zip(&wire_times))
            .map(|(body, (e, time))| timing::with_event_time(body.into(), e, *time))
            .collect();
        let body = request_body(bodies.iter().map(|b| b.as_ref()));
        let token = lock(&self.shared.token).clone();
        self.shared.logger.log(
            LogLevel::Debug,
            format!("sending {} events ({} bytes)", sendable.len(), body.len()),
        );
        let answer = self.transport.post(&token, &body);
        // Shutdown stopped waiting for this request and closed the store: nothing is touched.
        if self.shared.upload_abandoned() {
            return Attempt::Stop;
        }
        self.learn_server_time(&answer);
        let server_now = self.server_now_secs();
        let now = self.now();
        let status = answer.as_ref().ok().map(|a| a.status);
        let max_wait = self.shared.settings.policy.retry_max_ms;
        let verdict = classify(&answer, sendable.len(), now, max_wait)
            .map_text(|text| self.shared.server_text(text));
        self.count_sent(sendable.len(), status);
        let decision = self
            .policy
            .decide(verdict, sendable.len(), splits_left, now, random_u64());
        let mut outcome = outcome(sendable.len(), status);
        let next = match decision {
            Decision::Resolve(results) => {
                let sent = SentRequest {
                    events: &sendable,
                    wire_times: &wire_times,
                    server_now,
                };
                apply_results(&sent, results, &mut resolution, &mut outcome);
                self.retimed |= !resolution.refused_future.is_empty();
                Attempt::Sent
            }
            Decision::DeadLetter(message) => {
                resolution.dead = sendable.iter().map(|e| (e.row, message.clone())).collect();
                outcome.failed = sendable.len() as u32;
                outcome.results = each(&sendable, EventStatus::DeadLettered, Some(&message));
                outcome.message = Some(message);
                Attempt::Sent
            }
            Decision::Split => {
                outcome.will_retry = true;
                let message = "request refused (400); splitting the batch".to_string();
                outcome.results = each(&sendable, EventStatus::WillRetry, Some(&message));
                outcome.message = Some(message);
                let mut first = sendable;
                let second = first.split_off(first.len() / 2);
                self.report(outcome);
                self.store_outcome(resolution);
                return Attempt::Split(first, second);
            }
            Decision::Smaller => {
                outcome.will_retry = true;
                let message = "request too large; halving the batch".to_string();
                outcome.results = each(&sendable, EventStatus::WillRetry, Some(&message));
                outcome.message = Some(message);
                Attempt::Smaller
            }
            Decision::RetryAt { at_ms, message } => {
                self.shared.logger.log(
                    LogLevel::Warn,
                    format!(
                        "delivery failed ({message}); retrying {} events in {} ms",
                        sendable.len(),
                        at_ms.saturating_sub(now)
                    ),
                );
                resolution.retry = sendable.iter().map(|e| e.row).collect();
                resolution.retry_at_ms = at_ms;
                let unanswered = answer.as_ref().map_or(true, |a| a.body_error.is_some());
                resolution.unanswered_at = unanswered.then_some(server_now);
                outcome.will_retry = true;
                outcome.results = each(&sendable, EventStatus::WillRetry, Some(&message));
                outcome.message = Some(message);
                Attempt::Stop
            }
            Decision::Pause { reason, .. } => {
                self.shared
                    .logger
                    .log(LogLevel::Error, format!("delivery paused: {reason}"));
                outcome.will_retry = true;
                outcome.results = each(&sendable, EventStatus::WillRetry, Some(&reason));
                outcome.message = Some(reason);
                Attempt::Stop
            }
        };
        self.report(outcome);
        self.store_outcome(resolution);
        next
    }

    /// Hands an outcome (and the backoff deadline, if it changed) to the store worker without
    /// waiting: the reply is read before flushes are answered.
    fn store_outcome(&mut self, resolution: Resolution) {
        let not_before = self.policy.hold_to_store();
        if resolution == Resolution::default() && not_before.is_none() {
            return;
        }
        let (reply, answer) = channel();
        let command = Command::Resolve {
            resolution,
            not_before,
            reply,
        };
        if self.store.send(command).is_ok() {
            self.storing.push_back(answer);
        }
        // Read the replies that are in already, so the queue size stays current.
        while let Some(answer) = self.storing.front() {
            match answer.try_recv() {
                Ok(result) => {
                    self.storing.pop_front();
                    self.stored(result);
                }
                Err(_) => break,
            }
        }
    }

    /// Waits for every outcome handed to the store in this pass.
    fn finish_storing(&mut self, pass: &mut Pass) {
        while let Some(answer) = self.storing.pop_front() {
            let result = answer
                .recv()
                .unwrap_or_else(|_| Err("no answer from the store".into()));
            self.stored(result);
        }
        if let Some(error) = self.storing_failed.take() {
            pass.storage_error = Some(error);
        }
    }

    fn stored(&mut self, result: Result<Resolved, String>) {
        let now = self.now();
        match result {
            Ok(resolved) => {
                self.known_row = self.known_row.max(resolved.max_row);
                self.policy.on_queued(resolved.queued, None, now);
                if resolved.queued == 0 {
                    // Nothing is left: every row committed so far is out of the queue.
                    self.drained_through = self.drained_through.max(resolved.max_row);
                }
            }
            Err(e) => {
                self.policy.on_storage_failed(now);
                self.storing_failed = Some(e);
            }
        }
    }

    /// Learns the server's time from an answer's `Date` header, and hands the offset to the
    /// store when it moved by more than a second since it was last stored.
    fn learn_server_time(&mut self, answer: &Result<HttpAnswer, String>) {
        let Some(date) = answer.as_ref().ok().and_then(|a| a.date.as_deref()) else {
            return;
        };
        let Some(offset) = self
            .shared
            .server_time
            .learn(date, self.shared.clock.as_ref())
        else {
            return;
        };
        let moved = self
            .saved_offset_ms
            .map_or(true, |saved| saved.abs_diff(offset) > 1_000);
        if moved && self.store.send(Command::SaveServerOffset(offset)).is_ok() {
            self.saved_offset_ms = Some(offset);
        }
    }

    /// The server's time now (Unix seconds), as the answers told it.
    fn server_now_secs(&self) -> i64 {
        let clock = self.shared.clock.as_ref();
        let offset = crate::core::server_time::applied(self.shared.server_time.offset_secs(clock));
        clock.now_secs().saturating_add(offset)
    }

    fn count_sent(&self, events: usize, status: Option<u16>) {
        let mut shared = lock(&self.shared.status);
        shared.totals.sent += events as u64;
        shared.totals.last_status = status;
        shared.last_attempt_time = Some(self.shared.clock.now_secs());
    }

    /// Counts, logs and reports one request's outcome to the app's listener (outside locks).
    fn report(&self, outcome: BatchOutcome) {
        {
            let mut status = lock(&self.shared.status);
            status.totals.processed += u64::from(outcome.processed);
            status.totals.failed += u64::from(outcome.failed);
            status.last_error = outcome.message.clone();
        }
        self.shared.logger.log(
            LogLevel::Info,
            format!(
                "sent {} events: status {}, {} processed, {} failed",
                outcome.events,
                outcome.status.map_or("none".to_string(), |s| s.to_string()),
                outcome.processed,
                outcome.failed
            ),
        );
        let panicked = self.shared.listener.call(|listener| {
            let call = std::panic::AssertUnwindSafe(|| listener.on_batch(outcome));
            std::panic::catch_unwind(call).is_err()
        });
        if panicked == Some(true) {
            self.shared
                .logger
                .log(LogLevel::Warn, "the delivery listener failed");
        }
    }

    fn publish(&self, now: i64) {
        let mut status = lock(&self.shared.status);
        status.paused_reason = self.policy.paused().map(str::to_string);
        status.consecutive_failures = u64::from(self.policy.failures());
        let queued = self.policy.queued();
        status.next_attempt_ms = (queued > 0).then(|| self.policy.held_until(now).unwrap_or(now));
        status.totals.remaining = queued;
    }

    /// Answers the flush callers that are done (see [`flush::answer`]).
    fn answer_flushes(&self, pass: &Pass, shutting_down: bool) {
        let now = self.now();
        let progress = Progress {
            now_ms: now,
            drained_through: self.drained_through,
            held_until: self.policy.held_until(now),
            reset_pending: self.shared.signal.reset_pending(),
            stopped: shutting_down
                || !self.shared.context().privacy.collection_enabled
                || self.shared.remote.is_off(),
            storage_error: pass.storage_error.clone(),
        };
        let mut answers = Vec::new();
        let finished = self.shared.signal.take_flushes(|w| {
            match flush::answer(w.watermark, w.deadline_ms, &progress) {
                Some(answer) => {
                    answers.push(answer);
                    true
                }
                None => false,
            }
        });
        let totals = lock(&self.shared.status).totals.clone();
        // What waits anywhere (stored, in the store worker's memory or its channel), as the
        // store worker published it before its last answer: the uploader's own count dates
        // from its last batch read and leaves out what was committed since.
        let remaining = self.shared.waiting();
        for (waiter, answer) in finished.into_iter().zip(answers) {
            let reply = match answer {
                FlushAnswer::StorageFailed(error) => Err(error),
                answer => Ok(FlushReport {
                    sent: totals.sent - waiter.start.sent,
                    processed: totals.processed - waiter.start.processed,
                    failed: totals.failed - waiter.start.failed,
                    remaining,
                    last_status: totals.last_status,
                    timed_out: answer == FlushAnswer::TimedOut && remaining > 0,
                }),
            };
            let _ = waiter.reply.send(reply);
        }
    }
}

/// How sending one batch ended, for [`Uploader::deliver_due`].
enum Sent {
    /// Every event got its outcome.
    All,
    /// The batch limit was lowered: take again, smaller.
    Retake,
    /// A backoff or pause began, consent was withdrawn or the SDK is stopping.
    Stop,
    /// The events were erased while held here: dropped unsent; take again from the oldest.
    Erased,
}

/// How one request ended, for [`Uploader::send`].
enum Attempt {
    /// Its outcome is decided and handed to the store.
    Sent,
    /// Refused whole: send each half.
    Split(Vec<QueuedEvent>, Vec<QueuedEvent>),
    /// The batch limit was lowered: take a smaller batch.
    Smaller,
    /// A backoff or pause began.
    Stop,
}

/// Fills `resolution` and `outcome` from the server's per-event results (in the order sent).
fn apply_results(
    sent: &SentRequest<'_>,
    results: Vec<EventResult>,
    resolution: &mut Resolution,
    outcome: &mut BatchOutcome,
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
                outcome.warnings += 1;
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
                one.error_message = Some(message);
                resolution.refused_future.push(event.row);
                outcome.results.push(one);
                outcome.will_retry = true;
                continue;
            }
            one.status = EventStatus::Failed;
            one.error_message = Some(message.clone());
            resolution.dead.push((event.row, message));
        }
        outcome.results.push(one);
    }
    outcome.processed = resolution.delivered.len() as u32;
    outcome.failed = resolution.dead.len() as u32;
}

/// What one request carried: its events, the event_time each was sent with, and the
/// server's time when the answer came (Unix seconds).
struct SentRequest<'a> {
    events: &'a [QueuedEvent],
    wire_times: &'a [i64],
    server_now: i64,
}

/// The same `status` (and message) for every event of `sent`.
fn each(sent: &[QueuedEvent], status: EventStatus, message: Option<&str>) -> Vec<EventOutcome> {
    sent.iter()
        .map(|event| EventOutcome {
            event_id: event.event_id.clone(),
            event_name: event.event_name.clone(),
            status,
            error_message: message.map(str::to_string),
            warning_message: None,
        })
        .collect()
}

fn outcome(events: usize, status: Option<u16>) -> BatchOutcome {
    BatchOutcome {
        events: events as u32,
        status,
        processed: 0,
        failed: 0,
        warnings: 0,
        will_retry: false,
        message: None,
        results: Vec::new(),
    }
}
