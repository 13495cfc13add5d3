//! Reads an event written in the API's JSON field names (`event_name`, `user_data.em`, ...)
//! into the SDK's `Event`. User data may be raw or already hashed; unknown keys are refused.

use std::collections::BTreeSet;

use app_conversions::{ContentItem, CustomData, Event, EventName, UserData};
use serde_json::{Map, Value};

/// A field the harness could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field in the API's JSON naming (`custom_data.currency`), or `event` for the whole.
    pub field: String,
    /// The rule it broke.
    pub rule: String,
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: &str, rule: impl Into<String>) -> Problem {
        Problem {
            field: field.to_string(),
            rule: rule.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

type Parsed<T> = Result<T, Problem>;

/// Parses `json` into an event, naming any field it cannot use.
pub fn parse(json: &str) -> Parsed<Event> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Problem::new("event", format!("is not JSON: {e}")))?;
    from_value(&value)
}

/// Reads one event from parsed JSON.
pub fn from_value(value: &Value) -> Parsed<Event> {
    let object = value
        .as_object()
        .ok_or_else(|| Problem::new("event", "must be a JSON object"))?;
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
                event.event_time = Some(
                    value
                        .as_i64()
                        .ok_or_else(|| Problem::new(key, "must be an integer (Unix seconds)"))?,
                )
            }
            "event_source_url" => event.event_source_url = Some(string(value, key)?),
            "user_data" => event.user_data = Some(user_data(object_of(value, key)?)?),
            "custom_data" => event.custom_data = Some(custom_data(object_of(value, key)?)?),
            other => return Err(Problem::new(other, "is not a field the harness reads")),
        }
    }
    if !object.contains_key("event_name") {
        return Err(Problem::new("event_name", "is required"));
    }
    Ok(event)
}

fn object_of<'a>(value: &'a Value, key: &str) -> Parsed<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Problem::new(key, "must be an object"))
}

fn string(value: &Value, key: &str) -> Parsed<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(Problem::new(key, "must be a string")),
    }
}

/// A list of strings; a single string is taken as a list of one.
fn strings(value: &Value, key: &str) -> Parsed<Vec<String>> {
    match value {
        Value::Array(items) => items.iter().map(|v| string(v, key)).collect(),
        other => Ok(vec![string(other, key)?]),
    }
}

fn user_data(object: &Map<String, Value>) -> Parsed<UserData> {
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
                return Err(Problem::new(
                    &field,
                    "comes from the advertising ID (--advertising-id), not the event",
                ))
            }
            _ => return Err(Problem::new(&field, "is not a field the harness reads")),
        }
    }
    Ok(user)
}

fn custom_data(object: &Map<String, Value>) -> Parsed<CustomData> {
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
                        .ok_or_else(|| Problem::new(&field, "must be an integer"))?,
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
                    .ok_or_else(|| Problem::new(&field, "must be an array"))?;
                data.contents = items.iter().map(content).collect::<Result<_, _>>()?;
            }
            _ => return Err(Problem::new(&field, "is not a field the harness reads")),
        }
    }
    Ok(data)
}

fn content(value: &Value) -> Parsed<ContentItem> {
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
                        .ok_or_else(|| Problem::new(&field, "must be an integer"))?,
                )
            }
            _ => return Err(Problem::new(&field, "is not a field the harness reads")),
        }
    }
    Ok(item)
}

/// The `user_data` keys (API names) an event was given, to tell later what privacy removed.
pub fn user_data_keys(event: &Event) -> BTreeSet<String> {
    let Some(user) = &event.user_data else {
        return BTreeSet::new();
    };
    let lists = [
        ("em", &user.emails),
        ("ph", &user.phone_numbers),
        ("fn", &user.first_names),
        ("ln", &user.last_names),
        ("ge", &user.genders),
        ("db", &user.dates_of_birth),
        ("ct", &user.cities),
        ("st", &user.states),
        ("zp", &user.zip_codes),
        ("country", &user.countries),
        ("external_id", &user.external_ids),
    ];
    let singles = [
        ("client_ip_address", &user.client_ip_address),
        ("click_id", &user.click_id),
        ("partner_id", &user.partner_id),
    ];
    lists
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(key, _)| key.to_string())
        .chain(
            singles
                .iter()
                .filter(|(_, value)| value.is_some())
                .map(|(key, _)| key.to_string()),
        )
        .collect()
}
