//! The upstream call: POST the prepared body to the Conversions API with the conversion token.
//!
//! One `ureq` agent (rustls, HTTP/1.1 keep-alive pool) serves all requests; each call runs on
//! tokio's blocking pool, so a slow upstream never holds an async worker. It is the HTTP
//! client the SDK itself uses, so the relay adds no second HTTP stack to the workspace. The
//! `Authorization` value is built once and marked sensitive so `http`'s `Debug` output hides
//! it. Redirects are not followed (the token must only ever go to the configured host), and
//! environment proxy settings are ignored for a loopback upstream so tests never leave the
//! machine. Only the `test` flag of the device's query is sent on: anything else a device puts
//! there (an `access_token`, encoded control characters) never sits next to the conversion
//! token. The answer's status, body, `Content-Type` and `Retry-After` are handed back as they
//! came; transport failures become [`UpstreamError`] for a 502 or 504.
//!
//! A request that fails on the connection before any answer arrives is sent once more, on a
//! fresh connection: that is what a pooled keep-alive connection looks like when the server
//! closed it just as it was reused. The API deduplicates by `event_id`, so the rare retry of
//! a request that did arrive costs nothing. Upstream calls in flight are capped
//! ([`MAX_CALLS_IN_FLIGHT`]): more wait, asynchronously, instead of queueing without bound on
//! the blocking pool.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use axum::body::Bytes;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use ureq::Agent;

use crate::config::{check_upstream_url, is_loopback, RelayConfig};

/// `User-Agent` of upstream calls.
const RELAY_USER_AGENT: &str = concat!("app-conversions-relay/", env!("CARGO_PKG_VERSION"));

/// The most of an upstream answer the relay reads; real answers for 1,000 events are ~100 KB.
const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// How long an idle upstream connection is kept for reuse.
const IDLE_CONNECTION_AGE: Duration = Duration::from_secs(60);

/// Most upstream calls running at once; more wait for a slot.
pub(crate) const MAX_CALLS_IN_FLIGHT: usize = 64;

/// What the upstream answered.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamReply {
    pub status: StatusCode,
    pub content_type: Option<HeaderValue>,
    pub retry_after: Option<HeaderValue>,
    pub body: Bytes,
}

/// Why there is no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpstreamError {
    /// Connect or overall deadline passed (504).
    Timeout,
    /// Connection refused, reset, TLS failure, bad or oversized response (502).
    Unreachable,
}

/// The upstream endpoint and its client.
pub(crate) struct Upstream {
    agent: Agent,
    base: String,
    authorization: HeaderValue,
    slots: Semaphore,
}

impl Upstream {
    /// Builds the client from the (validated) configuration.
    pub(crate) fn new(config: &RelayConfig) -> Result<Self, String> {
        let url = check_upstream_url(&config.upstream)?;
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", config.conversion_token))
                .map_err(|_| "conversion_token: not a valid header value".to_string())?;
        authorization.set_sensitive(true);
        let mut builder = Agent::config_builder()
            .timeout_connect(Some(config.upstream_connect_timeout))
            .timeout_global(Some(config.upstream_timeout))
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .max_idle_age(IDLE_CONNECTION_AGE)
            .user_agent(RELAY_USER_AGENT);
        if is_loopback(&url) {
            builder = builder.proxy(None);
        }
        Ok(Upstream {
            agent: builder.build().into(),
            base: config.upstream.trim_end_matches('/').to_string(),
            authorization,
            slots: Semaphore::new(MAX_CALLS_IN_FLIGHT),
        })
    }

    /// POSTs `body` to `{base}/v5/ad_accounts/{ad_account_id}/events`, with `?test=true` in
    /// test mode and no other query.
    pub(crate) async fn send(
        self: &Arc<Self>,
        ad_account_id: &str,
        test: bool,
        body: Bytes,
    ) -> Result<UpstreamReply, UpstreamError> {
        let mut url = format!("{}/v5/ad_accounts/{ad_account_id}/events", self.base);
        if test {
            url.push_str("?test=true");
        }
        let Ok(_slot) = self.slots.acquire().await else {
            return Err(UpstreamError::Unreachable);
        };
        let upstream = Arc::clone(self);
        tokio::task::spawn_blocking(move || upstream.post_with_retry(&url, &body))
            .await
            .unwrap_or(Err(UpstreamError::Unreachable))
    }

    /// [`Upstream::post`], once more when the connection failed before any answer.
    fn post_with_retry(&self, url: &str, body: &[u8]) -> Result<UpstreamReply, UpstreamError> {
        match self.post(url, body) {
            Err(Failure::BeforeAnswer) => self.post(url, body).map_err(Failure::into_error),
            other => other.map_err(Failure::into_error),
        }
    }

    /// The blocking POST behind [`Upstream::send`].
    fn post(&self, url: &str, body: &[u8]) -> Result<UpstreamReply, Failure> {
        let mut response = self
            .agent
            .post(url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .send(body)
            .map_err(|e| match e {
                ureq::Error::Io(_) | ureq::Error::Protocol(_) => Failure::BeforeAnswer,
                other => Failure::Other(classify(other)),
            })?;
        let status = response.status();
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        let retry_after = response.headers().get(RETRY_AFTER).cloned();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|e| Failure::Other(classify(e)))?;
        Ok(UpstreamReply {
            status,
            content_type,
            retry_after,
            body: Bytes::from(body),
        })
    }
}

/// How a call failed: before any answer (worth one retry on a fresh connection) or otherwise.
enum Failure {
    BeforeAnswer,
    Other(UpstreamError),
}

impl Failure {
    fn into_error(self) -> UpstreamError {
        match self {
            Failure::BeforeAnswer => UpstreamError::Unreachable,
            Failure::Other(e) => e,
        }
    }
}

fn classify(e: ureq::Error) -> UpstreamError {
    match e {
        ureq::Error::Timeout(_) => UpstreamError::Timeout,
        _ => UpstreamError::Unreachable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_is_sensitive() {
        let config = RelayConfig::new("http://127.0.0.1:9", "conv-secret");
        let upstream = Upstream::new(&config).unwrap();
        assert!(upstream.authorization.is_sensitive());
        assert_eq!(upstream.base, "http://127.0.0.1:9");
    }
}
