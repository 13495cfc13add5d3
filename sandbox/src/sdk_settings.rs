//! `GET /v5/ad_accounts/{id}/sdk-settings`, the route a relay serves remote settings on
//! (docs/remote-settings.md), so the SDK's tests can run the sandbox as a relay.
//!
//! The Conversions API itself has no such route: until a test sets a document
//! ([`crate::Sandbox::set_sdk_settings`]) the sandbox answers 404, as an older relay does.
//! Once set, the document is served byte for byte (a test may serve garbage on purpose) with
//! the same bearer-token check as events, an `ETag` of its bytes and `Cache-Control: max-age`,
//! and `304` when the request's `If-None-Match` names the current `ETag`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::http::RequestHead;
use crate::response::Response;
use crate::state::lock;

/// The `max-age` the sandbox advertises, seconds (the SDK reads the document's own TTL first).
const MAX_AGE_SECS: u64 = 86_400;

/// What the sandbox serves on the settings route, and what it was asked.
#[derive(Default)]
pub(crate) struct SdkSettings {
    /// The document served; `None`: the route answers 404.
    document: Mutex<Option<Vec<u8>>>,
    /// Requests received on the route, whatever the answer.
    requests: AtomicU64,
    /// Of those, requests answered 304.
    not_modified: AtomicU64,
}

/// The ad account of a settings path.
pub(crate) fn settings_path_account(path: &str) -> Option<&str> {
    let id = path
        .strip_prefix("/v5/ad_accounts/")?
        .strip_suffix("/sdk-settings")?;
    (!id.contains('/')).then_some(id)
}

impl SdkSettings {
    /// Serves `document` from now on (`None`: answer 404 again).
    pub(crate) fn set(&self, document: Option<Vec<u8>>) {
        *lock(&self.document) = document;
    }

    /// (requests received, of which answered 304).
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::SeqCst),
            self.not_modified.load(Ordering::SeqCst),
        )
    }

    /// Forgets the counts (the document stays).
    pub(crate) fn reset_counts(&self) {
        self.requests.store(0, Ordering::SeqCst);
        self.not_modified.store(0, Ordering::SeqCst);
    }

    /// Answers one request on the route for `account`.
    pub(crate) fn handle(
        &self,
        head: &RequestHead,
        account: &str,
        token: &str,
        ad_account_id: &str,
    ) -> Response {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if head.method != "GET" {
            return Response::error(405, 405, "Only GET is served on sdk-settings.");
        }
        let authorized = head
            .header("authorization")
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer") && t.trim() == token);
        if !authorized {
            return Response::error(401, 2, "Authentication failed.");
        }
        if account != ad_account_id {
            return Response::error(403, 29, "Not authorized for this ad account.");
        }
        let Some(document) = lock(&self.document).clone() else {
            return Response::error(404, 404, "No route for sdk-settings.");
        };
        let etag = format!("\"{:016x}\"", fnv1a(&document));
        let cache = format!("max-age={MAX_AGE_SECS}");
        if head
            .header("if-none-match")
            .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag))
        {
            self.not_modified.fetch_add(1, Ordering::SeqCst);
            return Response::empty(304)
                .with_header("ETag", etag)
                .with_header("Cache-Control", cache);
        }
        Response::json_bytes(200, document)
            .with_header("ETag", etag)
            .with_header("Cache-Control", cache)
    }
}

/// FNV-1a over `bytes`: an ETag needs only to change when the document does.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
