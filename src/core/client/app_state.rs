//! What the app tells the SDK about its state: the privacy state (consent given or withdrawn,
//! an answered tracking prompt), the device, opened URLs and the install referrer (click ids),
//! the token, and the lifecycle (launch, foreground, background, network back).

use std::sync::atomic::Ordering;

use crate::core::app_device_info;
use crate::core::click_id::{self, Source};
use crate::core::config::validate_device;
use crate::core::error::{ConversionsError, Result};
use crate::core::install::Launch;
use crate::core::lifecycle::lifecycle_event;
use crate::core::model::{DeviceInfo, EventName, InstallReferrer, LogLevel, PrivacyState};
use crate::core::privacy;
use crate::core::sync::lock;
use crate::core::worker::Command;

use super::{report_left_out_facts, Client};

impl Client {
    /// Applies a new privacy state; withdrawing consent purges the buffer. Consent given
    /// records what this process missed without it (its launch, a return to the foreground);
    /// an answered tracking prompt releases a first launch's install waiting for it.
    pub fn set_privacy(&self, state: &PrivacyState) -> Result<()> {
        self.running()?;
        let (applied, malformed) = privacy::apply(state, self.shared.settings.tracking_policy);
        let before = self.shared.context().privacy.clone();
        if malformed {
            self.shared
                .malformed_advertising_ids
                .fetch_add(1, Ordering::Relaxed);
            self.shared
                .logger
                .log(LogLevel::Warn, "advertising id is not a UUID; ignored");
        }
        let purge = !applied.collection_enabled;
        let consent_given = applied.collection_enabled && !before.collection_enabled;
        let prompt_answered = before.authorization_pending && !applied.authorization_pending;
        self.shared.update_context(|c| c.privacy = applied);
        if purge {
            // At once: a batch the uploader holds is stale from now on, even if consent
            // comes back before the store worker has purged.
            self.shared.begin_erase();
            self.shared.update_context(|c| c.click = None);
            return self.send(Command::Purge);
        }
        if consent_given || prompt_answered {
            self.send(Command::ReleaseLaunch)?;
        }
        if consent_given && self.lifecycle.consent_given() {
            self.record(lifecycle_event(EventName::AppOpen, None, None))?;
        }
        self.shared.signal.kick();
        Ok(())
    }

    /// Replaces the device facts snapshotted onto later events.
    pub fn update_device(&self, device: DeviceInfo) -> Result<()> {
        self.running()?;
        validate_device(&device)?;
        let app = self.shared.context().app.clone();
        report_left_out_facts(&self.shared, app_device_info::fact_warnings(&app, &device));
        self.shared.update_context(|c| c.device = device);
        Ok(())
    }

    /// Keeps the click id (`epik`) of an opened URL for later events; true when one was kept.
    pub fn handle_open_url(&self, url: &str) -> Result<bool> {
        let found = click_id::click_id_from_url(url);
        let arrived_at = self.shared.clock.now_secs();
        match self.shared.keep_click(found, arrived_at, Source::OpenedUrl) {
            Some(_) => self.send(Command::SyncClick).map(|()| true),
            None => Ok(false),
        }
    }

    /// Applies what the install referrer said (`None`: it cannot be read), and releases a
    /// first launch's install waiting for it.
    pub fn set_install_referrer(&self, referrer: Option<InstallReferrer>) -> Result<()> {
        let referrer = referrer.unwrap_or_default();
        let now = self.shared.clock.now_secs();
        let found = referrer
            .referrer
            .as_deref()
            .map_or(click_id::Found::Absent, click_id::click_id_from_query);
        let clicked_at = referrer.click_time.filter(|at| (1..=now).contains(at));
        let arrived_at = clicked_at.unwrap_or(now);
        let click = self
            .shared
            .keep_click(found, arrived_at, Source::InstallReferrer);
        let install_begin_time = referrer
            .install_begin_time
            .filter(|at| (1..=now).contains(at));
        self.shared.update_context(|c| {
            c.install_referrer_pending = false;
            c.install_begin_time = c.install_begin_time.or(install_begin_time);
        });
        if click.is_some() {
            self.send(Command::SyncClick)?;
        }
        // Decided again: held still if the tracking prompt is also unanswered.
        self.send(Command::ReleaseLaunch)?;
        self.shared.signal.kick();
        Ok(())
    }

    /// Replaces the token and resumes delivery if it was paused.
    pub fn set_token(&self, token: String) -> Result<()> {
        self.running()?;
        if token.trim().is_empty() {
            return Err(ConversionsError::invalid("token", "must not be empty"));
        }
        *lock(&self.shared.token) = token;
        self.shared.signal.reset_backoff();
        Ok(())
    }

    /// A cold start: records app_install (first launch of an install) or app_open. Without
    /// consent the launch is held for this process and recorded when consent comes; while
    /// remote settings turn the SDK off it is not recorded.
    pub fn on_launch(&self) -> Result<()> {
        self.running()?;
        // Turned off by remote settings: this launch is not recorded (an install is recorded
        // at the first launch after collection is back on).
        if self.shared.remote.is_off() {
            return Ok(());
        }
        let collection_enabled = self.shared.context().privacy.collection_enabled;
        if !self.lifecycle.launch(collection_enabled) {
            return Ok(());
        }
        let now_ms = self.shared.clock.monotonic_ms();
        let wait = self.shared.settings.first_launch_wait_ms;
        self.send(Command::Launch(Launch {
            launched_at: self.shared.clock.now_secs(),
            hold_until_ms: (wait > 0).then(|| now_ms.saturating_add(wait)),
        }))
    }

    /// The app came to the foreground: app_open after a long enough background (remembered
    /// until consent comes when collection is disabled).
    pub fn on_foreground(&self) -> Result<()> {
        self.running()?;
        let min = self.shared.settings.min_background_for_open_ms;
        let collection_enabled = self.shared.context().privacy.collection_enabled;
        if self
            .lifecycle
            .foreground(min, self.shared.clock.monotonic_ms(), collection_enabled)
        {
            self.record(lifecycle_event(EventName::AppOpen, None, None))?;
        }
        Ok(())
    }

    /// The app went to the background: send what waits.
    pub fn on_background(&self) -> Result<()> {
        self.running()?;
        self.lifecycle.background(self.shared.clock.monotonic_ms());
        self.shared.signal.kick();
        Ok(())
    }

    /// Connectivity came back: retry now instead of waiting out the backoff.
    pub fn on_network_available(&self) -> Result<()> {
        self.running()?;
        if lock(&self.shared.status).paused_reason.is_none() {
            self.shared.signal.reset_backoff();
        }
        Ok(())
    }
}
