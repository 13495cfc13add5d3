//! The fetch on the upload thread: at start it applies the document kept in the buffer, before
//! anything is sent or fetched; then it asks the relay when a check is due (at start, and on
//! a later wake of the upload thread once the document's TTL has run out), through the same
//! `HttpTransport` as the events, and keeps what it learned in the buffer.
//!
//! It never schedules a wake of its own: an idle SDK costs nothing for remote settings, and a
//! running one checks again the next time it wakes for its events. The decisions are in
//! `settings_fetch` (pure); this only moves bytes and state.

use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use crate::core::model::LogLevel;
use crate::core::model::SettingsInForce;
use crate::core::remote_settings::document::parse;
use crate::core::shared::Shared;
use crate::core::store::StoredSettings;
use crate::core::sync::lock;
use crate::core::upload::settings_fetch::{self as fetch, is_due, next_check_at, Answer};
use crate::core::upload::transport::{HttpTransport, TransportError};
use crate::core::worker::Command;

/// Fetches remote settings for one client (only when its endpoint is a relay).
pub struct SettingsFetcher {
    transport: Arc<dyn HttpTransport>,
    url: String,
    timeout_ms: u64,
    /// What the buffer holds (kept in memory too, so a failing store changes no decision).
    kept: StoredSettings,
    /// The relay was asked at least once (or a kept row says when it was).
    checked: bool,
}

impl SettingsFetcher {
    /// A fetcher for `shared`'s relay, or `None` when the endpoint is not a relay.
    pub fn new(shared: &Shared, transport: Arc<dyn HttpTransport>) -> Option<SettingsFetcher> {
        let settings = &shared.settings;
        if !settings.sends_through_relay {
            return None;
        }
        Some(SettingsFetcher {
            transport,
            url: fetch::settings_url(&settings.config.endpoint, &settings.config.ad_account_id),
            timeout_ms: u64::try_from(settings.request_timeout.as_millis()).unwrap_or(u64::MAX),
            kept: StoredSettings::default(),
            checked: false,
        })
    }

    /// Applies the document kept in the buffer (none, or one that no longer parses: the app's
    /// configuration), before any fetch; returns what is in force.
    pub fn restore(&mut self, shared: &Shared, store: &Sender<Command>) -> SettingsInForce {
        let (reply, answer) = channel();
        if store.send(Command::LoadRemoteSettings(reply)).is_ok() {
            if let Ok(Ok(Some(kept))) = answer.recv() {
                self.kept = kept;
                self.checked = true;
            }
        }
        let document = self.kept.document.as_deref().and_then(|text| {
            parse(text.as_bytes())
                .map_err(|rejection| note_ignored(shared, rejection.to_string()))
                .ok()
        });
        shared.remote.apply(document.as_ref(), self.kept.fetched_at)
    }

    /// When the next check is due, on the monotonic clock (milliseconds): the upload thread's
    /// only wake while remote settings turn the SDK off.
    pub fn next_check_ms(&self, shared: &Shared) -> i64 {
        let clock = shared.clock.as_ref();
        let wait_secs = self
            .kept
            .next_check_at
            .saturating_sub(clock.now_secs())
            .max(0);
        clock
            .monotonic_ms()
            .saturating_add(wait_secs.saturating_mul(1000))
    }

    /// Asks the relay if a check is due; returns what is in force when it changed.
    pub fn refresh_if_due(
        &mut self,
        shared: &Shared,
        store: &Sender<Command>,
    ) -> Option<SettingsInForce> {
        let now = shared.clock.now_secs();
        let checked_at = self.checked.then_some(self.kept.checked_at);
        let next_at = self.checked.then_some(self.kept.next_check_at);
        if !is_due(now, checked_at, next_at) {
            return None;
        }
        let token = lock(&shared.token).clone();
        let request = fetch::request(
            &self.url,
            &token,
            self.kept.etag.as_deref(),
            self.timeout_ms,
        );
        let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.transport.send(request)
        }))
        .unwrap_or_else(|_| {
            Err(TransportError::Other {
                reason: "the transport panicked".into(),
            })
        });
        // Shutdown stopped waiting for this thread and closed the store: nothing is touched.
        if shared.upload_abandoned() {
            return None;
        }
        let answer = fetch::read(sent);
        let now = shared.clock.now_secs();
        let mut in_force = None;
        match &answer {
            Answer::Document {
                text,
                document,
                etag,
            } => {
                self.kept.document = Some(text.clone());
                self.kept.etag = etag.clone();
                self.kept.fetched_at = Some(now);
                in_force = Some(shared.remote.apply(Some(document), Some(now)));
                shared.logger.log(LogLevel::Info, "remote settings applied");
            }
            Answer::NotModified => {
                self.kept.fetched_at = Some(now);
                shared.remote.confirm(now);
            }
            Answer::Ignored(rejection) => note_ignored(shared, rejection.to_string()),
            Answer::Failed { reason, .. } => shared.logger.log(
                LogLevel::Info,
                format!(
                    "remote settings not fetched ({}); the settings in force stay",
                    shared.redact(reason.clone())
                ),
            ),
        }
        let ttl = shared.remote.in_force().settings_ttl_secs;
        self.kept.checked_at = now;
        self.kept.next_check_at = next_check_at(&answer, now, ttl);
        self.checked = true;
        let _ = store.send(Command::SaveRemoteSettings(self.kept.clone()));
        in_force
    }
}

/// Counts an ignored document, logging only the first of this process.
fn note_ignored(shared: &Shared, reason: String) {
    if shared.remote.note_ignored(reason.clone()) {
        shared.logger.log(
            LogLevel::Warn,
            format!("{reason}; the settings in force stay (further ignored documents are only counted in diagnostics)"),
        );
    }
}
