//! Request bodies sent with `Content-Encoding`: gzip is inflated with a bound, anything else
//! is refused, as the reference relay does (both through the wire contract's
//! `conversions_wire::inflate`).
//!
//! The body cap applies to the inflated bytes, so a small gzip body that inflates past it
//! (a decompression bomb) is refused with 413 like any body over the cap; reading stops one
//! byte past the cap, so no more than that is ever held.

pub(crate) use conversions_wire::inflate::Encoding;
use conversions_wire::inflate::{inflate, InflateError};

use crate::http::RequestHead;
use crate::response::Response;

/// The body's encoding, or a 415 naming the one that is not accepted.
pub(crate) fn encoding(head: &RequestHead) -> Result<Encoding, Response> {
    let value = head.header("content-encoding").unwrap_or("").trim();
    Encoding::from_header(value).ok_or_else(|| {
        Response::error(
            415,
            415,
            &format!(
                "Unsupported Content-Encoding \"{}\": send the body as gzip or uncompressed.",
                value.chars().take(64).collect::<String>()
            ),
        )
    })
}

/// The body as sent (`None`: over `cap` already), inflated when gzip: `Ok(None)` when the
/// inflated body is over `cap`, `Err` (a 400) when it is not valid gzip.
pub(crate) fn decode(
    body: Option<Vec<u8>>,
    encoding: Encoding,
    cap: usize,
) -> Result<Option<Vec<u8>>, Response> {
    let Some(raw) = body else { return Ok(None) };
    if encoding == Encoding::Identity {
        return Ok(Some(raw));
    }
    match inflate(&raw, cap) {
        Ok(inflated) => Ok(Some(inflated)),
        Err(InflateError::TooLarge) => Ok(None),
        Err(InflateError::Broken(e)) => Err(Response::error(
            400,
            400,
            &format!("Invalid request: the gzip body could not be decompressed ({e})."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_is_inflated_within_the_cap_and_a_bomb_is_over_it() {
        let json = br#"{"data":[]}"#.to_vec();
        assert_eq!(
            decode(Some(gzip(&json)), Encoding::Gzip, 100).unwrap(),
            Some(json)
        );
        let bomb = gzip(&vec![b' '; 10_000_000]);
        assert!(bomb.len() < 20_000);
        assert_eq!(decode(Some(bomb), Encoding::Gzip, 1_000_000).unwrap(), None);
        let broken = decode(Some(b"not gzip".to_vec()), Encoding::Gzip, 100).unwrap_err();
        assert_eq!(broken.status, 400);
        assert_eq!(
            decode(Some(b"{}".to_vec()), Encoding::Identity, 100).unwrap(),
            Some(b"{}".to_vec())
        );
    }
}
