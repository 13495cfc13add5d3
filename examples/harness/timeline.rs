//! The harness's output: one line per thing that happened, in the order it happened, with the
//! time since the run started (`t+1.010  POST 1 event: lead`).
//!
//! Lines come from three threads: the harness itself (what the app did: launch, track, a
//! privacy change), the recording proxy in front of the endpoint (each request when it leaves
//! and each answer when it comes back, before the SDK sees it) and the SDK's delivery listener
//! (what the SDK decided: a retry and its wait, a pause). Every line is printed under one lock
//! at the moment it is added, so the printed order is the order of events. `--verbose` adds the
//! request and answer bodies; `--json` prints the same lines as JSON objects, one per line.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde_json::{json, Value};

/// How lines are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Short human lines.
    Text,
    /// Human lines plus request and answer bodies.
    Verbose,
    /// One JSON object per line, bodies included.
    Json,
}

/// What the harness knows about the events it tracked, to tell what privacy removed.
#[derive(Default)]
struct Expected {
    /// The `user_data` keys each tracked event was given, by event id.
    keys: HashMap<String, BTreeSet<String>>,
    /// Whether the device has an advertising ID (so events would carry `hashed_maids`).
    advertising_id: bool,
}

/// The run's timeline; shared by the harness, the proxy and the delivery listener.
pub struct Timeline {
    start: Instant,
    mode: Mode,
    /// Serialises printing, so lines never interleave or reorder.
    print: Mutex<()>,
    expected: Mutex<Expected>,
    /// The `Retry-After` of the last answer, for the wait line that follows it.
    retry_after: Mutex<Option<String>>,
    /// The events (name, id) of the request in flight on each hop, in the order sent, to
    /// name the events an answer refuses.
    in_flight: Mutex<HashMap<String, Vec<(String, String)>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Timeline {
    /// A timeline starting now.
    pub fn new(mode: Mode) -> Timeline {
        Timeline {
            start: Instant::now(),
            mode,
            print: Mutex::new(()),
            expected: Mutex::new(Expected::default()),
            retry_after: Mutex::new(None),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The output mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Prints one line: `text` for people, `fields` (plus `t` and `kind`) for machines, and
    /// `detail` (a body) under the line in verbose mode.
    fn emit(&self, kind: &str, text: &str, fields: Value, detail: Option<&str>) {
        let _guard = lock(&self.print);
        let t = self.start.elapsed().as_secs_f64();
        match self.mode {
            Mode::Json => {
                let mut line =
                    json!({"t": (t * 1000.0).round() / 1000.0, "kind": kind, "text": text});
                if let (Some(line), Value::Object(extra)) = (line.as_object_mut(), fields) {
                    line.extend(extra);
                }
                say!("{line}");
            }
            Mode::Text | Mode::Verbose => {
                say!("t+{t:.3}  {text}");
                if let (Mode::Verbose, Some(detail)) = (self.mode, detail) {
                    for line in pretty(detail).lines() {
                        say!("           {line}");
                    }
                }
            }
        }
    }

    /// A section title (not timed in text mode).
    pub fn step(&self, title: &str) {
        if self.mode == Mode::Json {
            self.emit("step", title, json!({}), None);
        } else {
            let _guard = lock(&self.print);
            say!("\n== {title}");
        }
    }

    /// A plain line (a heading's details, a table row): not timed in text mode.
    pub fn info(&self, text: &str) {
        if self.mode == Mode::Json {
            self.emit("info", text, json!({}), None);
        } else {
            let _guard = lock(&self.print);
            say!("{text}");
        }
    }

    /// Something the app (the harness) did: `launch`, `track checkout`, ...
    pub fn action(&self, text: &str) {
        self.emit("action", text, json!({}), None);
    }

    /// A result the harness observed (a flush report, a check).
    pub fn result(&self, text: &str) {
        self.emit("result", text, json!({}), None);
    }

    /// The SDK is waiting before its next attempt.
    pub fn wait(&self, text: &str) {
        self.emit("wait", text, json!({}), None);
    }

    /// Tells the timeline the device has an advertising ID, so events are expected to carry
    /// `hashed_maids` unless privacy removes it.
    pub fn set_advertising_id(&self, present: bool) {
        lock(&self.expected).advertising_id = present;
    }

    /// Remembers which `user_data` keys a tracked event was given.
    pub fn expect_keys(&self, event_id: &str, keys: BTreeSet<String>) {
        lock(&self.expected).keys.insert(event_id.to_string(), keys);
    }

    /// A request leaving for the endpoint: one line naming its events, then (for a request
    /// from the SDK) one line per event from which the privacy state removed identifiers.
    pub fn request(&self, via: &str, query: &str, body: &str, from_sdk: bool) {
        let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let events = parsed["data"].as_array().cloned().unwrap_or_default();
        let names: Vec<&str> = events
            .iter()
            .map(|e| e["event_name"].as_str().unwrap_or("?"))
            .collect();
        let test = if query
            .split('&')
            .any(|p| p.eq_ignore_ascii_case("test=true"))
        {
            " (test mode)"
        } else {
            ""
        };
        lock(&self.in_flight).insert(
            via.to_string(),
            events
                .iter()
                .map(|e| {
                    let text = |key: &str| e[key].as_str().unwrap_or("?").to_string();
                    (text("event_name"), text("event_id"))
                })
                .collect(),
        );
        let text = format!(
            "POST {}{via}{test}: {}",
            plural(events.len(), "event"),
            summarise(&names)
        );
        self.emit(
            "request",
            &text,
            json!({"events": events.len(), "event_names": names, "test_mode": !test.is_empty(), "body": parsed}),
            Some(body),
        );
        for event in events.iter().filter(|_| from_sdk) {
            let removed = self.removed(event);
            if !removed.is_empty() {
                let name = event["event_name"].as_str().unwrap_or("?");
                let why = if event["opt_out"] == true {
                    " (opt_out: true)"
                } else {
                    ""
                };
                let text = format!("  privacy removed {} from {name}{why}", removed.join(", "));
                self.emit(
                    "privacy",
                    &text,
                    json!({"event_id": event["event_id"], "removed": removed}),
                    None,
                );
            }
        }
    }

    /// The `user_data` keys the harness expected on `event` that it does not carry.
    fn removed(&self, event: &Value) -> Vec<String> {
        let expected = lock(&self.expected);
        let mut keys = event["event_id"]
            .as_str()
            .and_then(|id| expected.keys.get(id).cloned())
            .unwrap_or_default();
        if expected.advertising_id {
            keys.insert("hashed_maids".into());
        }
        let present = event["user_data"].as_object();
        keys.into_iter()
            .filter(|k| !present.is_some_and(|p| p.contains_key(k)))
            .collect()
    }

    /// The endpoint's answer, before the SDK sees it.
    pub fn answer(&self, via: &str, status: u16, retry_after: Option<&str>, body: &str) {
        *lock(&self.retry_after) = retry_after.map(str::to_string);
        let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let mut text = format!("{status}{via}");
        if let Some(after) = retry_after {
            text.push_str(&format!(" Retry-After {after}"));
        }
        text.push_str(&describe_answer(&parsed));
        self.emit(
            "answer",
            &text,
            json!({"status": status, "retry_after": retry_after, "body": parsed}),
            Some(body),
        );
        let sent = lock(&self.in_flight).remove(via).unwrap_or_default();
        for (index, result) in event_results(&parsed).into_iter().flatten().enumerate() {
            if result["status"] == "processed" {
                continue;
            }
            let (name, id) = sent
                .get(index)
                .cloned()
                .unwrap_or_else(|| ("event".into(), format!("#{}", index + 1)));
            let message = result["error_message"].as_str().unwrap_or("no message");
            self.emit(
                "refused",
                &format!("  refused {name} {id}: {message}"),
                json!({"event_id": id, "event_name": name, "error_message": message}),
                None,
            );
        }
    }

    /// The endpoint could not be reached or did not answer.
    pub fn no_answer(&self, via: &str, error: &str) {
        *lock(&self.retry_after) = None;
        self.emit(
            "answer",
            &format!("no answer{via}: {error}"),
            json!({"status": null, "error": error}),
            None,
        );
    }

    /// The `Retry-After` of the last answer, taken (each answer's once).
    pub fn take_retry_after(&self) -> Option<String> {
        lock(&self.retry_after).take()
    }
}

/// `1 event`, `3 events`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Event names in order, runs of one name folded (`app_open, checkout ×3`).
fn summarise(names: &[&str]) -> String {
    let mut parts: Vec<(String, usize)> = Vec::new();
    for name in names {
        match parts.last_mut() {
            Some((last, n)) if last == name => *n += 1,
            _ => parts.push((name.to_string(), 1)),
        }
    }
    let shown: Vec<String> = parts
        .iter()
        .take(6)
        .map(|(name, n)| {
            if *n == 1 {
                name.clone()
            } else {
                format!("{name} ×{n}")
            }
        })
        .collect();
    let more = if parts.len() > 6 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// ` processed 1`, ` processed 0, failed 1`, or the error message of the body.
fn describe_answer(body: &Value) -> String {
    if let Some(events) = event_results(body) {
        let processed = events.iter().filter(|e| e["status"] == "processed").count();
        let failed = events.len() - processed;
        let text_of = |e: &Value, key: &str| {
            e[key]
                .as_str()
                .filter(|m| !m.is_empty())
                .map(str::to_string)
        };
        let warnings: Vec<String> = events
            .iter()
            .filter_map(|e| text_of(e, "warning_message"))
            .collect();
        let mut text = format!(" processed {processed}");
        if failed > 0 {
            // Each refused event's message follows on its own line.
            text.push_str(&format!(", failed {failed}"));
        }
        if let Some(first) = warnings.first() {
            text.push_str(&format!(", {}: {first}", plural(warnings.len(), "warning")));
        }
        return text;
    }
    match body["message"].as_str() {
        Some(message) => format!(": {message}"),
        None => String::new(),
    }
}

/// The per-event results of an answer: `events` of a 200, `details.events` of a 422.
fn event_results(body: &Value) -> Option<&Vec<Value>> {
    body["events"]
        .as_array()
        .or_else(|| body["details"]["events"].as_array())
        .or_else(|| body["details"].as_array())
}

/// A body as pretty JSON when it is JSON, else as it came.
fn pretty(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| body.to_string())
}
