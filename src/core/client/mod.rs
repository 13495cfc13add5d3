//! The core client: what `ConversionsClient` calls. It validates on the caller's thread and
//! hands everything else to the store worker and the upload thread (docs/ARCHITECTURE.md §3).
//!
//! Construction returns at once (the database is opened on the worker); `track()` never
//! touches disk or network; only `flush`, `forget` and `shutdown` wait, each bounded by the
//! caller's timeout. This file builds the client; `track` validates and queues events,
//! `app_state` takes what the app says about its state, `waiting` holds the calls that wait.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::core::callback::CallbackSlot;
use crate::core::clock::{Clock, Ring, SystemClock};
use crate::core::config::{validate_device, Settings};
use crate::core::db_claim::DatabaseClaim;
use crate::core::error::{ConversionsError, Result, StoreFailure};
use crate::core::lifecycle::Lifecycle;
use crate::core::log::Logger;
use crate::core::model::{
    AppInfo, ClientConfig, DeviceInfo, Diagnostics, LogLevel, PrivacyState, ValidationWarning,
};
use crate::core::privacy::{self, TrackContext};
use crate::core::remote_settings::narrow::AppTuning;
use crate::core::remote_settings::state::RemoteState;
use crate::core::server_time::ServerTime;
use crate::core::shared::{CustomNames, DeliveryStatus, Shared};
use crate::core::signal::UploadSignal;
use crate::core::store::ClickFile;
use crate::core::sync::lock;
use crate::core::upload::transport::HttpTransport;
use crate::core::worker::Command;
use crate::core::{app_device_info, upload, worker};

mod app_state;
mod track;
mod waiting;

/// One SDK instance: a buffer file, a worker thread and an upload thread.
pub struct Client {
    shared: Arc<Shared>,
    /// The store worker's channel; `None` once shutdown began.
    commands: Mutex<Option<Sender<Command>>>,
    lifecycle: Lifecycle,
    /// How far shutdown has got.
    closing: Mutex<Closing>,
    /// Wakes the store worker when a manual clock moves (kept here: the clock holds it weakly).
    _worker_alarm: Arc<worker::WorkerAlarm>,
}

/// Shutdown's progress, kept so that a second call says what is true.
struct Closing {
    /// Disconnects when the upload thread has ended.
    uploader: Option<Receiver<()>>,
    /// The store worker's answer to `Close`, once asked and not yet read.
    worker: Option<Receiver<std::result::Result<(), StoreFailure>>>,
    /// The worker's answer, once read: the file is closed and released.
    closed: Option<std::result::Result<(), StoreFailure>>,
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
        let worker_alarm =
            worker::spawn(shared.clone(), claim, inbox, commands.clone()).map_err(spawn_error)?;
        let alarm: Arc<dyn Ring> = worker_alarm.clone();
        shared.clock.on_advance(Arc::downgrade(&alarm));
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
            _worker_alarm: worker_alarm,
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

impl From<StoreFailure> for ConversionsError {
    /// The one place a failure of the store worker becomes the public error: `Storage`, with
    /// its message.
    fn from(failure: StoreFailure) -> ConversionsError {
        ConversionsError::storage(failure.to_string())
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
