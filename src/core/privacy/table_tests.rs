//! The state x field table of docs/privacy.md, row by row, as [`narrow`] applies it: each row's
//! `PrivacyState` goes through [`apply`], then an event carrying every field is narrowed, and
//! each column is checked. The state-change table follows, through [`body_for_send`] (the
//! send-time path, which reads the flags the event was recorded with).

use super::*;
use crate::core::hash::sha256_hex;
use crate::core::record::PendingEvent;

const GAID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";
const ZEROED: &str = "00000000-0000-0000-0000-000000000000";

/// `sent` or `withheld`, as the table writes its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Sent,
    Withheld,
}
use Cell::{Sent, Withheld};

/// One row: the columns `em ph`, `fn ln ge db`, `ct st zp country`, `external_id`,
/// `hashed_maids`, `opt_out`, IP, user agent (and click id and partner id, which the table's
/// note withholds with the identifiers).
struct Row {
    state: &'static str,
    ios: bool,
    authorization: Option<TrackingAuthorization>,
    opt_out: bool,
    advertising_id: Option<&'static str>,
    user_data_without_tracking: bool,
    contact: Cell,
    person: Cell,
    place: Cell,
    external_id: Cell,
    maids: Cell,
    opt_out_sent: bool,
    ip: Cell,
    user_agent: Cell,
}

fn every_field() -> WireEvent {
    let h = |v: &str| vec![sha256_hex(v)];
    let mut wire = WireEvent {
        event_name: "checkout".into(),
        event_id: "e".into(),
        opt_out: Some(false),
        ..Default::default()
    };
    wire.user_data = WireUserData {
        em: h("a@b.c"),
        ph: h("15551234567"),
        first_name: h("ada"),
        ln: h("lovelace"),
        ge: h("f"),
        db: h("19151210"),
        ct: h("london"),
        st: h("ld"),
        zp: h("12345"),
        country: h("gb"),
        external_id: h("user-1"),
        hashed_maids: h(GAID),
        client_ip_address: Some("203.0.113.7".into()),
        client_user_agent: Some("app/1.0".into()),
        click_id: Some("click".into()),
        partner_id: Some("partner".into()),
    };
    wire
}

fn cell(present: bool) -> Cell {
    if present {
        Sent
    } else {
        Withheld
    }
}

fn row(state: &'static str, ios: bool, authorization: Option<TrackingAuthorization>) -> Row {
    Row {
        state,
        ios,
        authorization,
        opt_out: false,
        advertising_id: Some(GAID),
        user_data_without_tracking: false,
        contact: Sent,
        person: Sent,
        place: Sent,
        external_id: Sent,
        maids: Sent,
        opt_out_sent: false,
        ip: Sent,
        user_agent: Sent,
    }
}

/// The table, without its "collection disabled" row: nothing is recorded then, which
/// `track()` decides before any narrowing (`tests/tracking_authorization.rs` checks it).
fn table() -> Vec<Row> {
    use TrackingAuthorization::*;
    let opted_out = |r: Row| Row {
        maids: Withheld,
        opt_out_sent: true,
        ..r
    };
    let untracked = |r: Row| Row {
        contact: Withheld,
        person: Withheld,
        place: Withheld,
        external_id: Withheld,
        maids: Withheld,
        opt_out_sent: true,
        ..r
    };
    vec![
        row("Android, GAID", false, None),
        opted_out(Row {
            opt_out: true,
            ..row("Android, ads personalization opted out", false, None)
        }),
        opted_out(Row {
            advertising_id: Some(ZEROED),
            ..row("Android, zeroed GAID", false, None)
        }),
        row("iOS, ATT authorized, IDFA", true, Some(Authorized)),
        opted_out(Row {
            advertising_id: Some(ZEROED),
            ..row("iOS, ATT authorized, zeroed IDFA", true, Some(Authorized))
        }),
        untracked(row("iOS, ATT denied", true, Some(Denied))),
        untracked(row("iOS, ATT restricted", true, Some(Restricted))),
        untracked(row("iOS, ATT not determined", true, Some(NotDetermined))),
        opted_out(Row {
            user_data_without_tracking: true,
            ..row(
                "iOS, ATT denied, user_data_without_tracking",
                true,
                Some(Denied),
            )
        }),
    ]
}

fn applied(row: &Row) -> AppliedPrivacy {
    let state = PrivacyState {
        opt_out: row.opt_out,
        tracking_authorization: row.authorization,
        advertising_id: row.advertising_id.map(str::to_string),
        ..Default::default()
    };
    let policy = TrackingPolicy {
        ios: row.ios,
        user_data_without_tracking: row.user_data_without_tracking,
    };
    apply(&state, policy).0
}

#[test]
fn each_state_sends_what_the_privacy_table_says() {
    for row in table() {
        let mut wire = every_field();
        narrow(&mut wire, &applied(&row));
        let u = &wire.user_data;
        let all = |lists: &[&Vec<String>]| {
            let present: Vec<bool> = lists.iter().map(|l| !l.is_empty()).collect();
            assert!(present.iter().all(|p| *p == present[0]), "{}", row.state);
            cell(present[0])
        };
        let name = row.state;
        assert_eq!(all(&[&u.em, &u.ph]), row.contact, "{name}: em ph");
        assert_eq!(
            all(&[&u.first_name, &u.ln, &u.ge, &u.db]),
            row.person,
            "{name}: fn ln ge db"
        );
        assert_eq!(
            all(&[&u.ct, &u.st, &u.zp, &u.country]),
            row.place,
            "{name}: ct st zp country"
        );
        assert_eq!(
            all(&[&u.external_id]),
            row.external_id,
            "{name}: external_id"
        );
        assert_eq!(all(&[&u.hashed_maids]), row.maids, "{name}: hashed_maids");
        assert_eq!(wire.opt_out, Some(row.opt_out_sent), "{name}: opt_out");
        assert_eq!(cell(u.client_ip_address.is_some()), row.ip, "{name}: IP");
        assert_eq!(
            cell(u.client_user_agent.is_some()),
            row.user_agent,
            "{name}: user agent"
        );
        // Click id and partner id go with the identifiers.
        assert_eq!(cell(u.click_id.is_some()), row.contact, "{name}: click_id");
        assert_eq!(
            cell(u.partner_id.is_some()),
            row.contact,
            "{name}: partner_id"
        );
        let again = wire.clone();
        narrow(&mut wire, &applied(&row));
        assert_eq!(wire, again, "{name}: narrowing twice changes nothing more");
    }
}

/// The event as stored under `row`'s state at track time, as the store hands it back.
fn recorded_under(row: &Row) -> QueuedEvent {
    let privacy = applied(row);
    let mut wire = every_field();
    narrow(&mut wire, &privacy);
    let pending = PendingEvent {
        user_data_withheld: privacy.withhold_user_data,
        ..PendingEvent::from_wire(&wire, false, None)
    };
    QueuedEvent {
        row: 1,
        event_id: pending.event_id.clone(),
        event_name: pending.event_name.clone(),
        body: pending.body.clone(),
        attempts: 0,
        flags: pending.flags(),
        event_time: pending.event_time,
        server_time: None,
        unanswered_since: None,
    }
}

fn sent(event: &QueuedEvent, row: &Row) -> WireEvent {
    let body = body_for_send(event, &applied(row)).expect("a readable body");
    serde_json::from_str(&body).expect("a wire event")
}

#[test]
fn a_stricter_state_at_send_time_wins() {
    let rows = table();
    let gaid = &rows[0];
    for stricter in rows.iter().filter(|r| r.maids == Withheld) {
        let event = recorded_under(gaid);
        let mut expected = every_field();
        narrow(&mut expected, &applied(stricter));
        assert_eq!(sent(&event, stricter), expected, "{}", stricter.state);
    }
}

#[test]
fn a_looser_state_at_send_time_adds_nothing() {
    let rows = table();
    for (i, stricter) in rows.iter().enumerate() {
        for looser in &rows {
            let event = recorded_under(stricter);
            let stored: WireEvent = serde_json::from_str(&event.body).expect("a wire event");
            let mut expected = stored.clone();
            narrow(&mut expected, &applied(looser));
            let got = sent(&event, looser);
            assert_eq!(
                got, expected,
                "row {i} {} then {}",
                stricter.state, looser.state
            );
            let u = &got.user_data;
            let s = &stored.user_data;
            assert!(u.em.len() <= s.em.len() && u.hashed_maids.len() <= s.hashed_maids.len());
            assert!(
                got.opt_out >= stored.opt_out,
                "opt_out never goes back to false"
            );
        }
    }
}

#[test]
fn limited_data_processing_is_added_at_track_and_at_send_time() {
    let rows = table();
    let ldp = AppliedPrivacy {
        limited_data_processing: true,
        ..applied(&rows[0])
    };
    let mut wire = every_field();
    narrow(&mut wire, &ldp);
    let at_track = wire.custom_data.and_then(|c| c.opt_out_type);
    assert_eq!(at_track.as_deref(), Some("ldp"));
    let event = recorded_under(&rows[0]);
    let sent: WireEvent =
        serde_json::from_str(&body_for_send(&event, &ldp).expect("readable")).expect("wire");
    let at_send = sent.custom_data.and_then(|c| c.opt_out_type);
    assert_eq!(at_send.as_deref(), Some("ldp"));
    assert_eq!(sent.user_data.hashed_maids.len(), 1, "nothing else changes");
}
