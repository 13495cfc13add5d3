//! Remote settings: a small document the app's backend serves through its relay
//! (docs/remote-settings.md), which can turn the SDK off and tune it without an app release.
//!
//! The key design choice is that no document, however broken, can crash the app or widen what
//! the app configured: `document` parses all or nothing (bounded size and depth, strict
//! types), and `narrow` computes what is in force so that a remote value can only narrow the
//! app's. Both are pure functions with table tests and a fuzz target; `in_force` is the
//! exported view of what is in force.

pub mod document;
pub mod in_force;
pub mod narrow;
pub mod versions;
