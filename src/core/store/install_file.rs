//! The install sidecar: a few bytes beside the database (`<database>.install`) that say when
//! the SDK first saw this install launch and whether its install was already decided.
//!
//! It lives outside the SQLite file on purpose. A corrupt buffer is moved aside and recreated,
//! and a buffer can be truncated or deleted; the events in it may be lost then, but the fact
//! that this install already recorded its `app_install` (or was an existing user) must not be,
//! or the recovery would record a second install. The first launch's time is kept even while
//! collection is disabled (it is no personal data), so the install window is measured from the
//! first launch the SDK saw, not from the moment the user consented.
//!
//! Written atomically (a temporary file, fsync, rename, fsync of the folder), so a kill leaves
//! the old or the new content, never a mix. An unreadable sidecar counts as absent: the
//! database's own install record still stands behind it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the sidecar holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallState {
    /// The first launch the SDK saw for this install, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_launch_at: Option<i64>,
    /// Set once the install is decided: the install id (app_install's event id derives from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_id: Option<String>,
    /// With `install_id`: the user installed before the SDK, so no app_install was recorded.
    #[serde(default)]
    pub existing_user: bool,
}

impl InstallState {
    /// True once app_install was recorded or the user was found to be an existing one.
    pub fn decided(&self) -> bool {
        self.install_id.is_some()
    }
}

/// The sidecar of one database file.
#[derive(Debug, Clone)]
pub struct InstallFile {
    path: PathBuf,
}

impl InstallFile {
    /// The sidecar of the database at `database`.
    pub fn beside(database: &Path) -> InstallFile {
        let mut name = database.as_os_str().to_owned();
        name.push(".install");
        InstallFile {
            path: PathBuf::from(name),
        }
    }

    /// The stored state; absent or unreadable counts as nothing known.
    pub fn read(&self) -> InstallState {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Replaces the stored state atomically.
    pub fn write(&self, state: &InstallState) -> std::io::Result<()> {
        let body = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        write_atomically(&self.path, &body)
    }
}

/// Replaces the file at `path` with `body` atomically: a temporary file beside it, fsync,
/// rename, fsync of the folder. A kill leaves the old or the new content, never a mix.
pub fn write_atomically(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)?;
        file.write_all(body)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Makes the rename itself durable; not every platform can open a folder.
        if let Ok(folder) = File::open(folder) {
            let _ = folder.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_survives_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let file = InstallFile::beside(&dir.path().join("buffer.db"));
        assert_eq!(file.read(), InstallState::default());
        let state = InstallState {
            first_launch_at: Some(1_700_000_000),
            install_id: Some("i-1".into()),
            existing_user: false,
        };
        file.write(&state).unwrap();
        assert_eq!(file.read(), state);
        assert!(dir.path().join("buffer.db.install").exists());
        std::fs::write(dir.path().join("buffer.db.install"), b"\0garbage").unwrap();
        assert_eq!(file.read(), InstallState::default());
    }
}
