//! The SDK core in plain Rust (no binding concerns): the data flow of ARCHITECTURE.md §2.
//!
//! `client` validates on the caller's thread (`event_builder`, `hash`, `privacy`), hands events
//! to the store `worker` (which owns the SQLite `store`), and the upload thread (`delivery`,
//! `transport`, `wire`, `backoff`) sends them. `lifecycle` decides app_install and app_open.

pub mod backoff;
pub mod client;
pub mod config;
pub mod db_lock;
pub mod delivery;
pub mod error;
pub mod event_builder;
pub mod hash;
pub mod lifecycle;
pub mod log;
pub mod model;
pub mod privacy;
pub mod shared;
pub mod signal;
pub mod store;
pub mod transport;
pub mod wire;
pub mod worker;
