//! What the store worker can be asked to do, and what it answers. Every command goes over the
//! worker's one channel and runs in the order sent (see the threading rules in `core`).

use std::sync::mpsc::Sender;

use crate::core::error::StoreFailure;
use crate::core::install::Launch;
use crate::core::model::{DeadLetter, FlushReport};
use crate::core::record::{PendingEvent, QueuedEvent, Resolution};
use crate::core::store::{Counter, StoredSettings};

/// What the worker knows, for diagnostics and scheduling.
#[derive(Debug, Clone, Default)]
pub struct StoreSnapshot {
    /// Events queued (committed and in memory, after the evictions the next commit makes).
    pub queued: u64,
    /// Creation time of the oldest queued event.
    pub oldest_created_at: Option<i64>,
    /// Dead letters kept.
    pub dead_lettered: u64,
    /// Newest dead letters.
    pub recent_dead_letters: Vec<DeadLetter>,
    /// Counter values, by counter.
    pub counters: Vec<(Counter, u64)>,
    /// Stored backoff deadline, Unix milliseconds.
    pub not_before: i64,
}

/// Reply channel of a command.
pub type Reply<T> = Sender<Result<T, StoreFailure>>;

/// The answer to [`Command::TakeBatch`].
pub struct Batch {
    /// Due events, oldest first.
    pub events: Vec<QueuedEvent>,
    /// Events queued in all (due or not).
    pub queued: u64,
    /// The highest row id committed so far.
    pub max_row: i64,
    /// For a short batch: when the earliest event not yet due falls due (Unix milliseconds).
    pub next_retry_at: Option<i64>,
    /// The stored backoff deadline (Unix milliseconds), so an uploader that could not read it
    /// at start (storage was failing then) still honours it.
    pub stored_not_before: i64,
    /// The erase count when the batch was read: once it changed, the batch is not sent.
    pub erase_epoch: u64,
}

/// The answer to [`Command::Resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Events still queued.
    pub queued: u64,
    /// The highest row id committed so far.
    pub max_row: i64,
}

/// A caller's `flush()`, as the store worker registers it with the uploader once everything
/// tracked before it is committed.
pub struct FlushRequest {
    /// Monotonic clock time (milliseconds) when the caller stops waiting.
    pub deadline_ms: i64,
    /// Delivery counters when the flush began, to report the difference.
    pub start: FlushReport,
    /// Where the answer goes: the report, or the storage failure that stopped it.
    pub reply: Reply<FlushReport>,
}

/// What the store worker can be asked to do.
pub enum Command {
    /// Queue an event.
    Track(PendingEvent),
    /// A cold start: decide install or open (or hold it for consent or the tracking prompt).
    Launch(Launch),
    /// Decide the held launch again: consent came, the prompt was answered or its wait ran out.
    ReleaseLaunch,
    /// Drop expired events, then return up to `limit` due events queued after `after_row`.
    TakeBatch {
        /// Maximum events.
        limit: usize,
        /// Only rows after this one (0: from the oldest); skips a batch still in flight.
        after_row: i64,
        /// Reply.
        reply: Reply<Batch>,
    },
    /// Apply an attempt's outcome, and store the backoff deadline.
    Resolve {
        /// The outcome.
        resolution: Resolution,
        /// New backoff deadline, if it changed (0 clears it).
        not_before: Option<i64>,
        /// Reply: what is still queued.
        reply: Reply<Resolved>,
    },
    /// Store the last `server - wall` offset learned (milliseconds), for the next start.
    SaveServerOffset(i64),
    /// Read the remote settings kept in the buffer (none if the relay was never asked).
    LoadRemoteSettings(Reply<Option<StoredSettings>>),
    /// Keep what the last remote settings fetch learned.
    SaveRemoteSettings(StoredSettings),
    /// Make every queued event due and clear the backoff deadline.
    MakeAllDue,
    /// Delete every queued event (collection disabled), and the kept click id.
    Purge,
    /// Make the click file beside the buffer hold the track context's click id (or none).
    SyncClick,
    /// Delete queued and dead-lettered events and the kept click id (the custom-name registry
    /// stays: the 15-name limit counts it).
    Forget(Reply<()>),
    /// Delete the dead letters.
    ClearDeadLetters(Reply<()>),
    /// Report what the worker knows.
    Snapshot(Reply<StoreSnapshot>),
    /// Commit everything tracked so far. Reply: the highest row id committed.
    Sync(Reply<i64>),
    /// Commit everything tracked so far, then hand the flush to the uploader with the highest
    /// row id committed as its watermark (or answer it with the storage failure at once).
    Flush(FlushRequest),
    /// A manual clock moved: do what is due on the worker's deadlines now.
    Tick,
    /// Commit what waits, close the database and end the worker; the reply comes after the
    /// file and its lock are released (shutdown, or a dropped client).
    Close(Reply<()>),
}
