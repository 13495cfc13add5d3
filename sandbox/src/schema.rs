//! Structural validation of a request body against the 5.23 `ConversionEvents` schema.
//!
//! Anything this module rejects makes the whole request fail with 400 code 4196, as the
//! real API's JSON-schema validation does. The schema is written down as static tables
//! ([`crate::spec`]) rather than loaded from the YAML: the walk over a 1,000-event
//! batch then allocates nothing unless it finds an error, and the error path (a
//! [`Path`] chain of borrowed segments) is only turned into text when reporting.
//! Messages follow the wording of Python's `jsonschema`, which the live API surfaces,
//! e.g. `Additional properties are not allowed ('x' was unexpected)`, followed by the
//! location (`at data[0].custom_data`).

use serde_json::{Map, Value};

use crate::spec::{Obj, Ty, EVENT};

/// Most events allowed in one request.
pub(crate) const MAX_EVENTS: usize = conversions_wire::MAX_EVENTS_PER_REQUEST;

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
