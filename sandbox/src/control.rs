//! Control endpoints under `/_sandbox/`, for tests that run the sandbox as a separate
//! process (for example JVM tests) and cannot call the Rust API.
//!
//! They mirror [`crate::Sandbox`]'s methods one to one and need no authentication; the
//! server only listens on loopback. Errors use the same `{"code":..,"message":..}` shape
//! as the emulated API.
//!
//! | Method and path | Body | Answer |
//! |---|---|---|
//! | `GET /_sandbox/health` | | `{"status":"ok"}` |
//! | `GET /_sandbox/accepted` | | JSON array of accepted events |
//! | `GET /_sandbox/requests` | | JSON array of recorded requests |
//! | `POST /_sandbox/faults` | a fault object or an array of them | `{"queued":N}` |
//! | `POST /_sandbox/reset` | | `{"reset":true}` |
//! | `POST /_sandbox/custom_event_names` | `{"name":"TookSurvey"}` | `{"registered":"TookSurvey"}` |
//! | `PUT /_sandbox/sdk_settings` | the remote settings document to serve, as is | `{"serving":true}` |
//! | `DELETE /_sandbox/sdk_settings` | | `{"serving":false}` (the route answers 404 again) |
//! | `GET /_sandbox/sdk_settings` | | `{"requests":N,"not_modified":M}` |
//!
//! Fault objects (`count` is optional everywhere and queues that many copies):
//! `{"status":503,"retry_after":"1","body":"...","count":2}` (`"kind":"status"` may be
//! given too), `{"kind":"delay","millis":1500}`, `{"kind":"drop_connection"}`,
//! `{"kind":"reset_mid_response"}`, `{"kind":"garbage_body"}`,
//! `{"kind":"huge_body","bytes":10485760}`, `{"kind":"trickle","bytes_per_sec":50}`,
//! `{"kind":"wrong_event_count"}`, `{"kind":"redirect","location":"http://127.0.0.1:1/"}`.

use serde::Deserialize;
use serde_json::json;

use crate::faults::parse_fault_specs;
use crate::http::RequestHead;
use crate::response::Response;
use crate::state::Shared;

/// Longest advertiser-defined event name the docs allow.
const MAX_CUSTOM_NAME_LEN: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomName {
    name: String,
}

fn bad_request(message: &str) -> Response {
    Response::error(400, 400, message)
}

/// Answers one request under `/_sandbox/`. `body` is `None` when it was over the cap.
pub(crate) fn handle(shared: &Shared, head: &RequestHead, body: Option<Vec<u8>>) -> Response {
    let endpoint = head
        .path
        .trim_start_matches("/_sandbox/")
        .trim_end_matches('/');
    let method = head.method.as_str();
    let body = body.unwrap_or_default();
    match (method, endpoint) {
        ("GET", "health") => Response::json(200, &json!({"status": "ok"})),
        ("GET", "accepted") => Response::json_bytes(200, shared.accepted_json()),
        ("GET", "requests") => Response::json(200, &shared.requests()),
        ("POST", "faults") => match parse_fault_specs(&body) {
            Ok(faults) => {
                let queued = faults.len();
                for fault in faults {
                    shared.push_fault(fault);
                }
                Response::json(200, &json!({"queued": queued}))
            }
            Err(message) => bad_request(&message),
        },
        ("POST", "reset") => {
            shared.reset();
            Response::json(200, &json!({"reset": true}))
        }
        ("POST", "custom_event_names") => match serde_json::from_slice::<CustomName>(&body) {
            Ok(CustomName { name }) if valid_custom_name(&name) => {
                shared.register_custom_name(&name);
                Response::json(200, &json!({"registered": name}))
            }
            Ok(_) => bad_request("name must be 1 to 100 characters: letters, digits, '_' or '-'"),
            Err(e) => bad_request(&format!("expected {{\"name\":\"...\"}}: {e}")),
        },
        ("PUT", "sdk_settings") => {
            shared.sdk_settings.set(Some(body));
            Response::json(200, &json!({"serving": true}))
        }
        ("DELETE", "sdk_settings") => {
            shared.sdk_settings.set(None);
            Response::json(200, &json!({"serving": false}))
        }
        ("GET", "sdk_settings") => {
            let (requests, not_modified) = shared.sdk_settings.counts();
            Response::json(
                200,
                &json!({"requests": requests, "not_modified": not_modified}),
            )
        }
        (
            _,
            "health" | "accepted" | "requests" | "faults" | "reset" | "custom_event_names"
            | "sdk_settings",
        ) => Response::error(
            405,
            405,
            &format!("{method} is not allowed on {}", head.path),
        ),
        _ => Response::error(404, 404, &format!("No control endpoint {}", head.path)),
    }
}

/// The documented shape of an advertiser-defined event name.
fn valid_custom_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_CUSTOM_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
