//! State shared by the caller-facing client, the store worker and the upload thread. Each field
//! has one writer role; readers take short locks and never hold one across I/O.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::core::callback::CallbackSlot;
use crate::core::clock::Clock;
use crate::core::config::Settings;
use crate::core::event_builder::TrackContext;
use crate::core::log::{redact, truncate_text, Logger, MAX_SERVER_TEXT};
use crate::core::model::{BatchOutcome, FlushReport};
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

/// Advertiser-defined names in use, so `track()` can enforce the 15-name limit without
/// touching the disk: the names the store loaded, and every name `track()` accepted since,
/// stored yet or not. A name counts from the moment an event with it is accepted, so the
/// limit holds while storage is unavailable too, and an accepted event is never dropped later
/// for its name.
/// The brief: at most 15 advertiser-defined names per ad account.
pub const MAX_CUSTOM_NAMES: usize = 15;

#[derive(Debug, Default)]
pub struct CustomNames {
    /// Lowercased names.
    pub names: HashSet<String>,
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
        counted.max(counted.saturating_add(in_channel).min(capacity))
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
            crate::core::model::LogLevel::Error,
            format!("internal fault caught on the {thread} thread; it keeps running"),
        );
    }
}
