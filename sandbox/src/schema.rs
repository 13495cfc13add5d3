//! Structural validation of a request body against the 5.23 `ConversionEvents` schema.
//!
//! Anything this module rejects makes the whole request fail with 400 code 4196, as the
//! real API's JSON-schema validation does. The schema is written down as static tables
//! ([`Obj`] and [`Ty`]) rather than loaded from the YAML: the walk over a 1,000-event
//! batch then allocates nothing unless it finds an error, and the error path (a
//! [`Path`] chain of borrowed segments) is only turned into text when reporting.
//! Messages follow the wording of Python's `jsonschema`, which the live API surfaces,
//! e.g. `Additional properties are not allowed ('x' was unexpected)`, followed by the
//! location (`at data[0].custom_data`).

use serde_json::{Map, Value};

/// Most events allowed in one request.
pub(crate) const MAX_EVENTS: usize = 1000;

/// The type (and constraints) of one property.
#[derive(Clone, Copy)]
enum Ty {
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
struct Obj {
    fields: &'static [(&'static str, Ty)],
    required: &'static [&'static str],
    closed: bool,
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

static EVENT: Obj = Obj {
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

/// One step of the location of a value inside the body, rendered only on error.
pub(crate) enum Path<'a> {
    /// The body itself.
    Root,
    /// A property of the parent.
    Key(&'a Path<'a>, &'a str),
    /// An array item of the parent.
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => match parent.render() {
                p if p.is_empty() => key.to_string(),
                p => format!("{p}.{key}"),
            },
            Path::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }

    fn locate(&self, message: String) -> String {
        match self.render() {
            p if p.is_empty() => message,
            p => format!("{message} at {p}"),
        }
    }
}

/// A short, Python-like rendering of a JSON value for messages.
pub(crate) fn repr(value: &Value) -> String {
    let text = match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn type_error(value: &Value, expected: &str, path: &Path) -> String {
    path.locate(format!("{} is not of type '{expected}'", repr(value)))
}

/// Checks the whole body; `Err` carries the message after `Invalid request: `.
pub(crate) fn check_body(body: &Value) -> Result<(), String> {
    let root = Path::Root;
    let Value::Object(map) = body else {
        return Err(type_error(body, "object", &root));
    };
    let Some(data) = map.get("data") else {
        return Err("'data' is a required property".to_string());
    };
    let unexpected: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "data")
        .collect();
    if !unexpected.is_empty() {
        return Err(additional(&unexpected, &root));
    }
    let data_path = Path::Key(&root, "data");
    let Value::Array(events) = data else {
        return Err(type_error(data, "array", &data_path));
    };
    if events.is_empty() {
        return Err(data_path.locate("[] should be non-empty".to_string()));
    }
    if events.len() > MAX_EVENTS {
        return Err(data_path.locate(format!(
            "[...] is too long ({} events; at most {MAX_EVENTS} are allowed per request)",
            events.len()
        )));
    }
    for (i, event) in events.iter().enumerate() {
        check_object(event, &EVENT, &Path::Index(&data_path, i))?;
    }
    Ok(())
}

fn additional(keys: &[&str], path: &Path) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
    let verb = if keys.len() == 1 { "was" } else { "were" };
    path.locate(format!(
        "Additional properties are not allowed ({} {verb} unexpected)",
        quoted.join(", ")
    ))
}

fn check_object(value: &Value, obj: &Obj, path: &Path) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Err(type_error(value, "object", path));
    };
    if let Some(missing) = obj.required.iter().find(|r| !map.contains_key(**r)) {
        return Err(path.locate(format!("'{missing}' is a required property")));
    }
    check_fields(map, obj, path)
}

fn check_fields(map: &Map<String, Value>, obj: &Obj, path: &Path) -> Result<(), String> {
    let mut unexpected: Vec<&str> = Vec::new();
    for (key, value) in map {
        match obj.fields.iter().find(|(name, _)| name == key) {
            Some((_, ty)) => check_value(value, *ty, &Path::Key(path, key))?,
            None if obj.closed => unexpected.push(key),
            None => {}
        }
    }
    if unexpected.is_empty() {
        Ok(())
    } else {
        Err(additional(&unexpected, path))
    }
}

fn check_value(value: &Value, ty: Ty, path: &Path) -> Result<(), String> {
    match ty {
        Ty::Str { nullable, max_len } => match value {
            Value::Null if nullable => Ok(()),
            Value::String(s) => match max_len {
                Some(max) if s.len() > max && s.chars().count() > max => Err(path.locate(format!(
                    "{} is too long (at most {max} characters)",
                    repr(value)
                ))),
                _ => Ok(()),
            },
            _ => Err(type_error(value, "string", path)),
        },
        Ty::Int { nullable, min, max } => {
            if nullable && value.is_null() {
                return Ok(());
            }
            let n = match (value.as_i64(), value.as_u64()) {
                (Some(n), _) => i128::from(n),
                (None, Some(n)) => i128::from(n),
                _ => return Err(type_error(value, "integer", path)),
            };
            if n < i128::from(min) {
                Err(path.locate(format!("{n} is less than the minimum of {min}")))
            } else if n > i128::from(max) {
                Err(path.locate(format!("{n} is greater than the maximum of {max}")))
            } else {
                Ok(())
            }
        }
        Ty::Bool => match value {
            Value::Bool(_) => Ok(()),
            _ => Err(type_error(value, "boolean", path)),
        },
        Ty::StrArray { max_items } => {
            let Value::Array(items) = value else {
                return Err(type_error(value, "array", path));
            };
            if items.len() > max_items {
                return Err(path.locate(format!(
                    "{} is too long (at most {max_items} items)",
                    repr(value)
                )));
            }
            for (i, item) in items.iter().enumerate() {
                if !item.is_string() {
                    return Err(type_error(item, "string", &Path::Index(path, i)));
                }
            }
            Ok(())
        }
        Ty::Enum(allowed) => match value.as_str() {
            Some(s) if allowed.contains(&s) => Ok(()),
            _ => {
                let options: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
                Err(path.locate(format!(
                    "{} is not one of [{}]",
                    repr(value),
                    options.join(", ")
                )))
            }
        },
        Ty::Object(obj) => check_object(value, obj, path),
        Ty::ObjArray(obj) => {
            let Value::Array(items) = value else {
                return Err(type_error(value, "array", path));
            };
            for (i, item) in items.iter().enumerate() {
                check_object(item, obj, &Path::Index(path, i))?;
            }
            Ok(())
        }
    }
}
