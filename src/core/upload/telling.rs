//! The upload thread's telling: outcomes handed to the store worker (read back before flushes
//! are answered), the app's delivery listener and the published status, and the flushes that
//! are done answered through [`super::flush`].

use std::sync::mpsc::channel;

use crate::core::error::StoreFailure;
use crate::core::model::{BatchOutcome, LogLevel};
use crate::core::record::Resolution;
use crate::core::sync::lock;
use crate::core::upload::flush::{self, FlushAnswer, Progress};
use crate::core::worker::{Command, Resolved};

use super::{Pass, Uploader, NO_ANSWER};

impl Uploader {
    /// Hands an outcome (and the backoff deadline, if it changed) to the store worker without
    /// waiting: the reply is read before flushes are answered.
    pub(super) fn store_outcome(&mut self, resolution: Resolution) {
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
    pub(super) fn finish_storing(&mut self, pass: &mut Pass) {
        while let Some(answer) = self.storing.pop_front() {
            let result = answer.recv().unwrap_or(Err(NO_ANSWER));
            self.stored(result);
        }
        if let Some(error) = self.storing_failed.take() {
            pass.storage_error = Some(error);
        }
    }

    fn stored(&mut self, result: Result<Resolved, StoreFailure>) {
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
            Err(e) => self.storing_failed = Some(e),
        }
    }

    /// Counts, logs and reports one request's outcome to the app's listener (outside locks).
    pub(super) fn report(&self, outcome: BatchOutcome) {
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

    pub(super) fn publish(&self, now: i64) {
        let mut status = lock(&self.shared.status);
        status.paused_reason = self.policy.paused().map(str::to_string);
        status.consecutive_failures = u64::from(self.policy.failures());
        let queued = self.policy.queued();
        status.next_attempt_ms = (queued > 0).then(|| self.policy.held_until(now).unwrap_or(now));
        status.totals.remaining = queued;
    }

    /// Answers the flush callers that are done (see [`flush::answer`]).
    pub(super) fn answer_flushes(&self, pass: &Pass, shutting_down: bool) {
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
                answer => Ok(flush::report(
                    &waiter.start,
                    &totals,
                    remaining,
                    answer == FlushAnswer::TimedOut && remaining > 0,
                )),
            };
            let _ = waiter.reply.send(reply);
        }
    }
}
