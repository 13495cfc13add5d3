//! The one error type, the core's and the apps' alike. Its variants differ only where an app
//! would act differently; the message always names what failed (the field and the rule, the
//! path, the timeout). In Kotlin it is `ConversionsException`, in Swift an `Error` enum.

/// Why a call failed. Invalid input names the field and the rule it broke.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Error))]
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
    /// Another client, in this process or another one, already uses this database file.
    #[error("database {path} is already used by another client, in this or another process")]
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

impl ConversionsError {
    /// An invalid-input error for `field` breaking `rule`.
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> ConversionsError {
        ConversionsError::InvalidInput {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// An invalid-configuration error for `field` breaking `rule`.
    pub fn config(field: impl Into<String>, rule: impl Into<String>) -> ConversionsError {
        ConversionsError::InvalidConfig {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// A storage error saying what failed.
    pub fn storage(message: impl Into<String>) -> ConversionsError {
        ConversionsError::Storage {
            message: message.into(),
        }
    }

    /// A timeout after `timeout` passed.
    pub fn timeout(timeout: std::time::Duration) -> ConversionsError {
        ConversionsError::Timeout {
            millis: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// Why the store worker could not do what it was asked, as it travels between the SDK's
/// threads (worker, uploader, caller) with its kind kept. `client/mod.rs` turns it into the public
/// [`ConversionsError::Storage`], in one place.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreFailure {
    /// The database cannot be opened, read or written (read-only, full, gone, corrupt past
    /// recovery): the store's message, as published in diagnostics.
    #[error("{0}")]
    Storage(String),
    /// Tracked events or launches still wait in memory: storage has not taken them yet.
    #[error("not committed")]
    NotCommitted,
    /// The database file was moved, replaced or deleted while open (its events were carried
    /// to a new file at the path): reported once, to the next flush.
    #[error("{0}")]
    FileReplaced(String),
    /// The store worker stopped or did not answer.
    #[error("{0}")]
    NoAnswer(&'static str),
}

/// Shorthand for results in the core.
pub type Result<T> = std::result::Result<T, ConversionsError>;
