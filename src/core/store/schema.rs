//! The buffer's schema, versioned with `PRAGMA user_version` and migrated forward in one
//! transaction per step. A database from a newer SDK version (a downgrade) is refused rather
//! than guessed at, by reading its header before SQLite opens it, so it is never written.

use std::io::Read;
use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

/// Each entry migrates from version `index` to `index + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // v1: queued events (wire JSON already normalised and hashed), dead letters without
    // bodies, counters for diagnostics, the custom-name registry, the install record, and a
    // small key/value table for delivery state that must survive restarts. Times are Unix
    // seconds, except next_attempt_at and the stored backoff deadline: milliseconds on the
    // writing process's monotonic clock, which starts at its wall-clock time (earlier SDK
    // versions wrote wall-clock milliseconds: the same scale).
    "CREATE TABLE events (
         id INTEGER PRIMARY KEY,
         event_id TEXT NOT NULL UNIQUE,
         event_name TEXT NOT NULL,
         body TEXT NOT NULL,
         event_time INTEGER NOT NULL,
         created_at INTEGER NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at INTEGER NOT NULL DEFAULT 0,
         flags INTEGER NOT NULL
     );
     CREATE TABLE dead_letters (
         id INTEGER PRIMARY KEY,
         event_id TEXT NOT NULL,
         event_name TEXT NOT NULL,
         error_message TEXT NOT NULL,
         dead_lettered_at INTEGER NOT NULL
     );
     CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
     CREATE TABLE custom_event_names (
         ad_account_id TEXT NOT NULL,
         name TEXT NOT NULL,
         PRIMARY KEY (ad_account_id, name)
     ) WITHOUT ROWID;
     CREATE TABLE install (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         install_id TEXT NOT NULL,
         recorded_at INTEGER NOT NULL,
         existing_user INTEGER NOT NULL
     );
     CREATE TABLE delivery_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;",
    // v2: a unique index over every event_id made each insert a random B-tree write (UUID v4
    // keys), the largest cost of a commit. Only ids the app chose (or app_install's derived
    // id) can repeat, so only those rows (flag 32) stay unique; rows queued by v1 keep the
    // check. event_time gets an index so dropping expired events before each batch does not
    // scan the queue.
    "CREATE TABLE events_v2 (
         id INTEGER PRIMARY KEY,
         event_id TEXT NOT NULL,
         event_name TEXT NOT NULL,
         body TEXT NOT NULL,
         event_time INTEGER NOT NULL,
         created_at INTEGER NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at INTEGER NOT NULL DEFAULT 0,
         flags INTEGER NOT NULL
     );
     INSERT INTO events_v2 SELECT id, event_id, event_name, body, event_time, created_at,
         attempts, next_attempt_at, flags | 32 FROM events;
     DROP TABLE events;
     ALTER TABLE events_v2 RENAME TO events;
     CREATE UNIQUE INDEX events_chosen_id ON events (event_id) WHERE flags & 32 != 0;
     CREATE INDEX events_by_time ON events (event_time);",
    // v3: diagnostics asks for the earliest scheduled retry; without an index that scanned the
    // whole queue, which with a 200,000-event backlog outlasted diagnostics' wait. Only events
    // rescheduled after a failed attempt enter this index, so new events cost nothing more.
    "CREATE INDEX events_retry ON events (next_attempt_at) WHERE next_attempt_at > 0;",
    // v4: the device's clock may be off or set by hand. server_time is the event's time by
    // the server's clock as estimated when it was stored (NULL: as event_time), which the
    // wire carries and expiry reads; unanswered_since is when (by that clock) a request with
    // the event first went unanswered, to tell a re-send past the API's dedup window.
    "ALTER TABLE events ADD COLUMN server_time INTEGER;
     ALTER TABLE events ADD COLUMN unanswered_since INTEGER;
     CREATE INDEX events_by_server_time ON events (COALESCE(server_time, event_time));",
    // v5: the last good remote settings document from the app's relay (its raw text, read
    // again through the same parser at the next start, and its ETag), when it was fetched or
    // confirmed, when the relay was last asked and when it may be asked next (Unix seconds).
    // One row at most; nothing personal.
    "CREATE TABLE remote_settings (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         document TEXT,
         etag TEXT,
         fetched_at INTEGER,
         checked_at INTEGER NOT NULL,
         next_check_at INTEGER NOT NULL
     );",
];

/// The version this code writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Refuses a file of a newer schema before SQLite opens it: opening alone may write to it
/// (switching it to WAL, recovering or checkpointing a journal), and a newer SDK's buffer must
/// stay as that version left it. `PRAGMA user_version` is the big-endian number at bytes
/// 60..64 of the header; a file too short to have a header, or no database, is left to SQLite.
pub fn refuse_newer_file(path: &Path) -> Result<(), StoreError> {
    let mut header = [0u8; 64];
    let read = std::fs::File::open(path).and_then(|mut file| file.read_exact(&mut header));
    match read {
        Ok(()) => refuse_newer(version_in_header(&header).unwrap_or(0)),
        Err(_) => Ok(()),
    }
}

/// The schema version a database header records, `None` when it is not a database header.
fn version_in_header(header: &[u8]) -> Option<u32> {
    let bytes = header.strip_prefix(b"SQLite format 3\0")?.get(44..48)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

fn refuse_newer(found: u32) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Brings `conn` to [`SCHEMA_VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    refuse_newer(version)?;
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", from as u32 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: u32) -> Vec<u8> {
        let mut header = b"SQLite format 3\0".to_vec();
        header.resize(100, 0);
        header[60..64].copy_from_slice(&version.to_be_bytes());
        header
    }

    #[test]
    fn the_schema_version_is_read_from_the_header() {
        assert_eq!(version_in_header(&header(7)), Some(7));
        assert_eq!(version_in_header(&header(0)), Some(0));
        assert_eq!(version_in_header(&header(u32::MAX)), Some(u32::MAX));
        assert_eq!(
            version_in_header(b"not a database at all, but long enough to be read"),
            None
        );
        assert_eq!(version_in_header(&header(7)[..62]), None);
    }

    #[test]
    fn only_a_newer_schema_is_refused_and_the_error_names_both_versions() {
        for version in 0..=SCHEMA_VERSION {
            assert!(refuse_newer(version).is_ok());
        }
        let message = refuse_newer(SCHEMA_VERSION + 1).unwrap_err().to_string();
        assert!(
            message.contains(&format!("version {}", SCHEMA_VERSION + 1)),
            "{message}"
        );
        assert!(
            message.contains(&format!("(version {SCHEMA_VERSION})")),
            "{message}"
        );
    }
}
