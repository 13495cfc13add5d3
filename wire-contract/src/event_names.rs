//! The API's event names: 21 standard names and `custom`. Any other `event_name` is one of the
//! advertiser's own (at most 15 per advertiser), which the API accepts only when registered.

/// `custom`: the standard name of an event that carries no name of the advertiser's own.
pub const CUSTOM_EVENT_NAME: &str = "custom";

/// Every name the API defines, in the order its documentation lists them: the 21 standard
/// names, then [`CUSTOM_EVENT_NAME`]. The SDK's `EventName` enum follows this order.
pub const EVENT_NAMES: [&str; 22] = [
    "add_payment_info",
    "add_to_cart",
    "add_to_wishlist",
    "app_install",
    "app_open",
    "checkout",
    "contact",
    "customize_product",
    "find_location",
    "initiate_checkout",
    "lead",
    "page_visit",
    "schedule",
    "search",
    "signup",
    "start_trial",
    "submit_application",
    "subscribe",
    "view_category",
    "view_content",
    "watch_video",
    CUSTOM_EVENT_NAME,
];

/// True when `name` is one of [`EVENT_NAMES`] exactly (the API's names are lowercase; a caller
/// that compares case-insensitively lowercases first).
pub fn is_api_event_name(name: &str) -> bool {
    EVENT_NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_api_s() {
        assert_eq!(EVENT_NAMES.len(), 22);
        assert_eq!(EVENT_NAMES[21], "custom");
        let mut sorted = EVENT_NAMES[..21].to_vec();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            EVENT_NAMES[..21],
            "the 21 standard names, alphabetical"
        );
        for (name, known) in [
            ("app_install", true),
            ("custom", true),
            ("watch_video", true),
            ("App_Install", false),
            ("level_up", false),
            ("", false),
        ] {
            assert_eq!(is_api_event_name(name), known, "{name}");
        }
    }
}
