//! The API's limit of 15 custom event names per advertiser, enforced where all devices meet.
//!
//! An event is custom when its `event_name` is none of the API's names (the wire contract's
//! `EVENT_NAMES`, which the SDK's `EventName` follows, `custom` included); names compare
//! case-insensitively, as the API treats them. Each ad account has a table of the custom names seen: a name in it passes, a new one
//! joins while the table holds fewer than [`MAX_CUSTOM_NAMES`], and past that the event is
//! refused on its own, as the API refuses an event: a `failed` per-event result in a 422
//! `details.events` array, beside the upstream's results for the request's other events
//! ([`with_refused`]), so the SDK dead-letters that event and delivers the others. A request
//! with no event left is answered here without an upstream call.
//!
//! With Redis the table is one set per ad account shared by every instance
//! ([`RedisBudget::admit_name`]); a name once admitted is also kept locally, so only a name new
//! to this instance costs a round trip. While Redis cannot answer, the local table decides. The
//! table is bounded: the configured ad accounts only (the only ones a device can post for),
//! 15 names each.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use axum::http::StatusCode;
use conversions_wire::{
    error_code, error_message, is_api_event_name, DetailedError, EventResult, EventsAnswer,
    UNPROCESSABLE_CODE, UNPROCESSABLE_MESSAGE,
};

use crate::forward::UpstreamReply;
use crate::redis_budget::RedisBudget;
use crate::results::{json_reply, results_of};

/// Custom event names an advertiser may define.
pub(crate) const MAX_CUSTOM_NAMES: usize = 15;

/// The custom name of an event's `event_name`, lowercased; `None` for a standard name.
pub(crate) fn custom_name(event_name: &str) -> Option<String> {
    let lower = event_name.to_ascii_lowercase();
    (!is_api_event_name(&lower)).then_some(lower)
}

/// Whether `name` may be used with `seen` (the account's names so far), adding it if new.
fn admit(seen: &mut HashSet<String>, name: &str) -> bool {
    if seen.contains(name) {
        return true;
    }
    if seen.len() >= MAX_CUSTOM_NAMES {
        return false;
    }
    seen.insert(name.to_string());
    true
}

/// Every configured ad account's custom names.
pub(crate) struct CustomNames {
    local: HashMap<String, Mutex<HashSet<String>>>,
    shared: Option<RedisBudget>,
}

impl CustomNames {
    /// An empty table for each of `ad_accounts`, shared through `shared` when given.
    pub(crate) fn new<'a>(
        ad_accounts: impl Iterator<Item = &'a str>,
        shared: Option<RedisBudget>,
    ) -> Self {
        CustomNames {
            local: ad_accounts
                .map(|a| (a.to_string(), Mutex::new(HashSet::new())))
                .collect(),
            shared,
        }
    }

    /// For each event's custom name (`None`: a standard name or none), whether it is refused.
    pub(crate) async fn refused(&self, ad_account: &str, names: &[Option<String>]) -> Vec<bool> {
        let mut refused = Vec::with_capacity(names.len());
        for name in names {
            refused.push(match name {
                Some(name) => !self.admit(ad_account, name).await,
                None => false,
            });
        }
        refused
    }

    async fn admit(&self, ad_account: &str, name: &str) -> bool {
        let Some(local) = self.local.get(ad_account) else {
            // Not a configured account: authentication refused it before this.
            return true;
        };
        {
            let seen = lock(local);
            if seen.contains(name) || seen.len() >= MAX_CUSTOM_NAMES {
                return seen.contains(name);
            }
        }
        let shared = match &self.shared {
            Some(redis) => redis.admit_name(ad_account, name, MAX_CUSTOM_NAMES).await,
            None => None,
        };
        let mut seen = lock(local);
        match shared {
            Some(true) => {
                // Kept locally so the next request needs no round trip; the set is full at
                // 15 anyway, so this never grows past it.
                admit(&mut seen, name);
                true
            }
            Some(false) => false,
            None => admit(&mut seen, name),
        }
    }
}

/// The failed result the API gives an event with a name past the limit.
fn refusal(name: Option<&str>) -> EventResult {
    let name = name.unwrap_or_default();
    EventResult::failed(format!(
        "Invalid event_name '{name}': this ad account already uses {MAX_CUSTOM_NAMES} custom event names, the most an advertiser can define"
    ))
}

/// The device's answer with its refused events failed in their places: `reply` is the
/// upstream's 200 or 422 for the other events (`None` when none was sent). `None` when
/// `reply` does not hold one result per event sent.
pub(crate) fn with_refused(
    reply: Option<&UpstreamReply>,
    refused: &[bool],
    names: &[Option<String>],
) -> Option<UpstreamReply> {
    let (sent, code, message) = match reply {
        Some(reply) => {
            let partial = reply.status == StatusCode::UNPROCESSABLE_ENTITY;
            let code = partial.then(|| error_code(&reply.body)).flatten();
            let message = partial.then(|| error_message(&reply.body)).flatten();
            (results_of(reply)?, code, message)
        }
        None => (Vec::new(), None, None),
    };
    if sent.len() != refused.iter().filter(|r| !**r).count() {
        return None;
    }
    let mut sent = sent.into_iter();
    let mut events = Vec::with_capacity(refused.len());
    for (i, refused) in refused.iter().enumerate() {
        events.push(if *refused {
            refusal(names.get(i).and_then(Option::as_deref))
        } else {
            sent.next()?
        });
    }
    let body = DetailedError {
        code: code.unwrap_or(UNPROCESSABLE_CODE),
        message: message.unwrap_or_else(|| UNPROCESSABLE_MESSAGE.to_string()),
        details: EventsAnswer::of(events),
    };
    Some(json_reply(StatusCode::UNPROCESSABLE_ENTITY, &body))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use serde_json::{json, Value};

    #[test]
    fn standard_names_in_any_case_are_not_custom() {
        for (name, custom) in [
            ("add_to_cart", None),
            ("Custom", None),
            ("APP_OPEN", None),
            ("TookSurvey", Some("tooksurvey")),
        ] {
            assert_eq!(custom_name(name).as_deref(), custom, "{name}");
        }
    }

    #[test]
    fn fifteen_names_then_only_those() {
        let mut seen = HashSet::new();
        for n in 0..MAX_CUSTOM_NAMES {
            assert!(admit(&mut seen, &format!("n{n}")));
        }
        assert!(!admit(&mut seen, "n15"));
        assert!(admit(&mut seen, "n3"));
        assert_eq!(seen.len(), MAX_CUSTOM_NAMES);
    }

    #[tokio::test]
    async fn the_table_is_per_ad_account() {
        let table = CustomNames::new(["1", "2"].into_iter(), None);
        let names: Vec<_> = (0..16).map(|n| Some(format!("n{n}"))).collect();
        let refused = table.refused("1", &names).await;
        assert_eq!(refused.iter().filter(|r| **r).count(), 1);
        assert!(refused[15]);
        assert!(!table.refused("2", &names[15..]).await[0]);
    }

    #[test]
    fn refused_events_take_their_places_among_the_upstream_results() {
        let ok = |s: &str| json!({"status": s, "error_message": "", "warning_message": ""});
        let upstream = UpstreamReply {
            status: StatusCode::OK,
            content_type: None,
            retry_after: None,
            body: Bytes::from(
                json!({"num_events_received": 2, "num_events_processed": 2,
                       "events": [ok("processed"), ok("processed")]})
                .to_string(),
            ),
        };
        let names = [None, Some("x".to_string()), None];
        let answer = with_refused(Some(&upstream), &[false, true, false], &names).unwrap();
        assert_eq!(answer.status, 422);
        let doc: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(doc["code"], 953);
        assert_eq!(doc["details"]["num_events_processed"], 2);
        let statuses: Vec<_> = doc["details"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["status"].clone())
            .collect();
        assert_eq!(
            statuses,
            [json!("processed"), json!("failed"), json!("processed")]
        );
        assert!(with_refused(Some(&upstream), &[true, false], &names).is_none());
        let alone = with_refused(None, &[true], &names[1..]).unwrap();
        let doc: Value = serde_json::from_slice(&alone.body).unwrap();
        assert_eq!(doc["details"]["num_events_received"], 1);
    }
}
