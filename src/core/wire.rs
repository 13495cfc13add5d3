//! The Conversions API wire format of one event: the object we store and send. The request
//! envelope, the answer and its parsing are the wire contract the relay and the sandbox share
//! (the `conversions-wire` crate, wire-contract/).
//!
//! Events are serialised once, at track time, into the exact JSON the API expects (absent
//! fields omitted, never `null` or `""`), and stored as that text. A request body is then the
//! stored texts joined inside `{"data":[...]}` (`conversions_wire::request_body`); only events whose privacy must be tightened at
//! send time are parsed and rewritten.

use serde::{Deserialize, Serialize};

/// `app_info` as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireAppInfo {
    /// `app_id`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// `app_name`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// `app_package_name`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_package_name: Option<String>,
    /// `app_store`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_store: Option<String>,
    /// `app_version`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// `install_time`, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_time: Option<i64>,
}

/// `device_info` as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireDeviceInfo {
    /// `brand`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// `carrier`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// `cpu_cores`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cores: Option<i32>,
    /// `form_factor`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_factor: Option<String>,
    /// `languages`, ISO 639-1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// `locale`, BCP-47.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `model`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `network_type`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<String>,
    /// `os_family`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    /// `os_name`: the major version (`17`, `14`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    /// `os_version`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// `screen_density`, pixels per inch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_density: Option<i32>,
    /// `screen_height`, pixels (the longer side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_height: Option<i32>,
    /// `screen_width`, pixels (the shorter side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_width: Option<i32>,
    /// `timezone`, an IANA name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `timezone_abbr`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone_abbr: Option<String>,
    /// `type`
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
}

/// An HTTP answer as the upload policy reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// Status code.
    pub status: u16,
    /// The `Retry-After` header, verbatim.
    pub retry_after: Option<String>,
    /// The `Date` header (the server's clock), verbatim.
    pub date: Option<String>,
    /// The body (empty when it could not be read completely).
    pub body: String,
    /// The body could not be read completely (too large, reset, timed out).
    pub body_error: Option<String>,
}

/// One event exactly as sent in `data[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    /// `event_name`
    pub event_name: String,
    /// `action_source`
    pub action_source: String,
    /// `event_time`, Unix seconds.
    pub event_time: i64,
    /// `event_id`
    pub event_id: String,
    /// `event_source_url`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_url: Option<String>,
    /// `opt_out`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<bool>,
    /// `partner_name`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_name: Option<String>,
    /// `user_data`
    pub user_data: WireUserData,
    /// `custom_data`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<WireCustomData>,
    /// `app_id`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// `app_name`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// `app_version`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// `device_brand`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_brand: Option<String>,
    /// `device_carrier`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_carrier: Option<String>,
    /// `device_model`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_model: Option<String>,
    /// `device_type`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// `os_version`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// `language`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// `wifi`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wifi: Option<bool>,
    /// `app_info`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_info: Option<WireAppInfo>,
    /// `device_info`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_info: Option<WireDeviceInfo>,
}

/// `user_data`: hashed identifier lists plus the raw IP, user agent, click and partner ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireUserData {
    /// Hashed emails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub em: Vec<String>,
    /// Hashed phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ph: Vec<String>,
    /// Hashed first names.
    #[serde(default, rename = "fn", skip_serializing_if = "Vec::is_empty")]
    pub first_name: Vec<String>,
    /// Hashed last names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ln: Vec<String>,
    /// Hashed genders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ge: Vec<String>,
    /// Hashed dates of birth.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub db: Vec<String>,
    /// Hashed cities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ct: Vec<String>,
    /// Hashed states.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub st: Vec<String>,
    /// Hashed zip codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zp: Vec<String>,
    /// Hashed country codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub country: Vec<String>,
    /// Hashed external ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_id: Vec<String>,
    /// Hashed advertising ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashed_maids: Vec<String>,
    /// Raw client IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip_address: Option<String>,
    /// Raw user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_user_agent: Option<String>,
    /// Raw click id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_id: Option<String>,
    /// Raw partner id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
}

/// `custom_data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireCustomData {
    /// `currency`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// `value`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `content_ids`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_ids: Vec<String>,
    /// `contents`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<WireContent>,
    /// `num_items`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_items: Option<i64>,
    /// `order_id`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// `search_string`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_string: Option<String>,
    /// `content_name`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_name: Option<String>,
    /// `content_category`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_category: Option<String>,
    /// `content_brand`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_brand: Option<String>,
    /// `opt_out_type`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out_type: Option<String>,
}

/// One `custom_data.contents[]` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireContent {
    /// `id`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `item_name`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// `item_category`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_category: Option<String>,
    /// `item_brand`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_brand: Option<String>,
    /// `item_price`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_price: Option<String>,
    /// `quantity`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
}

impl WireEvent {
    /// The JSON text stored and sent for this event.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and bools into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_are_omitted() {
        let event = WireEvent {
            event_name: "checkout".into(),
            action_source: "app_ios".into(),
            event_time: 1_700_000_000,
            event_id: "e1".into(),
            ..Default::default()
        };
        assert_eq!(
            event.to_json(),
            r#"{"event_name":"checkout","action_source":"app_ios","event_time":1700000000,"event_id":"e1","user_data":{}}"#
        );
    }
}
