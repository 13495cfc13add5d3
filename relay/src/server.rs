//! The HTTP surface: routes, the events handler, and the request-log middleware.
//!
//! The handler does the cheap refusals before the expensive work, in this order: app-token
//! authentication (401/403, from headers alone), the token's rate limit (429), the body cap
//! (413, first from `Content-Length`, then while reading), the body's shape and event count
//! (400), and only then parses, fills client IPs and calls the upstream. Everything the
//! handler needs lives in one immutable [`AppState`] shared by `Arc` (the rate limiter's
//! buckets are the only interior mutability), which keeps the relay stateless across restarts
//! and instances.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::auth::{AuthDecision, TokenTable};
use crate::client_ip::TrustedProxies;
use crate::config::RelayConfig;
use crate::forward::{Upstream, UpstreamError, UpstreamReply};
use crate::limit::{retry_after_secs, RateLimiter};
use crate::log::{write_line, LogTarget, RequestRecord};
use crate::payload::{self, PayloadError};
use crate::responses;

/// Everything a request needs, built once from the configuration.
pub(crate) struct AppState {
    tokens: TokenTable,
    limiter: RateLimiter,
    proxies: TrustedProxies,
    upstream: Arc<Upstream>,
    max_body_bytes: usize,
    log: LogTarget,
}

impl AppState {
    /// Builds the state from a validated configuration.
    pub(crate) fn new(config: &RelayConfig) -> Result<Self, String> {
        let tokens = TokenTable::new(&config.app_tokens);
        let limiter = RateLimiter::new(
            tokens.len(),
            config.rate_limit_per_sec,
            config.rate_limit_burst,
            Instant::now(),
        );
        Ok(AppState {
            tokens,
            limiter,
            proxies: TrustedProxies::parse(&config.trusted_proxies)?,
            upstream: Arc::new(Upstream::new(config)?),
            max_body_bytes: config.max_body_bytes,
            log: config.log.clone(),
        })
    }

    /// Where request lines (and server errors) are written.
    pub(crate) fn log_target(&self) -> &LogTarget {
        &self.log
    }
}

/// Event counts of the request, left on the response for the request log.
#[derive(Clone, Copy, Debug)]
struct EventStats {
    events: usize,
    ips_added: usize,
}

/// The relay's routes as an axum [`Router`], for mounting into an existing axum server.
///
/// The events handler needs the TCP peer address, so serve the router with
/// `into_make_service_with_connect_info::<std::net::SocketAddr>()`. The configuration is
/// validated first.
pub fn router(config: &RelayConfig) -> Result<Router, String> {
    config.validate()?;
    Ok(build_router(Arc::new(AppState::new(config)?)))
}

pub(crate) fn build_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v5/ad_accounts/{ad_account_id}/events", post(post_events))
        .route("/healthz", get(healthz))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

async fn healthz() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        "ok",
    )
        .into_response()
}

async fn fallback() -> Response {
    responses::not_found()
}

/// Writes one log line per request once the response is ready.
async fn log_request(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let test = is_test_mode(request.uri().query());
    let response = next.run(request).await;
    let record = RequestRecord {
        method: method.as_str(),
        path: &path,
        test,
        status: response.status().as_u16(),
        events: response.extensions().get::<EventStats>().map(|c| c.events),
        ips_added: response
            .extensions()
            .get::<EventStats>()
            .map(|c| c.ips_added),
        latency: started.elapsed(),
    };
    write_line(&state.log, record.to_line());
    response
}

/// True when the query has `test=true` (case-insensitive, as SDKs send `True`).
fn is_test_mode(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|pair| match pair.split_once('=') {
            Some((key, value)) => key == "test" && value.eq_ignore_ascii_case("true"),
            None => false,
        })
    })
}

/// `POST /v5/ad_accounts/{ad_account_id}/events`.
async fn post_events(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(ad_account_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let index = match state.tokens.authorize(&headers, &ad_account_id) {
        AuthDecision::Allowed(index) => index,
        AuthDecision::WrongAccount => return responses::forbidden(),
        AuthDecision::Unauthenticated => return responses::unauthenticated(),
    };
    if let Err(wait) = state.limiter.check(index, Instant::now()) {
        return responses::rate_limited(retry_after_secs(wait));
    }
    let raw = match read_body(body, &headers, state.max_body_bytes).await {
        Ok(raw) => raw,
        Err(response) => return response,
    };
    let client_ip = state.proxies.client_ip(peer.ip(), &headers);
    let prepared = match payload::prepare(raw, client_ip) {
        Ok(prepared) => prepared,
        Err(e) => {
            let mut response = responses::bad_request(&e.message());
            if let PayloadError::TooMany(n) = e {
                response.extensions_mut().insert(EventStats {
                    events: n,
                    ips_added: 0,
                });
            }
            return response;
        }
    };
    let reply = state
        .upstream
        .send(&ad_account_id, query.as_deref(), prepared.body)
        .await;
    let mut response = match reply {
        Ok(reply) => passthrough(reply),
        Err(UpstreamError::Timeout) => responses::gateway_timeout(),
        Err(UpstreamError::Unreachable) => responses::bad_gateway(),
    };
    response.extensions_mut().insert(EventStats {
        events: prepared.events,
        ips_added: prepared.ips_added,
    });
    response
}

/// Reads the whole body, refusing with 413 past `max` bytes (before reading a byte when
/// `Content-Length` already says so).
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    max: usize,
) -> Result<axum::body::Bytes, Response> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(responses::payload_too_large(max));
    }
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(responses::payload_too_large(max))
        }
        Err(_) => Err(responses::bad_request(
            "Invalid request: the request body could not be read",
        )),
    }
}

/// The upstream's answer as the client's: same status and body, with its `Content-Type` and
/// `Retry-After`.
fn passthrough(reply: UpstreamReply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    if let Some(ct) = reply.content_type {
        headers.insert(CONTENT_TYPE, ct);
    }
    if let Some(ra) = reply.retry_after {
        headers.insert(RETRY_AFTER, ra);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_mode_detection() {
        assert!(is_test_mode(Some("test=true")));
        assert!(is_test_mode(Some("a=1&test=True")));
        assert!(!is_test_mode(Some("test=false")));
        assert!(!is_test_mode(Some("test")));
        assert!(!is_test_mode(Some("xtest=true")));
        assert!(!is_test_mode(None));
    }
}
