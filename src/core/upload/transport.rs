//! HTTP transport: one ureq agent per client (keep-alive across requests), rustls, bounded
//! timeouts, no redirects followed, and answers read with a size cap.
//!
//! It only moves bytes: classifying answers belongs to `delivery`. Errors never carry the
//! token (it is only ever written into the Authorization header).

use std::time::Duration;

use ureq::Agent;

/// The most of an answer we read; real answers for 1,000 events are ~100 KB.
const MAX_RESPONSE_BYTES: u64 = 2 * 1024 * 1024;

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// Status code.
    pub status: u16,
    /// The `Retry-After` header, verbatim.
    pub retry_after: Option<String>,
    /// The `Date` header (the server's clock), verbatim.
    pub date: Option<String>,
    /// The body (empty when it could not be read completely).
    pub body: String,
    /// The body could not be read completely (too large, reset, timed out).
    pub body_error: Option<String>,
}

/// Sends request bodies to one URL.
pub struct Transport {
    agent: Agent,
    url: String,
}

impl Transport {
    /// An agent with a connect timeout and an overall timeout per request.
    pub fn new(url: String, connect_timeout: Duration, overall_timeout: Duration) -> Transport {
        let agent: Agent = Agent::config_builder()
            .timeout_connect(Some(connect_timeout))
            .timeout_global(Some(overall_timeout))
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .user_agent(concat!(
                "app-conversions/",
                env!("CARGO_PKG_VERSION"),
                " (rust)"
            ))
            .build()
            .into();
        Transport { agent, url }
    }

    /// POSTs `body` as JSON with the bearer `token`; `Err` is a network-level failure.
    pub fn post(&self, token: &str, body: &str) -> Result<HttpAnswer, String> {
        let mut response = self
            .agent
            .post(&self.url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after");
        let date = header("date");
        let (body, body_error) = match response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
        {
            Ok(text) => (text, None),
            Err(e) => (String::new(), Some(describe(&e))),
        };
        Ok(HttpAnswer {
            status,
            retry_after,
            date,
            body,
            body_error,
        })
    }
}

fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => "request timed out".into(),
        ureq::Error::Io(e) => format!("network error: {}", e.kind()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::BodyExceedsLimit(_) => "answer larger than the limit".into(),
        other => format!("transport error: {other}"),
    }
}
