//! Turns what the app tracked into the event we store: validation, normalisation and hashing,
//! the metadata and privacy snapshot, the event id, and the wire JSON.
//!
//! Runs on the caller's thread and does no I/O. What cannot be repaired (the event name, its
//! time, its id) refuses the event with an error that names the field and the rule. An invalid
//! optional value (an identifier, a custom-data field, the URL) is dropped from the event with a
//! warning naming the field and the rule, or, with `strict_validation`, refuses the event too.
//! Nothing raw ever leaves this function.

use std::net::IpAddr;

use crate::core::app_device_info;
use crate::core::config::PARTNER_NAME_RULE;
use crate::core::error::{ConversionsError, Result};
use crate::core::hash::{hash_user_field, phone_country_code_note, HashedField};
use crate::core::limits::{self, clean};
use crate::core::model::{ContentItem, CustomData, Event, EventName, UserData, ValidationWarning};
use crate::core::privacy::{narrow, TrackContext};
use crate::core::record::PendingEvent;
use crate::core::wire::{WireContent, WireCustomData, WireEvent, WireUserData};

/// How far in the future an event_time may be (clock skew), seconds.
pub const MAX_FUTURE_SKEW_SECS: i64 = 300;
/// Advertiser-defined names are letters, digits, `_` and `-`, at most 100 (docs/ARCHITECTURE.md §10).
const CUSTOM_NAME_MAX: usize = 100;

/// The problems found in optional fields. Lenient, each drops its value with a warning;
/// strict, the first one is the error. A note is a value kept but likely wrong (a phone number
/// without its country code): reported in both modes, never an error.
struct Checks {
    strict: bool,
    warnings: Vec<ValidationWarning>,
    notes: Vec<ValidationWarning>,
}

impl Checks {
    /// The checked value of an optional field, or `None` when it broke a rule and is dropped.
    fn keep<T>(&mut self, checked: Result<T>) -> Result<Option<T>> {
        match checked {
            Ok(value) => Ok(Some(value)),
            Err(ConversionsError::InvalidInput { field, rule }) if !self.strict => {
                self.warnings.push(ValidationWarning { field, rule });
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

/// An event built by [`build_event_checked`], with what the app should hear about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedEvent {
    /// The stored form.
    pub pending: PendingEvent,
    /// Optional values dropped as invalid (each names the field and the rule).
    pub dropped: Vec<ValidationWarning>,
    /// Values kept but likely wrong (the rule says so).
    pub notes: Vec<ValidationWarning>,
}

/// Validates `event` and builds its stored form at time `now` (Unix seconds); the optional
/// fields dropped as invalid are not reported (see [`build_event_checked`]).
pub fn build_event(event: &Event, context: &TrackContext, now: i64) -> Result<PendingEvent> {
    build_event_checked(event.clone(), context, now).map(|checked| checked.pending)
}

/// Validates `event` and builds its stored form at time `now` (Unix seconds), with a warning
/// for each optional value dropped as invalid and a note for each value kept but suspicious.
pub fn build_event_checked(event: Event, context: &TrackContext, now: i64) -> Result<CheckedEvent> {
    let mut checks = Checks {
        strict: context.strict_validation,
        warnings: Vec::new(),
        notes: Vec::new(),
    };
    if context.partner_name_dropped {
        checks.keep::<()>(Err(ConversionsError::invalid(
            "partner_name",
            PARTNER_NAME_RULE,
        )))?;
    }
    // Sizes first, before anything walks or copies a value (see `limits`).
    let fitted = limits::bounded(event, &mut |error| checks.keep::<()>(Err(error)).map(drop))?;
    let event = &fitted;
    let (event_name, custom_name) = event_name(event)?;
    let chosen_id = clean(&event.event_id);
    if chosen_id
        .as_ref()
        .is_some_and(|id| id.chars().any(char::is_control))
    {
        return Err(ConversionsError::invalid(
            "event_id",
            "must not contain control characters",
        ));
    }
    let chosen = chosen_id.is_some();
    let event_id = chosen_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let event_time = event.event_time.unwrap_or(now);
    if event_time > now + MAX_FUTURE_SKEW_SECS {
        return Err(ConversionsError::invalid(
            "event_time",
            "must not be more than 5 minutes in the future",
        ));
    }
    if event_time < now - context.max_event_age_secs {
        return Err(ConversionsError::invalid(
            "event_time",
            "must not be older than max_event_age_secs",
        ));
    }
    let event_source_url = match clean(&event.event_source_url) {
        Some(url) => checks.keep(validate_url(&url).map(|()| url))?,
        None => None,
    };
    let mut user_data = match &event.user_data {
        Some(user) => wire_user_data(user, &mut checks)?,
        None => WireUserData::default(),
    };
    if user_data.click_id.is_none() {
        user_data.click_id = context
            .click
            .as_ref()
            .filter(|click| click.in_effect(event_time, context.click_id_ttl_secs))
            .map(|click| click.click_id.clone());
    }
    let privacy = &context.privacy;
    user_data.client_user_agent = clean(&context.device.user_agent);
    user_data.hashed_maids = privacy.hashed_advertising_id.iter().cloned().collect();
    let custom_data = event
        .custom_data
        .as_ref()
        .map(|data| wire_custom_data(data, &mut checks))
        .transpose()?;
    let device = &context.device;
    let (app_info, device_info) = app_device_info::objects(
        &context.app,
        device,
        context.action_source,
        context.install_begin_time,
        privacy.opt_out,
    );
    let mut wire = WireEvent {
        event_name,
        action_source: context.action_source.to_string(),
        event_time,
        event_id,
        event_source_url,
        opt_out: Some(false),
        partner_name: context.partner_name.clone(),
        user_data,
        custom_data,
        app_id: clean(&context.app.app_id),
        app_name: clean(&context.app.app_name),
        app_version: clean(&context.app.app_version),
        device_brand: clean(&device.brand),
        device_carrier: clean(&device.carrier),
        device_model: clean(&device.model),
        device_type: clean(&device.device_type),
        os_version: clean(&device.os_version),
        language: clean(&device.language).map(|l| l.to_ascii_lowercase()),
        wifi: device.wifi,
        app_info,
        device_info,
    };
    narrow(&mut wire, privacy);
    let pending = PendingEvent {
        user_data_withheld: privacy.withhold_user_data,
        ..PendingEvent::from_wire(&wire, chosen, custom_name)
    };
    limits::check_event_size(&pending.body)?;
    Ok(CheckedEvent {
        pending,
        dropped: checks.warnings,
        notes: checks.notes,
    })
}

fn event_name(event: &Event) -> Result<(String, Option<String>)> {
    let custom = clean(&event.custom_event_name);
    match (event.name, custom) {
        (EventName::Custom, Some(name)) => {
            let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
            if name.len() > CUSTOM_NAME_MAX || !name.chars().all(allowed) {
                return Err(ConversionsError::invalid(
                    "custom_event_name",
                    "must be 1 to 100 letters, digits, '_' or '-'",
                ));
            }
            let lower = name.to_ascii_lowercase();
            if EventName::from_wire(&lower).is_some() {
                return Err(ConversionsError::invalid(
                    "custom_event_name",
                    "must not be a standard event name; use that EventName instead",
                ));
            }
            Ok((name, Some(lower)))
        }
        (name, None) => Ok((name.wire_name().to_string(), None)),
        (_, Some(_)) => Err(ConversionsError::invalid(
            "custom_event_name",
            "is only allowed with the event name Custom",
        )),
    }
}

fn validate_url(url: &str) -> Result<()> {
    let rule = "must be an absolute http:// or https:// URL";
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| ConversionsError::invalid("event_source_url", rule))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(ConversionsError::invalid("event_source_url", rule));
    }
    if url.chars().any(char::is_control) {
        return Err(ConversionsError::invalid(
            "event_source_url",
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn wire_user_data(user: &UserData, checks: &mut Checks) -> Result<WireUserData> {
    let mut hash_all = |field: HashedField, values: &[String]| -> Result<Vec<String>> {
        let mut hashed = Vec::with_capacity(values.len());
        for value in values {
            let one = hash_user_field(field, value).map_err(|rule| {
                ConversionsError::invalid(format!("user_data.{}", field.wire_name()), rule)
            });
            let note = (field == HashedField::Ph && one.is_ok())
                .then(|| phone_country_code_note(value))
                .flatten();
            if let Some(rule) = note {
                checks.notes.push(ValidationWarning {
                    field: "user_data.ph".into(),
                    rule: rule.into(),
                });
            }
            hashed.extend(checks.keep(one)?);
        }
        Ok(hashed)
    };
    let em = hash_all(HashedField::Em, &user.emails)?;
    let ph = hash_all(HashedField::Ph, &user.phone_numbers)?;
    let first_name = hash_all(HashedField::Fn, &user.first_names)?;
    let ln = hash_all(HashedField::Ln, &user.last_names)?;
    let ge = hash_all(HashedField::Ge, &user.genders)?;
    let db = hash_all(HashedField::Db, &user.dates_of_birth)?;
    let ct = hash_all(HashedField::Ct, &user.cities)?;
    let st = hash_all(HashedField::St, &user.states)?;
    let zp = hash_all(HashedField::Zp, &user.zip_codes)?;
    let country = hash_all(HashedField::Country, &user.countries)?;
    let external_id = hash_all(HashedField::ExternalId, &user.external_ids)?;
    let client_ip_address = match clean(&user.client_ip_address) {
        Some(ip) => checks.keep(validate_ip(&ip))?,
        None => None,
    };
    Ok(WireUserData {
        em,
        ph,
        first_name,
        ln,
        ge,
        db,
        ct,
        st,
        zp,
        country,
        external_id,
        hashed_maids: Vec::new(),
        client_ip_address,
        client_user_agent: None,
        click_id: clean(&user.click_id),
        partner_id: clean(&user.partner_id),
    })
}

fn validate_ip(ip: &str) -> Result<String> {
    let field = "user_data.client_ip_address";
    match ip.parse::<IpAddr>() {
        Ok(addr) if addr.is_unspecified() => Err(ConversionsError::invalid(
            field,
            "must not be the unspecified address (0.0.0.0 or ::)",
        )),
        Ok(addr) => Ok(addr.to_string()),
        Err(_) => Err(ConversionsError::invalid(
            field,
            "must be an IPv4 or IPv6 address",
        )),
    }
}

fn wire_custom_data(data: &CustomData, checks: &mut Checks) -> Result<WireCustomData> {
    let currency = match clean(&data.currency) {
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some(_) => checks.keep::<String>(Err(ConversionsError::invalid(
            "custom_data.currency",
            "must be a three-letter ISO-4217 code such as USD",
        )))?,
        None => None,
    };
    let value = match clean(&data.value) {
        Some(v) => checks.keep(decimal(&v, "custom_data.value", true))?,
        None => None,
    };
    let opt_out_type = match clean(&data.opt_out_type) {
        Some(t) if t.eq_ignore_ascii_case("ldp") => Some("ldp".to_string()),
        Some(_) => checks.keep::<String>(Err(ConversionsError::invalid(
            "custom_data.opt_out_type",
            "the only accepted value is ldp",
        )))?,
        None => None,
    };
    let num_items = checks
        .keep(non_negative(data.num_items, "custom_data.num_items"))?
        .flatten();
    Ok(WireCustomData {
        currency,
        value,
        content_ids: data
            .content_ids
            .iter()
            .filter_map(|id| clean(&Some(id.clone())))
            .collect(),
        contents: data
            .contents
            .iter()
            .enumerate()
            .map(|(i, item)| wire_content(i, item, checks))
            .collect::<Result<_>>()?,
        num_items,
        order_id: clean(&data.order_id),
        search_string: clean(&data.search_string),
        content_name: clean(&data.content_name),
        content_category: clean(&data.content_category),
        content_brand: clean(&data.content_brand),
        opt_out_type,
    })
}

fn wire_content(index: usize, item: &ContentItem, checks: &mut Checks) -> Result<WireContent> {
    let item_price = match clean(&item.item_price) {
        Some(p) => checks.keep(decimal(
            &p,
            &format!("custom_data.contents[{index}].item_price"),
            false,
        ))?,
        None => None,
    };
    let quantity = checks
        .keep(non_negative(
            item.quantity,
            &format!("custom_data.contents[{index}].quantity"),
        ))?
        .flatten();
    Ok(WireContent {
        id: clean(&item.id),
        item_name: clean(&item.item_name),
        item_category: clean(&item.item_category),
        item_brand: clean(&item.item_brand),
        item_price,
        quantity,
    })
}

/// A plain decimal (`12`, `9.99`); `positive` also refuses zero.
fn decimal(value: &str, field: &str, positive: bool) -> Result<String> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = !whole.is_empty()
        && digits_only(whole)
        && digits_only(fraction)
        && (!value.contains('.') || !fraction.is_empty());
    let is_zero = value.bytes().all(|b| b == b'0' || b == b'.');
    if !well_formed || (positive && is_zero) {
        let rule = if positive {
            "must be a positive decimal such as \"9.99\""
        } else {
            "must be a decimal such as \"9.99\""
        };
        return Err(ConversionsError::invalid(field, rule));
    }
    Ok(value.to_string())
}

/// `value` unless it is negative.
fn non_negative(value: Option<i64>, field: &str) -> Result<Option<i64>> {
    match value {
        Some(v) if v < 0 => Err(ConversionsError::invalid(field, "must not be negative")),
        _ => Ok(value),
    }
}

#[cfg(test)]
#[path = "event_builder_tests.rs"]
mod tests;
