//! The settings route's handler: the client IP's rate limit and the app token's
//! authentication as for events, then the ad account's document with its `ETag` and
//! `Cache-Control: max-age`, or `304 Not Modified` when `If-None-Match` names that `ETag`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app_state::AppState;
use crate::auth::AuthDecision;
use crate::limit::retry_after_secs;
use crate::responses;

/// `GET /v5/ad_accounts/{ad_account_id}/sdk-settings`.
pub(crate) async fn get_sdk_settings(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(ad_account_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let client_ip = state.proxies.client_ip(peer.ip(), &headers);
    if let Err(wait) = state
        .ip_limiter
        .check(client_ip.unwrap_or(peer.ip()), Instant::now())
    {
        return responses::rate_limited(retry_after_secs(wait));
    }
    match state.tokens.authorize(&headers, &ad_account_id) {
        AuthDecision::Allowed(_) => {}
        AuthDecision::WrongAccount => return responses::forbidden(),
        AuthDecision::Unauthenticated => return responses::unauthenticated(),
    }
    let document = state.sdk_settings.document(&ad_account_id);
    let etag = HeaderValue::from_str(&document.etag).ok();
    let cache = HeaderValue::from_str(&format!("max-age={}", document.max_age_secs)).ok();
    let matches = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == document.etag || tag.trim() == "*");
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            document.body.to_string(),
        )
            .into_response()
    };
    let out = response.headers_mut();
    if let Some(etag) = etag {
        out.insert(ETAG, etag);
    }
    if let Some(cache) = cache {
        out.insert(CACHE_CONTROL, cache);
    }
    response
}
