//! Running the relay in-process: [`RelayHandle`] owns a background thread with its own tokio
//! runtime.
//!
//! The caller needs no runtime of its own and may be synchronous or async: the runtime is
//! created, used and dropped entirely on the relay's thread (dropping a runtime inside another
//! runtime's async context panics, so it must never happen on the caller's thread). `start`
//! binds the socket before returning, so the port is known and connections queue even before
//! the server loop runs; startup errors come back through a channel as `io::Error`s. Shutdown
//! drains first (readiness fails for [`RelayConfig::drain`] while requests are still served),
//! then lets requests in flight finish within [`RelayConfig::shutdown_grace`] (connections
//! without a request in flight do not hold it up), and also happens when the handle is
//! dropped.

use std::io;
use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use crate::app_state::AppState;
use crate::config::RelayConfig;
use crate::sdk_settings::SdkSettings;
use crate::serve::{serve, ConnectionLimits};
use crate::server::build_router;

/// A relay running on a background thread. Stops on [`RelayHandle::shutdown`] or when dropped.
#[derive(Debug)]
pub struct RelayHandle {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
    sdk_settings: Arc<SdkSettings>,
}

impl RelayHandle {
    /// Validates `config`, binds `config.listen` and starts serving on a new thread.
    ///
    /// Errors: `InvalidInput` for a configuration that fails [`RelayConfig::validate`] (the
    /// message names the field, never a token); the bind error when the address is taken or
    /// not allowed; other I/O errors if the runtime or thread cannot be created.
    pub fn start(config: RelayConfig) -> io::Result<RelayHandle> {
        let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
        config.validate().map_err(invalid)?;
        let state = Arc::new(AppState::new(&config).map_err(invalid)?);
        let sdk_settings = Arc::clone(&state.sdk_settings);
        let metrics = config
            .metrics_listen
            .map(crate::telemetry::bind_metrics)
            .transpose()
            .map_err(|e| io::Error::new(io::ErrorKind::AddrNotAvailable, e))?;
        let metrics_addr = match &metrics {
            Some((listener, _)) => Some(listener.local_addr()?),
            None => None,
        };
        let settings = Settings {
            limits: ConnectionLimits {
                max_connections: config.max_connections,
                idle_timeout: config.idle_timeout,
                drain: config.drain,
                grace: config.effective_shutdown_grace(),
            },
            worker_threads: config.worker_threads,
        };
        let listener = std::net::TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = mpsc::channel::<io::Result<()>>();
        let thread = std::thread::Builder::new()
            .name("app-conversions-relay".to_string())
            .spawn(move || run(listener, metrics, state, settings, stop_rx, ready_tx))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(RelayHandle {
                local_addr,
                metrics_addr,
                stop: Some(stop),
                thread: Some(thread),
                sdk_settings,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(io::Error::other("the relay thread stopped during startup"))
            }
        }
    }

    /// `http://IP:PORT` of the running relay, without a trailing slash: the base URL an SDK
    /// client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The address serving `GET /metrics`, when [`RelayConfig::metrics_listen`] is set (with
    /// the real port when it had port 0).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Reads [`RelayConfig::sdk_settings_file`] again now (the binary does on SIGHUP); on an
    /// error, which names the file and the rule, the documents served so far stay.
    pub fn reload_sdk_settings(&self) -> Result<(), String> {
        self.sdk_settings.reload()
    }

    /// The bound address (with the real port when `listen` had port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Drains (readiness fails for [`RelayConfig::drain`] while requests are still served),
    /// stops accepting connections, lets requests in flight finish (at most
    /// [`RelayConfig::shutdown_grace`]), and waits for the background thread to end.
    pub fn shutdown(self) {
        drop(self);
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// What the background thread needs besides the state.
struct Settings {
    limits: ConnectionLimits,
    worker_threads: usize,
}

/// The background thread: build the runtime, serve until told to stop.
fn run(
    listener: std::net::TcpListener,
    metrics: Option<(
        std::net::TcpListener,
        &'static metrics_exporter_prometheus::PrometheusHandle,
    )>,
    state: Arc<AppState>,
    settings: Settings,
    stop: watch::Receiver<bool>,
    ready: mpsc::Sender<io::Result<()>>,
) {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if settings.worker_threads > 0 {
        builder.worker_threads(settings.worker_threads);
    }
    let runtime = match builder
        .enable_all()
        .thread_name("app-conversions-relay-worker")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        if let Some((listener, handle)) = metrics {
            tokio::spawn(crate::telemetry::serve_metrics(listener, handle));
        }
        let _ = ready.send(Ok(()));
        let lifecycle = Arc::clone(&state.lifecycle);
        let app = build_router(state);
        let cut = serve(listener, app, settings.limits, lifecycle, stop).await;
        if cut > 0 {
            tracing::warn!(
                requests = cut,
                "shutdown grace ran out: requests in flight were cut"
            );
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
}
