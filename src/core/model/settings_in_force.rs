//! The exported view of the settings the SDK follows now, and where each came from
//! (`Diagnostics::settings_in_force`). Plain records: the decisions are in `remote_settings::narrow`.

/// Where a setting in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum SettingSource {
    /// The SDK's default: neither the app's configuration nor remote settings changed it.
    #[default]
    Default,
    /// The app's `ClientConfig`.
    App,
    /// The remote settings document from the app's backend, which narrowed the app's value.
    Remote,
}

/// The settings the SDK follows now and where each came from. Remote settings (fetched from
/// the app's relay) can only narrow the app's configuration: turn collection off, lengthen
/// the flush interval, lower the batch size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct SettingsInForce {
    /// False while remote settings turn the SDK off (the kill switch, or this SDK version in
    /// `disabled_sdk_versions`): `track()` records nothing and nothing is sent; what was
    /// queued before stays queued and is sent once collection is back on. The user's consent
    /// (`PrivacyState.collection_enabled`) is separate and always wins.
    pub collection_enabled: bool,
    /// `Remote` while remote settings turn the SDK off, else `Default`.
    pub collection_enabled_source: SettingSource,
    /// Why remote settings turned the SDK off, if they do.
    pub disabled_reason: Option<String>,
    /// Seconds between sends of waiting events.
    pub flush_interval_secs: u64,
    /// Where `flush_interval_secs` came from.
    pub flush_interval_source: SettingSource,
    /// Events per request at most.
    pub max_batch: u32,
    /// Where `max_batch` came from.
    pub max_batch_source: SettingSource,
    /// How long a fetched document stays fresh before the SDK asks again, seconds.
    pub settings_ttl_secs: u64,
    /// Where `settings_ttl_secs` came from (`Default` or `Remote`).
    pub settings_ttl_source: SettingSource,
    /// True when the SDK fetches remote settings: only when its endpoint is a relay.
    pub remote_fetch_enabled: bool,
    /// Unix seconds when the document in force was fetched or last confirmed unchanged;
    /// none while no document was ever received.
    pub remote_fetched_at: Option<i64>,
    /// Documents ignored whole since start (not JSON, larger than 4 KB, nested too deep,
    /// a known field of the wrong type or negative): each changed nothing.
    pub remote_documents_ignored: u64,
    /// Why the last ignored document was ignored (the field and the rule).
    pub last_ignored_reason: Option<String>,
}
