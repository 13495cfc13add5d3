//! What an event snapshots at track time: the app and device facts, the configuration's
//! event-level settings, the kept click id, and the privacy state as the core applies it.
//! One shared, immutable snapshot per change (`Shared::context`), so `track()` reads it
//! without copying and a later change never alters an event already built.

use crate::core::click_id::StoredClick;
use crate::core::model::{AppInfo, DeviceInfo};

/// The privacy state as the core applies it: the advertising ID already hashed (or dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedPrivacy {
    /// Limit Ad Tracking / Ads Personalization opt-out.
    pub opt_out: bool,
    /// SHA-256 of the advertising ID; always `None` while opted out.
    pub hashed_advertising_id: Option<String>,
    /// Limited Data Processing.
    pub limited_data_processing: bool,
    /// Consent to collect at all.
    pub collection_enabled: bool,
    /// No user-data identifier may leave the device (iOS without tracking authorization):
    /// only `opt_out`, the client IP and the user agent stay in `user_data`.
    pub withhold_user_data: bool,
    /// The tracking prompt is still unanswered on iOS: a first launch's install may wait.
    pub authorization_pending: bool,
}

/// Everything an event snapshots at track time.
#[derive(Debug, Clone)]
pub struct TrackContext {
    /// `action_source`.
    pub action_source: &'static str,
    /// `partner_name`, when it follows the API's convention (docs/ARCHITECTURE.md §10).
    pub partner_name: Option<String>,
    /// The configured `partner_name` broke the convention and is left out of every event
    /// (lenient mode; strict mode refuses the configuration).
    pub partner_name_dropped: bool,
    /// App facts.
    pub app: AppInfo,
    /// Device facts.
    pub device: DeviceInfo,
    /// The privacy state.
    pub privacy: AppliedPrivacy,
    /// `max_event_age_secs`.
    pub max_event_age_secs: i64,
    /// The newest click id from an opened URL or the install referrer, if any.
    pub click: Option<StoredClick>,
    /// How long a click id is added to events after it arrived, seconds.
    pub click_id_ttl_secs: i64,
    /// When the install began, as the install referrer said (Unix seconds).
    pub install_begin_time: Option<i64>,
    /// A first launch's install waits for the install referrer (until it is answered or the
    /// wait runs out).
    pub install_referrer_pending: bool,
    /// Refuse events with invalid optional fields instead of dropping the fields.
    pub strict_validation: bool,
}
