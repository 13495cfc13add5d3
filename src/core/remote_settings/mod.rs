//! Remote settings: a small document the app's backend serves through its relay
//! (docs/remote-settings.md), which can turn the SDK off and tune it without an app release.
//!
//! The key design choice is that no document, however broken, can crash the app or widen what
//! the app configured: `document` parses all or nothing (bounded size and depth, strict
//! types), and `narrow` computes what is in force so that a remote value can only narrow the
//! app's. Both are pure functions with table tests and a fuzz target. `state` shares what is in force
//! with every thread. The fetch's rules and the thread part that runs them belong to the upload
//! thread (`upload::settings_fetch`, `upload::settings_fetcher`); the exported view of what is
//! in force, `SettingsInForce`, is a model type (`model::settings_in_force`).

pub mod document;
pub mod narrow;
pub mod state;
pub mod versions;
