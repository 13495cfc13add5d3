//! `ConversionsClient`, the object Swift, Kotlin and Python apps hold. A thin shell over
//! `core::client::Client`: it converts timeouts from milliseconds, nothing more.

use std::sync::Arc;
use std::time::Duration;

use crate::core::client::Client;
use crate::core::clock::Clock;
use crate::core::error::ConversionsError;
use crate::core::log::LogSink;
use crate::core::model::{
    AppInfo, ClientConfig, DeviceInfo, Diagnostics, Event, FlushReport, InstallReferrer,
    PrivacyState, TrackResult,
};
use crate::core::shared::DeliveryListener;
use crate::core::upload::transport::HttpTransport;

/// The conversion-tracking SDK. Create one per app process (one per database file), early
/// in start-up: construction returns at once and never touches disk on the calling thread.
///
/// `track` is safe on the main thread (no disk or network I/O). `flush`, `forget` and
/// `shutdown` wait, bounded by their timeout: call them from a background task.
#[derive(uniffi::Object)]
pub struct ConversionsClient {
    inner: Client,
}

#[uniffi::export]
impl ConversionsClient {
    /// Starts the SDK. Fails only for an invalid configuration or device facts (naming the
    /// field), or when another client in this process already uses `config.database_path`.
    #[uniffi::constructor]
    pub fn new(
        config: ClientConfig,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
    ) -> Result<Arc<Self>, ConversionsError> {
        Ok(Arc::new(ConversionsClient {
            inner: Client::new(config, app, device, privacy)?,
        }))
    }

    /// Starts the SDK like the primary constructor, sending every request through
    /// `transport`: the app's platform HTTP stack (`HttpURLConnection` or OkHttp on Android,
    /// `URLSession` on iOS), so the system's proxies, trusted CAs, certificate pinning and
    /// network rules apply. The mobile libraries have no built-in transport: there, this is
    /// how a client is made (the Kotlin and Swift layers pass their default transport).
    #[uniffi::constructor]
    pub fn with_transport(
        config: ClientConfig,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Arc<Self>, ConversionsError> {
        Ok(Arc::new(ConversionsClient {
            inner: Client::with_transport(config, app, device, privacy, transport)?,
        }))
    }

    /// Records an event: validates it, hashes its identifiers and queues it, without I/O on
    /// this thread. Returns its event id, or `recorded = false` when collection is disabled.
    /// Bad input fails with `InvalidInput` naming the field and the rule; nothing is stored.
    pub fn track(&self, event: Event) -> Result<TrackResult, ConversionsError> {
        self.inner.track(event)
    }

    /// Applies the user's privacy choices. Opting out removes advertising ids from queued
    /// events before they are sent; disabling collection purges the buffer.
    pub fn set_privacy(&self, privacy: PrivacyState) -> Result<(), ConversionsError> {
        self.inner.set_privacy(&privacy)
    }

    /// Replaces the device facts (carrier, wifi, ...) snapshotted onto later events.
    pub fn update_device(&self, device: DeviceInfo) -> Result<(), ConversionsError> {
        self.inner.update_device(device)
    }

    /// Call with every URL that opens the app (an App Link or universal link, a custom scheme,
    /// the launch intent's data): keeps the Pinterest click id (`epik`, in the query or the
    /// fragment) with the time it arrived, and adds it as `user_data.click_id` to every later
    /// event without its own for `click_id_ttl_secs` (30 days). A newer click replaces an older
    /// one. True when a click id was kept; false when the URL has none, an unusable one
    /// (logged), or collection is disabled. No I/O on this thread.
    pub fn handle_open_url(&self, url: String) -> Result<bool, ConversionsError> {
        self.inner.handle_open_url(&url)
    }

    /// Android: what the Play Install Referrer said (`null`: it cannot be read, or gave up).
    /// Its `epik` becomes the click id of the install (and of later events, as from
    /// `handle_open_url`, counted from the click), its install-begin time `app_info.install_time`.
    /// Releases a first launch's `app_install` waiting for it
    /// (`first_launch_wait_for_install_referrer_secs`).
    pub fn set_install_referrer(
        &self,
        referrer: Option<InstallReferrer>,
    ) -> Result<(), ConversionsError> {
        self.inner.set_install_referrer(referrer)
    }

    /// Replaces the bearer token; resumes delivery if a rejected token had paused it.
    pub fn set_token(&self, token: String) -> Result<(), ConversionsError> {
        self.inner.set_token(token)
    }

    /// Call on every cold start: records app_install on the first launch of an install
    /// (exactly once, ever) and app_open on later launches.
    pub fn on_launch(&self) -> Result<(), ConversionsError> {
        self.inner.on_launch()
    }

    /// Call when the app returns to the foreground: records app_open after at least
    /// `min_background_for_open_secs` in the background.
    pub fn on_foreground(&self) -> Result<(), ConversionsError> {
        self.inner.on_foreground()
    }

    /// Call when the app goes to the background: waiting events are sent.
    pub fn on_background(&self) -> Result<(), ConversionsError> {
        self.inner.on_background()
    }

    /// Call when connectivity returns: retries at once instead of waiting out the backoff.
    pub fn on_network_available(&self) -> Result<(), ConversionsError> {
        self.inner.on_network_available()
    }

    /// Sends everything due and reports what happened, waiting at most `timeout_ms`
    /// (retries inside that time honour the backoff). Blocks: call it off the main thread.
    pub fn flush(&self, timeout_ms: u64) -> Result<FlushReport, ConversionsError> {
        self.inner.flush(Duration::from_millis(timeout_ms))
    }

    /// Deletes every queued and dead-lettered event and identifier (the install record stays,
    /// so renewed consent does not record a second app_install).
    pub fn forget(&self, timeout_ms: u64) -> Result<(), ConversionsError> {
        self.inner.forget(Duration::from_millis(timeout_ms))
    }

    /// Deletes the dead letters.
    pub fn clear_dead_letters(&self, timeout_ms: u64) -> Result<(), ConversionsError> {
        self.inner
            .clear_dead_letters(Duration::from_millis(timeout_ms))
    }

    /// The SDK's health: queue, dead letters, drops by reason, last attempt, pause, storage.
    /// Reflects every earlier call: it waits for the store worker (normally well under a
    /// millisecond, at most 2 s while the disk is stalled), so prefer a background thread.
    pub fn diagnostics(&self) -> Diagnostics {
        self.inner.diagnostics()
    }

    /// Sets or removes the listener that hears each request's outcome (on the upload thread).
    /// Returns once the previous listener is no longer running or held on an SDK thread (at
    /// most 5 s): after `set_delivery_listener(null)` it is never called again.
    pub fn set_delivery_listener(&self, listener: Option<Arc<dyn DeliveryListener>>) {
        self.inner.set_delivery_listener(listener);
    }

    /// Sets or removes the log sink (lines at or above `config.log_level`). Returns once the
    /// previous sink is no longer running or held on an SDK thread (at most 5 s): after
    /// `set_log_sink(null)` it is never called again.
    pub fn set_log_sink(&self, sink: Option<Arc<dyn LogSink>>) {
        self.inner.set_log_sink(sink);
    }

    /// Commits everything tracked, stops the SDK's threads and closes and releases the
    /// database, waiting at most `timeout_ms`. Events not yet sent stay in the buffer for the
    /// next start. A request still in flight after half the timeout is abandoned (its thread
    /// ends when the request returns, changing nothing). From the moment it begins, every
    /// other call fails with `ShutDown`; a second `shutdown` returns `Ok` once the file is
    /// released. Dropping the client without it closes the file the same way.
    pub fn shutdown(&self, timeout_ms: u64) -> Result<(), ConversionsError> {
        self.inner.shutdown(Duration::from_millis(timeout_ms))
    }
}

/// Rust-only entry points for tests that drive time themselves (not exported to the apps).
impl ConversionsClient {
    /// [`ConversionsClient::new`] reading all time from `clock`: with a
    /// [`crate::core::clock::ManualClock`], days of a phone's life run in seconds.
    pub fn with_clock(
        config: ClientConfig,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, ConversionsError> {
        Ok(Arc::new(ConversionsClient {
            inner: Client::with_clock(config, app, device, privacy, clock)?,
        }))
    }

    /// [`ConversionsClient::with_transport`] reading all time from `clock`.
    pub fn with_clock_and_transport(
        config: ClientConfig,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
        clock: Arc<dyn Clock>,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Arc<Self>, ConversionsError> {
        Ok(Arc::new(ConversionsClient {
            inner: Client::start(config, app, device, privacy, clock, transport)?,
        }))
    }

    /// Waits (at most `timeout_ms`, real time) until every earlier call is committed and the
    /// upload thread sleeps with nothing due at the clock's time. False if it did not.
    pub fn settle(&self, timeout_ms: u64) -> bool {
        self.inner.settle(Duration::from_millis(timeout_ms))
    }
}
