//! Request bodies sent with `Content-Encoding`: which encodings are accepted, and gzip inflated
//! within a bound, for the relay and the sandbox (the SDK sends a relay gzip above about 1 KB).
//!
//! The bound applies to the inflated bytes: inflating stops one byte past it, so a small body
//! that inflates past it (a decompression bomb) costs no more memory than the bound. Each
//! program turns the outcome into its own HTTP answer (415, 413, 400).

use std::io::Read;

use flate2::read::MultiGzDecoder;

/// The encodings a request body may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No `Content-Encoding`, or `identity`.
    Identity,
    /// `gzip` (or its old alias `x-gzip`).
    Gzip,
}

impl Encoding {
    /// The encoding a `Content-Encoding` value names (blank: none), or `None` for one not
    /// accepted. Compared case-insensitively, spaces around ignored.
    pub fn from_header(value: &str) -> Option<Encoding> {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("identity") {
            Some(Encoding::Identity)
        } else if value.eq_ignore_ascii_case("gzip") || value.eq_ignore_ascii_case("x-gzip") {
            Some(Encoding::Gzip)
        } else {
            None
        }
    }
}

/// Why a gzip body could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// It inflates past the bound.
    TooLarge,
    /// It is not valid gzip.
    Broken(String),
}

/// `raw` inflated (one gzip member or several), at most `max` bytes.
pub fn inflate(raw: &[u8], max: usize) -> Result<Vec<u8>, InflateError> {
    let mut inflated = Vec::with_capacity(raw.len().saturating_mul(4).min(max));
    MultiGzDecoder::new(raw)
        .take(max as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| InflateError::Broken(e.to_string()))?;
    if inflated.len() > max {
        return Err(InflateError::TooLarge);
    }
    Ok(inflated)
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
    fn encodings_by_header_value() {
        for (value, encoding) in [
            ("", Some(Encoding::Identity)),
            (" Identity ", Some(Encoding::Identity)),
            ("gzip", Some(Encoding::Gzip)),
            (" GZIP ", Some(Encoding::Gzip)),
            ("x-gzip", Some(Encoding::Gzip)),
            ("br", None),
            ("deflate", None),
            ("gzip, br", None),
        ] {
            assert_eq!(Encoding::from_header(value), encoding, "{value:?}");
        }
    }

    #[test]
    fn gzip_inflates_within_the_bound_and_a_bomb_is_over_it() {
        let json = br#"{"data":[]}"#.to_vec();
        assert_eq!(inflate(&gzip(&json), 100), Ok(json.clone()));
        assert_eq!(inflate(&gzip(&json), json.len()), Ok(json.clone()));
        assert_eq!(
            inflate(&gzip(&json), json.len() - 1),
            Err(InflateError::TooLarge)
        );
        let two_members = [gzip(b"{\"data\":"), gzip(b"[]}")].concat();
        assert_eq!(inflate(&two_members, 100), Ok(json));
        let bomb = gzip(&vec![b' '; 10_000_000]);
        assert!(bomb.len() < 20_000);
        assert_eq!(inflate(&bomb, 1_000_000), Err(InflateError::TooLarge));
        assert!(matches!(
            inflate(b"not gzip", 100),
            Err(InflateError::Broken(_))
        ));
    }
}
