//! A private copy of a buffer file, for `inspect` and `replay`, so the original is never opened
//! by SQLite at all: its bytes stay as they were, and no `-wal` or `-shm` file appears beside
//! it. The copy takes the `-wal` file too when there is one (a buffer copied from a running app
//! keeps its newest events there until SQLite checkpoints them).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// The newest buffer schema this harness reads (`PRAGMA user_version`). It must follow the
/// SDK's: the `inspect` test builds a buffer with the SDK and fails when the two differ.
pub const KNOWN_SCHEMA: u32 = 5;

/// A copy of a buffer in a temporary folder, removed when dropped.
pub struct BufferCopy {
    /// The copied database file.
    pub path: PathBuf,
    /// Its `PRAGMA user_version`.
    pub schema: u32,
    _dir: tempfile::TempDir,
}

/// Copies `original` (and its `-wal`) and checks that it is a buffer this harness can read.
pub fn copy(original: &Path) -> Result<BufferCopy, String> {
    let shown = original.display();
    let meta = std::fs::metadata(original).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a file"));
    }
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let path = dir.path().join("buffer.db");
    std::fs::copy(original, &path).map_err(|e| format!("cannot copy {shown}: {e}"))?;
    let wal = PathBuf::from(format!("{}-wal", original.display()));
    if wal.is_file() {
        std::fs::copy(&wal, dir.path().join("buffer.db-wal"))
            .map_err(|e| format!("cannot copy {}: {e}", wal.display()))?;
    }
    let schema = schema_version(&path).map_err(|e| format!("{shown}: {e}"))?;
    if schema == 0 {
        return Err(format!(
            "{shown} is an SQLite file but not an app-conversions buffer (no schema version)"
        ));
    }
    if schema > KNOWN_SCHEMA {
        return Err(format!(
            "{shown} was written by a newer SDK (buffer schema version {schema}; this harness \
             reads versions 1 to {KNOWN_SCHEMA}): use the harness of that SDK version"
        ));
    }
    Ok(BufferCopy {
        path,
        schema,
        _dir: dir,
    })
}

impl BufferCopy {
    /// Opens the copy read-only.
    pub fn open(&self) -> Result<Connection, String> {
        Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| format!("cannot open the buffer: {e}"))
    }
}

fn schema_version(path: &Path) -> Result<u32, String> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open it as a database: {e}"))?;
    conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
        .map(|v| v.max(0) as u32)
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                "is not an SQLite database (was it pulled whole?)".to_string()
            }
            other => format!("cannot read it as a database: {other}"),
        })
}
