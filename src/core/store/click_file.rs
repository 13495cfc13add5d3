//! The click file of one database (`<database>.click`): the kept click id and when it
//! arrived, so it outlives the process. Written atomically like the install sidecar, read once
//! when the client is built; absent or unreadable counts as no click.

use std::path::{Path, PathBuf};

use super::install_file::write_atomically;
use crate::core::click_id::StoredClick;

/// The click file of one database: `<database>.click`.
#[derive(Debug, Clone)]
pub struct ClickFile {
    path: PathBuf,
}

impl ClickFile {
    /// The click file of the database at `database`.
    pub fn beside(database: &Path) -> ClickFile {
        let mut name = database.as_os_str().to_owned();
        name.push(".click");
        ClickFile {
            path: PathBuf::from(name),
        }
    }

    /// The kept click; absent or unreadable counts as none.
    pub fn read(&self) -> Option<StoredClick> {
        let bytes = std::fs::read(&self.path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps `click`, replacing the one before.
    pub fn write(&self, click: &StoredClick) -> std::io::Result<()> {
        let body = serde_json::to_vec(click).map_err(std::io::Error::other)?;
        write_atomically(&self.path, &body)
    }

    /// Deletes the kept click, if there is one.
    pub fn erase(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "dj0yJnU9b2JDcFFHekV4SHJNcmVrbFBkUEdqakh0akdUT1VjVVUmcD0yJm49cnNBQ3F2Q2dOVDBXWWhkWklrUGxBUSZ0PUFBQUFBR1BaY3Bv";

    #[test]
    fn the_file_round_trips_and_erases() {
        let dir = tempfile::tempdir().unwrap();
        let file = ClickFile::beside(&dir.path().join("buffer.db"));
        assert_eq!(file.read(), None);
        file.erase().unwrap();
        let click = StoredClick {
            click_id: ID.into(),
            arrived_at: 7,
        };
        file.write(&click).unwrap();
        assert_eq!(file.read(), Some(click));
        assert!(dir.path().join("buffer.db.click").exists());
        file.erase().unwrap();
        assert_eq!(file.read(), None);
    }
}
