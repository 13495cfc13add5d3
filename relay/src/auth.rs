//! App-token authentication: which configured token, if any, a request's bearer token is.
//!
//! The table keeps only SHA-256 digests of the configured tokens. A presented token is hashed
//! and compared with every digest using `subtle`'s constant-time equality, without stopping at
//! the first match, so response time reveals neither how much of a guess was right (hashing
//! scrambles prefixes, and the comparison does not exit early) nor which entry matched. The
//! decision mirrors the real API: no or unknown token is 401 code 2, a valid token for another
//! ad account is 403 code 29.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::AppToken;

/// Outcome of checking a request's credentials against the path's ad account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthDecision {
    /// The token at this index of the configuration may post to the ad account.
    Allowed(usize),
    /// The token is valid but scoped to another ad account (403 code 29).
    WrongAccount,
    /// No bearer token, or one that is not configured (401 code 2).
    Unauthenticated,
}

struct Entry {
    digest: [u8; 32],
    ad_account_id: String,
}

/// The configured app tokens, kept as digests.
pub(crate) struct TokenTable {
    entries: Vec<Entry>,
}

impl TokenTable {
    /// Builds the table; the plain tokens are not kept.
    pub(crate) fn new(tokens: &[AppToken]) -> Self {
        TokenTable {
            entries: tokens
                .iter()
                .map(|t| Entry {
                    digest: sha256(t.token.as_bytes()),
                    ad_account_id: t.ad_account_id.clone(),
                })
                .collect(),
        }
    }

    /// Decides whether the request's `Authorization` header may post to `ad_account_id`.
    pub(crate) fn authorize(&self, headers: &HeaderMap, ad_account_id: &str) -> AuthDecision {
        let Some(token) = bearer_token(headers) else {
            return AuthDecision::Unauthenticated;
        };
        let presented = sha256(token);
        let mut matched = None;
        for (i, entry) in self.entries.iter().enumerate() {
            if bool::from(entry.digest.ct_eq(&presented)) {
                matched = Some(i);
            }
        }
        match matched {
            None => AuthDecision::Unauthenticated,
            Some(i) if self.entries[i].ad_account_id == ad_account_id => AuthDecision::Allowed(i),
            Some(_) => AuthDecision::WrongAccount,
        }
    }
}

/// The credentials of `Authorization: Bearer <token>` (scheme case-insensitive), if present.
fn bearer_token(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = split_once_space(value)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = trim_spaces(rest);
    (!token.is_empty()).then_some(token)
}

fn split_once_space(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = value.iter().position(|b| *b == b' ')?;
    Some((&value[..at], &value[at + 1..]))
}

fn trim_spaces(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn table() -> TokenTable {
        TokenTable::new(&[AppToken::new("tok-a", "111"), AppToken::new("tok-b", "222")])
    }

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn decisions() {
        let t = table();
        let check = |auth, account| t.authorize(&headers(auth), account);
        assert_eq!(check(Some("Bearer tok-a"), "111"), AuthDecision::Allowed(0));
        assert_eq!(
            check(Some("bearer  tok-b "), "222"),
            AuthDecision::Allowed(1)
        );
        assert_eq!(
            check(Some("Bearer tok-a"), "222"),
            AuthDecision::WrongAccount
        );
        assert_eq!(
            check(Some("Bearer tok-c"), "111"),
            AuthDecision::Unauthenticated
        );
        assert_eq!(
            check(Some("Bearer tok-"), "111"),
            AuthDecision::Unauthenticated
        );
        assert_eq!(
            check(Some("Basic tok-a"), "111"),
            AuthDecision::Unauthenticated
        );
        assert_eq!(check(Some("Bearer "), "111"), AuthDecision::Unauthenticated);
        assert_eq!(check(Some("tok-a"), "111"), AuthDecision::Unauthenticated);
        assert_eq!(check(None, "111"), AuthDecision::Unauthenticated);
    }
}
