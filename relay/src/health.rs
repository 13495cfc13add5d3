//! The health routes: `/livez` (and the older `/healthz`) while the process serves, and
//! `/readyz`, which fails while the relay drains for a shutdown. Neither is logged nor counted.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app_state::AppState;

/// `/livez` (and the older `/healthz`): the process serves.
pub(crate) async fn livez() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        "ok",
    )
        .into_response()
}

/// `/readyz`: 200 while the relay takes new requests, 503 once it drains for a shutdown. A
/// Redis outage does not fail it (the budget falls back to the local share, and failing every
/// instance at once would stop all traffic); the body says which is in force.
pub(crate) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let draining = state.lifecycle.draining();
    let body = serde_json::json!({
        "ready": !draining,
        "draining": draining,
        "redis": state.budget.redis_state().unwrap_or("off"),
    });
    let status = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.to_string(),
    )
        .into_response()
}

/// True for the health-check routes, which are neither logged nor counted.
pub(crate) fn is_health_check(path: &str) -> bool {
    matches!(path, "/livez" | "/readyz" | "/healthz")
}
