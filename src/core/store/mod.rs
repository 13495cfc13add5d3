//! The durable buffer: one SQLite connection, owned by the store worker thread.
//!
//! WAL journal with `synchronous=FULL`, so a committed group of events survives power loss,
//! and the worker commits many events per transaction so a burst costs one fsync. The one
//! connection runs in EXCLUSIVE locking mode, set before WAL: the WAL index then lives in
//! heap memory rather than in a memory-mapped `-shm` file (a mapped page that cannot be
//! written, on a full or read-only file system, is a SIGBUS that kills the app), and the
//! connection holds a lock on the file for as long as it is open, which keeps any other
//! process out even if `<db>.lock` is deleted. A file moved, replaced or deleted under the
//! open connection is noticed ([`Store::has_moved`]) and its content carried to a new file at
//! the path ([`Store::rescue`]). A file that
//! is not a database (or is corrupt), found at open or later, is moved aside and recreated with
//! what could still be read ([`salvage`]); every other failure (read-only folder, full disk, a
//! folder where the file should be) is reported to the caller, who keeps the events in memory
//! and retries.

mod click_file;
mod install_file;
mod queue;
mod records;
mod remote_settings;
mod salvage;
mod schema;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, ErrorCode, Transaction};

use crate::core::record::PendingEvent;
pub use click_file::ClickFile;
pub use install_file::{InstallFile, InstallState};
pub use records::{Counter, InstallRecord};
pub use remote_settings::StoredSettings;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Written by a newer SDK: refused, and the file left as it is.
    #[error(
        "the buffer's schema version {found} is newer than this SDK's (version {supported}): \
         it was written by a newer SDK version and is left unchanged"
    )]
    NewerSchema {
        /// The file's `user_version`.
        found: u32,
        /// The newest schema this code reads and writes.
        supported: u32,
    },
    /// The file cannot be used as it is (not locked, moved away); the message says why.
    #[error("{0}")]
    File(String),
}

impl StoreError {
    /// True when SQLite refused a value for its size (`SQLITE_TOOBIG`): that row alone fails.
    fn is_too_big(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == ErrorCode::TooBig)
    }

    /// True when the file is not a usable database and should be moved aside
    /// (`SQLITE_CORRUPT`, `SQLITE_NOTADB`), whenever SQLite finds it.
    pub fn is_corruption(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase))
    }
}

/// The open buffer.
pub struct Store {
    conn: Connection,
    queued: u64,
    /// The id the next queued row gets. Ids only grow while the store is open (SQLite alone
    /// would reuse the ids of deleted last rows), so "every row up to N" stays a true
    /// statement about what was committed: flush waiters are answered against it.
    next_row: i64,
    /// `server - wall` in seconds, stamped on the events stored from now on.
    server_offset_secs: i64,
}

/// What opening the store found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// A corrupt file was moved aside to this path and a new one created.
    pub moved_aside: Option<PathBuf>,
    /// Queued events copied from the corrupt file into the new one.
    pub salvaged: u64,
}

impl Store {
    /// Opens (creating or migrating) the buffer at `path`, recovering from a corrupt file.
    pub fn open(path: &Path, now: i64) -> Result<(Store, OpenReport), StoreError> {
        match Store::open_once(path) {
            Ok(store) => Ok((store, OpenReport::default())),
            Err(e) if e.is_corruption() => Store::recover(path, now),
            Err(e) => Err(e),
        }
    }

    /// Moves the damaged file at `path` aside, creates a new one and copies into it what the
    /// damaged one still lets SQLite read. The caller has closed its connection to it.
    pub fn recover(path: &Path, now: i64) -> Result<(Store, OpenReport), StoreError> {
        let aside = salvage::move_aside(path, now).map_err(|e| {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot move the corrupt database aside: {e}")),
            ))
        })?;
        let conn = Store::connect(path)?;
        let salvaged = salvage::salvage_copy(&conn, &aside);
        let store = Store::with_connection(conn)?;
        Ok((
            store,
            OpenReport {
                moved_aside: Some(aside),
                salvaged,
            },
        ))
    }

    fn open_once(path: &Path) -> Result<Store, StoreError> {
        Store::with_connection(Store::connect(path)?)
    }

    /// A configured, migrated connection to `path`.
    fn connect(path: &Path) -> Result<Connection, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                // A missing folder is created; a failure surfaces as the open error below.
                let _ = std::fs::create_dir_all(dir);
            }
        }
        schema::refuse_newer_file(path)?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(conn)
    }

    fn with_connection(conn: Connection) -> Result<Store, StoreError> {
        let (queued, last): (i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Store {
            conn,
            queued: queued.max(0) as u64,
            next_row: last.saturating_add(1),
            server_offset_secs: 0,
        })
    }

    /// True when the file this connection has open is no longer the file at its path (moved,
    /// replaced or deleted: `SQLITE_FCNTL_HAS_MOVED`).
    pub fn has_moved(&self) -> bool {
        let mut moved: std::os::raw::c_int = 0;
        // SAFETY: the handle is this open connection's, used on its one thread; the file
        // control writes one int through the pointer, which outlives the call.
        let code = unsafe {
            rusqlite::ffi::sqlite3_file_control(
                self.conn.handle(),
                c"main".as_ptr(),
                rusqlite::ffi::SQLITE_FCNTL_HAS_MOVED,
                (&mut moved as *mut std::os::raw::c_int).cast(),
            )
        };
        code == rusqlite::ffi::SQLITE_OK && moved != 0
    }

    /// Carries the content of a file that moved away (still readable through this connection)
    /// to a new buffer at `path`: a copy is written beside it, this connection closed, the new
    /// file opened (or the one now at the path, if it was replaced by a buffer) and the copy's
    /// rows salvaged into it, row ids kept. The copy is removed after.
    pub fn rescue(self, path: &Path, now: i64) -> Result<(Store, OpenReport), StoreError> {
        let mut copy = path.as_os_str().to_owned();
        copy.push(format!(".rescued-{now}"));
        let copy = PathBuf::from(copy);
        let _ = std::fs::remove_file(&copy);
        let copy_text = copy.to_string_lossy().into_owned();
        self.conn.execute("VACUUM main INTO ?1", [copy_text])?;
        drop(self);
        let conn = Store::connect(path)?;
        let salvaged = salvage::salvage(&conn, &copy);
        let store = Store::with_connection(conn)?;
        let _ = std::fs::remove_file(&copy);
        Ok((
            store,
            OpenReport {
                moved_aside: None,
                salvaged,
            },
        ))
    }

    /// Writes a small row, to learn whether storage takes writes again (a full disk with room
    /// back) when nothing else waits to be written.
    pub fn probe_write(&mut self, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO delivery_state (key, value) VALUES ('write_probe', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [now],
        )?;
        Ok(())
    }

    /// Events waiting to be sent.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// The highest row id handed out so far: every event committed until now has a row at or
    /// below it.
    pub fn last_row(&self) -> i64 {
        self.next_row - 1
    }

    /// Makes later rows get ids above `row`, so ids keep growing across a reopen (or a
    /// recreated file) within one process.
    pub fn continue_after(&mut self, row: i64) {
        self.next_row = self.next_row.max(row.saturating_add(1));
    }

    /// Sets `server - wall` (seconds) for the events stored from now on: each keeps its time
    /// by the server's clock beside its own event_time.
    pub fn set_server_offset(&mut self, offset_secs: i64) {
        self.server_offset_secs = offset_secs;
    }

    /// Queues `event` in `tx` under the next row id, with its time by the server's clock
    /// `server_offset_secs` from its event_time; false when its event_id is already queued.
    fn insert_row(
        tx: &Transaction<'_>,
        next_row: &mut i64,
        event: &PendingEvent,
        now: i64,
        server_offset_secs: i64,
    ) -> Result<bool, StoreError> {
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO events
                     (id, event_id, event_name, body, event_time, created_at, flags, server_time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                *next_row,
                event.event_id,
                event.event_name,
                event.body,
                event.event_time,
                now,
                event.flags(),
                event.event_time.saturating_add(server_offset_secs)
            ])?;
        if inserted == 1 {
            *next_row += 1;
        }
        Ok(inserted == 1)
    }
}

impl Drop for Store {
    /// Gives up the EXCLUSIVE lock before the connection closes: a connection that SQLite
    /// cannot close at once (a statement left unfinished by a corrupt page) would otherwise
    /// keep the file locked, and a recovery could not read the file it moved aside.
    fn drop(&mut self) {
        let _ = self.conn.pragma_update(None, "locking_mode", "NORMAL");
        let _ = self
            .conn
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            });
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
