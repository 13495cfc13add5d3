//! Request bodies sent with `Content-Encoding`: gzip (what the SDK sends a relay above about
//! 1 KB) is inflated with a bound; any other encoding is refused with 415.
//!
//! The body limit applies to the inflated bytes: inflating stops one byte past it, and a body
//! that inflates past it (a decompression bomb) gets the same 413 as any body over the limit.
//! Inflating runs on the blocking pool, like the parsing of large bodies. Which encodings are
//! accepted and the bounded inflation are the wire contract's (`conversions_wire::inflate`),
//! shared with the sandbox; this module turns them into the relay's answers.

use axum::body::Bytes;
use axum::http::header::CONTENT_ENCODING;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
pub(crate) use conversions_wire::inflate::Encoding;
use conversions_wire::inflate::{inflate, InflateError};

use crate::responses;

/// Why a body's encoding was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Another encoding than gzip (415), named as sent.
    Unsupported(String),
    /// Inflates past the body limit (413).
    TooLarge(usize),
    /// Not valid gzip (400).
    Broken,
}

impl Refusal {
    /// The relay's answer.
    pub(crate) fn response(self) -> Response {
        match self {
            Refusal::Unsupported(named) => responses::api_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                415,
                &format!(
                    "Unsupported Content-Encoding \"{named}\": this relay accepts request bodies gzip-compressed or uncompressed."
                ),
            ),
            Refusal::TooLarge(max) => responses::payload_too_large(max),
            Refusal::Broken => {
                responses::bad_request("Invalid request: the gzip body could not be decompressed")
            }
        }
    }
}

/// The body's encoding, or the refusal naming the one this relay does not accept.
pub(crate) fn encoding(headers: &HeaderMap) -> Result<Encoding, Refusal> {
    let values: Vec<&str> = headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .map(|v| v.to_str().unwrap_or("(not text)").trim())
        .filter(|v| !v.is_empty())
        .collect();
    let accepted = match values.as_slice() {
        [] => Some(Encoding::Identity),
        [one] => Encoding::from_header(one),
        _ => None,
    };
    accepted.ok_or_else(|| Refusal::Unsupported(values.join(", ").chars().take(64).collect()))
}

/// `raw` as JSON bytes: inflated when gzip, refused with 413 past `max` inflated bytes and
/// with 400 when it is not valid gzip.
pub(crate) async fn decode(raw: Bytes, encoding: Encoding, max: usize) -> Result<Bytes, Refusal> {
    if encoding == Encoding::Identity {
        return Ok(raw);
    }
    let inflated = tokio::task::spawn_blocking(move || inflate(&raw, max))
        .await
        .unwrap_or(Err(InflateError::Broken(String::new())));
    match inflated {
        Ok(bytes) => Ok(Bytes::from(bytes)),
        Err(InflateError::TooLarge) => Err(Refusal::TooLarge(max)),
        Err(InflateError::Broken(_)) => Err(Refusal::Broken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(CONTENT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn only_gzip_and_identity_are_accepted() {
        assert_eq!(encoding(&headers(&[])).unwrap(), Encoding::Identity);
        assert_eq!(
            encoding(&headers(&["Identity"])).unwrap(),
            Encoding::Identity
        );
        assert_eq!(encoding(&headers(&[" GZIP "])).unwrap(), Encoding::Gzip);
        for refused in [&["br"][..], &["deflate"], &["gzip, br"], &["gzip", "gzip"]] {
            let response = encoding(&headers(refused)).unwrap_err();
            assert_eq!(
                response.response().status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{refused:?}"
            );
        }
    }

    #[tokio::test]
    async fn gzip_inflates_within_the_limit_and_a_bomb_gets_413() {
        let json = br#"{"data":[]}"#;
        let inflated = decode(Bytes::from(gzip(json)), Encoding::Gzip, 100)
            .await
            .unwrap();
        assert_eq!(&inflated[..], json);
        let bomb = gzip(&vec![b' '; 10_000_000]);
        assert!(bomb.len() < 20_000);
        let refused = decode(Bytes::from(bomb), Encoding::Gzip, 1_000_000)
            .await
            .unwrap_err();
        assert_eq!(refused.response().status(), StatusCode::PAYLOAD_TOO_LARGE);
        let broken = decode(Bytes::from_static(b"{}"), Encoding::Gzip, 100)
            .await
            .unwrap_err();
        assert_eq!(broken.response().status(), StatusCode::BAD_REQUEST);
    }
}
