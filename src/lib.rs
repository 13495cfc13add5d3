//! app-conversions: the conversion-tracking SDK core embedded in iOS and Android apps.
//!
//! Apps use `ConversionsClient` through the generated Swift and Kotlin bindings; Rust users
//! can use the same types directly. See docs/guide.md for the API and docs/ARCHITECTURE.md for how it is built.
//! With the `ffi` feature (the default) the model's types carry their UniFFI derives; without
//! it the core builds as plain Rust, and [`Client`] is its entry point.

mod core;
#[cfg(feature = "ffi")]
mod ffi;

pub use crate::core::client::Client;
pub use crate::core::clock::{Clock, ManualClock, SystemClock};
pub use crate::core::config::{is_relay_host, CONVERSIONS_API_HOST};
pub use crate::core::error::ConversionsError;
pub use crate::core::log::LogSink;
pub use crate::core::model::*;
pub use crate::core::model::{SettingSource, SettingsInForce};
pub use crate::core::shared::DeliveryListener;
pub use crate::core::upload::transport::{
    HttpHeader, HttpRequest, HttpResponse, HttpTransport, TransportError,
};
#[cfg(feature = "ffi")]
pub use crate::ffi::ConversionsClient;

/// For the fuzz targets and the input tests only, not an API: validation, hashing and the
/// parsing of answers and of remote settings, called directly with hostile input.
#[doc(hidden)]
pub mod internals {
    pub use crate::core::event_builder::build_event;
    pub use crate::core::hash;
    pub use crate::core::privacy::{AppliedPrivacy, TrackContext};
    pub use crate::core::remote_settings::document::{
        parse as parse_remote_settings, MAX_DOCUMENT_BYTES,
    };
    pub use crate::core::remote_settings::narrow::{narrow as narrow_remote_settings, AppTuning};
    pub use conversions_wire::{error_message, parse_event_results};
}

#[cfg(feature = "ffi")]
uniffi::setup_scaffolding!();
