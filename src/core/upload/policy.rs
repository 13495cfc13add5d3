//! The upload policy: what an answer means and what to do next (docs/ARCHITECTURE.md §5).
//!
//! A synchronous state machine in the shape of Glean's upload manager: the upload thread asks
//! it "may I send, and how much?" and "when do I wake?", and tells it what happened. It reads
//! no clock (every call takes `now_ms`), starts no thread and does no I/O, so every row of the
//! "Server answer" table of docs/delivery.md is a unit test in milliseconds.

use crate::core::config::PolicyConfig;
use crate::core::upload::backoff::{full_jitter, retry_after_ms};
use crate::core::wire::HttpAnswer;
use conversions_wire::{
    classify_status, error_message, parse_event_results, EventResult, StatusClass,
};

/// Successful requests at a lowered batch limit before the limit doubles again.
pub const GROW_BACK_AFTER: u32 = 4;

/// What one answer (or a network failure) means.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Per-event results (200 or 422), in the order sent.
    Results(Vec<EventResult>),
    /// 400: the whole request was refused.
    BadRequest(String),
    /// 401, 403, 404: token or configuration problem.
    Rejected(String),
    /// 413: too large.
    TooLarge,
    /// Try the same events again later.
    Retry {
        /// How long the server asked us to wait, milliseconds (already capped).
        retry_after_ms: Option<i64>,
        /// What went wrong.
        message: String,
    },
}

impl Verdict {
    /// The verdict with every piece of text in it (server messages, per-event errors and
    /// warnings, transport errors) passed through `bound`: the one place server text is cut
    /// and redacted before the SDK keeps, logs or shows any of it.
    pub fn map_text(self, bound: impl Fn(String) -> String) -> Verdict {
        match self {
            Verdict::Results(results) => Verdict::Results(
                results
                    .into_iter()
                    .map(|r| EventResult {
                        processed: r.processed,
                        error_message: r.error_message.map(&bound),
                        warning_message: r.warning_message.map(&bound),
                    })
                    .collect(),
            ),
            Verdict::BadRequest(message) => Verdict::BadRequest(bound(message)),
            Verdict::Rejected(message) => Verdict::Rejected(bound(message)),
            Verdict::TooLarge => Verdict::TooLarge,
            Verdict::Retry {
                retry_after_ms,
                message,
            } => Verdict::Retry {
                retry_after_ms,
                message: bound(message),
            },
        }
    }
}

/// What the upload thread does with the events of one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Apply the per-event results: processed ones leave, failed ones are dead-lettered.
    Resolve(Vec<EventResult>),
    /// Dead-letter every event of the request with this message.
    DeadLetter(String),
    /// Send each half on its own, to isolate the events the server refuses.
    Split,
    /// The batch limit was lowered: the events stay queued and go again at once.
    Smaller,
    /// Keep the events; stop sending until `at_ms`.
    RetryAt {
        /// Unix milliseconds of the next attempt.
        at_ms: i64,
        /// What went wrong.
        message: String,
    },
    /// Keep the events; stop sending until `until_ms` or a new token.
    Pause {
        /// Unix milliseconds when delivery tries again by itself.
        until_ms: i64,
        /// Why, for diagnostics.
        reason: String,
    },
}

/// Extra requests one refused batch of `events` may cost while it is split: enough to
/// isolate two bad events among them (a binary search costs two requests a level). Past it,
/// the groups still refused are dead-lettered with the server's message, so a batch that
/// every event spoils costs about `4·log2(n)` requests instead of `2n - 1`.
pub fn split_budget(events: usize) -> u32 {
    let levels = usize::BITS - events.max(1).saturating_sub(1).leading_zeros();
    4 * levels
}

/// Reads an answer: per-event results, refusal, pause, smaller batch or retry.
pub fn classify(
    answer: &Result<HttpAnswer, String>,
    sent: usize,
    now_ms: i64,
    max_wait_ms: i64,
) -> Verdict {
    let answer = match answer {
        Ok(answer) => answer,
        Err(message) => {
            return Verdict::Retry {
                retry_after_ms: None,
                message: message.clone(),
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
            retry_after_ms: None,
            message: format!("HTTP {status} with an unreadable answer: {problem}"),
        };
    }
    match classify_status(status) {
        StatusClass::EventResults => match parse_event_results(status, &answer.body, sent) {
            Some(results) => Verdict::Results(results),
            None => Verdict::Retry {
                retry_after_ms: None,
                message: format!("HTTP {status} without the expected per-event results"),
            },
        },
        StatusClass::BadRequest => Verdict::BadRequest(described()),
        StatusClass::Rejected => Verdict::Rejected(described()),
        StatusClass::TooLarge => Verdict::TooLarge,
        StatusClass::RetryLater | StatusClass::Unexpected => Verdict::Retry {
            retry_after_ms: retry_after_ms(answer.retry_after.as_deref(), now_ms, max_wait_ms),
            message: described(),
        },
    }
}

/// The uploader's state between wake-ups.
#[derive(Debug, Clone)]
pub struct UploadPolicy {
    config: PolicyConfig,
    /// Events per request now (lowered by a 413, grown back after successes).
    batch_limit: usize,
    /// Successes at the lowered limit since it last changed.
    successes_at_limit: u32,
    /// Nothing is sent before this time (a backoff or a pause).
    hold_until: Option<i64>,
    /// The deadline the store holds (0: none), so a change is written once.
    stored_hold: i64,
    /// The store's deadline was read (at start, or at the first batch if storage failed then).
    restored: bool,
    /// Failed attempts in a row.
    failures: u32,
    /// Why delivery is paused (token or configuration rejected).
    paused: Option<String>,
    /// Events queued, as the store last said.
    queued: u64,
    /// When waiting events are next looked at without a signal.
    look_at: Option<i64>,
}

impl UploadPolicy {
    /// A policy following `config`, with nothing queued and nothing scheduled.
    pub fn new(config: PolicyConfig) -> UploadPolicy {
        UploadPolicy {
            batch_limit: config.batch_size.max(1),
            config,
            successes_at_limit: 0,
            hold_until: None,
            stored_hold: 0,
            restored: false,
            failures: 0,
            paused: None,
            queued: 0,
            look_at: None,
        }
    }

    /// The store's state at start: its stored backoff or pause deadline and how many events
    /// wait. The deadline was written by an earlier process, whose clock may have read
    /// anything (a user sets the clock by hand): it is held to at most one longest backoff
    /// from now, so no clock change delays delivery longer than a backoff could.
    pub fn restore(&mut self, stored_hold_ms: i64, queued: u64, now_ms: i64) {
        self.restored = true;
        self.stored_hold = stored_hold_ms;
        if stored_hold_ms > now_ms {
            let latest = now_ms.saturating_add(self.config.retry_max_ms);
            self.hold_until = Some(stored_hold_ms.min(latest));
        }
        self.on_queued(queued, None, now_ms);
    }

    /// The store answered a batch read: `queued` events wait in all, the earliest of those
    /// not yet due is due at `next_retry_ms`. `stored_hold_ms` is the stored deadline, used
    /// only if it could not be read at start.
    pub fn on_batch(
        &mut self,
        queued: u64,
        next_retry_ms: Option<i64>,
        stored_hold_ms: i64,
        now_ms: i64,
    ) {
        if !self.restored {
            self.restore(stored_hold_ms, queued, now_ms);
        }
        if self.hold_until.is_some_and(|until| until <= now_ms) {
            self.hold_until = None;
        }
        self.on_queued(queued, next_retry_ms, now_ms);
    }

    /// The store reports `queued` events waiting; when none is due before `next_retry_ms`,
    /// the next look waits for it instead of the interval.
    pub fn on_queued(&mut self, queued: u64, next_retry_ms: Option<i64>, now_ms: i64) {
        self.queued = queued;
        self.look_at = match (queued, next_retry_ms) {
            (0, _) => None,
            (_, Some(due)) if due > now_ms => Some(due),
            _ => Some(self.interval_from(now_ms)),
        };
    }

    /// The store committed events into a queue this policy thought empty.
    pub fn on_committed(&mut self, now_ms: i64) {
        self.queued = self.queued.max(1);
        if self.look_at.is_none() {
            self.look_at = Some(self.interval_from(now_ms));
        }
    }

    /// The network came back or the token changed: the backoff and the pause end now.
    pub fn on_reset(&mut self) {
        self.hold_until = None;
        self.paused = None;
        self.stored_hold = 0;
    }

    /// True when waiting events are due to be looked at by the policy's own schedule: the
    /// interval, their retry time or the end of a backoff came.
    pub fn due(&self, now_ms: i64) -> bool {
        let reached = |at: Option<i64>| at.is_some_and(|at| at <= now_ms);
        self.queued > 0 && (reached(self.look_at) || reached(self.hold_until))
    }

    /// True unless a backoff or a pause holds delivery at `now_ms`.
    pub fn may_send(&self, now_ms: i64) -> bool {
        self.hold_until.map_or(true, |until| now_ms >= until)
    }

    /// Events per request now.
    pub fn batch_limit(&self) -> usize {
        self.batch_limit
    }

    /// Until when delivery is held back, if it is at `now_ms`.
    pub fn held_until(&self, now_ms: i64) -> Option<i64> {
        self.hold_until.filter(|until| *until > now_ms)
    }

    /// Why delivery is paused, if it is.
    pub fn paused(&self) -> Option<&str> {
        self.paused.as_deref()
    }

    /// Failed attempts in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Events queued, as last reported.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// The deadline to write to the store if it changed since it was last written
    /// (0 clears it), so a restart neither hammers the endpoint nor waits out a stale backoff.
    pub fn hold_to_store(&mut self) -> Option<i64> {
        let wanted = self.hold_until.unwrap_or(0);
        (wanted != self.stored_hold).then(|| {
            self.stored_hold = wanted;
            wanted
        })
    }

    /// When the upload thread must look again without a signal; `None`: only a signal wakes
    /// it (nothing queued, nothing scheduled).
    pub fn next_wake(&self) -> Option<i64> {
        if self.queued == 0 {
            None
        } else if let Some(until) = self.hold_until {
            Some(until)
        } else {
            self.look_at
        }
    }

    /// A pass found nothing more to send at `now_ms` while events still wait: look again
    /// after the interval (or at their retry time).
    pub fn on_pass_end(&mut self, now_ms: i64) {
        if let Some(until) = self.hold_until.filter(|until| *until <= now_ms) {
            // A backoff that ended already (it ran out during the pass):
            // the next pass retries at once, and the hold cannot keep waking anybody.
            self.hold_until = None;
            if self.queued > 0 {
                self.look_at = Some(until);
                return;
            }
        }
        if self.queued > 0 && self.look_at.map_or(true, |at| at <= now_ms) {
            self.look_at = Some(self.interval_from(now_ms));
        }
    }

    /// Decides what `verdict` means for a request of `events` events. `splits_left` is what
    /// is left of the [`split_budget`] of the batch it came from; `random` draws the jitter.
    pub fn decide(
        &mut self,
        verdict: Verdict,
        events: usize,
        splits_left: u32,
        now_ms: i64,
        random: u64,
    ) -> Decision {
        match verdict {
            Verdict::Results(results) => {
                self.succeeded();
                Decision::Resolve(results)
            }
            Verdict::BadRequest(message) if events <= 1 => {
                self.succeeded();
                Decision::DeadLetter(message)
            }
            Verdict::BadRequest(message) if splits_left < 2 => {
                self.succeeded();
                Decision::DeadLetter(format!(
                    "{message} (refused in a group of {events}, past the split budget)"
                ))
            }
            Verdict::BadRequest(_) => {
                self.answered();
                Decision::Split
            }
            Verdict::TooLarge if events <= 1 => {
                self.succeeded();
                Decision::DeadLetter(
                    "a single event is larger than the endpoint accepts (413)".into(),
                )
            }
            Verdict::TooLarge => {
                self.answered();
                self.batch_limit = (events / 2).max(1);
                self.successes_at_limit = 0;
                Decision::Smaller
            }
            Verdict::Rejected(message) => {
                let pause = self.config.retry_max_ms;
                let reason = format!(
                    "{message}; paused for {}s or until set_token()",
                    pause / 1000
                );
                let until_ms = now_ms.saturating_add(pause);
                self.paused = Some(reason.clone());
                self.hold_until = Some(until_ms);
                Decision::Pause { until_ms, reason }
            }
            Verdict::Retry {
                retry_after_ms,
                message,
            } => {
                self.failures = self.failures.saturating_add(1);
                let jitter = full_jitter(
                    self.config.retry_base_ms,
                    self.config.retry_max_ms,
                    self.failures,
                    random,
                );
                let delay = retry_after_ms.map_or(jitter, |asked| asked.max(jitter));
                let at_ms = now_ms.saturating_add(delay);
                self.hold_until = Some(at_ms);
                Decision::RetryAt { at_ms, message }
            }
        }
    }

    /// The server answered the request itself: any backoff is over.
    fn answered(&mut self) {
        self.failures = 0;
        self.hold_until = None;
        self.paused = None;
    }

    /// The server took the request: the backoff and the pause are over, and a lowered batch
    /// limit grows back after a few of these.
    fn succeeded(&mut self) {
        self.answered();
        if self.batch_limit < self.config.batch_size {
            self.successes_at_limit += 1;
            if self.successes_at_limit >= GROW_BACK_AFTER {
                self.batch_limit = (self.batch_limit * 2).min(self.config.batch_size);
                self.successes_at_limit = 0;
            }
        }
    }

    /// Follows new settings in force (remote settings narrowed them, or were lifted): at most
    /// `batch_size` events a request (a limit lowered by a 413 stays lower), and
    /// `flush_interval_ms` between sends of waiting events from the next one on.
    pub fn retune(&mut self, batch_size: usize, flush_interval_ms: i64) {
        self.config.batch_size = batch_size.max(1);
        self.config.flush_interval_ms = flush_interval_ms.max(1);
        self.batch_limit = self.batch_limit.min(self.config.batch_size);
    }

    fn interval_from(&self, now_ms: i64) -> i64 {
        now_ms.saturating_add(self.config.flush_interval_ms)
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
