//! The built-in [`HttpTransport`] (feature `rust-transport`): one ureq agent per client
//! (keep-alive across requests), rustls with the compiled-in webpki roots, no redirects
//! followed, no status treated as an error, and answers read up to one byte past the core's
//! cap so the core sees that the cap was passed without this reading more.
//!
//! It is what the desktop harness, the benches and the tests use; the mobile libraries are
//! built without it and send through the platform's own stack instead.

use std::io::Read;
use std::time::Duration;

use ureq::Agent;

use crate::core::upload::exchange::MAX_RESPONSE_BYTES;
use crate::core::upload::transport::{
    HttpHeader, HttpRequest, HttpResponse, HttpTransport, TransportError,
};

/// Connect timeout of a request (the request's own timeout bounds the whole exchange).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends requests with ureq and rustls.
pub struct RustTransport {
    agent: Agent,
}

impl RustTransport {
    /// An agent with a connect timeout that follows no redirect.
    pub fn new() -> RustTransport {
        let agent: Agent = Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .build()
            .into();
        RustTransport { agent }
    }
}

impl Default for RustTransport {
    fn default() -> RustTransport {
        RustTransport::new()
    }
}

impl HttpTransport for RustTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let timeout = Some(Duration::from_millis(request.timeout_ms));
        let sent = if request.method.eq_ignore_ascii_case("GET") {
            let mut builder = self
                .agent
                .get(&request.url)
                .config()
                .timeout_global(timeout)
                .build();
            for header in &request.headers {
                builder = builder.header(header.name.as_str(), header.value.as_str());
            }
            builder.call()
        } else {
            let mut builder = self
                .agent
                .post(&request.url)
                .config()
                .timeout_global(timeout)
                .build();
            for header in &request.headers {
                builder = builder.header(header.name.as_str(), header.value.as_str());
            }
            builder.send(&request.body[..])
        };
        let mut response = sent.map_err(describe)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some(HttpHeader {
                    name: name.as_str().to_string(),
                    value: value.to_str().ok()?.to_string(),
                })
            })
            .collect();
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(MAX_RESPONSE_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| TransportError::Network {
                reason: format!("the HTTP {status} answer broke off: {}", e.kind()),
            })?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn describe(error: ureq::Error) -> TransportError {
    match error {
        ureq::Error::Timeout(_) => TransportError::Timeout {
            reason: "no answer in time".into(),
        },
        ureq::Error::Io(e) => TransportError::Network {
            reason: format!("{}", e.kind()),
        },
        ureq::Error::HostNotFound => TransportError::Network {
            reason: "host not found".into(),
        },
        ureq::Error::ConnectionFailed => TransportError::Network {
            reason: "connection failed".into(),
        },
        other => TransportError::Other {
            reason: other.to_string(),
        },
    }
}
