//! Remote settings: a small document the app's backend serves through its relay
//! (docs/remote-settings.md), which can turn the SDK off and tune it without an app release.
//!
//! The key design choice is that no document, however broken, can crash the app or widen what
//! the app configured: `document` parses all or nothing (bounded size and depth, strict
//! types), and `narrow` computes what is in force so that a remote value can only narrow the
//! app's. Both are pure functions with table tests and a fuzz target. `fetch` holds the
//! fetch's rules (pure), `fetcher` runs them on the upload thread, `state` shares what is in
//! force with every thread, and `in_force` is its exported view in `diagnostics()`.

pub mod document;
pub mod fetch;
pub mod fetcher;
pub mod in_force;
pub mod narrow;
pub mod state;
pub mod versions;
