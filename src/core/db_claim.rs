//! One client per database file (docs/ARCHITECTURE.md §3): inside this process, a set of the files in
//! use, keyed by one canonical spelling of the path, so `sub/../b.db` or a symlink to `b.db`
//! is the same file; across processes, the `flock` of [`DatabaseLock`]. The claim is held by
//! the store worker and released when it ends.
//!
//! No store without a lock: where the lock file cannot be created (read-only storage) the
//! client starts, but the store worker opens the database only once it holds the lock
//! ([`DatabaseClaim::ensure_locked`]), and reports a storage error until then.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;

use once_cell::sync::Lazy;

use crate::core::db_lock::{locked_by_another_process, DatabaseLock};
use crate::core::error::{ConversionsError, Result};
use crate::core::sync::lock;

/// Database files in use by a client of this process.
static OPEN_DATABASES: Lazy<Mutex<HashSet<PathBuf>>> = Lazy::new(Default::default);

/// Releases a database path, and its cross-process lock, when the store worker ends.
pub struct DatabaseClaim(PathBuf, Option<DatabaseLock>);

impl DatabaseClaim {
    /// The canonical path claimed: the file the store worker opens.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Claims `path` for one client of this process and, where storage allows, locks it
    /// against other processes. Fails with `DatabaseInUse` when either already holds it.
    pub fn claim(path: &str) -> Result<DatabaseClaim> {
        let key = canonical_database_path(path);
        let in_use = || ConversionsError::DatabaseInUse {
            path: path.to_string(),
        };
        if !lock(&OPEN_DATABASES).insert(key.clone()) {
            return Err(in_use());
        }
        // Held by another process (its lock file, or, if that was deleted, the database file
        // its connection keeps locked): refused. A lock file that cannot be created (read-only
        // storage) leaves the lock to the worker, which opens nothing without it.
        match DatabaseLock::try_acquire(&key) {
            Ok(None) => {
                lock(&OPEN_DATABASES).remove(&key);
                Err(in_use())
            }
            Ok(Some(_)) if locked_by_another_process(&key) => {
                lock(&OPEN_DATABASES).remove(&key);
                Err(in_use())
            }
            Ok(held) => Ok(DatabaseClaim(key, held)),
            Err(_) => Ok(DatabaseClaim(key, None)),
        }
    }

    /// Makes sure the cross-process lock is held before the database is used: taken now if
    /// it could not be at start, taken again if its file was deleted meanwhile. Err (to be
    /// reported as a storage error) when it cannot be, or another process has it now.
    pub fn ensure_locked(&mut self) -> std::result::Result<(), String> {
        if self.1.as_ref().is_some_and(|held| held.still_held(&self.0)) {
            return Ok(());
        }
        let lost = self.1.take().is_some();
        match DatabaseLock::try_acquire(&self.0) {
            Ok(Some(held)) => {
                self.1 = Some(held);
                Ok(())
            }
            Ok(None) => Err("the database is in use by another process".into()),
            Err(e) if lost => Err(format!(
                "the lock file was deleted and cannot be made again: {e}"
            )),
            Err(e) => Err(format!(
                "unable to open database file: cannot take its lock: {e}"
            )),
        }
    }
}

/// The one spelling of a database path: absolute, its folder's symlinks and `..` resolved,
/// and a symlinked file resolved to its target, so `sub/../b.db` or a link to `b.db` is the
/// same file in the in-use check (and the cross-process lock beside it). A missing folder is
/// created first (the lock file needs it anyway); where that fails, the path is normalised
/// lexically.
fn canonical_database_path(path: &str) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
    if let Ok(real) = std::fs::canonicalize(&absolute) {
        return real;
    }
    let lexical = lexically_normal(&absolute);
    match (lexical.parent(), lexical.file_name()) {
        (Some(parent), Some(name)) => {
            let _ = std::fs::create_dir_all(parent);
            std::fs::canonicalize(parent).map_or(lexical.clone(), |p| p.join(name))
        }
        _ => lexical,
    }
}

/// `path` with `.` and `..` components folded away (without reading the disk).
fn lexically_normal(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

impl Drop for DatabaseClaim {
    fn drop(&mut self) {
        // The file lock first: a client of this process let in next must find it free.
        self.1.take();
        lock(&OPEN_DATABASES).remove(&self.0);
    }
}
