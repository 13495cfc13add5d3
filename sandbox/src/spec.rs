//! The 5.23 `ConversionEvents` request schema, written down as static tables.
//!
//! Only what validation needs is kept: property names and types, nullability, lengths,
//! ranges, enums, required properties, and which objects are closed
//! (`additionalProperties: false`: the event, `custom_data`, `contents[]`, `app_info`
//! and `device_info`; `user_data` is open). [`crate::schema`] walks a body against them.

/// The type (and constraints) of one property.
#[derive(Clone, Copy)]
pub(crate) enum Ty {
    /// A string, optionally `null`, optionally with a maximum length in characters.
    Str {
        nullable: bool,
        max_len: Option<usize>,
    },
    /// An integer, optionally `null`, within an inclusive range.
    Int { nullable: bool, min: i64, max: i64 },
    /// `true` or `false`.
    Bool,
    /// An array of strings with at most this many items.
    StrArray { max_items: usize },
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// A nested object.
    Object(&'static Obj),
    /// An array of objects.
    ObjArray(&'static Obj),
}

/// An object schema: its properties, required properties and whether others are allowed.
pub(crate) struct Obj {
    /// Properties and their types.
    pub(crate) fields: &'static [(&'static str, Ty)],
    /// Properties that must be present.
    pub(crate) required: &'static [&'static str],
    /// Whether properties not listed are rejected (`additionalProperties: false`).
    pub(crate) closed: bool,
}

const S: Ty = Ty::Str {
    nullable: false,
    max_len: None,
};
const NS: Ty = Ty::Str {
    nullable: true,
    max_len: None,
};
const fn s(max: usize) -> Ty {
    Ty::Str {
        nullable: false,
        max_len: Some(max),
    }
}
const fn int(min: i64, max: i64) -> Ty {
    Ty::Int {
        nullable: false,
        min,
        max,
    }
}
const I: Ty = int(i64::MIN, i64::MAX);
const NI: Ty = Ty::Int {
    nullable: true,
    min: i64::MIN,
    max: i64::MAX,
};
const SA: Ty = Ty::StrArray {
    max_items: usize::MAX,
};

static CONTENT: Obj = Obj {
    fields: &[
        ("id", S),
        ("item_brand", S),
        ("item_category", S),
        ("item_name", S),
        ("item_price", S),
        ("quantity", I),
    ],
    required: &[],
    closed: true,
};

static CUSTOM_DATA: Obj = Obj {
    fields: &[
        ("content_brand", NS),
        ("content_category", NS),
        ("content_ids", SA),
        ("content_name", NS),
        ("contents", Ty::ObjArray(&CONTENT)),
        ("currency", NS),
        ("external_measurement_id", NS),
        ("external_measurement_vendor_id", NI),
        ("np", NS),
        ("num_items", I),
        ("opt_out_type", NS),
        ("order_id", NS),
        ("predicted_ltv", NS),
        ("search_string", NS),
        ("value", NS),
    ],
    required: &[],
    closed: true,
};

static APP_INFO: Obj = Obj {
    fields: &[
        ("app_id", s(200)),
        ("app_name", s(200)),
        ("app_package_name", s(200)),
        ("app_store", s(100)),
        ("app_version", s(100)),
        ("install_time", int(0, i64::MAX)),
        ("user_agent", s(16384)),
        ("window_height", int(0, 30720)),
        ("window_width", int(0, 30720)),
    ],
    required: &[],
    closed: true,
};

/// `device_info.form_factor` values.
const FORM_FACTORS: &[&str] = &[
    "desktop",
    "laptop",
    "cellphone",
    "tablet",
    "smartwatch",
    "tv",
    "vr",
    "console",
    "other",
];
/// `device_info.network_type` values.
const NETWORK_TYPES: &[&str] = &[
    "wifi",
    "cellular_2g",
    "cellular_3g",
    "cellular_4g",
    "cellular_5g",
    "cellular_6g",
    "ethernet",
    "unknown",
];
/// `device_info.os_family` values.
const OS_FAMILIES: &[&str] = &[
    "ios", "android", "macos", "windows", "linux", "bsd", "other",
];

static DEVICE_INFO: Obj = Obj {
    fields: &[
        ("battery_level", int(0, 100)),
        ("brand", s(100)),
        ("carrier", s(100)),
        ("cpu_cores", int(0, 1152)),
        ("external_storage_free_space", int(0, 1_048_576)),
        ("external_storage_size", int(0, 1_048_576)),
        ("form_factor", Ty::Enum(FORM_FACTORS)),
        ("kernel_version", s(100)),
        ("languages", Ty::StrArray { max_items: 100 }),
        ("locale", s(35)),
        ("model", s(100)),
        ("network_type", Ty::Enum(NETWORK_TYPES)),
        ("os_family", Ty::Enum(OS_FAMILIES)),
        ("os_name", s(100)),
        ("os_release_name", s(100)),
        ("os_version", s(100)),
        ("screen_density", int(0, 100_000)),
        ("screen_height", int(0, 30720)),
        ("screen_width", int(0, 30720)),
        ("storage_free_space", int(0, 1_048_576)),
        ("storage_size", int(0, 1_048_576)),
        ("timezone", s(40)),
        ("timezone_abbr", s(5)),
        ("type", s(100)),
    ],
    required: &[],
    closed: true,
};

static USER_DATA: Obj = Obj {
    fields: &[
        ("click_id", NS),
        ("client_ip_address", S),
        ("client_user_agent", S),
        ("country", SA),
        ("ct", SA),
        ("db", SA),
        ("em", SA),
        ("external_id", SA),
        ("fn", SA),
        ("ge", SA),
        ("hashed_maids", SA),
        ("ln", SA),
        ("partner_id", NS),
        ("ph", SA),
        ("st", SA),
        ("zp", SA),
    ],
    required: &[],
    // The spec does not close `user_data`.
    closed: false,
};

pub(crate) static EVENT: Obj = Obj {
    fields: &[
        ("action_source", S),
        ("app_id", NS),
        ("app_info", Ty::Object(&APP_INFO)),
        ("app_name", NS),
        ("app_version", NS),
        ("custom_data", Ty::Object(&CUSTOM_DATA)),
        ("device_brand", NS),
        ("device_carrier", NS),
        ("device_info", Ty::Object(&DEVICE_INFO)),
        ("device_model", NS),
        ("device_type", NS),
        ("event_id", S),
        ("event_name", S),
        ("event_source_url", NS),
        ("event_time", I),
        ("language", NS),
        ("opt_out", Ty::Bool),
        ("os_version", NS),
        ("partner_name", NS),
        ("user_data", Ty::Object(&USER_DATA)),
        ("wifi", Ty::Bool),
    ],
    required: &[
        "event_name",
        "action_source",
        "event_time",
        "event_id",
        "user_data",
    ],
    closed: true,
};
