//! Click ids: the `epik` a Pinterest ad puts on the link it opens, kept while it may still
//! attribute a conversion and added to every event that carries none of its own.
//!
//! An opened URL (an App Link, a universal link, a custom scheme) or the Play install referrer
//! carries `epik=` in its query or fragment. The newest valid one is kept with the time it
//! arrived, in memory for `track()` and in a small file beside the buffer (`<database>.click`,
//! written atomically by the store worker) so it outlives the process. It is read once when
//! the client is built, like the database lock beside it, so events tracked from the first call
//! on see it. An event carries it while it is in effect ([`StoredClick::in_effect`]); the
//! privacy gate then treats it like every identifier (withheld without tracking authorization,
//! at track and at send time), and disabling collection or `forget()` erases it.
//!
//! Parsing is pure and table-tested; nothing here logs or keeps a click id anywhere else. Which
//! click is kept is [`crate::core::shared::Shared::keep_click`]; the file is
//! `store::click_file`, written by the store worker.

use serde::{Deserialize, Serialize};

/// The longest click id kept, bytes. Pinterest's are about 100 characters.
pub const MAX_CLICK_ID_LEN: usize = 500;
/// The longest `click_id_ttl_secs` a configuration may ask for: 90 days.
pub const MAX_CLICK_ID_TTL_SECS: u64 = 90 * 86_400;
/// How long before the click arrived an event may have happened and still carry it: the launch
/// a link caused is recorded a moment before the app hands the link over.
const ARRIVAL_SLACK_SECS: i64 = 60;

/// What a URL said about a click id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No `epik` parameter.
    Absent,
    /// An `epik` that breaks the rule given (it is ignored).
    Invalid(&'static str),
    /// A usable click id.
    ClickId(String),
}

/// The `epik` of an opened URL: the query first, then the fragment (some links put their
/// parameters after `#`, also as `#/path?epik=...`).
pub fn click_id_from_url(url: &str) -> Found {
    let (before_fragment, fragment) = url.split_once('#').unwrap_or((url, ""));
    let query = before_fragment
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("");
    let fragment_query = fragment.rsplit_once('?').map_or(fragment, |(_, q)| q);
    match click_id_from_query(query) {
        Found::Absent => click_id_from_query(fragment_query),
        found => found,
    }
}

/// The `epik` of a query string (`a=1&epik=...`), such as the Play install referrer. A
/// referrer that arrives percent-encoded as a whole (`utm_source%3Dx%26epik%3D...`) is
/// decoded once first.
pub fn click_id_from_query(query: &str) -> Found {
    let decoded;
    let query = if !query.contains('=') && query.contains("%3D") {
        decoded = percent_decode(query).unwrap_or_default();
        decoded.as_str()
    } else {
        query
    };
    let value = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "epik")
        .map(|(_, value)| value);
    match value {
        None => Found::Absent,
        Some(raw) => match percent_decode(raw) {
            None => Found::Invalid("must be valid percent-encoded UTF-8"),
            Some(id) if id.is_empty() => Found::Invalid("must not be empty"),
            Some(id) if id.len() > MAX_CLICK_ID_LEN => {
                Found::Invalid("must be at most 500 characters")
            }
            Some(id) if !id.bytes().all(|b| b.is_ascii_graphic()) => {
                Found::Invalid("must be printable ASCII without spaces")
            }
            Some(id) => Found::ClickId(id),
        },
    }
}

/// Where a click id came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A URL that opened the app: the newest click, it replaces the one kept.
    OpenedUrl,
    /// The install referrer: the click before the install, older than any link opened since,
    /// so it never replaces a kept click.
    InstallReferrer,
}

/// `%XX` sequences decoded (`+` stays: click ids may contain it); `None` when malformed.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A click id and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredClick {
    /// The raw click id (`user_data.click_id` is sent raw).
    pub click_id: String,
    /// When it arrived on the device, Unix seconds.
    pub arrived_at: i64,
}

impl StoredClick {
    /// True when an event at `event_time` carries this click: it happened after the click
    /// arrived (less a minute's slack) and before the click's lifetime ran out.
    pub fn in_effect(&self, event_time: i64, ttl_secs: i64) -> bool {
        event_time >= self.arrived_at.saturating_sub(ARRIVAL_SLACK_SECS)
            && event_time < self.arrived_at.saturating_add(ttl_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "dj0yJnU9b2JDcFFHekV4SHJNcmVrbFBkUEdqakh0akdUT1VjVVUmcD0yJm49cnNBQ3F2Q2dOVDBXWWhkWklrUGxBUSZ0PUFBQUFBR1BaY3Bv";

    #[test]
    fn finds_epik_in_the_query_or_the_fragment() {
        let found = |url: &str| click_id_from_url(url);
        let id = || Found::ClickId(ID.into());
        assert_eq!(found(&format!("https://shop.example/p/1?epik={ID}")), id());
        assert_eq!(
            found(&format!(
                "https://shop.example/p/1?utm_source=pinterest&epik={ID}&x=1"
            )),
            id()
        );
        assert_eq!(found(&format!("shop://product/1#epik={ID}")), id());
        assert_eq!(
            found(&format!("https://shop.example/#/p/1?epik={ID}")),
            id()
        );
        assert_eq!(
            found("https://shop.example/p?epik=a%2Bb%3D"),
            Found::ClickId("a+b=".into())
        );
        assert_eq!(
            found("https://shop.example/p?epik=query#epik=fragment"),
            Found::ClickId("query".into()),
            "the query wins"
        );
        assert_eq!(
            found("https://shop.example/p?epikx=1&xepik=2"),
            Found::Absent
        );
        assert_eq!(found("https://shop.example/p"), Found::Absent);
        assert_eq!(found(""), Found::Absent);
    }

    #[test]
    fn an_unusable_epik_is_named_and_ignored() {
        let invalid = |url: &str| matches!(click_id_from_url(url), Found::Invalid(_));
        assert!(invalid("https://shop.example/p?epik="));
        assert!(invalid("https://shop.example/p?epik=a%20b"));
        assert!(invalid("https://shop.example/p?epik=a%0Ab"));
        assert!(invalid("https://shop.example/p?epik=%ZZ"));
        assert!(invalid("https://shop.example/p?epik=%FF"));
        assert!(invalid("https://shop.example/p?epik=caf%C3%A9"));
        let long = "a".repeat(MAX_CLICK_ID_LEN + 1);
        assert!(invalid(&format!("https://shop.example/p?epik={long}")));
        let longest = "a".repeat(MAX_CLICK_ID_LEN);
        assert_eq!(
            click_id_from_url(&format!("https://shop.example/p?epik={longest}")),
            Found::ClickId(longest)
        );
    }

    #[test]
    fn reads_a_play_install_referrer() {
        assert_eq!(
            click_id_from_query("utm_source=pinterest&utm_medium=cpc&epik=abc"),
            Found::ClickId("abc".into())
        );
        assert_eq!(
            click_id_from_query("utm_source%3Dpinterest%26epik%3Dabc"),
            Found::ClickId("abc".into())
        );
        assert_eq!(
            click_id_from_query("utm_source=google-play&utm_medium=organic"),
            Found::Absent
        );
    }

    #[test]
    fn a_click_is_in_effect_from_its_arrival_for_its_lifetime() {
        let click = StoredClick {
            click_id: ID.into(),
            arrived_at: 1_000_000,
        };
        let ttl = 30 * 86_400;
        for (event_time, expected) in [
            (1_000_000, true),
            (999_950, true),
            (999_900, false),
            (1_000_000 + ttl - 1, true),
            (1_000_000 + ttl, false),
        ] {
            assert_eq!(click.in_effect(event_time, ttl), expected, "{event_time}");
        }
    }
}
