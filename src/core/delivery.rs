//! The upload thread: takes due events oldest first, applies the privacy state of the moment,
//! POSTs them, and turns the answer into per-event outcomes (ARCHITECTURE section 5).
//!
//! It owns the HTTP agent and talks to the store only through store-worker commands, so a
//! slow network never delays commits of newly tracked events. Backoff is global (a server that
//! is down is down for every event) and its deadline is stored, so a restart does not hammer.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::core::backoff::{full_jitter, random_u64, retry_after, unix_now, unix_now_ms};
use crate::core::model::{BatchOutcome, FlushReport, LogLevel};
use crate::core::privacy::{body_for_send, meets_identity_rule};
use crate::core::shared::{lock, Shared};
use crate::core::store::{QueuedEvent, Resolution};
use crate::core::transport::{HttpAnswer, Transport};
use crate::core::wire::{error_message, parse_event_results, request_body, EventResult};
use crate::core::worker::{Batch, Command};

/// Connect timeout of a request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Overall timeout of a request, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts the upload thread; `done` is dropped when it ends.
pub fn spawn(shared: Arc<Shared>, store: Sender<Command>, done: Sender<()>) -> std::io::Result<()> {
    let transport = Transport::new(
        shared.settings.events_url.clone(),
        CONNECT_TIMEOUT,
        REQUEST_TIMEOUT,
    );
    std::thread::Builder::new()
        .name("app-conversions-upload".into())
        .spawn(move || {
            Uploader::new(shared, store, transport).run();
            drop(done);
        })
        .map(drop)
}

/// How the server (or the network) answered one request.
enum Verdict {
    /// Per-event results (200 or 422).
    Results(Vec<EventResult>),
    /// 400: the whole request was refused.
    BadRequest(String),
    /// 401, 403, 404: token or configuration problem.
    Rejected(String),
    /// 413: too large.
    TooLarge,
    /// Try the same events again later.
    Retry {
        /// How long the server asked us to wait.
        retry_after: Option<Duration>,
        /// What went wrong.
        message: String,
    },
}

/// A batch asked of the store worker, answered on `answer`.
struct BatchRequest {
    /// Flush registrations made before the request.
    registered: u64,
    /// Read ahead: rows up to the previous batch's last were skipped, not taken from the oldest.
    read_ahead: bool,
    /// The worker's answer.
    answer: Receiver<Result<Batch, String>>,
}

struct Uploader {
    shared: Arc<Shared>,
    store: Sender<Command>,
    transport: Transport,
    batch_limit: usize,
    /// Unix milliseconds before which nothing is sent; 0 when no backoff is pending.
    not_before: i64,
    queued: u64,
    failures: u32,
    paused: Option<String>,
    /// The last batch read or resolution failed in the store; cleared by the next batch read.
    storage_failed: bool,
    /// Flush waiters up to this registration number were registered when the store last
    /// failed: they are answered at once. Later ones wait for the next attempt, since storage
    /// may have come back by then.
    failed_for: u64,
    /// Flush waiters up to this registration number are done: a batch taken after they
    /// registered held every due event, and it was resolved.
    drained_for: u64,
    /// Flush waiters up to this registration number registered before the last batch was
    /// taken, so `queued` accounts for their events.
    looked_for: u64,
}

impl Uploader {
    fn new(shared: Arc<Shared>, store: Sender<Command>, transport: Transport) -> Uploader {
        let batch_limit = shared.settings.batch_size;
        Uploader {
            shared,
            store,
            transport,
            batch_limit,
            not_before: 0,
            queued: 0,
            failures: 0,
            paused: None,
            storage_failed: false,
            failed_for: 0,
            drained_for: 0,
            looked_for: 0,
        }
    }

    fn run(mut self) {
        self.restore_backoff();
        loop {
            let (_, reset, shutdown) = self.shared.signal.wait(self.next_wake());
            if shutdown {
                self.answer_flushes(true);
                return;
            }
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if reset {
                    self.not_before = 0;
                    self.paused = None;
                    let _ = self.store.send(Command::MakeAllDue);
                }
                self.deliver_due();
                self.publish();
                self.answer_flushes(false);
            }));
            if result.is_err() {
                self.shared.note_panic("upload");
            }
        }
    }

    fn restore_backoff(&mut self) {
        let (reply, answer) = channel();
        if self.store.send(Command::Snapshot(reply)).is_ok() {
            if let Ok(Ok(snapshot)) = answer.recv() {
                self.not_before = snapshot.not_before;
                self.queued = snapshot.queued;
            }
        }
        self.publish();
    }

    /// When to look again without a signal: at the end of a backoff (at once if it already
    /// ended), or after the periodic interval while events wait.
    fn next_wake(&self) -> Option<Instant> {
        let mut wake = None;
        if self.not_before > 0 {
            let wait = (self.not_before - unix_now_ms()).max(0) as u64;
            wake = Some(Instant::now() + Duration::from_millis(wait));
        } else if self.queued > 0 || self.storage_failed {
            wake = Some(Instant::now() + self.shared.settings.flush_interval);
        }
        match (wake, self.shared.signal.earliest_flush_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Sends due batches until none is left or delivery has to stop. While a full batch is in
    /// flight the store worker already reads the next one (the rows after it), so reading and
    /// sending overlap; anything else (a short batch, a halved limit, a stop) takes afresh.
    fn deliver_due(&mut self) {
        let mut prefetched: Option<BatchRequest> = None;
        loop {
            if !self.shared.context().privacy.collection_enabled || unix_now_ms() < self.not_before
            {
                return;
            }
            let limit = self.batch_limit;
            let Some(request) = prefetched.take().or_else(|| self.request_batch(limit, 0)) else {
                return;
            };
            let Batch {
                events: batch,
                queued,
                stored_not_before,
            } = match request.answer.recv() {
                Ok(Ok(found)) => found,
                _ => {
                    self.store_failed();
                    return;
                }
            };
            self.storage_failed = false;
            if request.read_ahead && batch.is_empty() {
                // Nothing after the last batch; a fresh take also sees rows due since.
                continue;
            }
            if !request.read_ahead {
                // A batch read ahead counted the queue before the previous batch was resolved;
                // that resolution's count is the newer one.
                self.queued = queued;
            }
            self.looked_for = request.registered;
            self.shared.unsent.store(0, Ordering::Relaxed);
            // The stored backoff is read at start, unless storage was failing then: it still
            // holds, and the wake-up must know when it ends.
            self.not_before = self.not_before.max(stored_not_before);
            if batch.is_empty() || unix_now_ms() < self.not_before {
                return;
            }
            if batch.len() == limit {
                let last_row = batch.last().map_or(0, |e| e.row);
                prefetched = self.request_batch(limit, last_row);
            }
            if !self.attempt(&batch) {
                return;
            }
            if self.batch_limit != limit {
                // A 413 halved the limit: the batch read ahead is too large.
                prefetched = None;
            } else if batch.len() < limit && !request.read_ahead {
                // Every due event fitted in the batch and it was resolved: those flushes are
                // done even if newer events keep arriving meanwhile. (A batch read ahead skipped
                // rows that may have fallen due since; the fresh take that follows decides.)
                self.drained_for = request.registered;
                self.publish();
                self.answer_flushes(false);
            }
        }
    }

    /// Asks the store worker for up to `limit` due events after `after_row`; the answer is
    /// read later. None if the worker is gone.
    fn request_batch(&self, limit: usize, after_row: i64) -> Option<BatchRequest> {
        // Flushes registered before this batch is taken see their events committed in it.
        let registered = self.shared.signal.registered();
        let (reply, answer) = channel();
        let command = Command::TakeBatch {
            limit,
            after_row,
            reply,
        };
        self.store.send(command).ok()?;
        Some(BatchRequest {
            registered,
            read_ahead: after_row > 0,
            answer,
        })
    }

    /// Sends `batch`; false when delivery should stop for now (backoff or pause).
    fn attempt(&mut self, batch: &[QueuedEvent]) -> bool {
        let privacy = self.shared.context().privacy.clone();
        let relay = self.shared.settings.config.endpoint_is_relay;
        let (sendable, unsendable): (Vec<&QueuedEvent>, Vec<&QueuedEvent>) = batch
            .iter()
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
        if sendable.is_empty() {
            return self.resolve(resolution, None);
        }
        let bodies: Vec<_> = sendable
            .iter()
            .map(|e| body_for_send(e, &privacy))
            .collect();
        let body = request_body(bodies.iter().map(|b| b.as_ref()));
        let token = lock(&self.shared.token).clone();
        self.shared.logger.log(
            LogLevel::Debug,
            format!("sending {} events ({} bytes)", sendable.len(), body.len()),
        );
        let answer = self.transport.post(&token, &body);
        let status = answer.as_ref().ok().map(|a| a.status);
        let verdict = classify(answer, sendable.len(), self.shared.settings.retry_max_delay);
        self.count_sent(sendable.len(), status);
        match verdict {
            Verdict::Results(results) => {
                self.answered();
                let mut outcome = outcome(sendable.len(), status, false, None);
                for (event, result) in sendable.iter().zip(results) {
                    if result.processed {
                        resolution.delivered.push(event.row);
                        if result.warning_message.is_some() {
                            resolution.warnings += 1;
                            outcome.warnings += 1;
                        }
                    } else {
                        let message = result
                            .error_message
                            .unwrap_or_else(|| "refused by the server".into());
                        resolution.dead.push((event.row, message));
                    }
                }
                outcome.processed = resolution.delivered.len() as u32;
                outcome.failed = resolution.dead.len() as u32;
                self.finish(outcome, resolution, None)
            }
            Verdict::BadRequest(message) if sendable.len() == 1 => {
                self.answered();
                resolution.dead.push((sendable[0].row, message.clone()));
                let mut outcome = outcome(1, status, false, Some(message));
                outcome.failed = 1;
                self.finish(outcome, resolution, None)
            }
            Verdict::BadRequest(message) => {
                self.notify(outcome(sendable.len(), status, true, Some(message)));
                if !self.resolve(resolution, None) {
                    return false;
                }
                let owned: Vec<QueuedEvent> = sendable.into_iter().cloned().collect();
                let (first, second) = owned.split_at(owned.len() / 2);
                self.attempt(first) && self.attempt(second)
            }
            Verdict::TooLarge if sendable.len() == 1 => {
                let message =
                    "a single event is larger than the endpoint accepts (413)".to_string();
                resolution.dead.push((sendable[0].row, message.clone()));
                let mut outcome = outcome(1, status, false, Some(message));
                outcome.failed = 1;
                self.finish(outcome, resolution, None)
            }
            Verdict::TooLarge => {
                self.batch_limit = (sendable.len() / 2).max(1);
                self.notify(outcome(
                    sendable.len(),
                    status,
                    true,
                    Some("request too large; halving the batch".into()),
                ));
                self.resolve(resolution, None)
            }
            Verdict::Rejected(message) => {
                let pause = self.shared.settings.retry_max_delay;
                let reason = format!(
                    "{message}; paused for {}s or until set_token()",
                    pause.as_secs()
                );
                self.shared
                    .logger
                    .log(LogLevel::Error, format!("delivery paused: {reason}"));
                self.paused = Some(reason.clone());
                self.not_before = unix_now_ms() + pause.as_millis() as i64;
                self.finish(
                    outcome(sendable.len(), status, true, Some(reason)),
                    resolution,
                    Some(self.not_before),
                );
                false
            }
            Verdict::Retry {
                retry_after,
                message,
            } => {
                self.failures = self.failures.saturating_add(1);
                let settings = &self.shared.settings;
                let jitter = full_jitter(
                    settings.retry_base_delay,
                    settings.retry_max_delay,
                    self.failures,
                    random_u64(),
                );
                let delay = retry_after.map_or(jitter, |asked| asked.max(jitter));
                self.not_before = unix_now_ms() + delay.as_millis() as i64;
                resolution.retry = sendable.iter().map(|e| e.row).collect();
                resolution.retry_at_ms = self.not_before;
                self.shared.logger.log(
                    LogLevel::Warn,
                    format!(
                        "delivery failed ({message}); retrying {} events in {} ms",
                        sendable.len(),
                        delay.as_millis()
                    ),
                );
                lock(&self.shared.status).last_error = Some(message.clone());
                self.finish(
                    outcome(sendable.len(), status, true, Some(message)),
                    resolution,
                    Some(self.not_before),
                );
                false
            }
        }
    }

    /// The server answered the request itself: any backoff is over.
    fn answered(&mut self) {
        self.failures = 0;
        self.not_before = 0;
    }

    fn finish(
        &mut self,
        outcome: BatchOutcome,
        resolution: Resolution,
        not_before: Option<i64>,
    ) -> bool {
        {
            let mut status = lock(&self.shared.status);
            status.totals.processed += u64::from(outcome.processed);
            status.totals.failed += u64::from(outcome.failed);
            if !outcome.will_retry {
                status.last_error = outcome.message.clone();
            }
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
        self.notify(outcome);
        self.resolve(resolution, not_before)
    }

    /// Applies `resolution` in the store; false if the store failed.
    fn resolve(&mut self, resolution: Resolution, not_before: Option<i64>) -> bool {
        let (reply, answer) = channel();
        let sent = self.store.send(Command::Resolve {
            resolution,
            not_before,
            reply,
        });
        match (sent, answer.recv()) {
            (Ok(()), Ok(Ok(queued))) => {
                self.queued = queued;
                true
            }
            _ => {
                self.store_failed();
                false
            }
        }
    }

    /// Notes a failed store request: the flushes waiting now are answered with it.
    fn store_failed(&mut self) {
        self.storage_failed = true;
        self.failed_for = self.shared.signal.registered();
    }

    fn count_sent(&mut self, events: usize, status: Option<u16>) {
        let mut shared = lock(&self.shared.status);
        shared.totals.sent += events as u64;
        shared.totals.last_status = status;
        shared.last_attempt_time = Some(unix_now());
    }

    fn notify(&self, outcome: BatchOutcome) {
        let listener = lock(&self.shared.listener).clone();
        if let Some(listener) = listener {
            let call = std::panic::AssertUnwindSafe(|| listener.on_batch(outcome));
            if std::panic::catch_unwind(call).is_err() {
                self.shared
                    .logger
                    .log(LogLevel::Warn, "the delivery listener failed");
            }
        }
    }

    fn publish(&self) {
        let mut status = lock(&self.shared.status);
        status.paused_reason = self.paused.clone();
        status.consecutive_failures = u64::from(self.failures);
        status.next_attempt_time = if self.queued > 0 {
            Some(self.not_before.max(unix_now_ms()) / 1000)
        } else {
            None
        };
        status.totals.remaining = self.queued;
    }

    /// Answers the flush callers that are done: nothing left, nothing more possible before
    /// their deadline, or their deadline passed.
    fn answer_flushes(&self, shutting_down: bool) {
        let now = Instant::now();
        let backoff_ends =
            now + Duration::from_millis((self.not_before - unix_now_ms()).max(0) as u64);
        let stuck = shutting_down || !self.shared.context().privacy.collection_enabled;
        let totals = lock(&self.shared.status).totals.clone();
        let finished = self.shared.signal.take_flushes(|w, reset_pending| {
            // A reset the uploader has not taken yet (network back, new token) ends the
            // backoff and the pause: the next pass sends, so the waiter stays.
            let held_back = !reset_pending && (self.paused.is_some() || backoff_ends > w.deadline);
            (self.queued == 0 && w.sequence <= self.looked_for)
                || w.sequence <= self.drained_for
                || w.sequence <= self.failed_for
                || stuck
                || held_back
                || now >= w.deadline
        });
        for waiter in finished {
            let report = FlushReport {
                sent: totals.sent - waiter.start.sent,
                processed: totals.processed - waiter.start.processed,
                failed: totals.failed - waiter.start.failed,
                remaining: self.queued,
                last_status: totals.last_status,
                timed_out: self.queued > 0 && now >= waiter.deadline,
            };
            let _ = waiter.reply.send(report);
        }
    }
}

fn outcome(
    events: usize,
    status: Option<u16>,
    will_retry: bool,
    message: Option<String>,
) -> BatchOutcome {
    BatchOutcome {
        events: events as u32,
        status,
        processed: 0,
        failed: 0,
        warnings: 0,
        will_retry,
        message,
    }
}

fn classify(answer: Result<HttpAnswer, String>, sent: usize, max_wait: Duration) -> Verdict {
    let answer = match answer {
        Ok(answer) => answer,
        Err(message) => {
            return Verdict::Retry {
                retry_after: None,
                message,
            }
        }
    };
    let status = answer.status;
    let described = || {
        let detail = error_message(&answer.body).unwrap_or_else(|| "no error message".into());
        format!("HTTP {status}: {detail}")
    };
    if let Some(problem) = &answer.body_error {
        return Verdict::Retry {
            retry_after: None,
            message: format!("HTTP {status} with an unreadable answer: {problem}"),
        };
    }
    match status {
        200 | 422 => match parse_event_results(status, &answer.body, sent) {
            Some(results) => Verdict::Results(results),
            None => Verdict::Retry {
                retry_after: None,
                message: format!("HTTP {status} without the expected per-event results"),
            },
        },
        400 => Verdict::BadRequest(described()),
        401 | 403 | 404 => Verdict::Rejected(described()),
        413 => Verdict::TooLarge,
        _ => Verdict::Retry {
            retry_after: retry_after(answer.retry_after.as_deref(), SystemTime::now(), max_wait),
            message: described(),
        },
    }
}
