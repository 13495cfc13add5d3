//! Install or open: what the store worker records for a cold start (docs/ARCHITECTURE.md §6, §7).
//!
//! [`decide`] is the policy, pure: a launch is held while collection is disabled (recorded when
//! consent comes) or while a first launch waits for the tracking prompt or the install
//! referrer (bounded), recorded as
//! app_open once the install is decided, skipped for a user who installed before the SDK, and
//! otherwise recorded as the one app_install. [`Launches`] carries it out on the worker: it
//! keeps the install sidecar ([`InstallFile`]) current, so the install window counts from the
//! first launch the SDK saw and no recovery of the buffer can record a second install.

use std::path::Path;

use crate::core::event_builder::build_event;
use crate::core::lifecycle::{install_event_id, lifecycle_event};
use crate::core::model::{EventName, LogLevel};
use crate::core::privacy::AppliedPrivacy;
use crate::core::record::PendingEvent;
use crate::core::shared::Shared;
use crate::core::store::{InstallFile, InstallRecord, InstallState, Store, StoreError};

/// A cold start, as the caller saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launch {
    /// When the app launched, Unix seconds.
    pub launched_at: i64,
    /// While the tracking prompt is unanswered, a new install waits until this monotonic
    /// clock time (milliseconds).
    pub hold_until_ms: Option<i64>,
}

/// What a launch turns into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchDecision {
    /// Keep it in memory: collection is disabled, or the install waits for the tracking prompt.
    Hold,
    /// The install was decided by an earlier launch: app_open.
    Open,
    /// The first launch of a user who installed before the SDK: mark installed, no
    /// app_install, an app_open as for any later launch.
    ExistingUser,
    /// The first launch of a new install: app_install.
    Install,
}

/// What is known about the install when a launch is decided.
#[derive(Debug, Clone, Copy)]
pub struct InstallFacts {
    /// The install was decided before (sidecar or database record).
    pub decided: bool,
    /// The first launch the SDK saw, Unix seconds.
    pub first_launch_at: i64,
    /// The host's `first_install_time`, Unix seconds.
    pub first_install_time: Option<i64>,
    /// `install_window_secs`.
    pub install_window_secs: i64,
    /// The install referrer is still being read (Android): a new install waits for it.
    pub install_referrer_pending: bool,
}

/// Decides a launch at `now_ms` (monotonic) under the privacy state of that moment.
pub fn decide(
    launch: &Launch,
    facts: &InstallFacts,
    privacy: &AppliedPrivacy,
    now_ms: i64,
) -> LaunchDecision {
    if !privacy.collection_enabled {
        return LaunchDecision::Hold;
    }
    if facts.decided {
        return LaunchDecision::Open;
    }
    let installed_before_sdk = facts
        .first_install_time
        .is_some_and(|at| facts.first_launch_at.saturating_sub(at) > facts.install_window_secs);
    if installed_before_sdk {
        return LaunchDecision::ExistingUser;
    }
    let waiting = launch.hold_until_ms.is_some_and(|until| now_ms < until);
    if (privacy.authorization_pending || facts.install_referrer_pending) && waiting {
        return LaunchDecision::Hold;
    }
    LaunchDecision::Install
}

/// The worker's launches: the install sidecar, launches waiting for a working store, and the
/// one launch held for consent or for the tracking prompt.
pub struct Launches {
    file: InstallFile,
    state: InstallState,
    waiting: Vec<Launch>,
    held: Option<Launch>,
    /// When the held launch stops waiting for the tracking prompt or the install referrer
    /// (monotonic milliseconds): the worker wakes then to release it. Waiting for consent
    /// needs no timer.
    hold_until_ms: Option<i64>,
}

impl Launches {
    /// Reads the sidecar of the database at `database` (on the worker thread).
    pub fn new(database: &Path) -> Launches {
        let file = InstallFile::beside(database);
        let state = file.read();
        Launches {
            file,
            state,
            waiting: Vec::new(),
            held: None,
            hold_until_ms: None,
        }
    }

    /// A cold start arrived: remembers the first launch's time (even without consent; it is
    /// no personal data), then queues the launch for the next commit.
    pub fn arrived(&mut self, launch: Launch, shared: &Shared) {
        if self.state.first_launch_at.is_none() {
            self.state.first_launch_at = Some(launch.launched_at);
            self.save(shared);
        }
        self.waiting.push(launch);
    }

    /// Writes the install record the sidecar knows into `store` if it has none (a buffer
    /// recreated after a loss), so that no SDK version records a second app_install from it.
    pub fn restore_record(&self, store: &mut Store, now: i64) -> Result<(), StoreError> {
        let Some(install_id) = self.state.install_id.clone() else {
            return Ok(());
        };
        if store.install_record()?.is_some() {
            return Ok(());
        }
        let record = InstallRecord {
            install_id,
            existing_user: self.state.existing_user,
        };
        store.restore_install_record(&record, now)
    }

    /// When the held launch's wait for the tracking prompt or the install referrer ends
    /// (monotonic milliseconds), if one waits.
    pub fn hold_until_ms(&self) -> Option<i64> {
        self.hold_until_ms
    }

    /// True when launches wait for a working store.
    pub fn pending(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Consent came, the prompt was answered, the wait ran out or the client stops: the held
    /// launch is decided again at the next commit. `force` ends the wait for the prompt.
    pub fn release(&mut self, force: bool) {
        self.hold_until_ms = None;
        if let Some(mut launch) = self.held.take() {
            if force {
                launch.hold_until_ms = None;
            }
            self.waiting.push(launch);
        }
    }

    /// Decides and records the waiting launches; on a store failure the rest wait.
    pub fn record(&mut self, store: &mut Store, shared: &Shared) -> Result<(), StoreError> {
        while let Some(launch) = self.waiting.first().copied() {
            self.record_one(&launch, store, shared)?;
            self.waiting.remove(0);
        }
        Ok(())
    }

    fn record_one(
        &mut self,
        launch: &Launch,
        store: &mut Store,
        shared: &Shared,
    ) -> Result<(), StoreError> {
        if !self.state.decided() {
            if let Some(record) = store.install_record()? {
                // Decided by an SDK version without the sidecar, or a crash before it was saved.
                self.decided(record, shared);
            }
        }
        let context = shared.context();
        let facts = InstallFacts {
            decided: self.state.decided(),
            first_launch_at: self.state.first_launch_at.unwrap_or(launch.launched_at),
            first_install_time: context.app.first_install_time,
            install_window_secs: shared.settings.install_window_secs,
            install_referrer_pending: context.install_referrer_pending,
        };
        let now = shared.clock.now_secs();
        let now_ms = shared.clock.monotonic_ms();
        match decide(launch, &facts, &context.privacy, now_ms) {
            LaunchDecision::Hold => {
                // Waiting for the prompt: the worker wakes at the deadline. Waiting for
                // consent needs no timer.
                let prompt_deadline = launch.hold_until_ms.filter(|until| *until > now_ms);
                self.hold_until_ms = prompt_deadline.filter(|_| context.privacy.collection_enabled);
                self.held = Some(*launch);
            }
            LaunchDecision::Open => record_open(launch, store, shared)?,
            LaunchDecision::ExistingUser => {
                let record = new_record(true);
                store.record_install(&record, None, now)?;
                self.decided(record, shared);
                record_open(launch, store, shared)?;
            }
            LaunchDecision::Install => {
                let record = new_record(false);
                let id = install_event_id(&record.install_id);
                let install = lifecycle_pending(EventName::AppInstall, Some(id), launch, shared);
                store.record_install(&record, install.first(), now)?;
                self.decided(record, shared);
                shared.signal.kick();
            }
        }
        Ok(())
    }

    fn decided(&mut self, record: InstallRecord, shared: &Shared) {
        self.state.install_id = Some(record.install_id);
        self.state.existing_user = record.existing_user;
        self.save(shared);
    }

    /// Writes the sidecar; a failure is logged (the database's own record still stands).
    fn save(&self, shared: &Shared) {
        if let Err(e) = self.file.write(&self.state) {
            shared.logger.log(
                LogLevel::Warn,
                format!("cannot write the install record beside the buffer: {e}"),
            );
        }
    }
}

/// Queues app_open for `launch` and sends it promptly.
fn record_open(launch: &Launch, store: &mut Store, shared: &Shared) -> Result<(), StoreError> {
    let open = lifecycle_pending(EventName::AppOpen, None, launch, shared);
    let account = &shared.settings.config.ad_account_id;
    let now = shared.clock.now_secs();
    store.insert(&open, account, shared.settings.max_queued, now)?;
    shared.signal.kick();
    Ok(())
}

fn new_record(existing_user: bool) -> InstallRecord {
    InstallRecord {
        install_id: uuid::Uuid::new_v4().to_string(),
        existing_user,
    }
}

/// app_install or app_open for `launch`, built now with the privacy state of this moment and
/// the launch's own time (or now, if the launch is older than events may be).
fn lifecycle_pending(
    name: EventName,
    event_id: Option<String>,
    launch: &Launch,
    shared: &Shared,
) -> Vec<PendingEvent> {
    let context = shared.context();
    let now = shared.clock.now_secs();
    let at_launch = lifecycle_event(name, event_id.clone(), Some(launch.launched_at));
    let built = build_event(&at_launch, &context, now)
        .or_else(|_| build_event(&lifecycle_event(name, event_id, None), &context, now));
    match built {
        Ok(event) => vec![event],
        Err(e) => {
            shared
                .logger
                .log(LogLevel::Error, format!("cannot record {name:?}: {e}"));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_700_000_000_000;
    const NOW: i64 = NOW_MS / 1000;
    const DAY: i64 = 86_400;

    fn enabled() -> AppliedPrivacy {
        AppliedPrivacy {
            collection_enabled: true,
            ..Default::default()
        }
    }

    fn facts(decided: bool, first_launch_at: i64, first_install_time: Option<i64>) -> InstallFacts {
        InstallFacts {
            decided,
            first_launch_at,
            first_install_time,
            install_window_secs: DAY,
            install_referrer_pending: false,
        }
    }

    fn launch(hold_until_ms: Option<i64>) -> Launch {
        Launch {
            launched_at: NOW,
            hold_until_ms,
        }
    }

    #[test]
    fn without_consent_every_launch_is_held() {
        let privacy = AppliedPrivacy::default();
        for decided in [false, true] {
            let decision = decide(&launch(None), &facts(decided, NOW, None), &privacy, NOW_MS);
            assert_eq!(decision, LaunchDecision::Hold);
        }
    }

    #[test]
    fn the_install_window_counts_from_the_first_launch_seen() {
        let installed = NOW - 2 * DAY;
        // First seen an hour after install (consent came two days later): a new install.
        let seen_early = facts(false, installed + 3600, Some(installed));
        assert_eq!(
            decide(&launch(None), &seen_early, &enabled(), NOW_MS),
            LaunchDecision::Install
        );
        // First seen two days after install: the user updated into the SDK.
        let seen_late = facts(false, NOW, Some(installed));
        assert_eq!(
            decide(&launch(None), &seen_late, &enabled(), NOW_MS),
            LaunchDecision::ExistingUser
        );
        assert_eq!(
            decide(&launch(None), &facts(true, NOW, None), &enabled(), NOW_MS),
            LaunchDecision::Open
        );
    }

    #[test]
    fn a_new_install_waits_for_the_prompt_until_the_deadline() {
        let pending = AppliedPrivacy {
            authorization_pending: true,
            ..enabled()
        };
        let held = launch(Some(NOW_MS + 60_000));
        let new = facts(false, NOW, None);
        assert_eq!(decide(&held, &new, &pending, NOW_MS), LaunchDecision::Hold);
        assert_eq!(
            decide(&held, &new, &pending, NOW_MS + 60_000),
            LaunchDecision::Install,
            "the wait is bounded"
        );
        assert_eq!(
            decide(&held, &new, &enabled(), NOW_MS),
            LaunchDecision::Install,
            "an answered prompt releases it"
        );
        assert_eq!(
            decide(&held, &facts(true, NOW, None), &pending, NOW_MS),
            LaunchDecision::Open,
            "only an install waits"
        );
    }

    #[test]
    fn a_new_install_waits_for_the_install_referrer_until_the_deadline() {
        let held = launch(Some(NOW_MS + 5_000));
        let reading = InstallFacts {
            install_referrer_pending: true,
            ..facts(false, NOW, None)
        };
        assert_eq!(
            decide(&held, &reading, &enabled(), NOW_MS),
            LaunchDecision::Hold
        );
        assert_eq!(
            decide(&held, &reading, &enabled(), NOW_MS + 5_000),
            LaunchDecision::Install,
            "the wait is bounded"
        );
        assert_eq!(
            decide(&held, &facts(false, NOW, None), &enabled(), NOW_MS),
            LaunchDecision::Install,
            "the answer releases it"
        );
        let decided = InstallFacts {
            decided: true,
            ..reading
        };
        assert_eq!(
            decide(&held, &decided, &enabled(), NOW_MS),
            LaunchDecision::Open,
            "a later launch never waits"
        );
    }
}
