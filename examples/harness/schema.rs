//! The official 5.23 `ConversionEvents` request schema, checked offline as JSON Schema Draft 4,
//! the way the repository's Python test checks it with the reference `jsonschema` package.
//!
//! The schema is the official one, embedded as JSON (`conversion-events-5.23.schema.json`,
//! derived from the spec excerpt in `tests/fixtures/` by `scripts/harness-schema`, which the
//! test command runs with `--check`). The walk below implements the validation keywords that
//! schema uses (`type`, `properties`, `additionalProperties`, `required`, `items`, `enum`,
//! `anyOf`, `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems`, `$ref`) and
//! ignores the annotations Draft 4 ignores (`description`, `example`, `nullable`, `format`
//! `int64`, ...). Loading refuses a schema with any other keyword, so a newer spec can never
//! be checked less strictly than it says without the harness noticing.

use serde_json::{Map, Value};

const EMBEDDED: &str = include_str!("conversion-events-5.23.schema.json");

/// Keywords that constrain values, all implemented below.
const VALIDATING: &[&str] = &[
    "type",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "enum",
    "anyOf",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "$ref",
];

/// Keywords Draft 4 treats as annotations (no effect on validity here).
const ANNOTATIONS: &[&str] = &[
    "description",
    "example",
    "title",
    "nullable",
    "format",
    "default",
];

/// One place where a body breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, as `data[0].custom_data.currency` (empty for the body itself).
    pub path: String,
    /// The rule, in the wording of Python's `jsonschema`.
    pub rule: String,
}

/// The loaded schema document: the `ConversionEvents` schema and its components.
pub struct Schema {
    root: Value,
}

impl Schema {
    /// Loads the embedded schema and checks that it uses only keywords this walk implements.
    pub fn load() -> Result<Schema, String> {
        let root: Value = serde_json::from_str(EMBEDDED)
            .map_err(|e| format!("the embedded schema is not JSON: {e}"))?;
        let schema = Schema { root };
        schema.check_keywords(&schema.root["schema"])?;
        if let Some(components) = schema.root["components"]["schemas"].as_object() {
            for component in components.values() {
                schema.check_keywords(component)?;
            }
        }
        Ok(schema)
    }

    /// The spec version the schema comes from.
    pub fn version(&self) -> &str {
        self.root["x-spec-version"].as_str().unwrap_or("?")
    }

    fn check_keywords(&self, node: &Value) -> Result<(), String> {
        let Some(object) = node.as_object() else {
            return Ok(());
        };
        for (key, value) in object {
            if !VALIDATING.contains(&key.as_str())
                && !ANNOTATIONS.contains(&key.as_str())
                && !key.starts_with("x-")
            {
                return Err(format!(
                    "the embedded schema uses the keyword {key}, which the harness does not check"
                ));
            }
            match key.as_str() {
                "properties" => {
                    for property in value.as_object().into_iter().flat_map(Map::values) {
                        self.check_keywords(property)?;
                    }
                }
                "items" | "additionalProperties" => self.check_keywords(value)?,
                "anyOf" => {
                    for option in value.as_array().into_iter().flatten() {
                        self.check_keywords(option)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Every violation of the request schema by `body` (`{"data": [...]}`).
    pub fn check(&self, body: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.walk(&self.root["schema"], body, "", &mut out);
        out
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            // Draft 4: a `$ref` replaces its siblings.
            Some(pointer) => self.root.pointer(pointer).unwrap_or(&Value::Null),
            None => schema,
        }
    }

    fn walk(&self, schema: &Value, value: &Value, path: &str, out: &mut Vec<Violation>) {
        let schema = self.resolve(schema);
        let Some(rules) = schema.as_object() else {
            return;
        };
        let mut fail = |rule: String| {
            out.push(Violation {
                path: path.to_string(),
                rule,
            })
        };
        if let Some(types) = rules.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !allowed.iter().any(|t| has_type(value, t)) {
                fail(format!(
                    "{} is not of type '{}'",
                    repr(value),
                    allowed.join("', '")
                ));
                return;
            }
        }
        if let Some(options) = rules.get("enum").and_then(Value::as_array) {
            if !options.contains(value) {
                fail(format!("{} is not one of {}", repr(value), list(options)));
            }
        }
        if let Some(options) = rules.get("anyOf").and_then(Value::as_array) {
            let fits = options.iter().any(|option| {
                let mut inner = Vec::new();
                self.walk(option, value, path, &mut inner);
                inner.is_empty()
            });
            if !fits {
                fail(format!(
                    "{} is not valid under any of the given schemas",
                    repr(value)
                ));
            }
        }
        match value {
            Value::String(s) => {
                let n = s.chars().count() as u64;
                if let Some(max) = rules.get("maxLength").and_then(Value::as_u64) {
                    if n > max {
                        fail(format!("{} is too long (maxLength {max})", repr(value)));
                    }
                }
                if let Some(min) = rules.get("minLength").and_then(Value::as_u64) {
                    if n < min {
                        fail(format!("{} is too short (minLength {min})", repr(value)));
                    }
                }
            }
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                if let Some(min) = rules.get("minimum").and_then(Value::as_f64) {
                    if x < min {
                        fail(format!("{n} is less than the minimum of {min}"));
                    }
                }
                if let Some(max) = rules.get("maximum").and_then(Value::as_f64) {
                    if x > max {
                        fail(format!("{n} is greater than the maximum of {max}"));
                    }
                }
            }
            Value::Array(items) => {
                let n = items.len() as u64;
                if let Some(max) = rules.get("maxItems").and_then(Value::as_u64) {
                    if n > max {
                        fail(format!("the array is too long: {n} items (maxItems {max})"));
                    }
                }
                if let Some(min) = rules.get("minItems").and_then(Value::as_u64) {
                    if n < min {
                        fail(format!("[] should be non-empty (minItems {min})"));
                    }
                }
                if let Some(item_schema) = rules.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(item_schema, item, &format!("{path}[{i}]"), out);
                    }
                }
            }
            Value::Object(object) => self.walk_object(rules, object, path, out),
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn walk_object(
        &self,
        rules: &Map<String, Value>,
        object: &Map<String, Value>,
        path: &str,
        out: &mut Vec<Violation>,
    ) {
        let at = |key: &str| {
            if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            }
        };
        for required in rules
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(required) {
                out.push(Violation {
                    path: at(required),
                    rule: format!("'{required}' is a required property"),
                });
            }
        }
        let properties = rules.get("properties").and_then(Value::as_object);
        let mut extra = Vec::new();
        for (key, value) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(schema) => self.walk(schema, value, &at(key), out),
                None => extra.push((key, value)),
            }
        }
        match rules.get("additionalProperties") {
            Some(Value::Bool(false)) if !extra.is_empty() => {
                let names: Vec<String> = extra.iter().map(|(k, _)| format!("'{k}'")).collect();
                out.push(Violation {
                    path: path.to_string(),
                    rule: format!(
                        "Additional properties are not allowed ({} {} unexpected)",
                        names.join(", "),
                        if names.len() == 1 { "was" } else { "were" }
                    ),
                });
            }
            Some(schema @ Value::Object(_)) => {
                for (key, value) in extra {
                    self.walk(schema, value, &at(key), out);
                }
            }
            _ => {}
        }
    }
}

/// Draft 4 types: `integer` is a JSON number without a fraction part written as an integer.
fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// A short, Python-like rendering of a value for messages.
fn repr(value: &Value) -> String {
    let text = match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn list(options: &[Value]) -> String {
    let items: Vec<String> = options.iter().map(repr).collect();
    format!("[{}]", items.join(", "))
}
