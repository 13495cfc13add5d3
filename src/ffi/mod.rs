//! The exported object, the only code here that is not the core's own: `ConversionsClient`,
//! a thin shell over `core::client::Client` that converts milliseconds to durations. The
//! records, enums, the error and the callback traits carry their UniFFI derives on the core
//! types themselves (behind the `ffi` feature).

mod client;

pub use client::ConversionsClient;
