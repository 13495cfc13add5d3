//! The core client: what `ConversionsClient` calls. It validates on the caller's thread and
//! hands everything else to the store worker and the upload thread (docs/ARCHITECTURE.md §3).
//!
//! Construction returns at once (the database is opened on the worker); `track()` never
//! touches disk or network; only `flush`, `forget` and `shutdown` wait, each bounded by the
//! caller's timeout.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::core::app_device_info;
use crate::core::callback::CallbackSlot;
use crate::core::click_id::{self, ClickFile};
use crate::core::clock::{Clock, Ring, SystemClock};
use crate::core::config::{validate_device, Settings};
use crate::core::db_claim::DatabaseClaim;
use crate::core::diagnostics::without_positions;
use crate::core::error::{ConversionsError, Result};
use crate::core::event_builder::{build_event_checked, PendingEvent, TrackContext};
use crate::core::install::Launch;
use crate::core::lifecycle::{lifecycle_event, Lifecycle};
use crate::core::log::{LogSink, Logger};
use crate::core::model::{
    AppInfo, ClientConfig, DeviceInfo, Diagnostics, Event, EventName, FlushReport, InstallReferrer,
    LogLevel, PrivacyState, TrackResult, ValidationWarning,
};
use crate::core::remote_settings::narrow::AppTuning;
use crate::core::remote_settings::state::RemoteState;
use crate::core::server_time::ServerTime;
use crate::core::shared::{
    CustomNames, DeliveryListener, DeliveryStatus, Shared, MAX_CUSTOM_NAMES,
};
use crate::core::signal::{FlushWaiter, UploadSignal};
use crate::core::sync::lock;
use crate::core::upload::backoff::millis;
use crate::core::upload::transport::HttpTransport;
use crate::core::worker::Command;
use crate::core::{privacy, upload, worker};

/// One SDK instance: a buffer file, a worker thread and an upload thread.
pub struct Client {
    shared: Arc<Shared>,
    /// The store worker's channel; `None` once shutdown began.
    commands: Mutex<Option<Sender<Command>>>,
    lifecycle: Lifecycle,
    /// How far shutdown has got.
    closing: Mutex<Closing>,
}

/// Shutdown's progress, kept so that a second call says what is true.
struct Closing {
    /// Disconnects when the upload thread has ended.
    uploader: Option<Receiver<()>>,
    /// The store worker's answer to `Close`, once asked and not yet read.
    worker: Option<Receiver<std::result::Result<(), String>>>,
    /// The worker's answer, once read: the file is closed and released.
    closed: Option<std::result::Result<(), String>>,
    /// The last state before the store closed, for `diagnostics()` after shutdown.
    last: Option<Diagnostics>,
}

/// `TrackResult::reason` of an event not recorded for want of consent.
const NOT_RECORDED_WITHOUT_CONSENT: &str =
    "collection is disabled by the privacy state (PrivacyState.collection_enabled is false)";

/// How long dropping a client without `shutdown` waits for its file to be closed.
const DROP_WAIT: Duration = Duration::from_secs(2);

impl Client {
    /// Validates the configuration and starts the threads; the database opens on the worker.
    /// Sends through the built-in Rust transport (an `InvalidConfig` error in a build without
    /// the `rust-transport` feature: use [`Client::with_transport`] there).
    pub fn new(
        config: ClientConfig,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
    ) -> Result<Client> {
        Client::with_clock(config, app, device, privacy, Arc::new(SystemClock))
    }

    /// [`Client::new`] sending every request through `transport` (the app's platform HTTP
    /// stack).
    pub fn with_transport(
        config: ClientConfig,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Client> {
        Client::start(
            config,
            app,
            device,
            privacy,
            Arc::new(SystemClock),
            transport,
        )
    }

    /// [`Client::new`] reading all time from `clock` (tests pass a manual clock).
    pub fn with_clock(
        config: ClientConfig,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
        clock: Arc<dyn Clock>,
    ) -> Result<Client> {
        Client::start(config, app, device, privacy, clock, built_in_transport()?)
    }

    /// Validates everything, then starts the store worker and the upload thread.
    pub fn start(
        config: ClientConfig,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
        clock: Arc<dyn Clock>,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<Client> {
        let settings = Settings::new(config)?;
        validate_device(&device)?;
        crate::core::limits::check_app(&app)?;
        let left_out = app_device_info::fact_warnings(&app, &device);
        let (applied, malformed) = privacy::apply(&privacy, settings.tracking_policy);
        let claim = DatabaseClaim::claim(&settings.config.database_path)?;
        let token = Arc::new(Mutex::new(settings.config.token.clone()));
        let logger = Logger::new(
            settings.config.log_level.unwrap_or(LogLevel::Warn),
            token.clone(),
        );
        let context = TrackContext {
            action_source: settings.config.action_source.wire_name(),
            partner_name: settings.partner_name.clone(),
            partner_name_dropped: settings.partner_name_dropped,
            app,
            device,
            privacy: applied.clone(),
            max_event_age_secs: settings.max_event_age_secs,
            strict_validation: settings.config.strict_validation,
            // A few bytes beside the lock file claimed above; without consent it is erased
            // by the purge below.
            click: ClickFile::beside(claim.path())
                .read()
                .filter(|_| applied.collection_enabled),
            click_id_ttl_secs: settings.click_id_ttl_secs,
            install_begin_time: None,
            install_referrer_pending: settings.config.first_launch_wait_for_install_referrer_secs
                > 0,
        };
        let remote = RemoteState::new(AppTuning::of(&settings), settings.sends_through_relay);
        let shared = Arc::new(Shared {
            remote,
            settings,
            token,
            context: RwLock::new(Arc::new(context)),
            logger,
            listener: CallbackSlot::default(),
            status: Mutex::new(DeliveryStatus::default()),
            server_time: ServerTime::new(clock.as_ref()),
            clock,
            signal: Arc::new(UploadSignal::default()),
            storage_error: Mutex::new(None),
            custom_names: Mutex::new(CustomNames::default()),
            invalid_fields: Mutex::new(BTreeMap::new()),
            malformed_advertising_ids: AtomicU64::new(u64::from(malformed)),
            worker_panics: AtomicU64::new(0),
            upload_wakeups: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            queued_in_channel: AtomicU64::new(0),
            erase_epoch: AtomicU64::new(0),
            upload_abandoned: AtomicBool::new(false),
        });
        report_left_out_facts(&shared, left_out);
        let ring: Arc<dyn Ring> = shared.signal.clone();
        shared.clock.on_advance(Arc::downgrade(&ring));
        let (commands, inbox) = channel();
        let (done, finished) = channel::<()>();
        let spawn_error = |e: std::io::Error| {
            ConversionsError::storage(format!("cannot start a worker thread: {e}"))
        };
        worker::spawn(shared.clone(), claim, inbox).map_err(spawn_error)?;
        let upload_commands = commands.clone();
        upload::spawn(shared.clone(), upload_commands, done, transport).map_err(spawn_error)?;
        if !privacy.collection_enabled {
            let _ = commands.send(Command::Purge);
        }
        Ok(Client {
            shared,
            commands: Mutex::new(Some(commands)),
            lifecycle: Lifecycle::default(),
            closing: Mutex::new(Closing {
                uploader: Some(finished),
                worker: None,
                closed: None,
                last: None,
            }),
        })
    }

    /// `ShutDown` once shutdown began: every call after it fails the same way.
    fn running(&self) -> Result<()> {
        match lock(&self.commands).as_ref() {
            Some(_) => Ok(()),
            None => Err(ConversionsError::ShutDown),
        }
    }

    fn send(&self, command: Command) -> Result<()> {
        match lock(&self.commands).as_ref() {
            Some(commands) => commands
                .send(command)
                .map_err(|_| ConversionsError::ShutDown),
            None => Err(ConversionsError::ShutDown),
        }
    }

    /// Validates, hashes and queues `event`; returns its id at once. app_install and app_open
    /// are refused: they come from the lifecycle calls only.
    pub fn track(&self, event: Event) -> Result<TrackResult> {
        if matches!(event.name, EventName::AppInstall | EventName::AppOpen) {
            return Err(ConversionsError::invalid(
                "name",
                "app_install and app_open are recorded by the SDK from on_launch and \
                 on_foreground; do not track them",
            ));
        }
        self.record(event)
    }

    /// Records `event` (any name, lifecycle events included).
    /// Validation comes first, consent second: an app's bad event is refused the same way
    /// whether or not the user has given consent yet.
    fn record(&self, event: Event) -> Result<TrackResult> {
        self.running()?;
        let context = self.shared.context();
        // app_install never comes this way: the store worker records it (and sends it at once).
        let urgent = event.name == EventName::AppOpen;
        let checked = build_event_checked(event, &context, self.shared.clock.now_secs())?;
        let pending = checked.pending;
        let mut warnings = checked.dropped;
        let refused = if !context.privacy.collection_enabled {
            Some(NOT_RECORDED_WITHOUT_CONSENT.to_string())
        } else {
            self.shared.remote.disabled_reason()
        };
        if let Some(reason) = refused {
            warnings.extend(checked.notes);
            return Ok(TrackResult {
                event_id: pending.event_id,
                recorded: false,
                warnings,
                reason: Some(reason),
            });
        }
        if let Some(name) = &pending.custom_name {
            self.check_custom_name(name)?;
        }
        let event_id = pending.event_id.clone();
        self.report_dropped_fields(&pending.event_name, &warnings);
        for note in &checked.notes {
            self.shared.logger.log(
                LogLevel::Warn,
                format!("{} of a {}: {}", note.field, pending.event_name, note.rule),
            );
        }
        warnings.extend(checked.notes);
        if let Some(warning) = self.no_identity_warning(&pending) {
            warnings.push(warning);
        }
        self.shared.queued_in_channel.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = self.send(Command::Track(pending)) {
            self.shared.queued_in_channel.fetch_sub(1, Ordering::SeqCst);
            return Err(e);
        }
        // Opens go at once (the API allows an hour of lag at most: docs/ARCHITECTURE.md §10);
        // the store worker decides
        // everything else (a full batch, or events waiting for the interval).
        if urgent {
            self.shared.signal.kick();
        }

        Ok(TrackResult {
            event_id,
            recorded: true,
            warnings,
            reason: None,
        })
    }

    /// Counts (by field, list positions left out) and logs the optional values dropped from
    /// an event; the log line names the field and the rule, never the value.
    fn report_dropped_fields(&self, event_name: &str, warnings: &[ValidationWarning]) {
        if warnings.is_empty() {
            return;
        }
        {
            let mut counts = lock(&self.shared.invalid_fields);
            for warning in warnings {
                *counts.entry(without_positions(&warning.field)).or_insert(0) += 1;
            }
        }
        for warning in warnings {
            self.shared.logger.log(
                LogLevel::Warn,
                format!(
                    "dropped {} from a {event_name} event: {}",
                    warning.field, warning.rule
                ),
            );
        }
    }

    /// A warning (also logged) when `event` can be told already to be dropped before sending:
    /// it carries no email, no advertising id and no IP with user agent, and the endpoint is
    /// not a relay that adds the IP. Such an event is still queued (and counted in
    /// `dropped_no_identity` when dropped), so the app sees the same totals either way.
    fn no_identity_warning(&self, event: &PendingEvent) -> Option<ValidationWarning> {
        let relay = self.shared.settings.sends_through_relay;
        if relay || event.has_email || event.has_advertising_id || event.has_ip_and_user_agent {
            return None;
        }
        self.shared.logger.log(
            LogLevel::Warn,
            format!(
                "a {} event has no identity and will be dropped before sending",
                event.event_name
            ),
        );
        Some(ValidationWarning {
            field: "user_data".into(),
            rule: "no identity (no em, no advertising id, no client IP with user agent): \
                   dropped before sending to the Conversions API itself; a relay (any other \
                   host, or endpoint_is_relay) adds the IP"
                .into(),
        })
    }

    /// Enforces the 15-name limit: a known name passes; a new one is refused when 15 are in
    /// use, else counted from now on (it is kept by the store, whenever that can write).
    fn check_custom_name(&self, name: &str) -> Result<()> {
        let mut registry = lock(&self.shared.custom_names);
        if registry.names.contains(name) {
            return Ok(());
        }
        let in_use = registry.names.len();
        if in_use >= MAX_CUSTOM_NAMES {
            return Err(ConversionsError::invalid(
                "custom_event_name",
                format!("at most {MAX_CUSTOM_NAMES} distinct custom event names per ad account; this would be the {}th", in_use + 1),
            ));
        }
        registry.names.insert(name.to_string());
        Ok(())
    }

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
        if prompt_answered {
            // Before the kick below: the uploader then sleeps without the wait's deadline.
            self.shared.signal.clear_launch_hold();
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
        match click_id::accept(&self.shared, found, arrived_at, click_id::Source::OpenedUrl) {
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
        let click = click_id::accept(
            &self.shared,
            found,
            arrived_at,
            click_id::Source::InstallReferrer,
        );
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
        self.shared.signal.clear_launch_hold();
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

    /// Commits everything tracked so far, then sends everything due, waiting at most `timeout`
    /// in all (never earlier than a backoff allows). A report with `timed_out == false` means
    /// the commit happened: the events tracked before this call survive a crash, whatever
    /// delivery then achieved. Fails with `Storage` when they could not be committed.
    pub fn flush(&self, timeout: Duration) -> Result<FlushReport> {
        // The uploader answers at the deadline; the grace covers the hand-over.
        let answered_by = Instant::now() + timeout + Duration::from_millis(50);
        let deadline_ms = self
            .shared
            .clock
            .monotonic_ms()
            .saturating_add(millis(timeout));
        let start = lock(&self.shared.status).totals.clone();
        let (synced, committed) = channel();
        self.send(Command::Sync(synced))?;
        let watermark =
            match committed.recv_timeout(answered_by.saturating_duration_since(Instant::now())) {
                Ok(Ok(watermark)) => watermark,
                Ok(Err(message)) => return Err(ConversionsError::storage(message)),
                Err(_) => return Ok(self.timed_out_report(&start)),
            };
        let (reply, report) = channel();
        self.shared.signal.flush(FlushWaiter {
            deadline_ms,
            watermark,
            start: start.clone(),
            reply,
        });
        match report.recv_timeout(answered_by.saturating_duration_since(Instant::now())) {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(message)) => Err(ConversionsError::storage(message)),
            Err(_) => Ok(self.timed_out_report(&start)),
        }
    }

    /// Waits (at most `timeout`, real time) until every earlier call is committed and the
    /// upload thread sleeps with nothing due at the clock's time: after advancing a manual
    /// clock, what was due has been done. False if that did not happen in time.
    pub fn settle(&self, timeout: Duration) -> bool {
        let give_up = Instant::now() + timeout;
        // Twice: what the uploader asked of the store worker before it slept (a held launch
        // released at its deadline) is committed, and what that kicked is done, by the second.
        for _ in 0..2 {
            let (synced, committed) = channel();
            if self.send(Command::Sync(synced)).is_err() {
                return false;
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if committed.recv_timeout(left).is_err() {
                return false;
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if !self.shared.signal.settle(self.shared.clock.as_ref(), left) {
                return false;
            }
        }
        true
    }

    /// What happened since `start`, for a flush that ran out of time.
    fn timed_out_report(&self, start: &FlushReport) -> FlushReport {
        let totals = lock(&self.shared.status).totals.clone();
        FlushReport {
            sent: totals.sent.saturating_sub(start.sent),
            processed: totals.processed.saturating_sub(start.processed),
            failed: totals.failed.saturating_sub(start.failed),
            remaining: self.shared.waiting(),
            last_status: totals.last_status,
            timed_out: true,
        }
    }

    /// Removes every queued and dead-lettered event (keeps the install record).
    pub fn forget(&self, timeout: Duration) -> Result<()> {
        let (reply, answer) = channel();
        self.shared.begin_erase();
        self.shared.update_context(|c| c.click = None);
        self.send(Command::Forget(reply))?;
        wait(answer, timeout)
    }

    /// Deletes the dead letters.
    pub fn clear_dead_letters(&self, timeout: Duration) -> Result<()> {
        let (reply, answer) = channel();
        self.send(Command::ClearDeadLetters(reply))?;
        wait(answer, timeout)
    }

    /// Sets (or removes) the delivery listener; returns once the old one is no longer in use
    /// on an SDK thread.
    pub fn set_delivery_listener(&self, listener: Option<Arc<dyn DeliveryListener>>) {
        self.shared.listener.replace(listener);
    }

    /// Sets (or removes) the log sink; returns once the old one is no longer in use on an SDK
    /// thread.
    pub fn set_log_sink(&self, sink: Option<Arc<dyn LogSink>>) {
        self.shared.logger.set_sink(sink);
    }

    /// The SDK's health. Waits briefly for the worker so it reflects every earlier call.
    /// After shutdown: the last state, read just before the database was closed.
    pub fn diagnostics(&self) -> Diagnostics {
        let (reply, answer) = channel();
        let snapshot = match self.send(Command::Snapshot(reply)) {
            Ok(()) => answer
                .recv_timeout(Duration::from_secs(2))
                .unwrap_or_else(|_| Err("timed out".into())),
            Err(_) => {
                if let Some(last) = lock(&self.closing).last.clone() {
                    return last;
                }
                Err("the client is shut down".into())
            }
        };
        self.collect_diagnostics(snapshot)
    }

    fn collect_diagnostics(
        &self,
        snapshot: std::result::Result<worker::StoreSnapshot, String>,
    ) -> Diagnostics {
        let status = lock(&self.shared.status).clone();
        let storage_error = lock(&self.shared.storage_error).clone();
        crate::core::diagnostics::collect(
            &self.shared,
            snapshot.unwrap_or_default(),
            status,
            storage_error,
        )
    }

    /// Commits what was tracked, stops both threads, and closes and releases the database,
    /// within `timeout`. The upload thread gets half of it to finish a request in flight (its
    /// outcome is then stored); a request that takes longer is abandoned: the thread is left
    /// to end by itself when the request returns, touching nothing (the events stay queued
    /// and are sent again by the next client, with the same event ids). A flush waiting
    /// meanwhile is answered at once. `Ok` once the file is closed and released; `Timeout` if
    /// the store worker has not closed it yet (a second call waits again); `Storage` if what
    /// was tracked could not be committed. Every other call fails with `ShutDown` from the
    /// moment shutdown begins.
    pub fn shutdown(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut closing = lock(&self.closing);
        if let Some(commands) = lock(&self.commands).take() {
            self.shared.signal.shutdown();
            let halfway = Instant::now() + timeout / 2;
            if let Some(uploader) = closing.uploader.take() {
                let left = halfway.saturating_duration_since(Instant::now());
                if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = uploader.recv_timeout(left)
                {
                    self.shared.upload_abandoned.store(true, Ordering::SeqCst);
                    self.shared.logger.log(
                        LogLevel::Warn,
                        "shutdown: a request still in flight is abandoned; its events stay queued",
                    );
                }
            }
            // Waiting flushes are answered now (timed out: they acknowledge nothing).
            drop(self.shared.signal.take_flushes(|_| true));
            let (snapshot, last) = channel();
            let (reply, answer) = channel();
            let _ = commands.send(Command::Snapshot(snapshot));
            let _ = commands.send(Command::Close(reply));
            drop(commands);
            let left = deadline.saturating_duration_since(Instant::now());
            if let Ok(snapshot) = last.recv_timeout(left) {
                closing.last = Some(self.collect_diagnostics(snapshot));
            }
            closing.worker = Some(answer);
        }
        if let Some(answer) = closing.worker.take() {
            let left = deadline.saturating_duration_since(Instant::now());
            match answer.recv_timeout(left) {
                Ok(result) => closing.closed = Some(result),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    closing.worker = Some(answer);
                    return Err(ConversionsError::timeout(timeout));
                }
                // The worker ended without answering (it had stopped already): nothing is open.
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    closing.closed = Some(Ok(()))
                }
            }
        }
        match &closing.closed {
            Some(Err(message)) => Err(ConversionsError::storage(message.clone())),
            _ => Ok(()),
        }
    }
}

/// The built-in Rust transport.
#[cfg(feature = "rust-transport")]
fn built_in_transport() -> Result<Arc<dyn HttpTransport>> {
    Ok(Arc::new(
        crate::core::upload::rust_transport::RustTransport::new(),
    ))
}

/// Counts (in diagnostics' `invalid_fields`) and logs the app and device facts that
/// `app_info` and `device_info` leave out because they break the API's rule; they never
/// refuse the client.
fn report_left_out_facts(shared: &Shared, left_out: Vec<ValidationWarning>) {
    if left_out.is_empty() {
        return;
    }
    {
        let mut counts = lock(&shared.invalid_fields);
        for warning in &left_out {
            *counts.entry(warning.field.clone()).or_insert(0) += 1;
        }
    }
    for warning in left_out {
        shared.logger.log(
            LogLevel::Warn,
            format!(
                "left {} out of app_info and device_info: {}",
                warning.field, warning.rule
            ),
        );
    }
}

/// This build has no built-in transport (the mobile libraries): the app must pass its own.
#[cfg(not(feature = "rust-transport"))]
fn built_in_transport() -> Result<Arc<dyn HttpTransport>> {
    Err(ConversionsError::config(
        "transport",
        "this build of the library has no built-in HTTP transport (the rust-transport \
         feature is off, as in the Android and iOS libraries): create the client with \
         with_transport and the platform's transport",
    ))
}

impl Drop for Client {
    /// Closes like `shutdown` (bounded by [`DROP_WAIT`]), so the file is free for a new client
    /// as soon as the drop returns.
    fn drop(&mut self) {
        let _ = self.shutdown(DROP_WAIT);
    }
}

fn wait(answer: Receiver<std::result::Result<(), String>>, timeout: Duration) -> Result<()> {
    match answer.recv_timeout(timeout) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(ConversionsError::storage(message)),
        Err(_) => Err(ConversionsError::timeout(timeout)),
    }
}

#[cfg(all(test, not(feature = "rust-transport")))]
mod without_the_rust_transport {
    use super::*;
    use crate::core::model::ActionSource;

    #[test]
    fn a_client_without_a_transport_is_refused_naming_the_transport() {
        let config = ClientConfig::new(
            "https://relay.example.com",
            "549768257474",
            "token",
            "unused.db",
            ActionSource::AppAndroid,
        );
        let refused = Client::new(
            config,
            AppInfo::default(),
            DeviceInfo::default(),
            PrivacyState::default(),
        );
        match refused {
            Err(ConversionsError::InvalidConfig { field, rule }) => {
                assert_eq!(field, "transport");
                assert!(rule.contains("with_transport"), "{rule}");
            }
            other => panic!("expected InvalidConfig, got {:?}", other.err()),
        }
    }
}
