//! The upload thread's sending: due batches taken from the store worker (the next one read
//! ahead while a request is in flight), the privacy state of the moment and the wire times
//! applied, the request sent, the answer classified and decided by the policy and turned into
//! per-event outcomes by [`super::outcome`], split or halved when the server says so.

use std::sync::mpsc::channel;

use crate::core::model::LogLevel;
use crate::core::privacy::{for_send, meets_identity_rule};
use crate::core::record::{QueuedEvent, Resolution};
use crate::core::sync::lock;
use crate::core::upload::backoff::random_u64;
use crate::core::upload::outcome::{request_outcome, Next, RequestOutcome, SentRequest};
use crate::core::upload::policy::{classify, split_budget, Decision};
use crate::core::wire::HttpAnswer;
use crate::core::worker::{Batch, Command};
use conversions_wire::request_body;

use super::{timing, BatchRequest, Pass, Uploader, NO_ANSWER};

impl Uploader {
    /// Sends due batches until none is left or delivery has to stop.
    pub(super) fn deliver_due(&mut self, pass: &mut Pass) {
        let mut next: Option<BatchRequest> = None;
        while self.may_send(self.now()) {
            let limit = self.policy.batch_limit();
            let Some(request) = next.take().or_else(|| self.request_batch(limit, 0)) else {
                return;
            };
            let batch = match request.answer.recv() {
                Ok(Ok(batch)) => batch,
                Ok(Err(e)) => return self.storage_failed(pass, e),
                Err(_) => return self.storage_failed(pass, NO_ANSWER),
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
        let unsendable: Vec<i64> = unsendable.iter().map(|e| e.row).collect();
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
        let unreadable = prepared.unreadable;
        if !unreadable.is_empty() {
            self.shared.logger.log(
                LogLevel::Warn,
                format!(
                    "{} stored events dropped unsent: their stored body cannot be read",
                    unreadable.len()
                ),
            );
        }
        if sendable.is_empty() {
            self.store_outcome(Resolution {
                no_identity: unsendable,
                unreadable,
                ..Default::default()
            });
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
        self.log_hold(&decision, sendable.len(), now);
        let sent = SentRequest {
            events: &sendable,
            wire_times: &wire_times,
            server_now,
            status,
            unanswered: answer.as_ref().map_or(true, |a| a.body_error.is_some()),
        };
        let RequestOutcome {
            mut resolution,
            report,
            next,
        } = request_outcome(decision, &sent);
        self.retimed |= !resolution.refused_future.is_empty();
        resolution.no_identity = unsendable;
        resolution.unreadable = unreadable;
        self.report(report);
        self.store_outcome(resolution);
        match next {
            Next::Continue => Attempt::Sent,
            Next::Split { at } => {
                let mut first = sendable;
                let second = first.split_off(at);
                Attempt::Split(first, second)
            }
            Next::Smaller => Attempt::Smaller,
            Next::Stop => Attempt::Stop,
        }
    }

    /// Logs a backoff or pause as it begins.
    fn log_hold(&self, decision: &Decision, events: usize, now: i64) {
        match decision {
            Decision::RetryAt { at_ms, message } => self.shared.logger.log(
                LogLevel::Warn,
                format!(
                    "delivery failed ({message}); retrying {events} events in {} ms",
                    at_ms.saturating_sub(now)
                ),
            ),
            Decision::Pause { reason, .. } => self
                .shared
                .logger
                .log(LogLevel::Error, format!("delivery paused: {reason}")),
            _ => {}
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
