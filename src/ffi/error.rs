//! The one public error type. Its variants differ only where an app would act differently;
//! the core's richer error converts into it in one place. In Kotlin it is
//! `ConversionsException`, in Swift an `Error` enum.

use crate::core::error::Error;

/// Why a call failed. Invalid input names the field and the rule it broke.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ConversionsError {
    /// An event or identifier broke a rule; nothing was stored.
    #[error("invalid {field}: {rule}")]
    InvalidInput {
        /// The field, as named in the API's JSON (e.g. `custom_data.currency`).
        field: String,
        /// The rule it broke.
        rule: String,
    },
    /// The configuration broke a rule; no client was created.
    #[error("invalid configuration {field}: {rule}")]
    InvalidConfig {
        /// The configuration field.
        field: String,
        /// The rule it broke.
        rule: String,
    },
    /// Another client in this process already uses this database file.
    #[error("database {path} is already used by another client in this process")]
    DatabaseInUse {
        /// The database path.
        path: String,
    },
    /// The buffer could not be read or written (read-only, full, corrupt).
    #[error("storage error: {message}")]
    Storage {
        /// What failed.
        message: String,
    },
    /// The timeout passed first; the work goes on in the background.
    #[error("timed out after {millis} ms")]
    Timeout {
        /// The timeout that passed.
        millis: u64,
    },
    /// The client was shut down.
    #[error("the client is shut down")]
    ShutDown,
}

impl From<Error> for ConversionsError {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidInput { field, rule } => ConversionsError::InvalidInput { field, rule },
            Error::InvalidConfig { field, rule } => ConversionsError::InvalidConfig { field, rule },
            Error::DatabaseInUse { path } => ConversionsError::DatabaseInUse { path },
            Error::Storage(message) => ConversionsError::Storage { message },
            Error::Timeout(millis) => ConversionsError::Timeout { millis },
            Error::ShutDown => ConversionsError::ShutDown,
        }
    }
}
