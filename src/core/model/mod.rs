//! The SDK's public data model: events, user and custom data, app/device facts, privacy state,
//! configuration, and what the client reports back (track results, flush reports, diagnostics).
//!
//! These are the types the apps use, declared and documented once: with the `ffi` feature
//! (on by default) each carries its UniFFI derive and its defaults, so the `///` text here is
//! what Swift, Kotlin and Python developers read, and a field left out of a foreign
//! constructor takes the default written on it. Without the feature they are plain Rust.
//! Field names describe the value for an app developer (`emails`, `phone_numbers`); the wire
//! module maps them to the API's short names (`em`, `ph`).
//!
//! One file per kind: `event` (what the app tracks), `context` (app and device facts, the
//! privacy state), `config` (the configuration and the log level), `report` (what the client
//! answers: track results, flush and batch outcomes, diagnostics), `settings_in_force` (the
//! settings in force and where each came from, in `diagnostics()`).

mod config;
mod context;
mod event;
mod report;
pub(crate) mod settings_in_force;

pub use config::*;
pub use context::*;
pub use event::*;
pub use report::*;
pub use settings_in_force::*;
