//! The records the core keeps about an event, below the store and the threads: what
//! `track()` hands to the store ([`PendingEvent`]), what the store hands back for sending
//! ([`QueuedEvent`], with its [`flags`]), and what one delivery attempt decided for each
//! row ([`Resolution`]).
//!
//! Plain data with no I/O and no rules beyond their own fields: the store, the privacy gate,
//! the upload policy and both threads read them, and they import nothing above the wire shape.

use crate::core::model::EventName;
use crate::core::wire::WireEvent;

/// An event ready to be stored: its wire JSON plus what the queue needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    /// `event_id`.
    pub event_id: String,
    /// The caller gave `event_id` (a generated UUID v4 cannot repeat).
    pub chosen_id: bool,
    /// `event_name` as sent.
    pub event_name: String,
    /// `event_time`.
    pub event_time: i64,
    /// The wire JSON.
    pub body: String,
    /// The event has `em`.
    pub has_email: bool,
    /// The event has `hashed_maids`.
    pub has_advertising_id: bool,
    /// The event has both client IP and user agent.
    pub has_ip_and_user_agent: bool,
    /// Recorded with `opt_out: true`.
    pub opted_out: bool,
    /// Recorded with `opt_out_type: ldp`.
    pub limited_data_processing: bool,
    /// Recorded without user-data identifiers (iOS without tracking authorization).
    pub user_data_withheld: bool,
    /// The lowercased advertiser-defined name, for the 15-name limit.
    pub custom_name: Option<String>,
}

impl PendingEvent {
    /// Builds the stored form of a finished wire event.
    pub fn from_wire(
        wire: &WireEvent,
        chosen_id: bool,
        custom_name: Option<String>,
    ) -> PendingEvent {
        let user = &wire.user_data;
        PendingEvent {
            event_id: wire.event_id.clone(),
            chosen_id,
            event_name: wire.event_name.clone(),
            event_time: wire.event_time,
            body: wire.to_json(),
            has_email: !user.em.is_empty(),
            has_advertising_id: !user.hashed_maids.is_empty(),
            has_ip_and_user_agent: user.client_ip_address.is_some()
                && user.client_user_agent.is_some(),
            opted_out: wire.opt_out == Some(true),
            limited_data_processing: wire
                .custom_data
                .as_ref()
                .and_then(|c| c.opt_out_type.as_deref())
                == Some("ldp"),
            user_data_withheld: false,
            custom_name,
        }
    }

    /// False for an app_install: eviction (from memory or from the queue) never drops the one
    /// install an install records.
    pub fn evictable(&self) -> bool {
        self.event_name != EventName::AppInstall.wire_name()
    }

    /// The [`flags`] bits stored with the event.
    pub fn flags(&self) -> i64 {
        [
            (self.has_email, flags::EMAIL),
            (self.has_advertising_id, flags::ADVERTISING_ID),
            (self.has_ip_and_user_agent, flags::IP_AND_USER_AGENT),
            (self.opted_out, flags::OPTED_OUT),
            (self.limited_data_processing, flags::LIMITED_DATA_PROCESSING),
            (self.chosen_id, flags::CHOSEN_ID),
            (self.user_data_withheld, flags::USER_DATA_WITHHELD),
        ]
        .into_iter()
        .filter(|(set, _)| *set)
        .fold(0, |f, (_, bit)| f | bit)
    }
}

/// A stored event, as read for sending.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedEvent {
    /// Row id (queue order).
    pub row: i64,
    /// `event_id`.
    pub event_id: String,
    /// `event_name`.
    pub event_name: String,
    /// The wire JSON.
    pub body: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Bit flags from [`flags`].
    pub flags: i64,
    /// `event_time` as recorded (never changed), Unix seconds.
    pub event_time: i64,
    /// The event's time by the server's clock, as estimated when it was stored.
    pub server_time: Option<i64>,
    /// When (by the server's clock) a request with it first went unanswered.
    pub unanswered_since: Option<i64>,
}

/// Bit flags stored with each event (see `PendingEvent`).
pub mod flags {
    /// Has `em`.
    pub const EMAIL: i64 = 1;
    /// Has `hashed_maids`.
    pub const ADVERTISING_ID: i64 = 2;
    /// Has client IP and user agent.
    pub const IP_AND_USER_AGENT: i64 = 4;
    /// Recorded opted out.
    pub const OPTED_OUT: i64 = 8;
    /// Recorded with Limited Data Processing.
    pub const LIMITED_DATA_PROCESSING: i64 = 16;
    /// The event_id was chosen by the app (or derived, as app_install's), not generated: only
    /// such ids can repeat, so only they are kept unique while queued.
    pub const CHOSEN_ID: i64 = 32;
    /// Recorded without user-data identifiers (iOS without tracking authorization).
    pub const USER_DATA_WITHHELD: i64 = 64;
    /// The server refused the event as in the future once: it was given the server's time
    /// learned from that answer, and is not given another chance.
    pub const REFUSED_FUTURE: i64 = 128;
}

/// The outcome of one delivery attempt, by queue row.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Resolution {
    /// Processed by the server: deleted.
    pub delivered: Vec<i64>,
    /// Refused by the server: dead-lettered with the message.
    pub dead: Vec<(i64, String)>,
    /// Unsendable directly to the API (no identity option): deleted and counted.
    pub no_identity: Vec<i64>,
    /// A stored body that cannot be read (so cannot be narrowed to the privacy state of the
    /// moment): deleted unsent and counted as dropped invalid.
    pub unreadable: Vec<i64>,
    /// Kept for a retry at `retry_at_ms`.
    pub retry: Vec<i64>,
    /// Monotonic milliseconds of the retry.
    pub retry_at_ms: i64,
    /// The request got no answer: when (server's clock, Unix seconds), noted on the retried
    /// events that have no such time yet.
    pub unanswered_at: Option<i64>,
    /// Refused as in the future: sent again at once, with the server's time of now.
    pub refused_future: Vec<i64>,
    /// Server warnings on processed events.
    pub warnings: u64,
    /// Processed events sent more than an hour after they happened.
    pub sent_late: u64,
    /// Processed events re-sent after the dedup window, an earlier request unanswered.
    pub resent_after_dedup_window: u64,
}
