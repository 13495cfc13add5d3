//! What remote settings put in force, shared by every thread of a client: `track()` reads the
//! switch on the app's thread, the upload thread reads it before every request and is the only
//! writer (at start, and after each fetch). The switch is an atomic so that `track()` takes no
//! lock for it; the rest sits behind one short lock, read by `diagnostics()`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::core::model::SettingsInForce;
use crate::core::remote_settings::document::RemoteDocument;
use crate::core::remote_settings::narrow::{narrow, AppTuning};
use crate::core::sync::lock;

/// This SDK's version, as `disabled_sdk_versions` compares it.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The settings in force and the kill switch.
pub struct RemoteState {
    app: AppTuning,
    /// True while remote settings turn the SDK off.
    off: AtomicBool,
    in_force: Mutex<SettingsInForce>,
}

impl RemoteState {
    /// The app's configuration in force, no document yet; `fetch_enabled` when the endpoint is
    /// a relay.
    pub fn new(app: AppTuning, fetch_enabled: bool) -> RemoteState {
        let mut in_force = narrow(&app, None, SDK_VERSION);
        in_force.remote_fetch_enabled = fetch_enabled;
        RemoteState {
            app,
            off: AtomicBool::new(false),
            in_force: Mutex::new(in_force),
        }
    }

    /// True while remote settings turn the SDK off: nothing is recorded or sent.
    pub fn is_off(&self) -> bool {
        self.off.load(Ordering::SeqCst)
    }

    /// Why remote settings turn the SDK off, if they do.
    pub fn disabled_reason(&self) -> Option<String> {
        if !self.is_off() {
            return None;
        }
        lock(&self.in_force).disabled_reason.clone()
    }

    /// The settings in force, for `diagnostics()`.
    pub fn in_force(&self) -> SettingsInForce {
        lock(&self.in_force).clone()
    }

    /// Puts `document` in force (none: the app's configuration alone), fetched or confirmed
    /// at `fetched_at`; returns what is now in force.
    pub fn apply(
        &self,
        document: Option<&RemoteDocument>,
        fetched_at: Option<i64>,
    ) -> SettingsInForce {
        let mut current = lock(&self.in_force);
        let next = SettingsInForce {
            remote_fetch_enabled: current.remote_fetch_enabled,
            remote_fetched_at: fetched_at,
            remote_documents_ignored: current.remote_documents_ignored,
            last_ignored_reason: current.last_ignored_reason.clone(),
            ..narrow(&self.app, document, SDK_VERSION)
        };
        self.off.store(!next.collection_enabled, Ordering::SeqCst);
        *current = next.clone();
        next
    }

    /// Marks the document in force as confirmed unchanged at `at`.
    pub fn confirm(&self, at: i64) {
        lock(&self.in_force).remote_fetched_at = Some(at);
    }

    /// Counts a document ignored for `reason`; true for the first one (which is logged).
    pub fn note_ignored(&self, reason: String) -> bool {
        let mut current = lock(&self.in_force);
        current.remote_documents_ignored += 1;
        current.last_ignored_reason = Some(reason);
        current.remote_documents_ignored == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::SettingSource;
    use crate::core::remote_settings::document::parse;

    fn state() -> RemoteState {
        let app = AppTuning {
            flush_interval_secs: 30,
            max_batch: 1000,
            flush_interval_source: SettingSource::Default,
            max_batch_source: SettingSource::Default,
        };
        RemoteState::new(app, true)
    }

    #[test]
    fn the_switch_follows_the_document_in_force_and_comes_back_on() {
        let s = state();
        assert!(!s.is_off() && s.disabled_reason().is_none());
        let off = parse(br#"{"collection_enabled":false}"#).unwrap();
        s.apply(Some(&off), Some(100));
        assert!(s.is_off());
        assert!(s.disabled_reason().unwrap().contains("remote settings"));
        assert_eq!(s.in_force().remote_fetched_at, Some(100));
        s.apply(Some(&parse(b"{}").unwrap()), Some(200));
        assert!(!s.is_off() && s.disabled_reason().is_none());
        assert!(s.in_force().remote_fetch_enabled);
    }

    #[test]
    fn ignored_documents_are_counted_and_only_the_first_is_logged() {
        let s = state();
        assert!(s.note_ignored("first".into()));
        assert!(!s.note_ignored("second".into()));
        s.apply(None, None);
        let in_force = s.in_force();
        assert_eq!(in_force.remote_documents_ignored, 2);
        assert_eq!(in_force.last_ignored_reason.as_deref(), Some("second"));
    }
}
