//! Serving connections: the accept loop with a connection cap, header and idle timeouts,
//! and graceful shutdown.
//!
//! `axum::serve` has no header or idle timeout and no connection cap, so idle connections
//! (a slow-loris attack, or just many clients) could use up the process's file descriptors
//! and lock every client out. This loop serves each connection with hyper's HTTP/1.1
//! connection builder and a timer, so a connection that takes longer than the idle timeout to
//! send a request's headers, or stays idle that long between requests, is closed. Connections
//! are capped by a semaphore, below the descriptor limit: at the cap the loop stops accepting
//! (new clients wait in the listen backlog) until a connection ends. Accept errors (such as
//! running out of descriptors anyway) pause the loop briefly instead of spinning.
//!
//! A stop first drains ([`crate::lifecycle`]): readiness fails while the loop keeps accepting
//! for `drain`, then the listener closes and the requests in flight get up to `grace` to be
//! answered. A connection without a request in flight does not hold the shutdown up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::lifecycle::Lifecycle;

/// File descriptors kept free below the process limit for upstream, Redis and log use.
const RESERVED_DESCRIPTORS: usize = 64;

/// Pause after a failed accept.
const ACCEPT_PAUSE: Duration = Duration::from_millis(20);

/// Time given to the last answers to be written once no request is in flight.
const FLUSH: Duration = Duration::from_millis(100);

/// Connection-level limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Most connections open at once (before the descriptor limit lowers it).
    pub max_connections: usize,
    /// Header and idle timeout.
    pub idle_timeout: Duration,
    /// How long a stop keeps serving with readiness failed, before it stops accepting.
    pub drain: Duration,
    /// How long shutdown then waits for requests in flight.
    pub grace: Duration,
}

/// Serves `app` on `listener` until `stop` turns true, drains for `limits.drain`, then
/// lets requests in flight finish for at most `limits.grace`. Returns how many requests
/// were still in flight when the grace ran out.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    lifecycle: Arc<Lifecycle>,
    mut stop: watch::Receiver<bool>,
) -> usize {
    let slots = Arc::new(Semaphore::new(effective_cap(limits.max_connections)));
    let graceful = GracefulShutdown::new();
    let stopping = async {
        let _ = stop.wait_for(|s| *s).await;
        lifecycle.start_drain();
        tokio::time::sleep(limits.drain).await;
    };
    tokio::pin!(stopping);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut stopping => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            },
            () = &mut stopping => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.idle_timeout)
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        metrics::gauge!(crate::telemetry::OPEN_CONNECTIONS).increment(1.0);
        tokio::spawn(async move {
            let _ = connection.await;
            metrics::gauge!(crate::telemetry::OPEN_CONNECTIONS).decrement(1.0);
            drop(slot);
        });
    }
    drop(listener);
    let requests_answered = async {
        lifecycle.wait_idle().await;
        tokio::time::sleep(FLUSH).await;
    };
    let finished = tokio::time::timeout(limits.grace, async {
        tokio::select! {
            () = graceful.shutdown() => {}
            () = requests_answered => {}
        }
    })
    .await;
    match finished {
        Ok(()) => 0,
        Err(_) => lifecycle.in_flight(),
    }
}

/// `configured`, lowered to leave [`RESERVED_DESCRIPTORS`] below the open-files limit.
fn effective_cap(configured: usize) -> usize {
    match open_files_limit() {
        Some(limit) => configured
            .min(limit.saturating_sub(RESERVED_DESCRIPTORS))
            .max(1),
        None => configured,
    }
}

/// The soft limit on open files, where the platform tells it without unsafe code.
fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&text)
}

/// The soft "Max open files" value of a `/proc/<pid>/limits` text.
fn parse_open_files(text: &str) -> Option<usize> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_files_limit_is_read_from_proc() {
        let text = "Limit                     Soft Limit           Hard Limit           Units\n\
                    Max open files            1024                 524288               files\n";
        assert_eq!(parse_open_files(text), Some(1024));
        assert_eq!(
            parse_open_files("Max open files unlimited unlimited files"),
            None
        );
        assert_eq!(parse_open_files(""), None);
    }
}
