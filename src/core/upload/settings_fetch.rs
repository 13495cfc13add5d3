//! The fetch's rules, as pure functions: the request (a `GET` with the app's token and the
//! kept `ETag`), what an answer means, and when the relay is asked next. The upload thread
//! (`settings_fetcher`) only moves the bytes.
//!
//! The design choice: any answer but a good document or a `304` keeps what is in force (the
//! last good document, or none). A relay without the route (404) or a server error is not a
//! reason to change anything, and an ignored document is counted, not applied.

use crate::core::remote_settings::document::{
    parse, Rejection, RemoteDocument, MAX_DOCUMENT_BYTES,
};
use crate::core::upload::transport::{HttpHeader, HttpRequest, HttpResponse, TransportError};

/// After a failure (network, timeout, 5xx, an ignored document), the relay is asked again no
/// sooner than this, seconds, or the document's TTL if shorter.
pub const RETRY_AFTER_FAILURE_SECS: i64 = 3_600;

/// `{endpoint}/v5/ad_accounts/{id}/sdk-settings`.
pub fn settings_url(endpoint: &str, ad_account_id: &str) -> String {
    format!(
        "{}/v5/ad_accounts/{ad_account_id}/sdk-settings",
        endpoint.trim_end_matches('/')
    )
}

/// The `GET` for the settings: the token only in `Authorization`, the kept `etag` as
/// `If-None-Match`.
pub fn request(url: &str, token: &str, etag: Option<&str>, timeout_ms: u64) -> HttpRequest {
    let header = |name: &str, value: String| HttpHeader {
        name: name.into(),
        value,
    };
    let mut headers = vec![
        header("Authorization", format!("Bearer {token}")),
        header("Accept", "application/json".into()),
        header(
            "User-Agent",
            concat!("app-conversions/", env!("CARGO_PKG_VERSION")).into(),
        ),
    ];
    if let Some(etag) = etag {
        headers.push(header("If-None-Match", etag.into()));
    }
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers,
        body: Vec::new(),
        timeout_ms,
    }
}

/// What one fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A good document: applied and kept.
    Document {
        /// The document as served (kept, and parsed again at the next start).
        text: String,
        /// Parsed.
        document: RemoteDocument,
        /// Its `ETag`, if the relay sent one.
        etag: Option<String>,
    },
    /// `304`: the kept document is still current.
    NotModified,
    /// A document that is ignored whole: what is in force stays.
    Ignored(Rejection),
    /// No document: a relay without the route (404), an error status, or no answer. What is
    /// in force stays.
    Failed {
        /// What happened (no token in it: the caller redacts transport text too).
        reason: String,
        /// The relay answered that it has no such route: asked again only after a full TTL.
        no_route: bool,
    },
}

/// What `sent` (a transport's result) means.
pub fn read(sent: Result<HttpResponse, TransportError>) -> Answer {
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            return Answer::Failed {
                reason: error.to_string(),
                no_route: false,
            }
        }
    };
    match response.status {
        200 => {
            if response.body.len() > MAX_DOCUMENT_BYTES {
                return Answer::Ignored(Rejection::TooLarge {
                    bytes: response.body.len(),
                });
            }
            match parse(&response.body) {
                Ok(document) => Answer::Document {
                    text: String::from_utf8_lossy(&response.body).into_owned(),
                    document,
                    etag: header(&response, "etag"),
                },
                Err(rejection) => Answer::Ignored(rejection),
            }
        }
        304 => Answer::NotModified,
        status => Answer::Failed {
            reason: format!("the relay answered {status}"),
            no_route: matches!(status, 404 | 405 | 501),
        },
    }
}

fn header(response: &HttpResponse, name: &str) -> Option<String> {
    response
        .headers
        .iter()
        .find(|h| h.name.trim().eq_ignore_ascii_case(name))
        .map(|h| h.value.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

/// When (Unix seconds) the relay is asked next after `answer` at `now`, for a document in
/// force with `ttl_secs`.
pub fn next_check_at(answer: &Answer, now: i64, ttl_secs: u64) -> i64 {
    let ttl = i64::try_from(ttl_secs).unwrap_or(i64::MAX);
    let wait = match answer {
        Answer::Document { .. } | Answer::NotModified => ttl,
        Answer::Failed { no_route: true, .. } => ttl,
        Answer::Failed { .. } | Answer::Ignored(_) => ttl.min(RETRY_AFTER_FAILURE_SECS),
    };
    now.saturating_add(wait)
}

/// True when the relay may be asked at `now`, its last check having been at `checked_at`
/// and the next due at `next_at`: when the next check is due, or when the clock went back
/// before the last check (a device clock set back would otherwise hold the switch for as
/// long as it was moved).
pub fn is_due(now: i64, checked_at: Option<i64>, next_at: Option<i64>) -> bool {
    match (checked_at, next_at) {
        (Some(checked), Some(next)) => now >= next || now < checked,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_request_is_a_get_with_the_token_and_the_kept_etag() {
        let url = settings_url("https://relay.example.com/app/", "549768257474");
        assert_eq!(
            url,
            "https://relay.example.com/app/v5/ad_accounts/549768257474/sdk-settings"
        );
        let r = request(&url, "tok", Some("\"abc\""), 5_000);
        assert_eq!(r.method, "GET");
        assert!(r.body.is_empty() && r.timeout_ms == 5_000);
        let value = |name: &str| {
            r.headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.as_str())
        };
        assert_eq!(value("Authorization"), Some("Bearer tok"));
        assert_eq!(value("If-None-Match"), Some("\"abc\""));
        assert!(request(&url, "tok", None, 1)
            .headers
            .iter()
            .all(|h| h.name != "If-None-Match"));
    }

    #[test]
    fn each_answer_keeps_or_replaces_what_is_in_force() {
        let good = read(Ok(response(
            200,
            &[("ETag", "\"v1\"")],
            br#"{"collection_enabled":false}"#,
        )));
        match good {
            Answer::Document { document, etag, .. } => {
                assert_eq!(document.collection_enabled, Some(false));
                assert_eq!(etag.as_deref(), Some("\"v1\""));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(read(Ok(response(304, &[], b""))), Answer::NotModified);
        assert!(matches!(
            read(Ok(response(200, &[], b"<html>"))),
            Answer::Ignored(_)
        ));
        let huge = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert!(matches!(
            read(Ok(response(200, &[], &huge))),
            Answer::Ignored(Rejection::TooLarge { .. })
        ));
        for (status, no_route) in [
            (404, true),
            (405, true),
            (500, false),
            (503, false),
            (401, false),
            (302, false),
        ] {
            match read(Ok(response(
                status,
                &[],
                br#"{"collection_enabled":false}"#,
            ))) {
                Answer::Failed {
                    reason,
                    no_route: said,
                } => {
                    assert_eq!(said, no_route, "{status}");
                    assert!(reason.contains(&status.to_string()));
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        let timeout = read(Err(TransportError::Timeout {
            reason: "slow".into(),
        }));
        assert!(matches!(
            timeout,
            Answer::Failed {
                no_route: false,
                ..
            }
        ));
    }

    #[test]
    fn the_next_check_waits_a_ttl_or_an_hour_after_a_failure() {
        let failed = Answer::Failed {
            reason: "x".into(),
            no_route: false,
        };
        let no_route = Answer::Failed {
            reason: "x".into(),
            no_route: true,
        };
        let ignored = Answer::Ignored(Rejection::TooDeep);
        assert_eq!(next_check_at(&Answer::NotModified, 1_000, 86_400), 87_400);
        assert_eq!(next_check_at(&no_route, 1_000, 86_400), 87_400);
        assert_eq!(next_check_at(&failed, 1_000, 86_400), 4_600);
        assert_eq!(next_check_at(&ignored, 1_000, 600), 1_600);
        assert_eq!(next_check_at(&failed, i64::MAX - 1, 86_400), i64::MAX);
    }

    #[test]
    fn a_check_is_due_once_its_time_came_or_the_clock_went_back() {
        for (now, checked, next, due) in [
            (100, None, None, true),
            (100, Some(50), Some(150), false),
            (150, Some(50), Some(150), true),
            (40, Some(50), Some(150), true),
        ] {
            assert_eq!(
                is_due(now, checked, next),
                due,
                "{now} {checked:?} {next:?}"
            );
        }
    }
}
