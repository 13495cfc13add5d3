//! State shared by the caller-facing client, the store worker and the upload thread. Each field
//! has one writer role; readers take short locks and never hold one across I/O.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::core::callback::CallbackSlot;
use crate::core::click_id::{Found, Source, StoredClick};
use crate::core::clock::Clock;
use crate::core::config::Settings;
use crate::core::log::{redact, truncate_text, Logger, MAX_SERVER_TEXT};
use crate::core::model::{BatchOutcome, FlushReport, LogLevel};
use crate::core::privacy::TrackContext;
use crate::core::remote_settings::state::RemoteState;
use crate::core::server_time::ServerTime;
use crate::core::signal::UploadSignal;
use crate::core::sync::{lock, read, write};

/// Hears the outcome of every request, on the SDK's upload thread; implemented by the app.
/// It is called with no SDK lock held, so it may call back into the SDK.
#[cfg_attr(feature = "ffi", uniffi::export(with_foreign))]
pub trait DeliveryListener: Send + Sync {
    /// One request's outcome: events sent, status, processed, failed, whether they will be retried.
    fn on_batch(&self, outcome: BatchOutcome);
}

/// Delivery state the upload thread publishes for diagnostics and flush reports.
#[derive(Debug, Clone, Default)]
pub struct DeliveryStatus {
    /// Running totals, for flush reports.
    pub totals: FlushReport,
    /// Unix seconds of the last attempt.
    pub last_attempt_time: Option<i64>,
    /// Last error, redacted.
    pub last_error: Option<String>,
    /// Monotonic milliseconds of the next attempt (shown on the wall clock of the moment).
    pub next_attempt_ms: Option<i64>,
    /// Why delivery is paused.
    pub paused_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: u64,
}

/// At most 15 advertiser-defined names per ad account (docs/ARCHITECTURE.md §10).
pub const MAX_CUSTOM_NAMES: usize = 15;

/// Advertiser-defined names in use, so `track()` can enforce the 15-name limit without
/// touching the disk: the names the store loaded, and every name `track()` accepted since,
/// stored yet or not. A name counts from the moment an event with it is accepted, so the
/// limit holds while storage is unavailable too, and an accepted event is never dropped later
/// for its name.
#[derive(Debug, Default)]
pub struct CustomNames {
    /// Lowercased names.
    pub names: HashSet<String>,
}

/// Events waiting when `counted` are queued and `more` are on their way, with room for
/// `capacity`: the oldest past capacity are evicted when they are committed, and what is
/// counted already is never reported as less. The one place the store worker's count and
/// `waiting()` clamp.
pub fn within_capacity(counted: u64, more: u64, capacity: u64) -> u64 {
    counted.max(counted.saturating_add(more).min(capacity))
}

/// Shared by all threads of one client.
pub struct Shared {
    /// Validated configuration.
    pub settings: Settings,
    /// The bearer token (memory only).
    pub token: Arc<Mutex<String>>,
    /// What events snapshot at track time, including the privacy state.
    pub context: RwLock<Arc<TrackContext>>,
    /// Logging.
    pub logger: Logger,
    /// The delivery listener.
    pub listener: CallbackSlot<dyn DeliveryListener>,
    /// Published delivery state.
    pub status: Mutex<DeliveryStatus>,
    /// Where all time is read.
    pub clock: Arc<dyn Clock>,
    /// The server's time, as the answers told it.
    pub server_time: ServerTime,
    /// What remote settings put in force, and the kill switch (written by the upload thread).
    pub remote: RemoteState,
    /// The uploader's doorbell (rung by a manual clock too).
    pub signal: Arc<UploadSignal>,
    /// The current storage problem.
    pub storage_error: Mutex<Option<String>>,
    /// The custom-name registry.
    pub custom_names: Mutex<CustomNames>,
    /// Invalid optional values dropped from events, by field.
    pub invalid_fields: Mutex<BTreeMap<String, u64>>,
    /// Advertising ids ignored as malformed.
    pub malformed_advertising_ids: AtomicU64,
    /// Internal faults caught on worker threads.
    pub worker_panics: AtomicU64,
    /// Times the upload thread woke (signals and its own deadlines).
    pub upload_wakeups: AtomicU64,
    /// Events queued as the store worker last counted them (committed and in memory), for a
    /// flush that runs out of time before the worker or the uploader answers.
    pub queued: AtomicU64,
    /// Events `track()` sent to the store worker that it has not taken from its channel yet.
    pub queued_in_channel: AtomicU64,
    /// Erases so far (`forget()`, collection disabled). A batch the store worker hands out is
    /// stamped with the count of its moment; the upload thread sends nothing stamped with an
    /// older count, so an erased event held in its memory (read ahead, half of a split) is
    /// dropped there. Raised by the client when an erase is asked and by the store worker
    /// once it has deleted, before it answers.
    pub erase_epoch: AtomicU64,
    /// Set when shutdown stopped waiting for the upload thread (a request that does not come
    /// back): the thread then touches nothing when its request returns, and ends.
    pub upload_abandoned: AtomicBool,
}

impl Shared {
    /// The current track context: a shared snapshot, cheap to take on every `track()`.
    pub fn context(&self) -> Arc<TrackContext> {
        read(&self.context).clone()
    }

    /// Replaces the track context with a changed copy (snapshots already taken keep theirs).
    pub fn update_context(&self, change: impl FnOnce(&mut TrackContext)) {
        let mut current = write(&self.context);
        change(Arc::make_mut(&mut current));
    }

    /// Makes `found` the click later events carry, unless collection is disabled, the click
    /// kept arrived later (the newer wins), or `found` is the install referrer's and a click is
    /// kept. The log line about an unusable one names the source, never the value. The kept
    /// click, for the store worker to write to the click file.
    pub fn keep_click(&self, found: Found, arrived_at: i64, source: Source) -> Option<StoredClick> {
        let from = match source {
            Source::OpenedUrl => "an opened URL",
            Source::InstallReferrer => "the install referrer",
        };
        let click_id = match found {
            Found::Absent => return None,
            Found::Invalid(rule) => {
                self.logger.log(
                    LogLevel::Warn,
                    format!("ignored the click id (epik) of {from}: {rule}"),
                );
                return None;
            }
            Found::ClickId(click_id) => click_id,
        };
        let click = StoredClick {
            click_id,
            arrived_at,
        };
        let mut kept = false;
        self.update_context(|c| {
            let newer_kept = c
                .click
                .as_ref()
                .is_some_and(|k| k.arrived_at > arrived_at || source == Source::InstallReferrer);
            if c.privacy.collection_enabled && !newer_kept {
                c.click = Some(click.clone());
                kept = true;
            }
        });
        kept.then_some(click)
    }

    /// `text` without the current token: every message the SDK keeps or shows goes through
    /// this (or [`Shared::server_text`]), like every log line through the logger.
    pub fn redact(&self, text: String) -> String {
        redact(text, &lock(&self.token))
    }

    /// Text that came from the server (a message, an error, a warning), as the SDK keeps it:
    /// without the token and at most [`MAX_SERVER_TEXT`] bytes. The one place such text is
    /// bounded, before it is stored, logged, reported to the listener or shown.
    pub fn server_text(&self, text: String) -> String {
        truncate_text(self.redact(text), MAX_SERVER_TEXT)
    }

    /// Events waiting anywhere: counted by the store worker (stored and in its memory), plus
    /// those still in its channel. What a flush reports as `remaining`.
    pub fn waiting(&self) -> u64 {
        let counted = self.queued.load(Ordering::SeqCst);
        let capacity = self.settings.max_queued;
        let in_channel = self.queued_in_channel.load(Ordering::SeqCst);
        within_capacity(counted, in_channel, capacity)
    }

    /// True once shutdown gave up waiting for the upload thread.
    pub fn upload_abandoned(&self) -> bool {
        self.upload_abandoned.load(Ordering::SeqCst)
    }

    /// The current erase count (see [`Shared::erase_epoch`]).
    pub fn erase_epoch(&self) -> u64 {
        self.erase_epoch.load(Ordering::SeqCst)
    }

    /// Makes every batch handed out so far stale: called when an erase is asked, and again
    /// once it is done.
    pub fn begin_erase(&self) {
        self.erase_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Records a caught panic on a worker thread.
    pub fn note_panic(&self, thread: &str) {
        self.worker_panics.fetch_add(1, Ordering::Relaxed);
        self.logger.log(
            LogLevel::Error,
            format!("internal fault caught on the {thread} thread; it keeps running"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::within_capacity;

    #[test]
    fn waiting_events_are_counted_within_the_capacity() {
        // (counted, on their way, capacity, waiting)
        let table = [
            (0, 0, 10, 0),
            (3, 4, 10, 7),
            (8, 4, 10, 10),
            (12, 4, 10, 12),
            (u64::MAX, 1, u64::MAX, u64::MAX),
        ];
        for (counted, more, capacity, waiting) in table {
            assert_eq!(
                within_capacity(counted, more, capacity),
                waiting,
                "{counted} + {more} within {capacity}"
            );
        }
    }
}
