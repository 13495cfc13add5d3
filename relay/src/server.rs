//! The HTTP surface: routes, the events handler, and the request-log middleware.
//!
//! The handler does the cheap refusals before the expensive work, in this order: the client
//! IP's rate limit (429), app-token authentication (401/403, from headers alone), the
//! instance's global cap (429), the ad account's budget when it is known to be spent for this
//! minute (429), then the body through [`crate::body`]: its cap (413, first from
//! `Content-Length`, then while reading), one deadline for the whole body (408), and memory
//! reserved as bytes arrive within the instance's budget (503) and the client address's
//! share (429). Each of these answers says `Connection: close`, as the unread rest of the body
//! ends the connection. Then the body's shape and event count (400). Only then does it parse (large bodies on the blocking
//! pool, a few at a time, so the async workers keep answering), fill client IPs, and hand the
//! events to the [`crate::coalesce::Coalescer`], waiting for its device's own answer. The events route also sits
//! behind a concurrency limit that sheds load with 503 instead of queueing. Everything lives in
//! one immutable [`AppState`] shared by `Arc`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;

use crate::app_state::AppState;
use crate::auth::AuthDecision;
use crate::batch::{BatchKey, Outcome, Part};
use crate::body::{read_body, BodyError};
use crate::budget::spread_retry_after;
use crate::config::RelayConfig;
use crate::content_encoding;
use crate::custom_names::with_refused;
use crate::forward::UpstreamReply;
use crate::health::{is_health_check, livez, readyz};
use crate::limit::retry_after_secs;
use crate::log::{log_request as write_log, request_id_of, RequestRecord};
use crate::payload::{self, PayloadError, Prepared};
use crate::responses;
use crate::sdk_settings::get_sdk_settings;
use crate::telemetry;
use crate::upstream_health::Pause;

/// The header a request id is read from and echoed in.
const X_REQUEST_ID: &str = "x-request-id";

/// Bodies up to this size are parsed on the async worker; larger ones on the blocking pool.
const INLINE_PARSE_BYTES: usize = 64 * 1024;

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
/// validated first. Request-level limits come with the router; the connection-level ones
/// (connection cap, header and idle timeouts) are [`crate::RelayHandle`]'s, which a server of
/// your own must set itself. Serve it inside a tokio runtime (batches are sent from tasks).
pub fn router(config: &RelayConfig) -> Result<Router, String> {
    config.validate()?;
    Ok(build_router(Arc::new(AppState::new(config)?)))
}

pub(crate) fn build_router(state: Arc<AppState>) -> Router {
    let shed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
            shed("requests_in_flight");
            responses::overloaded()
        }))
        .load_shed()
        .concurrency_limit(state.max_requests_in_flight);
    Router::new()
        .route(
            "/v5/ad_accounts/{ad_account_id}/events",
            post(post_events).layer(shed),
        )
        .route(
            "/v5/ad_accounts/{ad_account_id}/sdk-settings",
            get(get_sdk_settings),
        )
        .route("/healthz", get(livez))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

async fn fallback() -> Response {
    responses::not_found()
}

/// Writes one log line per request once the response is ready.
async fn log_request(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if is_health_check(request.uri().path()) {
        return next.run(request).await;
    }
    let _in_flight = state.lifecycle.enter();
    let started = Instant::now();
    let request_id = request_id_of(
        request
            .headers()
            .get(X_REQUEST_ID)
            .and_then(|v| v.to_str().ok()),
    );
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let test = is_test_mode(request.uri().query());
    let mut response = next.run(request).await;
    if state.lifecycle.draining() {
        // The client should take its next request to another instance.
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    metrics::counter!(telemetry::DEVICE_REQUESTS, "status" => response.status().as_str().to_string())
        .increment(1);
    if path.starts_with("/v5/") {
        metrics::histogram!(telemetry::ADDED_LATENCY).record(started.elapsed().as_secs_f64());
    }
    let record = RequestRecord {
        request_id: &request_id,
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
    write_log(&state.log, &record);
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
    // Per client IP first, so one source is limited whether or not it has a token; the
    // global cap counts only authenticated requests, so requests without a valid token
    // cannot use it up for the devices that have one.
    let client_ip = state.proxies.client_ip(peer.ip(), &headers);
    let now = Instant::now();
    if let Err(wait) = state.ip_limiter.check(client_ip.unwrap_or(peer.ip()), now) {
        shed("ip_rate_limit");
        return closing(responses::rate_limited(retry_after_secs(wait)));
    }
    match state.tokens.authorize(&headers, &ad_account_id) {
        AuthDecision::Allowed(_) => {}
        AuthDecision::WrongAccount => return closing(responses::forbidden()),
        AuthDecision::Unauthenticated => return closing(responses::unauthenticated()),
    }
    if let Err(wait) = state.global_limiter.check(now) {
        shed("global_rate_limit");
        return closing(responses::rate_limited(retry_after_secs(wait)));
    }
    if let Some(until_window_end) = state.budget.spent_for(&ad_account_id) {
        shed("budget");
        return closing(responses::rate_limited(spread_retry_after(
            until_window_end,
        )));
    }
    let encoding = match content_encoding::encoding(&headers) {
        Ok(encoding) => encoding,
        Err(refusal) => return closing(refusal.response()),
    };
    if let Some((pause, wait)) = state.health.paused(&ad_account_id) {
        shed("upstream_paused");
        return closing(paused(pause, wait));
    }
    let address = client_ip.unwrap_or(peer.ip());
    let declared = declared_length(&headers);
    let raw = match state.body_memory.reserve(address) {
        Ok(mut memory) => read_body(body, declared, state.body_limits, &mut memory)
            .await
            .map(|raw| (raw, memory)),
        Err(e) => Err(e),
    };
    let (raw, _memory) = match raw {
        Ok(read) => read,
        Err(e) => {
            match e {
                BodyError::InstanceFull => shed("body_memory"),
                BodyError::AddressFull => shed("body_memory_per_ip"),
                _ => {}
            }
            return closing(body_refusal(e, state.body_limits.max_bytes));
        }
    };
    let raw = match content_encoding::decode(raw, encoding, state.body_limits.max_bytes).await {
        Ok(raw) => raw,
        Err(refusal) => return refusal.response(),
    };
    let prepared = match prepare(&state, raw, client_ip).await {
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
    let key = BatchKey {
        ad_account: state
            .ad_accounts
            .iter()
            .find(|a| ***a == *ad_account_id)
            .cloned()
            .unwrap_or_else(|| Arc::from(ad_account_id.as_str())),
        test: is_test_mode(query.as_deref()),
    };
    let refused = state
        .custom_names
        .refused(&key.ad_account, &prepared.custom_names)
        .await;
    let kept = refused.iter().filter(|r| !**r).count();
    let outcome = if kept == 0 {
        with_refused(None, &refused, &prepared.custom_names)
            .map_or(Outcome::Unreachable, Outcome::Reply)
    } else {
        let events = if kept < prepared.events {
            prepared.without(&refused)
        } else {
            prepared.body.clone()
        };
        let part = Part {
            events,
            count: kept,
        };
        let outcome = state
            .coalescer
            .submit(key, part)
            .await
            .unwrap_or(Outcome::Unreachable);
        match outcome {
            Outcome::Reply(reply)
                if kept < prepared.events && matches!(reply.status.as_u16(), 200 | 422) =>
            {
                with_refused(Some(&reply), &refused, &prepared.custom_names)
                    .map_or(Outcome::Unreachable, Outcome::Reply)
            }
            other => other,
        }
    };
    let mut response = match outcome {
        Outcome::Reply(reply) => passthrough(reply),
        Outcome::OverBudget(secs) => responses::rate_limited(secs),
        Outcome::Paused(pause, wait) => paused(pause, wait),
        Outcome::Unsplit => responses::unsplit(),
        Outcome::Timeout => responses::gateway_timeout(),
        Outcome::Unreachable => responses::bad_gateway(),
    };
    response.extensions_mut().insert(EventStats {
        events: prepared.events,
        ips_added: prepared.ips_added,
    });
    response
}

/// [`payload::prepare`], on the blocking pool (a few at a time) for large bodies.
async fn prepare(
    state: &AppState,
    raw: axum::body::Bytes,
    client_ip: Option<std::net::IpAddr>,
) -> Result<Prepared, PayloadError> {
    if raw.len() <= INLINE_PARSE_BYTES {
        return payload::prepare(raw, client_ip);
    }
    let _parser = state.parsers.acquire().await;
    tokio::task::spawn_blocking(move || payload::prepare(raw, client_ip))
        .await
        .unwrap_or_else(|_| {
            Err(PayloadError::Malformed(
                "the body could not be parsed".to_string(),
            ))
        })
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// The local answer while the account's calls are paused: 429 after an upstream 429 (its
/// wait spread like the budget's), 503 while the upstream is failing.
fn paused(pause: Pause, wait: std::time::Duration) -> Response {
    match pause {
        Pause::RateLimited => responses::rate_limited(spread_retry_after(wait)),
        Pause::Failing => responses::upstream_failing(retry_after_secs(wait)),
    }
}

/// `response` saying `Connection: close`, for a request refused before its body was read
/// whole: hyper closes such a connection after the answer (the rest of the body is still on
/// it), and without the header a pooling client would send its next request into a
/// connection that is closing.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Counts a request refused to protect the relay or the ad account.
fn shed(reason: &'static str) {
    metrics::counter!(telemetry::SHED, "reason" => reason).increment(1);
}

/// The answer to a body that was not read.
fn body_refusal(error: BodyError, max_bytes: usize) -> Response {
    match error {
        BodyError::TooLarge => responses::payload_too_large(max_bytes),
        BodyError::Timeout => responses::request_timeout(),
        BodyError::Unreadable => {
            responses::bad_request("Invalid request: the request body could not be read")
        }
        BodyError::InstanceFull => responses::overloaded(),
        BodyError::AddressFull => responses::rate_limited(1),
    }
}

/// The upstream's answer (or the device's slice of it) as the client's: same status and
/// body, with its `Content-Type` and `Retry-After`.
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
