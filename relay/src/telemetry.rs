//! Prometheus metrics: the names the relay records, and the `/metrics` listener.
//!
//! The code records through the `metrics` facade (`counter!`, `gauge!`, `histogram!`), which
//! costs next to nothing while no recorder is installed. With `metrics_listen` set, the
//! process installs one Prometheus recorder (once: it is process-wide) and serves its text
//! rendering at `GET /metrics` on that address only, apart from the devices' listener, so
//! metrics are never exposed where devices connect. Latencies are histograms in seconds with
//! buckets around the linger, where the interesting quantiles are.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Device requests answered, by `status` (health checks excluded).
pub(crate) const DEVICE_REQUESTS: &str = "relay_device_requests_total";
/// Time from a device request's headers to its answer, in seconds (events route only).
pub(crate) const ADDED_LATENCY: &str = "relay_added_latency_seconds";
/// Upstream calls, by `status` (`timeout` or `unreachable` without an answer).
pub(crate) const UPSTREAM_CALLS: &str = "relay_upstream_calls_total";
/// Upstream call latency in seconds.
pub(crate) const UPSTREAM_LATENCY: &str = "relay_upstream_latency_seconds";
/// Events per upstream batch.
pub(crate) const BATCH_EVENTS: &str = "relay_batch_events";
/// Device requests per upstream batch.
pub(crate) const BATCH_REQUESTS: &str = "relay_batch_requests";
/// Time a batch waited from its first device request until it was sent, in seconds.
pub(crate) const LINGER_WAIT: &str = "relay_linger_wait_seconds";
/// Upstream calls spent this minute, by `ad_account` (the shared total with Redis).
pub(crate) const BUDGET_USED: &str = "relay_budget_calls_used";
/// Upstream calls left this minute, by `ad_account`.
pub(crate) const BUDGET_LEFT: &str = "relay_budget_calls_left";
/// 1 while the budget is shared through Redis, 0 while on the local share (Redis only).
pub(crate) const REDIS_SHARED: &str = "relay_redis_shared";
/// Redis commands that failed (no connection, an error or past the deadline), by
/// `operation`: `budget` (the shared call count) or `custom_names` (the shared name sets).
pub(crate) const REDIS_FAILURES: &str = "relay_redis_failures_total";
/// Event requests being handled now.
pub(crate) const REQUESTS_IN_FLIGHT: &str = "relay_requests_in_flight";
/// Request-body bytes held now.
pub(crate) const BODY_BYTES_IN_FLIGHT: &str = "relay_body_bytes_in_flight";
/// Requests refused before reaching the upstream, by `reason`.
pub(crate) const SHED: &str = "relay_shed_total";
/// Client connections open now.
pub(crate) const OPEN_CONNECTIONS: &str = "relay_open_connections";

/// Histogram buckets in seconds: fine around a 50 ms linger, coarse up to the upstream timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.055, 0.06, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Buckets for batch sizes (events or device requests).
const SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// The process's Prometheus recorder, installed on first use.
fn recorder() -> Result<&'static PrometheusHandle, String> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let size = |name: &str| metrics_exporter_prometheus::Matcher::Full(name.to_string());
            PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .and_then(|b| b.set_buckets_for_metric(size(BATCH_EVENTS), SIZE_BUCKETS))
                .and_then(|b| b.set_buckets_for_metric(size(BATCH_REQUESTS), SIZE_BUCKETS))
                .map_err(|e| format!("metrics: {e}"))?
                .install_recorder()
                .map_err(|e| format!("metrics: cannot install the recorder ({e})"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Binds `addr` for `/metrics` and installs the recorder; serve it with [`serve_metrics`].
pub(crate) fn bind_metrics(
    addr: SocketAddr,
) -> Result<(std::net::TcpListener, &'static PrometheusHandle), String> {
    let handle = recorder()?;
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| format!("metrics_listen: cannot listen on {addr} ({e})"))?;
    Ok((listener, handle))
}

/// Serves `GET /metrics` on `listener` until the runtime stops.
pub(crate) async fn serve_metrics(
    listener: std::net::TcpListener,
    handle: &'static PrometheusHandle,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let app = Router::new().route("/metrics", get(move || async move { handle.render() }));
    let _ = axum::serve(listener, app).await;
}
