//! The upstream base URL's rule: `https://`, or plain `http://` only to a literal loopback
//! address, so the conversion token never crosses a network in plain text.
//!
//! A configuration check ([`super::validate`]) and the upstream client
//! ([`crate::forward`]) both apply it, so it lives here, below both.

use std::net::IpAddr;

use axum::http::uri::Scheme;
use axum::http::Uri;

/// Parses the upstream base URL: `https://host[:port][/prefix]`, or `http://` to a literal
/// loopback address (a plain-text conversion token must never cross a network, and a name,
/// even `localhost` or `*.localhost`, may resolve elsewhere). No credentials, query or
/// fragment.
pub(crate) fn check_upstream_url(s: &str) -> Result<Uri, String> {
    let url: Uri = s
        .parse()
        .map_err(|e| format!("upstream: {s:?} is not a URL ({e})"))?;
    let Some(authority) = url.authority() else {
        return Err(format!("upstream: {s:?} has no host"));
    };
    if url.query().is_some() || s.contains('#') || authority.as_str().contains('@') {
        return Err(format!(
            "upstream: {s:?} must be a base URL without credentials, query or fragment"
        ));
    }
    match url.scheme() {
        Some(scheme) if *scheme == Scheme::HTTPS => Ok(url),
        Some(scheme) if *scheme == Scheme::HTTP && is_loopback(&url) => Ok(url),
        Some(scheme) if *scheme == Scheme::HTTP => Err(format!(
            "upstream: {s:?} uses plain http to a non-loopback host; use https"
        )),
        other => Err(format!(
            "upstream: unsupported scheme {:?}",
            other.map(Scheme::as_str).unwrap_or_default()
        )),
    }
}

/// True when `url`'s host is a literal loopback address (`127.0.0.1`, `[::1]`), never a name.
pub(crate) fn is_loopback(url: &Uri) -> bool {
    let Some(host) = url.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls() {
        assert!(check_upstream_url("https://api.pinterest.com").is_ok());
        assert!(check_upstream_url("https://api.pinterest.com/").is_ok());
        assert!(check_upstream_url("http://127.0.0.1:1234").is_ok());
        assert!(check_upstream_url("http://localhost:1234").is_err());
        assert!(check_upstream_url("http://a.localhost:1234").is_err());
        assert!(check_upstream_url("http://10.0.0.1:1234").is_err());
        assert!(check_upstream_url("ftp://127.0.0.1").is_err());
        assert!(check_upstream_url("https://x.test/?a=1").is_err());
        assert!(check_upstream_url("https://u:p@x.test/").is_err());
        assert!(check_upstream_url("https://x.test/#top").is_err());
        assert!(check_upstream_url("not a url").is_err());
        assert!(check_upstream_url("api.pinterest.com").is_err());
    }
}
