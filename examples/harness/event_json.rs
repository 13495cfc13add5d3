//! Reads an event written in the API's JSON field names (`event_name`, `user_data.em`, ...)
//! into the SDK's `Event`. User data may be raw or already hashed; unknown keys are refused.

use app_conversions::{ContentItem, CustomData, Event, EventName, UserData};
use serde_json::{Map, Value};

/// Parses `json` into an event, naming any field it cannot use.
pub fn parse(json: &str) -> Result<Event, String> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| format!("--json is not JSON: {e}"))?;
    let object = value.as_object().ok_or("--json must be an object")?;
    let mut event = Event {
        name: EventName::Custom,
        custom_event_name: None,
        event_id: None,
        event_time: None,
        event_source_url: None,
        user_data: None,
        custom_data: None,
    };
    for (key, value) in object {
        match key.as_str() {
            "event_name" => {
                let name = string(value, key)?;
                match EventName::from_wire(&name) {
                    Some(standard) => event.name = standard,
                    None => event.custom_event_name = Some(name),
                }
            }
            "event_id" => event.event_id = Some(string(value, key)?),
            "event_time" => {
                event.event_time = Some(value.as_i64().ok_or("event_time must be Unix seconds")?)
            }
            "event_source_url" => event.event_source_url = Some(string(value, key)?),
            "user_data" => event.user_data = Some(user_data(object_of(value, key)?)?),
            "custom_data" => event.custom_data = Some(custom_data(object_of(value, key)?)?),
            other => return Err(format!("unknown field {other}")),
        }
    }
    if !object.contains_key("event_name") {
        return Err("event_name is required".into());
    }
    Ok(event)
}

fn object_of<'a>(value: &'a Value, key: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{key} must be an object"))
}

fn string(value: &Value, key: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format!("{key} must be a string")),
    }
}

/// A list of strings; a single string is taken as a list of one.
fn strings(value: &Value, key: &str) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items.iter().map(|v| string(v, key)).collect(),
        other => Ok(vec![string(other, key)?]),
    }
}

fn user_data(object: &Map<String, Value>) -> Result<UserData, String> {
    let mut user = UserData::default();
    for (key, value) in object {
        let field = format!("user_data.{key}");
        match key.as_str() {
            "em" => user.emails = strings(value, &field)?,
            "ph" => user.phone_numbers = strings(value, &field)?,
            "fn" => user.first_names = strings(value, &field)?,
            "ln" => user.last_names = strings(value, &field)?,
            "ge" => user.genders = strings(value, &field)?,
            "db" => user.dates_of_birth = strings(value, &field)?,
            "ct" => user.cities = strings(value, &field)?,
            "st" => user.states = strings(value, &field)?,
            "zp" => user.zip_codes = strings(value, &field)?,
            "country" => user.countries = strings(value, &field)?,
            "external_id" => user.external_ids = strings(value, &field)?,
            "client_ip_address" => user.client_ip_address = Some(string(value, &field)?),
            "click_id" => user.click_id = Some(string(value, &field)?),
            "partner_id" => user.partner_id = Some(string(value, &field)?),
            "hashed_maids" => {
                return Err("user_data.hashed_maids comes from --advertising-id".into())
            }
            other => return Err(format!("unknown field user_data.{other}")),
        }
    }
    Ok(user)
}

fn custom_data(object: &Map<String, Value>) -> Result<CustomData, String> {
    let mut data = CustomData::default();
    for (key, value) in object {
        let field = format!("custom_data.{key}");
        match key.as_str() {
            "currency" => data.currency = Some(string(value, &field)?),
            "value" => data.value = Some(string(value, &field)?),
            "content_ids" => data.content_ids = strings(value, &field)?,
            "num_items" => {
                data.num_items = Some(
                    value
                        .as_i64()
                        .ok_or(format!("{field} must be an integer"))?,
                )
            }
            "order_id" => data.order_id = Some(string(value, &field)?),
            "search_string" => data.search_string = Some(string(value, &field)?),
            "content_name" => data.content_name = Some(string(value, &field)?),
            "content_category" => data.content_category = Some(string(value, &field)?),
            "content_brand" => data.content_brand = Some(string(value, &field)?),
            "opt_out_type" => data.opt_out_type = Some(string(value, &field)?),
            "contents" => {
                let items = value
                    .as_array()
                    .ok_or(format!("{field} must be an array"))?;
                data.contents = items.iter().map(content).collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown field custom_data.{other}")),
        }
    }
    Ok(data)
}

fn content(value: &Value) -> Result<ContentItem, String> {
    let object = object_of(value, "custom_data.contents[]")?;
    let mut item = ContentItem::default();
    for (key, value) in object {
        let field = format!("custom_data.contents[].{key}");
        match key.as_str() {
            "id" => item.id = Some(string(value, &field)?),
            "item_name" => item.item_name = Some(string(value, &field)?),
            "item_category" => item.item_category = Some(string(value, &field)?),
            "item_brand" => item.item_brand = Some(string(value, &field)?),
            "item_price" => item.item_price = Some(string(value, &field)?),
            "quantity" => {
                item.quantity = Some(
                    value
                        .as_i64()
                        .ok_or(format!("{field} must be an integer"))?,
                )
            }
            other => return Err(format!("unknown field custom_data.contents[].{other}")),
        }
    }
    Ok(item)
}
