//! The durable buffer: one SQLite connection, owned by the store worker thread.
//!
//! WAL journal with `synchronous=FULL`, so a committed group of events survives power loss,
//! and the worker commits many events per transaction so a burst costs one fsync. A file that
//! is not a database (or is corrupt) is moved aside and recreated; every other failure (read-only
//! folder, full disk, a folder where the file should be) is reported to the caller, who keeps
//! the events in memory and retries.

mod queue;
mod records;
mod schema;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode};

pub use queue::{InsertReport, QueuedEvent, Resolution, MAX_CUSTOM_NAMES};
pub use records::{Counter, InstallRecord};

/// Bit flags stored with each event (see `PendingEvent`).
pub mod flags {
    /// Has `em`.
    pub const EMAIL: i64 = 1;
    /// Has `hashed_maids`.
    pub const ADVERTISING_ID: i64 = 2;
    /// Has client IP and user agent.
    pub const IP_AND_USER_AGENT: i64 = 4;
    /// Recorded opted out.
    pub const OPTED_OUT: i64 = 8;
    /// Recorded with Limited Data Processing.
    pub const LIMITED_DATA_PROCESSING: i64 = 16;
    /// The event_id was chosen by the app (or derived, as app_install's), not generated: only
    /// such ids can repeat, so only they are kept unique while queued.
    pub const CHOSEN_ID: i64 = 32;
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Written by a newer SDK.
    #[error("database schema version {0} is newer than this SDK supports")]
    NewerSchema(u32),
}

impl StoreError {
    /// True when the file is not a usable database and should be moved aside.
    fn is_corruption(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase))
    }
}

/// The open buffer.
pub struct Store {
    conn: Connection,
    queued: u64,
}

/// What opening the store found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// A corrupt file was moved aside to this path and a new one created.
    pub moved_aside: Option<PathBuf>,
}

impl Store {
    /// Opens (creating or migrating) the buffer at `path`, recovering from a corrupt file.
    pub fn open(path: &Path, now: i64) -> Result<(Store, OpenReport), StoreError> {
        match Store::open_once(path) {
            Ok(store) => Ok((store, OpenReport::default())),
            Err(e) if e.is_corruption() => {
                let aside = move_aside(path, now)?;
                let store = Store::open_once(path)?;
                Ok((
                    store,
                    OpenReport {
                        moved_aside: Some(aside),
                    },
                ))
            }
            Err(e) => Err(e),
        }
    }

    fn open_once(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                // A missing folder is created; a failure surfaces as the open error below.
                let _ = std::fs::create_dir_all(dir);
            }
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        schema::migrate(&mut conn)?;
        let queued: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        Ok(Store {
            conn,
            queued: queued.max(0) as u64,
        })
    }

    /// Events waiting to be sent.
    pub fn queued(&self) -> u64 {
        self.queued
    }
}

/// Renames a corrupt file (and its WAL and shared-memory files) to `<path>.corrupt-<now>`.
fn move_aside(path: &Path, now: i64) -> Result<PathBuf, StoreError> {
    let aside = PathBuf::from(format!("{}.corrupt-{now}", path.display()));
    std::fs::rename(path, &aside).map_err(|e| {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("cannot move the corrupt database aside: {e}")),
        ))
    })?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            let _ = std::fs::remove_file(side);
        }
    }
    Ok(aside)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
