//! What the client answers: the result of `track`, a flush's report, one request's outcome
//! with each event's, the dead letters and the diagnostics.

use super::settings_in_force::SettingsInForce;

/// What `track` did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct TrackResult {
    /// The event's id (given or generated); the server deduplicates on it.
    pub event_id: String,
    /// False when nothing was recorded: collection is disabled by the privacy state, or
    /// remote settings turned the SDK off (`reason` says which).
    pub recorded: bool,
    /// Optional fields dropped from the event because they broke a rule (the event was kept
    /// without them; `strict_validation` refuses such an event instead), then values kept but
    /// likely wrong, whose rule starts with "kept" (a phone number without its country code).
    pub warnings: Vec<ValidationWarning>,
    /// Why the event was not recorded, when `recorded` is false: the privacy state, or
    /// "turned off by remote settings (...)" naming the setting.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub reason: Option<String>,
}

/// An optional field dropped from an event, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct ValidationWarning {
    /// The field, as named in the API's JSON (e.g. `user_data.ph`, `custom_data.currency`).
    pub field: String,
    /// The rule it broke.
    pub rule: String,
}

/// How many values of one field were dropped as invalid since the SDK started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct FieldCount {
    /// The field, as named in the API's JSON (list positions left out: `custom_data.contents.item_price`).
    pub field: String,
    /// Values dropped.
    pub count: u64,
}

/// What became of one event of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum EventStatus {
    /// The server processed it; it left the buffer.
    Processed,
    /// The server refused it (its `error_message` says why); it was dead-lettered.
    Failed,
    /// It stays queued and goes again after the backoff or pause.
    WillRetry,
    /// The request was refused whole (400 or 413) with this event alone, or past the split
    /// budget: it was dead-lettered with the server's message.
    DeadLettered,
}

/// One event's result within a request, for the delivery listener.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct EventOutcome {
    /// The event id `track` returned.
    pub event_id: String,
    /// The event name as sent (`checkout`, or an advertiser-defined name).
    pub event_name: String,
    /// What became of it.
    pub status: EventStatus,
    /// Why the server refused it, or what went wrong with the request.
    pub error_message: Option<String>,
    /// A warning the server attached to a processed event.
    pub warning_message: Option<String>,
}

/// What a `flush` achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct FlushReport {
    /// Events sent in requests during the flush (retries counted again).
    pub sent: u64,
    /// Events the server reported processed.
    pub processed: u64,
    /// Events the server refused (now dead letters).
    pub failed: u64,
    /// Events still queued when the flush returned.
    pub remaining: u64,
    /// HTTP status of the last request, if one was made.
    pub last_status: Option<u16>,
    /// True when the timeout passed before the flush finished.
    pub timed_out: bool,
}

/// A refused event kept for inspection (without its body).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct DeadLetter {
    /// The event's id.
    pub event_id: String,
    /// The event's name.
    pub event_name: String,
    /// Why the server (or the SDK) refused it.
    pub error_message: String,
    /// When it was dead-lettered, Unix seconds.
    pub dead_lettered_at: i64,
}

/// The SDK's health, for support screens and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct Diagnostics {
    /// Events waiting to be sent.
    pub queued: u64,
    /// Age of the oldest waiting event, seconds.
    pub oldest_queued_age_secs: Option<u64>,
    /// Dead letters kept (at most 1,000).
    pub dead_lettered: u64,
    /// The newest dead letters, newest first (at most 20).
    pub recent_dead_letters: Vec<DeadLetter>,
    /// Events the server reported processed, ever.
    pub delivered: u64,
    /// Warnings the server attached to processed events.
    pub warnings: u64,
    /// Events processed more than an hour after they happened, by the server's clock: the
    /// API reports them as offline conversions, not as app events. They are sent anyway (a
    /// late conversion still counts); a high number means the app sends too rarely or the
    /// device was offline.
    pub sent_late: u64,
    /// Events processed more than 48 hours after a request carrying them went unanswered
    /// (network error, timeout, cut-off answer). The API removes duplicates by event_id
    /// within 48 hours only: had that request reached it, this conversion counts twice.
    /// They are sent anyway, since an unanswered request most often never arrived, and
    /// dropping them would lose the conversion for sure.
    pub resent_after_dedup_window: u64,
    /// Events dropped because they were older than `max_event_age_secs`.
    pub dropped_expired: u64,
    /// Events evicted because the buffer was full.
    pub dropped_evicted: u64,
    /// Events purged because collection was disabled or `forget` was called.
    pub dropped_purged: u64,
    /// Events dropped as invalid after they were accepted (an event_id the app chose that is
    /// already queued).
    pub dropped_invalid: u64,
    /// Events not sent because, sent directly to the API, they meet no identity option
    /// (em, hashed_maids, or client IP plus user agent).
    pub dropped_no_identity: u64,
    /// First launches of users who installed before the SDK (no app_install recorded).
    pub existing_user_installs: u64,
    /// Advertising ids ignored because they were not UUIDs.
    pub malformed_advertising_ids: u64,
    /// Unix seconds of the last delivery attempt.
    pub last_attempt_time: Option<i64>,
    /// HTTP status of the last attempt (none for a network error).
    pub last_status: Option<u16>,
    /// Last delivery error, redacted.
    pub last_error: Option<String>,
    /// Unix seconds of the next scheduled attempt, on the wall clock of the moment this was
    /// read (the wait itself runs on a clock that the device's time setting does not move).
    pub next_attempt_time: Option<i64>,
    /// Why delivery is paused (token or configuration rejected), if it is.
    pub paused_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: u64,
    /// The current storage problem (read-only, full, corrupt), if any.
    pub storage_error: Option<String>,
    /// Times a corrupt database file was moved aside and recreated.
    pub database_recoveries: u64,
    /// Internal faults caught on the worker threads (should stay 0).
    pub worker_panics: u64,
    /// Times the upload thread woke since start: zero while nothing is queued and nothing
    /// is scheduled, one per scheduled attempt or signal otherwise.
    pub upload_wakeups: u64,
    /// Invalid optional values dropped from events since start, by field.
    pub invalid_fields: Vec<FieldCount>,
    /// The settings in force (collection, flush interval, batch size, remote settings' TTL),
    /// where each came from (default, app, remote), and when remote settings were fetched.
    pub settings_in_force: SettingsInForce,
}

/// One request's outcome, for the delivery listener.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct BatchOutcome {
    /// Events in the request.
    pub events: u32,
    /// HTTP status, none for a network error.
    pub status: Option<u16>,
    /// Events processed.
    pub processed: u32,
    /// Events refused (dead-lettered).
    pub failed: u32,
    /// Processed events that carried a warning.
    pub warnings: u32,
    /// True when the events stay queued for a later retry.
    pub will_retry: bool,
    /// A short redacted description of an error, if any.
    pub message: Option<String>,
    /// Each event of the request, in the order sent.
    pub results: Vec<EventOutcome>,
}
