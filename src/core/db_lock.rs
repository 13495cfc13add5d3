//! One client per database file across processes (docs/ARCHITECTURE.md §3): an exclusive advisory lock
//! on a file beside the database, `<database>.lock`, held for as long as the client uses it.
//!
//! The lock is `flock(LOCK_EX | LOCK_NB)`. An `fcntl` record lock would belong to the process
//! and vanish as soon as any descriptor of that file in the process is closed; a `flock` lock
//! belongs to this one open file, so it lasts exactly as long as [`DatabaseLock`], and the
//! kernel releases it when the process ends, however it ends: an app killed with `kill -9`
//! never blocks its next start. It is advisory, so it only keeps out other instances of this
//! SDK, which is the point: an Android app whose `Application.onCreate` runs in a `:remote` or
//! push process too would otherwise run two uploaders on one file. The lock file is left in
//! place when the client ends: deleting it could race with a process that is about to lock it.
//!
//! The lock file can be unlinked while it is held (a cleaner, a user): the lock taken is
//! checked against the file now at the path (same device and inode), and taken again on a
//! mismatch. And since a process that finds the lock file gone could create a new one and
//! lock that, [`locked_by_another_process`] also asks the kernel whether another process holds
//! a lock on the database file itself: the store's SQLite connection runs in EXCLUSIVE
//! locking mode, so it holds one for as long as the file is open.
//!
//! Through `libc` (already a dependency of the tests) rather than `std::fs::File::try_lock`,
//! which needs Rust 1.89 while the crate supports 1.80, or a locking crate for one call.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// An exclusive lock on a database file, released when dropped or when the process ends.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

/// The path of the lock file of `database`: the same name with `.lock` added.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl DatabaseLock {
    /// Takes the lock of `database` without waiting. `Ok(None)` when another process holds it;
    /// an error when the lock file cannot be created or locked (a missing folder is created).
    pub fn try_acquire(database: &Path) -> io::Result<Option<DatabaseLock>> {
        let path = lock_path(database);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        for _ in 0..MAX_ATTEMPTS {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            if !lock_exclusive(&file)? {
                return Ok(None);
            }
            // Unlinked (or replaced) between the open and the lock: that lock guards nothing.
            if same_file(&file, &path)? {
                return Ok(Some(DatabaseLock { _file: file }));
            }
        }
        Err(io::Error::other(format!(
            "{} keeps being replaced while it is locked",
            path.display()
        )))
    }

    /// True while the lock file at the path is still the one locked (not deleted or replaced).
    pub fn still_held(&self, database: &Path) -> bool {
        same_file(&self._file, &lock_path(database)).unwrap_or(false)
    }
}

/// Attempts to take a lock whose file keeps being replaced under it.
const MAX_ATTEMPTS: u32 = 5;

/// True when `file` is the file now at `path` (same device and inode).
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(now) => Ok(open.dev() == now.dev() && open.ino() == now.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, _path: &Path) -> io::Result<bool> {
    Ok(true)
}

/// True when another process holds a lock on the database file itself (its SQLite connection
/// does, in EXCLUSIVE locking mode, for as long as it has the file open). A missing file is
/// held by nobody. Only called while no connection of this process has the file open (the
/// in-process claim guarantees it), since closing a descriptor drops this process's record
/// locks on the file.
#[cfg(unix)]
pub fn locked_by_another_process(database: &Path) -> bool {
    use std::os::unix::io::AsRawFd;
    let Ok(file) = File::open(database) else {
        return false;
    };
    // SAFETY: an all-zero flock is a valid value of the plain C struct.
    let mut probe: libc::flock = unsafe { std::mem::zeroed() };
    probe.l_type = libc::F_WRLCK as _;
    probe.l_whence = libc::SEEK_SET as _;
    probe.l_start = 0;
    probe.l_len = 0;
    // SAFETY: F_GETLK reads and writes `probe`, which outlives the call; the descriptor is
    // kept open by `file`.
    let result = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut probe) };
    result == 0 && i32::from(probe.l_type) != libc::F_UNLCK
}

#[cfg(not(unix))]
pub fn locked_by_another_process(_database: &Path) -> bool {
    false
}

/// `flock(LOCK_EX | LOCK_NB)`: true when taken, false when another open file holds it.
#[cfg(unix)]
fn lock_exclusive(file: &File) -> io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: flock only reads the descriptor, which `file` keeps open for the call.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(code) if code == libc::EWOULDBLOCK || code == libc::EAGAIN => return Ok(false),
            _ => return Err(error),
        }
    }
}

/// Elsewhere (no target of the SDK) the file is only opened: the process-local check remains.
#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_file_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub").join("buffer.db");
        let first = DatabaseLock::try_acquire(&db).unwrap();
        assert!(
            first.is_some(),
            "the first lock is taken (its folder created)"
        );
        assert!(lock_path(&db).exists());
        // A second open file conflicts even within the process, as another process's would.
        assert!(DatabaseLock::try_acquire(&db).unwrap().is_none());
        drop(first);
        assert!(DatabaseLock::try_acquire(&db).unwrap().is_some());
    }

    #[test]
    fn a_lock_whose_file_was_deleted_is_no_longer_held() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("buffer.db");
        let lock = DatabaseLock::try_acquire(&db).unwrap().unwrap();
        assert!(lock.still_held(&db));
        std::fs::remove_file(lock_path(&db)).unwrap();
        assert!(!lock.still_held(&db));
    }

    #[test]
    fn the_lock_file_is_the_database_name_with_lock_added() {
        assert_eq!(
            lock_path(Path::new("/data/app-conversions.db")),
            PathBuf::from("/data/app-conversions.db.lock")
        );
    }
}
