//! The Conversions API's wire contract, written once for the three programs that speak it: the
//! SDK (which sends events and reads the answers), the relay (which forwards them and cuts the
//! answers per device) and the sandbox (which stands in for the API). Each depends on this
//! crate, so none can read an answer, a status or an event name differently from the others.
//!
//! - [`request`]: the events request envelope `{"data":[...]}` and its size limits;
//! - [`answer`]: the answer with one result per event (a 200's body, a 422's `details`), its
//!   parsing, and the error body `{"code","message"}`;
//! - [`status`]: what each HTTP status of the API means to a sender;
//! - [`event_names`]: the API's event names;
//! - `inflate` (feature `gzip`): gzip request bodies inflated within a bound.
//!
//! It depends only on serde and serde_json (flate2 with `gzip`) and exports no FFI types: the
//! types an app sees stay in the SDK, which converts at its edge.

pub mod answer;
pub mod event_names;
#[cfg(feature = "gzip")]
pub mod inflate;
pub mod request;
pub mod status;

pub use answer::{
    error_code, error_message, event_results, parse_event_results, DetailedError, EventResult,
    EventsAnswer, UNPROCESSABLE_CODE, UNPROCESSABLE_MESSAGE,
};
pub use event_names::{is_api_event_name, CUSTOM_EVENT_NAME, EVENT_NAMES};
pub use request::{request_body, MAX_EVENTS_PER_REQUEST, TEST_MODE_EVENTS};
pub use status::{classify_status, StatusClass};
