//! The exported surface: the only code that names `uniffi`. It exports the core's records,
//! the `ConversionsClient` object, the public error and the app-implemented callbacks.

mod callbacks;
mod client;
mod error;
mod records;

pub use callbacks::{DeliveryListener, LogSink};
pub use client::ConversionsClient;
pub use error::ConversionsError;
