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
//! Parsing is pure and table-tested; nothing here logs or keeps a click id anywhere else.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::model::LogLevel;
use crate::core::shared::Shared;
use crate::core::store::write_atomically;

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

/// Makes `found` the click later events carry, unless collection is disabled, the click kept
/// arrived later (the newer wins), or `found` is the install referrer's and a click is kept.
/// The log line about an unusable one names the source, never the value. The kept click, for
/// the store worker to write ([`sync_file`]).
pub fn accept(
    shared: &Shared,
    found: Found,
    arrived_at: i64,
    source: Source,
) -> Option<StoredClick> {
    let from = match source {
        Source::OpenedUrl => "an opened URL",
        Source::InstallReferrer => "the install referrer",
    };
    let click_id = match found {
        Found::Absent => return None,
        Found::Invalid(rule) => {
            shared.logger.log(
                LogLevel::Warn,
                format!("ignored the click id (epik) of {from}: {rule}"),
            );
            return None;
        }
        Found::ClickId(click_id) => click_id,
    };
    let click = StoredClick {
        click_id,
        arrived_at,
    };
    let mut kept = false;
    shared.update_context(|c| {
        let newer_kept = c
            .click
            .as_ref()
            .is_some_and(|k| k.arrived_at > arrived_at || source == Source::InstallReferrer);
        if c.privacy.collection_enabled && !newer_kept {
            c.click = Some(click.clone());
            kept = true;
        }
    });
    kept.then_some(click)
}

/// Makes the click file say what the track context holds now (on the store worker): the kept
/// click, or nothing after consent was withdrawn or `forget()`.
pub fn sync_file(shared: &Shared, database: &Path) {
    let file = ClickFile::beside(database);
    let result = match &shared.context().click {
        Some(click) => file.write(click),
        None => file.erase(),
    };
    if let Err(e) = result {
        shared.logger.log(
            LogLevel::Warn,
            format!("cannot update the click id kept beside the buffer: {e}"),
        );
    }
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

/// The click file of one database: `<database>.click`.
#[derive(Debug, Clone)]
pub struct ClickFile {
    path: PathBuf,
}

impl ClickFile {
    /// The click file of the database at `database`.
    pub fn beside(database: &Path) -> ClickFile {
        let mut name = database.as_os_str().to_owned();
        name.push(".click");
        ClickFile {
            path: PathBuf::from(name),
        }
    }

    /// The kept click; absent or unreadable counts as none.
    pub fn read(&self) -> Option<StoredClick> {
        let bytes = std::fs::read(&self.path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps `click`, replacing the one before.
    pub fn write(&self, click: &StoredClick) -> std::io::Result<()> {
        let body = serde_json::to_vec(click).map_err(std::io::Error::other)?;
        write_atomically(&self.path, &body)
    }

    /// Deletes the kept click, if there is one.
    pub fn erase(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
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

    #[test]
    fn the_file_round_trips_and_erases() {
        let dir = tempfile::tempdir().unwrap();
        let file = ClickFile::beside(&dir.path().join("buffer.db"));
        assert_eq!(file.read(), None);
        file.erase().unwrap();
        let click = StoredClick {
            click_id: ID.into(),
            arrived_at: 7,
        };
        file.write(&click).unwrap();
        assert_eq!(file.read(), Some(click));
        assert!(dir.path().join("buffer.db.click").exists());
        file.erase().unwrap();
        assert_eq!(file.read(), None);
    }
}
