//! The upstream call: POST the prepared body to the Conversions API with the conversion token.
//!
//! One pooled `reqwest` client (rustls, HTTP/1.1 keep-alive) serves all requests. The
//! `Authorization` value is built once and marked sensitive so `http`'s `Debug` output hides
//! it. Redirects are not followed (the token must only ever go to the configured host), and
//! environment proxy settings are ignored for a loopback upstream so tests never leave the
//! machine. The answer's status, body, `Content-Type` and `Retry-After` are handed back as they
//! came; transport failures become [`UpstreamError`] for a 502 or 504.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use axum::http::{HeaderValue, StatusCode};
use reqwest::Url;

use crate::config::RelayConfig;

/// `User-Agent` of upstream calls.
const RELAY_USER_AGENT: &str = concat!("app-conversions-relay/", env!("CARGO_PKG_VERSION"));

/// What the upstream answered.
#[derive(Debug)]
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
    /// Connection refused, reset, TLS failure, bad response (502).
    Unreachable,
}

/// The upstream endpoint and its client.
pub(crate) struct Upstream {
    client: reqwest::Client,
    base: String,
    authorization: HeaderValue,
}

impl Upstream {
    /// Builds the client from the (validated) configuration.
    pub(crate) fn new(config: &RelayConfig) -> Result<Self, String> {
        let url = check_upstream_url(&config.upstream)?;
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", config.conversion_token))
                .map_err(|_| "conversion_token: not a valid header value".to_string())?;
        authorization.set_sensitive(true);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.upstream_connect_timeout)
            .timeout(config.upstream_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true);
        if is_loopback(&url) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the upstream HTTP client: {e}"))?;
        Ok(Upstream {
            client,
            base: config.upstream.trim_end_matches('/').to_string(),
            authorization,
        })
    }

    /// POSTs `body` to `{base}/v5/ad_accounts/{ad_account_id}/events[?query]`.
    pub(crate) async fn send(
        &self,
        ad_account_id: &str,
        query: Option<&str>,
        body: Bytes,
    ) -> Result<UpstreamReply, UpstreamError> {
        let mut url = format!("{}/v5/ad_accounts/{ad_account_id}/events", self.base);
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(q);
        }
        let response = self
            .client
            .post(url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static(RELAY_USER_AGENT))
            .body(body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        let content_type = response.headers().get(CONTENT_TYPE).cloned();
        let retry_after = response.headers().get(RETRY_AFTER).cloned();
        let body = response.bytes().await.map_err(classify)?;
        Ok(UpstreamReply {
            status,
            content_type,
            retry_after,
            body,
        })
    }
}

fn classify(e: reqwest::Error) -> UpstreamError {
    if e.is_timeout() {
        UpstreamError::Timeout
    } else {
        UpstreamError::Unreachable
    }
}

/// Parses the upstream base URL: `https://host[:port][/prefix]`, or `http://` to a loopback
/// host (a plain-text conversion token must never cross a network). No query or fragment.
pub(crate) fn check_upstream_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("upstream: {s:?} is not a URL ({e})"))?;
    if url.host().is_none() {
        return Err(format!("upstream: {s:?} has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "upstream: {s:?} must be a base URL without credentials, query or fragment"
        ));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "upstream: {s:?} uses plain http to a non-loopback host; use https"
        )),
        other => Err(format!("upstream: unsupported scheme {other:?}")),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let host = host.to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls() {
        assert!(check_upstream_url("https://api.pinterest.com").is_ok());
        assert!(check_upstream_url("https://api.pinterest.com/").is_ok());
        assert!(check_upstream_url("http://127.0.0.1:1234").is_ok());
        assert!(check_upstream_url("http://localhost:1234").is_ok());
        assert!(check_upstream_url("http://10.0.0.1:1234").is_err());
        assert!(check_upstream_url("ftp://127.0.0.1").is_err());
        assert!(check_upstream_url("https://x.test/?a=1").is_err());
        assert!(check_upstream_url("https://u:p@x.test/").is_err());
        assert!(check_upstream_url("not a url").is_err());
    }

    #[test]
    fn authorization_is_sensitive() {
        let config = RelayConfig::new("http://127.0.0.1:9", "conv-secret");
        let upstream = Upstream::new(&config).unwrap();
        assert!(upstream.authorization.is_sensitive());
        assert_eq!(upstream.base, "http://127.0.0.1:9");
    }
}
