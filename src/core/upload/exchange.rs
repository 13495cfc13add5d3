//! One request through an [`HttpTransport`], with the core's rules on both sides of it.
//!
//! Whichever transport moves the bytes (the app's platform or the built-in Rust client), the
//! core builds the request (the token only in `Authorization`, the timeout it wants, gzip
//! where the endpoint accepts it) and reads the answer the same way: a status outside
//! 100..=599 is a broken answer, a body over [`MAX_RESPONSE_BYTES`] is not read, a 3xx is an
//! answer like any other, and a transport that panics is a failed request. The text of a
//! transport error is redacted by the upload policy's `map_text` before it is kept.

use std::io::Write;
use std::sync::Arc;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::core::upload::transport::{HttpHeader, HttpRequest, HttpResponse, HttpTransport};
use crate::core::wire::HttpAnswer;

/// The most of an answer the SDK reads; real answers for 1,000 events are ~100 KB.
pub const MAX_RESPONSE_BYTES: usize = 2 * 1024 * 1024;

/// Bodies larger than this are gzip-compressed when the endpoint accepts it: below, the
/// gzip header and the lost keep-alive of small requests cost more than they save.
pub const GZIP_ABOVE_BYTES: usize = 1024;

/// Sends request bodies to one URL through a transport.
pub struct Exchange {
    transport: Arc<dyn HttpTransport>,
    url: String,
    timeout_ms: u64,
    gzip: bool,
}

impl Exchange {
    /// Requests to `url` through `transport`, each within `timeout_ms`; bodies over
    /// [`GZIP_ABOVE_BYTES`] are compressed when `gzip` (the endpoint accepts it).
    pub fn new(
        transport: Arc<dyn HttpTransport>,
        url: String,
        timeout_ms: u64,
        gzip: bool,
    ) -> Exchange {
        Exchange {
            transport,
            url,
            timeout_ms,
            gzip,
        }
    }

    /// POSTs `body` as JSON with the bearer `token`; `Err` is a failure without an answer.
    pub fn post(&self, token: &str, body: &str) -> Result<HttpAnswer, String> {
        let request = build_request(&self.url, token, body, self.timeout_ms, self.gzip);
        let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.transport.send(request)
        }));
        match sent {
            Ok(Ok(response)) => read_response(response),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("transport error: the transport panicked".into()),
        }
    }
}

/// The request for `body`: JSON, the token in `Authorization` only, gzip above
/// [`GZIP_ABOVE_BYTES`] when `gzip`.
pub fn build_request(
    url: &str,
    token: &str,
    body: &str,
    timeout_ms: u64,
    gzip: bool,
) -> HttpRequest {
    let header = |name: &str, value: String| HttpHeader {
        name: name.into(),
        value,
    };
    let mut headers = vec![
        header("Authorization", format!("Bearer {token}")),
        header("Content-Type", "application/json".into()),
        header(
            "User-Agent",
            concat!("app-conversions/", env!("CARGO_PKG_VERSION")).into(),
        ),
    ];
    let compressed = (gzip && body.len() > GZIP_ABOVE_BYTES)
        .then(|| compress(body.as_bytes()))
        .flatten();
    let body = match compressed {
        Some(bytes) => {
            headers.push(header("Content-Encoding", "gzip".into()));
            bytes
        }
        None => body.as_bytes().to_vec(),
    };
    HttpRequest {
        url: url.into(),
        headers,
        body,
        timeout_ms,
        method: "POST".into(),
    }
}

/// `bytes` gzip-compressed (`None` if the encoder failed: the body then goes uncompressed).
fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// What the policy reads of a transport's answer: a status outside 100..=599 is an error,
/// a body over [`MAX_RESPONSE_BYTES`] is left unread, bytes that are not UTF-8 are replaced.
pub fn read_response(response: HttpResponse) -> Result<HttpAnswer, String> {
    let status = response.status;
    if !(100..=599).contains(&status) {
        return Err(format!(
            "transport error: the transport returned the invalid HTTP status {status}"
        ));
    }
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.trim().eq_ignore_ascii_case(name))
            .map(|h| h.value.clone())
    };
    let retry_after = header("retry-after");
    let date = header("date");
    let (body, body_error) = if response.body.len() > MAX_RESPONSE_BYTES {
        (
            String::new(),
            Some(format!(
                "answer larger than the limit of {MAX_RESPONSE_BYTES} bytes"
            )),
        )
    } else {
        let body = match String::from_utf8(response.body) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        (body, None)
    };
    Ok(HttpAnswer {
        status,
        retry_after,
        date,
        body,
        body_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| HttpHeader {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            body: body.to_vec(),
        }
    }

    fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    #[test]
    fn the_token_is_only_in_the_authorization_header() {
        let request = build_request("https://relay.example/v1", "tok-123", "{}", 5_000, true);
        assert_eq!(header(&request, "authorization"), Some("Bearer tok-123"));
        let elsewhere = request
            .headers
            .iter()
            .filter(|h| h.name != "Authorization")
            .any(|h| h.value.contains("tok-123"));
        assert!(!elsewhere && !request.url.contains("tok-123"));
        assert_eq!(request.timeout_ms, 5_000);
    }

    #[test]
    fn bodies_over_a_kilobyte_are_gzipped_only_when_the_endpoint_accepts_it() {
        let large = format!("{{\"data\":[{}]}}", "\"x\",".repeat(400));
        let small = "{\"data\":[]}";
        let gzipped = build_request("u", "t", &large, 1, true);
        assert_eq!(header(&gzipped, "content-encoding"), Some("gzip"));
        let mut inflated = String::new();
        GzDecoder::new(gzipped.body.as_slice())
            .read_to_string(&mut inflated)
            .unwrap();
        assert_eq!(inflated, large);
        assert!(gzipped.body.len() < large.len() / 4);
        for (request, body) in [
            (build_request("u", "t", &large, 1, false), large.as_str()),
            (build_request("u", "t", small, 1, true), small),
        ] {
            assert_eq!(header(&request, "content-encoding"), None);
            assert_eq!(request.body, body.as_bytes());
        }
    }

    #[test]
    fn answers_are_read_with_the_cores_rules() {
        let redirect = read_response(response(307, &[("Location", "/x")], b"")).unwrap();
        assert_eq!(redirect.status, 307);
        let date = "Sun, 06 Dec 2026 15:00:00 GMT";
        let retry = read_response(response(
            503,
            &[(" RETRY-AFTER", "12"), ("date", date)],
            b"{}",
        ))
        .unwrap();
        assert_eq!(retry.retry_after.as_deref(), Some("12"));
        assert_eq!(retry.date.as_deref(), Some(date));
        let huge = read_response(response(200, &[], &vec![b' '; MAX_RESPONSE_BYTES + 1])).unwrap();
        assert!(huge.body.is_empty());
        assert!(huge.body_error.unwrap().contains("larger than the limit"));
        let garbage = read_response(response(200, &[], &[0xff, b'{', 0xfe])).unwrap();
        assert_eq!(garbage.body, "\u{fffd}{\u{fffd}");
        for status in [0, 99, 600, 65535] {
            let error = read_response(response(status, &[], b"")).unwrap_err();
            assert!(
                error.contains(&format!("invalid HTTP status {status}")),
                "{error}"
            );
        }
    }
}
