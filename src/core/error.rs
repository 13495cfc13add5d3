//! The core's error type. Rich enough to say what went wrong; `src/ffi/error.rs` converts it,
//! in one place, into the small public `ConversionsError` the apps see.

/// Everything that can go wrong inside the core.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// An event or identifier broke a rule; nothing was stored.
    #[error("invalid {field}: {rule}")]
    InvalidInput {
        /// The field, in the API's JSON naming (e.g. `custom_data.currency`).
        field: String,
        /// The rule it broke.
        rule: String,
    },
    /// The client configuration broke a rule; no client was created.
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
    #[error("storage error: {0}")]
    Storage(String),
    /// The caller's timeout passed first.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The client was shut down.
    #[error("the client is shut down")]
    ShutDown,
}

impl Error {
    /// An invalid-input error for `field` breaking `rule`.
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Error {
        Error::InvalidInput {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// An invalid-configuration error for `field` breaking `rule`.
    pub fn config(field: impl Into<String>, rule: impl Into<String>) -> Error {
        Error::InvalidConfig {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// Shorthand for results in the core.
pub type Result<T> = std::result::Result<T, Error>;
