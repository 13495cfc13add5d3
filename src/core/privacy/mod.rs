//! The privacy gate: what a privacy state lets leave the device, decided once ([`apply`]) and
//! applied by one function ([`narrow`]) twice: when an event is recorded (the advertising ID
//! is hashed only when not opted out) and again when it is sent, where the current state wins
//! if it is stricter. A looser state never adds identifiers: the stored body is only ever
//! narrowed. The state x field table of docs/privacy.md is `table_tests`, row by row.
//!
//! Tracking authorization is decided here, once for every platform layer: on `app_ios`
//! anything but `Authorized` opts out, and (unless the app chose `user_data_without_tracking`)
//! withholds every user-data identifier, as Apple's App Tracking Transparency requires. A
//! zeroed advertising ID, what the OS hands out when tracking is limited, opts out everywhere.

use std::borrow::Cow;

use crate::core::app_device_info;
use crate::core::hash::{hash_advertising_id, AdvertisingId};
use crate::core::model::{PrivacyState, TrackingAuthorization};
use crate::core::record::{flags, QueuedEvent};
use crate::core::wire::{WireCustomData, WireEvent, WireUserData};

mod track_context;

pub use track_context::{AppliedPrivacy, TrackContext};

/// What the configuration says about tracking authorization.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackingPolicy {
    /// Events are `app_ios`: App Tracking Transparency governs them.
    pub ios: bool,
    /// `ClientConfig.user_data_without_tracking`: the app has its own legal basis.
    pub user_data_without_tracking: bool,
}

/// Turns the app's privacy state into the state the core applies. The raw advertising ID is
/// not even looked at while opted out; the second value is true for a malformed ID.
pub fn apply(state: &PrivacyState, policy: TrackingPolicy) -> (AppliedPrivacy, bool) {
    let authorization = state
        .tracking_authorization
        .unwrap_or(TrackingAuthorization::NotDetermined);
    let unauthorized = policy.ios && authorization != TrackingAuthorization::Authorized;
    let mut opt_out = state.opt_out || unauthorized;
    let (hashed_advertising_id, malformed) = if opt_out {
        (None, false)
    } else {
        match hash_advertising_id(state.advertising_id.as_deref()) {
            AdvertisingId::Hashed(hash) => (Some(hash), false),
            AdvertisingId::Absent => (None, false),
            AdvertisingId::Zeroed => {
                opt_out = true;
                (None, false)
            }
            AdvertisingId::Malformed => (None, true),
        }
    };
    (
        AppliedPrivacy {
            opt_out,
            hashed_advertising_id,
            limited_data_processing: state.limited_data_processing,
            collection_enabled: state.collection_enabled,
            withhold_user_data: unauthorized && !policy.user_data_without_tracking,
            authorization_pending: policy.ios
                && authorization == TrackingAuthorization::NotDetermined,
        },
        malformed,
    )
}

/// Narrows `wire` to what `privacy` lets leave the device: the one place the privacy rules
/// are applied to an event, at track time (before it is stored) and again at send time (on
/// the stored body, when the state of the moment is stricter). Only ever removes or restricts:
/// without tracking authorization every user-data identifier goes (the client IP and user
/// agent stay); opted out, the advertising ID and the detail of `app_info` and `device_info`
/// go and `opt_out` is true; with Limited Data Processing `custom_data.opt_out_type` is
/// `ldp`. Narrowing twice changes nothing more.
pub fn narrow(wire: &mut WireEvent, privacy: &AppliedPrivacy) {
    if privacy.withhold_user_data {
        wire.user_data = withheld(std::mem::take(&mut wire.user_data));
    }
    if privacy.opt_out {
        wire.opt_out = Some(true);
        wire.user_data.hashed_maids.clear();
        app_device_info::narrow_opted_out(&mut wire.app_info, &mut wire.device_info);
    }
    if privacy.limited_data_processing {
        wire.custom_data
            .get_or_insert_with(WireCustomData::default)
            .opt_out_type = Some("ldp".into());
    }
}

/// The body to send for `event` under the current `privacy`: [`narrow`]ed when the current
/// state is stricter than the one it was recorded under (read from its flags), else the
/// stored text unchanged. `None` when the stored body cannot be read as an event (a damaged
/// page, an edited file): it cannot be narrowed, so it must not be sent at all, whatever the
/// privacy state (fail closed).
pub fn body_for_send<'a>(event: &'a QueuedEvent, privacy: &AppliedPrivacy) -> Option<Cow<'a, str>> {
    let mut wire = serde_json::from_str::<WireEvent>(&event.body).ok()?;
    let has = |bit| event.flags & bit != 0;
    let stricter = (privacy.withhold_user_data && !has(flags::USER_DATA_WITHHELD))
        || (privacy.opt_out && (has(flags::ADVERTISING_ID) || !has(flags::OPTED_OUT)))
        || (privacy.limited_data_processing && !has(flags::LIMITED_DATA_PROCESSING));
    if !stricter {
        return Some(Cow::Borrowed(&event.body));
    }
    narrow(&mut wire, privacy);
    Some(Cow::Owned(wire.to_json()))
}

/// `events` split by whether their stored body can be read: those that can, each with its body
/// narrowed to `privacy` ([`body_for_send`]), and those that cannot, which are never sent.
pub struct ForSend {
    /// Events to send, in order.
    pub events: Vec<QueuedEvent>,
    /// The body to send for each of `events`.
    pub bodies: Vec<String>,
    /// Queue rows whose stored body cannot be read.
    pub unreadable: Vec<i64>,
}

/// Prepares `events` for a request under `privacy` (see [`ForSend`]).
pub fn for_send(events: Vec<QueuedEvent>, privacy: &AppliedPrivacy) -> ForSend {
    let mut prepared = ForSend {
        events: Vec::with_capacity(events.len()),
        bodies: Vec::with_capacity(events.len()),
        unreadable: Vec::new(),
    };
    for event in events {
        match body_for_send(&event, privacy).map(Cow::into_owned) {
            Some(body) => {
                prepared.bodies.push(body);
                prepared.events.push(event);
            }
            None => prepared.unreadable.push(event.row),
        }
    }
    prepared
}

/// What may leave the device without tracking authorization: the client IP (and the user
/// agent, added after). Every identifier, click id and partner id is dropped after it was
/// validated, so an invalid value is still reported the same way in every privacy state.
fn withheld(user_data: WireUserData) -> WireUserData {
    WireUserData {
        client_ip_address: user_data.client_ip_address,
        client_user_agent: user_data.client_user_agent,
        ..WireUserData::default()
    }
}

/// Whether `event`, sent under `privacy`, still meets the API's identity rule (em, or
/// hashed_maids, or client IP plus user agent).
pub fn meets_identity_rule(event: &QueuedEvent, privacy: &AppliedPrivacy) -> bool {
    let has = |bit| event.flags & bit != 0;
    (has(flags::EMAIL) && !privacy.withhold_user_data)
        || has(flags::IP_AND_USER_AGENT)
        || (has(flags::ADVERTISING_ID) && !privacy.opt_out)
}

#[cfg(test)]
mod table_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hash::sha256_hex;

    fn queued(body: &WireEvent, flags: i64) -> QueuedEvent {
        QueuedEvent {
            row: 1,
            event_id: body.event_id.clone(),
            event_name: body.event_name.clone(),
            body: body.to_json(),
            attempts: 0,
            flags,
            event_time: body.event_time,
            server_time: None,
            unanswered_since: None,
        }
    }

    fn recorded_with_maid() -> QueuedEvent {
        let mut wire = WireEvent {
            event_name: "app_open".into(),
            event_id: "e".into(),
            opt_out: Some(false),
            ..Default::default()
        };
        wire.user_data.hashed_maids = vec![sha256_hex("id")];
        queued(&wire, flags::ADVERTISING_ID)
    }

    #[test]
    fn opting_out_before_send_strips_the_advertising_id() {
        let event = recorded_with_maid();
        let privacy = AppliedPrivacy {
            opt_out: true,
            collection_enabled: true,
            ..Default::default()
        };
        let sent: WireEvent =
            serde_json::from_str(&body_for_send(&event, &privacy).unwrap()).unwrap();
        assert_eq!(sent.opt_out, Some(true));
        assert!(sent.user_data.hashed_maids.is_empty());
        assert!(!meets_identity_rule(&event, &privacy));
    }

    #[test]
    fn a_looser_state_changes_nothing() {
        let mut wire = WireEvent {
            event_id: "e".into(),
            opt_out: Some(true),
            ..Default::default()
        };
        wire.custom_data = Some(WireCustomData {
            opt_out_type: Some("ldp".into()),
            ..Default::default()
        });
        let event = queued(&wire, flags::OPTED_OUT | flags::LIMITED_DATA_PROCESSING);
        let privacy = AppliedPrivacy {
            hashed_advertising_id: Some(sha256_hex("id")),
            collection_enabled: true,
            ..Default::default()
        };
        assert!(matches!(
            body_for_send(&event, &privacy),
            Some(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn ldp_at_send_time_is_added() {
        let event = recorded_with_maid();
        let privacy = AppliedPrivacy {
            limited_data_processing: true,
            collection_enabled: true,
            ..Default::default()
        };
        let sent: WireEvent =
            serde_json::from_str(&body_for_send(&event, &privacy).unwrap()).unwrap();
        assert_eq!(
            sent.custom_data.unwrap().opt_out_type.as_deref(),
            Some("ldp")
        );
        assert_eq!(sent.user_data.hashed_maids.len(), 1);
    }

    #[test]
    fn an_unreadable_body_is_never_sent_under_any_state() {
        let mut damaged = recorded_with_maid();
        damaged.body.truncate(damaged.body.len() / 2);
        damaged.row = 2;
        let stricter = AppliedPrivacy {
            opt_out: true,
            collection_enabled: true,
            ..Default::default()
        };
        let same = AppliedPrivacy {
            hashed_advertising_id: Some(sha256_hex("id")),
            collection_enabled: true,
            ..Default::default()
        };
        for privacy in [&stricter, &same] {
            assert!(body_for_send(&damaged, privacy).is_none());
            let prepared = for_send(vec![recorded_with_maid(), damaged.clone()], privacy);
            assert_eq!(prepared.unreadable, [2]);
            assert_eq!(prepared.events.len(), 1);
            assert_eq!(prepared.bodies.len(), 1);
            assert!(prepared.events.iter().all(|e| e.row == 1));
        }
    }

    #[test]
    fn opted_out_states_never_read_the_advertising_id() {
        let state = PrivacyState {
            opt_out: true,
            advertising_id: Some("not even a uuid".into()),
            ..Default::default()
        };
        let (applied, malformed) = apply(&state, TrackingPolicy::default());
        assert!(applied.hashed_advertising_id.is_none());
        assert!(!malformed);
        let (_, malformed) = apply(
            &PrivacyState {
                advertising_id: Some("not a uuid".into()),
                ..Default::default()
            },
            TrackingPolicy::default(),
        );
        assert!(malformed);
    }
}
