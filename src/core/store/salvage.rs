//! Recovery from a corrupt buffer: the file is moved aside (kept, for support), a new one is
//! created, and what the damaged file still lets SQLite read is copied over.
//!
//! Damage is usually local, one page or a few, so most rows survive it. Queued events are
//! copied one row at a time, by the row ids an index lists (reading an index does not touch
//! the table's pages): a lookup that lands on a damaged page fails alone and the rest are
//! kept, with their row ids, so an outcome the uploader stores later still finds its rows.
//! The small tables (counters, custom names, install record, delivery state, dead letters,
//! remote settings) are copied whole, or not at all. Every read is best effort: salvage never fails a recovery.

use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

/// Tables copied whole (same schema on both sides: both files were migrated by this code).
const SMALL_TABLES: [&str; 6] = [
    "counters",
    "custom_event_names",
    "install",
    "delivery_state",
    "dead_letters",
    "remote_settings",
];

/// [`salvage`] from a copy of `aside` (and its WAL), removed after: the connection that found
/// the damage may not have closed yet (SQLite keeps a connection with an unfinished statement
/// open), and in EXCLUSIVE locking mode it would keep `aside` locked against this process.
pub(super) fn salvage_copy(conn: &Connection, aside: &Path) -> u64 {
    let copy = PathBuf::from(format!("{}.read", aside.display()));
    let side = |base: &Path, suffix: &str| PathBuf::from(format!("{}{suffix}", base.display()));
    if std::fs::copy(aside, &copy).is_err() {
        return 0;
    }
    let wal = side(aside, "-wal");
    if wal.exists() {
        let _ = std::fs::copy(&wal, side(&copy, "-wal"));
    }
    let copied = salvage(conn, &copy);
    for file in [copy.clone(), side(&copy, "-wal"), side(&copy, "-shm")] {
        let _ = std::fs::remove_file(file);
    }
    copied
}

/// Copies what is readable in the damaged file `aside` into the new buffer `conn`; returns the
/// number of queued events copied.
pub(super) fn salvage(conn: &Connection, aside: &Path) -> u64 {
    let Some(aside) = aside.to_str() else {
        return 0;
    };
    if conn
        .execute("ATTACH DATABASE ?1 AS damaged", [aside])
        .is_err()
    {
        return 0;
    }
    let copied = copy_rows(conn);
    let _ = conn.execute_batch("DETACH DATABASE damaged");
    copied
}

fn copy_rows(conn: &Connection) -> u64 {
    // A file that is not a database at all fails here, and nothing is copied.
    let same_version = |conn: &Connection| -> rusqlite::Result<bool> {
        let theirs: u32 = conn.query_row("PRAGMA damaged.user_version", [], |r| r.get(0))?;
        let ours: u32 = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
        Ok(theirs == ours)
    };
    if !same_version(conn).unwrap_or(false) {
        return 0;
    }
    for table in SMALL_TABLES {
        let _ = conn.execute(
            &format!("INSERT OR IGNORE INTO main.{table} SELECT * FROM damaged.{table}"),
            [],
        );
    }
    // Each row is read in a statement (and read transaction) of its own: after SQLite meets a
    // damaged page, reads in the same transaction keep failing. The writes then go in one.
    let rows: Vec<Vec<Value>> = row_ids(conn)
        .into_iter()
        .filter_map(|id| read_row(conn, id))
        .collect();
    let Ok(tx) = conn.unchecked_transaction() else {
        return 0;
    };
    let mut copied = 0;
    if let Ok(mut insert) = tx.prepare(
        "INSERT OR IGNORE INTO main.events (id, event_id, event_name, body, event_time,
             created_at, attempts, next_attempt_at, flags)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    ) {
        for row in &rows {
            copied += insert.execute(params_from_iter(row)).unwrap_or(0) as u64;
        }
    }
    if tx.commit().is_err() {
        return 0;
    }
    copied
}

/// Queue row `id` of the damaged file, if it reads.
fn read_row(conn: &Connection, id: i64) -> Option<Vec<Value>> {
    conn.query_row(
        "SELECT id, event_id, event_name, body, event_time, created_at, attempts,
                next_attempt_at, flags
         FROM damaged.events WHERE id = ?1",
        [id],
        |r| (0..9).map(|i| r.get::<_, Value>(i)).collect(),
    )
    .ok()
}

/// The row ids of the damaged queue: from the `event_time` index (it holds every row id and
/// lives on pages of its own), else from the table itself, as far as it reads.
fn row_ids(conn: &Connection) -> Vec<i64> {
    let read = |sql: &str| -> Vec<i64> {
        let Ok(mut statement) = conn.prepare(sql) else {
            return Vec::new();
        };
        let Ok(rows) = statement.query_map([], |r| r.get::<_, i64>(0)) else {
            return Vec::new();
        };
        rows.map_while(Result::ok).collect()
    };
    let mut ids = read("SELECT id FROM damaged.events INDEXED BY events_by_time");
    if ids.is_empty() {
        ids = read("SELECT id FROM damaged.events ORDER BY id");
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Renames a damaged file to `<path>.corrupt-<now>` (a number added if that exists), its WAL
/// with it (committed transactions may still be there); the shared-memory file is removed.
pub(super) fn move_aside(path: &Path, now: i64) -> std::io::Result<PathBuf> {
    let mut aside = PathBuf::from(format!("{}.corrupt-{now}", path.display()));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = PathBuf::from(format!("{}.corrupt-{now}-{n}", path.display()));
    }
    std::fs::rename(path, &aside)?;
    let side = |base: &Path, suffix: &str| PathBuf::from(format!("{}{suffix}", base.display()));
    let wal = side(path, "-wal");
    if wal.exists() {
        let _ = std::fs::rename(&wal, side(&aside, "-wal"));
    }
    let shm = side(path, "-shm");
    if shm.exists() {
        let _ = std::fs::remove_file(shm);
    }
    Ok(aside)
}
