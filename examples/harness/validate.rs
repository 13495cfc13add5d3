//! `validate --json EVENT | --file FILE`: checks events before a build ships, offline, and exits
//! 1 when any has a problem, so an app's CI can run it.
//!
//! Each event goes through three checks, in the order an event meets them on a phone:
//! 1. the SDK's own validation: the event is tracked by a real `ConversionsClient` (on a
//!    temporary buffer), which refuses it with the field and the rule as an app would see;
//! 2. the official 5.23 request schema, applied to the body the SDK actually sends (captured
//!    by a sandbox endpoint on loopback), see `schema.rs`;
//! 3. the API's identity rule: `em`, `hashed_maids`, or client IP plus user agent (skipped
//!    with `--relay`, since a relay adds the IP).
//!
//! An event that already carries `action_source` is taken as sent on the wire (copied from
//! `--verbose` output, a relay's log or a backend): it gets checks 2 and 3 only.
//!
//! Problems print one per line as `field: rule (check)`; `--json` prints one document.

use std::sync::Arc;

use app_conversions::ConversionsError;
use app_conversions_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

use crate::cli::{self, Options};
use crate::event_json;
use crate::schema::Schema;
use crate::session::event_name;

/// One problem with one event.
struct Problem {
    field: String,
    rule: String,
    check: &'static str,
}

/// One event's verdict.
struct Checked {
    name: String,
    problems: Vec<Problem>,
}

/// Runs `validate`; `Ok(false)` when some event has a problem.
pub fn run(options: &Options) -> Result<bool, String> {
    let inputs = read_inputs(options)?;
    let schema = Schema::load()?;
    let sandbox = Sandbox::start(SandboxConfig {
        token: cli::SANDBOX_TOKEN.into(),
        ad_account_id: options.ad_account.clone(),
        ..Default::default()
    })
    .map_err(|e| format!("cannot start the local endpoint: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    // The client treats the endpoint as a relay so that it sends every event, even one that
    // meets no identity option: the identity rule is checked here instead, and named.
    let mut client_options = options.clone();
    client_options.relay = true;
    client_options.endpoint = None;
    client_options.token = None;
    let client = cli::client(
        &client_options,
        &sandbox.base_url(),
        dir.path().join("validate.db"),
        30,
    )?;
    let mut results = Vec::new();
    let progress = !options.machine && inputs.len() >= PROGRESS_FROM;
    for (done, input) in inputs.iter().enumerate() {
        results.push(check_one(input, &client, &sandbox, &schema, options.relay));
        if progress && (done + 1) % PROGRESS_EVERY == 0 {
            eprintln!("validated {} of {} events", done + 1, inputs.len());
        }
    }
    client.shutdown(10_000).map_err(|e| e.to_string())?;
    let failed = results.iter().filter(|r| !r.problems.is_empty()).count();
    if options.machine {
        print_json(&results, schema.version());
    } else {
        print_text(&results, schema.version(), options.all);
    }
    Ok(failed == 0)
}

/// The events given: `--json` (an event or an array) or `--file` (an array, a request body
/// `{"data": [...]}`, or one event per line).
fn read_inputs(options: &Options) -> Result<Vec<Value>, String> {
    let (text, source) = match (&options.json, &options.file) {
        (Some(json), None) => (json.clone(), "--json".to_string()),
        (None, Some(file)) => (
            std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
            file.display().to_string(),
        ),
        (Some(_), Some(_)) => return Err("validate takes --json or --file, not both".into()),
        (None, None) => {
            return Err("validate needs --json '<event>' or --file FILE (see --help)".into())
        }
    };
    let events = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => items,
        Ok(Value::Object(mut body)) if body.contains_key("data") => match body.remove("data") {
            Some(Value::Array(items)) => items,
            _ => return Err(format!("{source}: \"data\" must be an array of events")),
        },
        Ok(other) => vec![other],
        Err(whole) => text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| {
                    format!(
                        "{source} is neither JSON ({whole}) nor one event per line (line {}: {e})",
                        i + 1
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    if events.is_empty() {
        return Err(format!("{source} holds no events"));
    }
    Ok(events)
}

fn check_one(
    input: &Value,
    client: &Arc<app_conversions::ConversionsClient>,
    sandbox: &Sandbox,
    schema: &Schema,
    relay: bool,
) -> Checked {
    let fallback = input["event_name"].as_str().unwrap_or("?").to_string();
    let fail = |name: String, field: String, rule: String, check| Checked {
        name,
        problems: vec![Problem { field, rule, check }],
    };
    if input.get("action_source").is_some() {
        return Checked {
            problems: wire_problems(input, schema, relay),
            name: fallback,
        };
    }
    let event = match event_json::from_value(input) {
        Ok(event) => event,
        Err(p) => return fail(fallback, p.field, p.rule, "input"),
    };
    let name = event_name(&event);
    let tracked = match client.track(event) {
        Ok(tracked) => tracked,
        Err(ConversionsError::InvalidInput { field, rule }) => {
            return fail(name, field, rule, "SDK validation")
        }
        Err(other) => return fail(name, "event".into(), other.to_string(), "SDK"),
    };
    if let Err(e) = client.flush(10_000) {
        return fail(
            name,
            "event".into(),
            format!("could not be sent locally: {e}"),
            "SDK",
        );
    }
    let Some(sent) = sent_event(sandbox, &tracked.event_id) else {
        return fail(
            name,
            "event".into(),
            "the SDK sent no request for it".into(),
            "SDK",
        );
    };
    // Optional values the SDK dropped (lenient by default) are problems of the event too.
    let mut problems: Vec<Problem> = tracked
        .warnings
        .into_iter()
        .map(|w| Problem {
            field: w.field,
            rule: w.rule,
            check: "SDK validation",
        })
        .collect();
    problems.extend(wire_problems(&sent, schema, relay));
    Checked { name, problems }
}

/// The official schema's and the identity rule's problems with an event as sent.
fn wire_problems(sent: &Value, schema: &Schema, relay: bool) -> Vec<Problem> {
    let mut problems: Vec<Problem> = schema
        .check(&json!({ "data": [sent] }))
        .into_iter()
        .map(|v| Problem {
            field: v
                .path
                .strip_prefix("data[0]")
                .unwrap_or(&v.path)
                .trim_start_matches('.')
                .to_string(),
            rule: v.rule,
            check: "official schema",
        })
        .collect();
    let user = &sent["user_data"];
    let has = |key: &str| user.get(key).is_some_and(|v| !v.is_null());
    let identity =
        has("em") || has("hashed_maids") || (has("client_ip_address") && has("client_user_agent"));
    if !identity && !relay {
        problems.push(Problem {
            field: "user_data".into(),
            rule: "needs em, hashed_maids, or client_ip_address with client_user_agent: sent \
                   straight to the API the SDK drops this event (a relay adds the IP: --relay)"
                .into(),
            check: "identity rule",
        });
    }
    problems
}

/// The event with `event_id` as the SDK sent it, from the sandbox's request log.
fn sent_event(sandbox: &Sandbox, event_id: &str) -> Option<Value> {
    sandbox.requests().iter().rev().find_map(|request| {
        let body: Value = serde_json::from_str(&request.body).ok()?;
        body["data"]
            .as_array()?
            .iter()
            .find(|e| e["event_id"] == event_id)
            .cloned()
    })
}

/// Files at least this long get a progress line on stderr every [`PROGRESS_EVERY`] events.
const PROGRESS_FROM: usize = 500;
const PROGRESS_EVERY: usize = 250;

/// Each event with a problem (every event with `all`), then a summary line.
fn print_text(results: &[Checked], version: &str, all: bool) {
    for (i, result) in results.iter().enumerate() {
        if result.problems.is_empty() {
            if all {
                say!("event {} {}: ok", i + 1, result.name);
            }
            continue;
        }
        say!(
            "event {} {}: {} problem(s)",
            i + 1,
            result.name,
            result.problems.len()
        );
        for p in &result.problems {
            let field = if p.field.is_empty() {
                "event"
            } else {
                &p.field
            };
            say!("  {field}: {} ({})", p.rule, p.check);
        }
    }
    let failed = results.iter().filter(|r| !r.problems.is_empty()).count();
    let shown = if failed > 0 || all { "\n" } else { "" };
    say!(
        "{shown}{} of {} events valid (SDK validation, official {version} schema, identity rule){}",
        results.len() - failed,
        results.len(),
        if failed > 0 && !all {
            "; valid events are not listed (--all lists them)"
        } else {
            ""
        }
    );
}

fn print_json(results: &[Checked], version: &str) {
    let events: Vec<Value> = results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "index": i,
                "event_name": r.name,
                "valid": r.problems.is_empty(),
                "problems": r.problems.iter().map(|p| json!({"field": p.field, "rule": p.rule, "check": p.check})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let valid = results.iter().all(|r| r.problems.is_empty());
    let document = json!({"valid": valid, "schema_version": version, "events": events});
    say!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
}
