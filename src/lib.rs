//! app-conversions: the conversion-tracking SDK core embedded in iOS and Android apps.
//!
//! Apps use `ConversionsClient` through the generated Swift and Kotlin bindings; Rust users
//! can use the same types directly. See README.md for the API and ARCHITECTURE decisions.

// A panic in shipped code would crash the host app: no unwrap/expect outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod core;
pub mod ffi;

pub use crate::core::model::*;
pub use crate::ffi::{ConversionsClient, ConversionsError, DeliveryListener, LogSink};

uniffi::setup_scaffolding!();
