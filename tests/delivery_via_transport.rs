//! The delivery semantics of tests/delivery.rs again (per-event results, 400 splitting,
//! 401/403 pauses, 413 halving, 5xx/429 with Retry-After, restarts), with every client sending
//! through a transport written outside the core (tests/common/transport.rs): the
//! `HttpTransport` boundary the Kotlin, Swift and Python transports use, checked in
//! `cargo test`.
#[path = "delivery.rs"]
mod delivery;
