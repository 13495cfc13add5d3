//! Size caps on what an app tracks, checked on the caller's thread before any other work.
//!
//! One value that is too large must not cost the app seconds in `track()`, nor, once stored,
//! block every later commit (SQLite refuses a row past its length limit). So every string has
//! a length cap and every list a count cap, and [`bounded`] checks them first: a length is
//! compared in bytes before characters are counted, a list's length before its items are
//! looked at, so a million-item list is refused in microseconds. What breaks a cap is an
//! invalid optional value like any other (lenient: dropped with a warning; strict: the error),
//! except the event id and the custom name, which cannot be repaired. The finished event's
//! JSON has its own cap, [`MAX_EVENT_BYTES`], always an error.

use crate::core::error::{ConversionsError, Result};
use crate::core::model::{AppInfo, ContentItem, CustomData, DeviceInfo, Event, UserData};

/// Longest serialized event (its JSON), bytes.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;
/// Longest event id, characters.
pub const MAX_EVENT_ID_CHARS: usize = 200;
/// Longest `event_source_url`, characters.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest identifier (each user-data value, content id, order id, click id), characters.
pub const MAX_ID_CHARS: usize = 256;
/// Longest free text (content name, category, brand, search string, item name), characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Most values in one user-data list (`emails`, `phone_numbers`, ...).
pub const MAX_USER_VALUES: usize = 20;
/// Most `content_ids`, and most `contents` items.
pub const MAX_CONTENT_ITEMS: usize = 1000;
/// Longest app or device fact (app name, brand, model, ...), characters.
pub const MAX_FACT_CHARS: usize = 200;
/// Longest `DeviceInfo.user_agent`, characters.
pub const MAX_USER_AGENT_CHARS: usize = 2048;

/// True when `value` has more than `max` characters; the byte length decides whenever it can,
/// so a huge string is not walked.
pub fn too_long(value: &str, max: usize) -> bool {
    let bytes = value.len();
    if bytes <= max {
        false
    } else if bytes > max.saturating_mul(4) {
        true
    } else {
        value.chars().count() > max
    }
}

fn length_rule(max: usize) -> String {
    format!("must be at most {max} characters")
}

/// Refuses `value` of `field` when it is longer than `max` characters.
pub fn check_length(field: &str, value: Option<&str>, max: usize) -> Result<()> {
    match value {
        Some(v) if too_long(v, max) => Err(ConversionsError::invalid(field, length_rule(max))),
        _ => Ok(()),
    }
}

/// Refuses the event when its JSON is larger than [`MAX_EVENT_BYTES`].
pub fn check_event_size(body: &str) -> Result<()> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(ConversionsError::invalid(
            "event",
            format!(
                "must serialize to at most {MAX_EVENT_BYTES} bytes of JSON; this one has {} \
                 (send fewer or shorter values)",
                body.len()
            ),
        ));
    }
    Ok(())
}

/// Checks the app's facts (construction): each at most [`MAX_FACT_CHARS`].
pub fn check_app(app: &AppInfo) -> Result<()> {
    check_length("app.app_id", app.app_id.as_deref(), MAX_FACT_CHARS)?;
    check_length("app.app_name", app.app_name.as_deref(), MAX_FACT_CHARS)?;
    check_length(
        "app.app_version",
        app.app_version.as_deref(),
        MAX_FACT_CHARS,
    )
}

/// Checks the device's facts (construction and `update_device`).
pub fn check_device(device: &DeviceInfo) -> Result<()> {
    let facts = [
        ("device.brand", &device.brand),
        ("device.model", &device.model),
        ("device.device_type", &device.device_type),
        ("device.os_version", &device.os_version),
        ("device.carrier", &device.carrier),
    ];
    for (field, value) in facts {
        check_length(field, value.as_deref(), MAX_FACT_CHARS)?;
    }
    check_length(
        "device.user_agent",
        device.user_agent.as_deref(),
        MAX_USER_AGENT_CHARS,
    )
}

/// The event with every value and list beyond its cap removed. `drop` hears each removal as
/// an `InvalidInput` error and decides: `Ok` keeps the event without the value (lenient),
/// `Err` refuses it (strict). The event id and the custom name are refused either way. The
/// event is taken by value and its fields moved, not copied: `track()` pays nothing for the
/// check when everything fits.
pub fn bounded(
    event: Event,
    drop: &mut dyn FnMut(ConversionsError) -> Result<()>,
) -> Result<Event> {
    check_length("event_id", event.event_id.as_deref(), MAX_EVENT_ID_CHARS)?;
    // The name's own rule (at most 100 letters, digits, '_' or '-') is checked later; this
    // only keeps a huge one from being walked.
    check_length(
        "custom_event_name",
        event.custom_event_name.as_deref(),
        MAX_TEXT_CHARS,
    )?;
    let mut fit = Fitter { drop };
    Ok(Event {
        event_source_url: fit.text("event_source_url", event.event_source_url, MAX_URL_CHARS)?,
        user_data: event
            .user_data
            .map(|user| fit.user_data(user))
            .transpose()?,
        custom_data: event
            .custom_data
            .map(|custom| fit.custom_data(custom))
            .transpose()?,
        ..event
    })
}

/// Keeps values that fit, reporting the ones that do not.
struct Fitter<'a> {
    drop: &'a mut dyn FnMut(ConversionsError) -> Result<()>,
}

impl Fitter<'_> {
    fn text(&mut self, field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
        match value {
            Some(v) if too_long(&v, max) => {
                (self.drop)(ConversionsError::invalid(field, length_rule(max)))?;
                Ok(None)
            }
            value => Ok(value),
        }
    }

    fn list(&mut self, field: &str, mut values: Vec<String>, count: usize) -> Result<Vec<String>> {
        if values.len() > count {
            (self.drop)(ConversionsError::invalid(
                field,
                format!("must have at most {count} values"),
            ))?;
            return Ok(Vec::new());
        }
        let mut i = 0;
        while i < values.len() {
            if too_long(&values[i], MAX_ID_CHARS) {
                (self.drop)(ConversionsError::invalid(field, length_rule(MAX_ID_CHARS)))?;
                values.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(values)
    }

    fn user_data(&mut self, user: UserData) -> Result<UserData> {
        let n = MAX_USER_VALUES;
        let id = MAX_ID_CHARS;
        Ok(UserData {
            emails: self.list("user_data.em", user.emails, n)?,
            phone_numbers: self.list("user_data.ph", user.phone_numbers, n)?,
            first_names: self.list("user_data.fn", user.first_names, n)?,
            last_names: self.list("user_data.ln", user.last_names, n)?,
            genders: self.list("user_data.ge", user.genders, n)?,
            dates_of_birth: self.list("user_data.db", user.dates_of_birth, n)?,
            cities: self.list("user_data.ct", user.cities, n)?,
            states: self.list("user_data.st", user.states, n)?,
            zip_codes: self.list("user_data.zp", user.zip_codes, n)?,
            countries: self.list("user_data.country", user.countries, n)?,
            external_ids: self.list("user_data.external_id", user.external_ids, n)?,
            client_ip_address: self.text(
                "user_data.client_ip_address",
                user.client_ip_address,
                id,
            )?,
            click_id: self.text("user_data.click_id", user.click_id, id)?,
            partner_id: self.text("user_data.partner_id", user.partner_id, id)?,
        })
    }

    fn custom_data(&mut self, custom: CustomData) -> Result<CustomData> {
        let (id, text) = (MAX_ID_CHARS, MAX_TEXT_CHARS);
        let contents = if custom.contents.len() > MAX_CONTENT_ITEMS {
            (self.drop)(ConversionsError::invalid(
                "custom_data.contents",
                format!("must have at most {MAX_CONTENT_ITEMS} items"),
            ))?;
            Vec::new()
        } else {
            let mut items = Vec::with_capacity(custom.contents.len());
            for (i, item) in custom.contents.into_iter().enumerate() {
                items.push(self.content_item(i, item)?);
            }
            items
        };
        Ok(CustomData {
            currency: self.text("custom_data.currency", custom.currency, id)?,
            value: self.text("custom_data.value", custom.value, id)?,
            content_ids: self.list(
                "custom_data.content_ids",
                custom.content_ids,
                MAX_CONTENT_ITEMS,
            )?,
            contents,
            num_items: custom.num_items,
            order_id: self.text("custom_data.order_id", custom.order_id, id)?,
            search_string: self.text("custom_data.search_string", custom.search_string, text)?,
            content_name: self.text("custom_data.content_name", custom.content_name, text)?,
            content_category: self.text(
                "custom_data.content_category",
                custom.content_category,
                text,
            )?,
            content_brand: self.text("custom_data.content_brand", custom.content_brand, text)?,
            opt_out_type: self.text("custom_data.opt_out_type", custom.opt_out_type, id)?,
        })
    }

    fn content_item(&mut self, index: usize, item: ContentItem) -> Result<ContentItem> {
        let field = |leaf: &str| format!("custom_data.contents[{index}].{leaf}");
        let (id, text) = (MAX_ID_CHARS, MAX_TEXT_CHARS);
        Ok(ContentItem {
            id: self.text(&field("id"), item.id, id)?,
            item_name: self.text(&field("item_name"), item.item_name, text)?,
            item_category: self.text(&field("item_category"), item.item_category, text)?,
            item_brand: self.text(&field("item_brand"), item.item_brand, text)?,
            item_price: self.text(&field("item_price"), item.item_price, id)?,
            quantity: item.quantity,
        })
    }
}

/// Trims an optional string; empty and `--` count as absent.
pub fn clean(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "--")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::EventName;

    #[test]
    fn lengths_are_counted_in_characters_without_walking_huge_strings() {
        assert!(!too_long("ééé", 3), "3 characters, 6 bytes");
        assert!(too_long("éééé", 3));
        assert!(too_long(&"x".repeat(13), 3), "decided by the byte length");
        assert!(!too_long("", 0));
    }

    #[test]
    fn values_beyond_their_caps_are_reported_and_removed() {
        let event = Event {
            event_source_url: Some(format!("https://a.example/{}", "x".repeat(3000))),
            custom_data: Some(CustomData {
                content_ids: vec!["a".into(); MAX_CONTENT_ITEMS + 1],
                order_id: Some("o-1".into()),
                ..Default::default()
            }),
            ..Event::new(EventName::Checkout)
        };
        let mut fields = Vec::new();
        let fitted = bounded(event, &mut |e| {
            if let ConversionsError::InvalidInput { field, .. } = e {
                fields.push(field);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(fields, ["event_source_url", "custom_data.content_ids"]);
        assert_eq!(fitted.event_source_url, None);
        let custom = fitted.custom_data.unwrap();
        assert!(custom.content_ids.is_empty());
        assert_eq!(custom.order_id.as_deref(), Some("o-1"));
    }

    #[test]
    fn the_event_id_is_refused_whatever_the_mode() {
        let event = Event {
            event_id: Some("i".repeat(MAX_EVENT_ID_CHARS + 1)),
            ..Event::new(EventName::Lead)
        };
        let result = bounded(event, &mut |_| Ok(()));
        assert!(matches!(
            result,
            Err(ConversionsError::InvalidInput { field, .. }) if field == "event_id"
        ));
    }
}
