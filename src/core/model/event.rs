//! What the app tracks: the event, its name and action source, its user data and custom
//! data. Field names speak to app developers; `wire.rs` maps them to the API's.

/// The 21 standard Conversions API event names, plus `Custom`.
///
/// `Custom` with [`Event::custom_event_name`] set sends an advertiser-defined event name;
/// without it, the standard `custom` event is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum EventName {
    /// `add_payment_info`
    AddPaymentInfo,
    /// `add_to_cart`
    AddToCart,
    /// `add_to_wishlist`
    AddToWishlist,
    /// `app_install`: recorded by `on_launch`; do not track it yourself.
    AppInstall,
    /// `app_open` (recorded automatically by `on_launch` and `on_foreground`)
    AppOpen,
    /// `checkout`
    Checkout,
    /// `contact`
    Contact,
    /// `customize_product`
    CustomizeProduct,
    /// `find_location`
    FindLocation,
    /// `initiate_checkout`
    InitiateCheckout,
    /// `lead`
    Lead,
    /// `page_visit`
    PageVisit,
    /// `schedule`
    Schedule,
    /// `search`
    Search,
    /// `signup`
    Signup,
    /// `start_trial`
    StartTrial,
    /// `submit_application`
    SubmitApplication,
    /// `subscribe`
    Subscribe,
    /// `view_category`
    ViewCategory,
    /// `view_content`
    ViewContent,
    /// `watch_video`
    WatchVideo,
    /// `custom`, or an advertiser-defined name given in `custom_event_name`.
    Custom,
}

impl EventName {
    /// Every name, in the order the API's documentation lists them (docs/ARCHITECTURE.md §10).
    pub const ALL: [EventName; 22] = [
        EventName::AddPaymentInfo,
        EventName::AddToCart,
        EventName::AddToWishlist,
        EventName::AppInstall,
        EventName::AppOpen,
        EventName::Checkout,
        EventName::Contact,
        EventName::CustomizeProduct,
        EventName::FindLocation,
        EventName::InitiateCheckout,
        EventName::Lead,
        EventName::PageVisit,
        EventName::Schedule,
        EventName::Search,
        EventName::Signup,
        EventName::StartTrial,
        EventName::SubmitApplication,
        EventName::Subscribe,
        EventName::ViewCategory,
        EventName::ViewContent,
        EventName::WatchVideo,
        EventName::Custom,
    ];

    /// The name as sent on the wire: the API's list of names (the wire contract's
    /// `EVENT_NAMES`), which [`EventName::ALL`] follows in order.
    pub fn wire_name(self) -> &'static str {
        conversions_wire::EVENT_NAMES[self as usize]
    }

    /// The standard name for a wire string, if it is one.
    pub fn from_wire(name: &str) -> Option<EventName> {
        EventName::ALL.into_iter().find(|n| n.wire_name() == name)
    }
}

/// Where events happen: `APP_IOS` or `APP_ANDROID` for apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum ActionSource {
    /// `app_ios`
    AppIos,
    /// `app_android`
    AppAndroid,
    /// `web`
    Web,
    /// `offline`
    Offline,
}

impl ActionSource {
    /// The value as sent on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            ActionSource::AppIos => "app_ios",
            ActionSource::AppAndroid => "app_android",
            ActionSource::Web => "web",
            ActionSource::Offline => "offline",
        }
    }
}

/// One conversion event as the app describes it. Only `name` is required.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct Event {
    /// The event type.
    pub name: EventName,
    /// Advertiser-defined name (letters, digits, `_`, `-`, at most 100; at most 15 distinct
    /// names per ad account); only with `EventName.CUSTOM`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub custom_event_name: Option<String>,
    /// Deduplication id, for example your order id; a random UUID when absent.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub event_id: Option<String>,
    /// Unix seconds; now when absent. At most 5 minutes ahead, not older than the max event age.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub event_time: Option<i64>,
    /// The absolute http(s) URL where it happened, if any.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub event_source_url: Option<String>,
    /// Who did it. Raw values are normalised and SHA-256 hashed before anything is stored.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub user_data: Option<UserData>,
    /// What it was worth and which products it involved.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub custom_data: Option<CustomData>,
}

impl Event {
    /// An event of `name` with every optional field absent (add fields with struct update).
    pub fn new(name: EventName) -> Event {
        Event {
            name,
            custom_event_name: None,
            event_id: None,
            event_time: None,
            event_source_url: None,
            user_data: None,
            custom_data: None,
        }
    }
}

/// The user's identifiers, raw or already SHA-256 hashed (64 hex characters). Each is
/// normalised as the API requires (email lowercase, phone digits with country code, ...) and
/// hashed on the calling thread.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct UserData {
    /// Email addresses (`em`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub emails: Vec<String>,
    /// Phone numbers with country code (`ph`); one with a leading national `0` or fewer than 8
    /// digits is sent with a warning that it may lack its country code.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub phone_numbers: Vec<String>,
    /// First names (`fn`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub first_names: Vec<String>,
    /// Last names (`ln`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub last_names: Vec<String>,
    /// Genders: f, m or n (`ge`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub genders: Vec<String>,
    /// Dates of birth as YYYYMMDD or YYYY-MM-DD (`db`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub dates_of_birth: Vec<String>,
    /// Cities (`ct`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub cities: Vec<String>,
    /// Two-letter state codes (`st`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub states: Vec<String>,
    /// Zip codes (`zp`), digits only (spaces and `-` allowed); a postcode with letters is
    /// dropped as invalid, since it cannot be sent.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub zip_codes: Vec<String>,
    /// Two-letter ISO-3166 country codes (`country`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub countries: Vec<String>,
    /// The advertiser's user ids (`external_id`).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub external_ids: Vec<String>,
    /// The user's public IP, sent raw. Usually left to your relay, which sees it.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub client_ip_address: Option<String>,
    /// The ad click id (`click_id`), sent raw.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub click_id: Option<String>,
    /// A partner's user id (`partner_id`), sent raw.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub partner_id: Option<String>,
}

/// Event-level commerce details (`custom_data`).
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct CustomData {
    /// ISO-4217 currency code, three letters.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub currency: Option<String>,
    /// Total value as a positive decimal string, for example `"9.99"`.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub value: Option<String>,
    /// Product ids.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub content_ids: Vec<String>,
    /// Line items.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub contents: Vec<ContentItem>,
    /// Number of items.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub num_items: Option<i64>,
    /// Order id.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub order_id: Option<String>,
    /// What the user searched for.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub search_string: Option<String>,
    /// Page or product name.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub content_name: Option<String>,
    /// Merchandise category.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub content_category: Option<String>,
    /// Merchandise brand.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub content_brand: Option<String>,
    /// "ldp" for Limited Data Processing (set automatically from the privacy state).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub opt_out_type: Option<String>,
}

/// One line item of `custom_data.contents`.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct ContentItem {
    /// Product id.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub id: Option<String>,
    /// Product name.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub item_name: Option<String>,
    /// Product category.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub item_category: Option<String>,
    /// Product brand.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub item_brand: Option<String>,
    /// Unit price as a decimal string.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub item_price: Option<String>,
    /// Quantity.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub quantity: Option<i64>,
}
