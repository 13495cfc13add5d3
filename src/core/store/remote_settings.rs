//! The one row of remote settings kept in the buffer: the last good document the relay served
//! (applied at the next start before any fetch) and when the relay was last asked (so a
//! restart does not ask again before the document's TTL has run out).

use rusqlite::OptionalExtension;

use super::{Store, StoreError};

/// What is kept of remote settings between starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredSettings {
    /// The last good document, as served (none while no document was ever received).
    pub document: Option<String>,
    /// Its `ETag`, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// Unix seconds when the document was fetched or last confirmed unchanged.
    pub fetched_at: Option<i64>,
    /// Unix seconds when the relay was last asked, whatever it answered.
    pub checked_at: i64,
    /// Unix seconds from which the relay may be asked again.
    pub next_check_at: i64,
}

impl Store {
    /// The kept remote settings, if the relay was ever asked.
    pub fn remote_settings(&self) -> Result<Option<StoredSettings>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT document, etag, fetched_at, checked_at, next_check_at
                 FROM remote_settings WHERE id = 1",
                [],
                |r| {
                    Ok(StoredSettings {
                        document: r.get(0)?,
                        etag: r.get(1)?,
                        fetched_at: r.get(2)?,
                        checked_at: r.get(3)?,
                        next_check_at: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Replaces the kept remote settings.
    pub fn set_remote_settings(&mut self, kept: &StoredSettings) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO remote_settings (id, document, etag, fetched_at, checked_at, next_check_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET document = excluded.document, etag = excluded.etag,
                 fetched_at = excluded.fetched_at, checked_at = excluded.checked_at,
                 next_check_at = excluded.next_check_at",
            rusqlite::params![
                kept.document,
                kept.etag,
                kept.fetched_at,
                kept.checked_at,
                kept.next_check_at
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::schema;
    use rusqlite::Connection;

    fn kept(document: Option<&str>, checked_at: i64) -> StoredSettings {
        StoredSettings {
            document: document.map(str::to_string),
            etag: document.map(|_| "\"e1\"".to_string()),
            fetched_at: document.map(|_| checked_at),
            checked_at,
            next_check_at: checked_at + 600,
        }
    }

    #[test]
    fn the_kept_settings_survive_a_reopen_and_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("buffer.db");
        let (mut store, _) = Store::open(&path, 1_000).unwrap();
        assert_eq!(store.remote_settings().unwrap(), None);
        store
            .set_remote_settings(&kept(Some(r#"{"max_batch":5}"#), 100))
            .unwrap();
        drop(store);
        let (mut store, _) = Store::open(&path, 1_000).unwrap();
        assert_eq!(
            store.remote_settings().unwrap(),
            Some(kept(Some(r#"{"max_batch":5}"#), 100))
        );
        // A failed check keeps the document but moves the times.
        let mut failed = kept(Some(r#"{"max_batch":5}"#), 100);
        failed.checked_at = 700;
        failed.next_check_at = 4_300;
        store.set_remote_settings(&failed).unwrap();
        assert_eq!(store.remote_settings().unwrap(), Some(failed));
    }

    #[test]
    fn a_version_4_buffer_gains_the_table_and_keeps_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("buffer.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &schema::MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute(
                "INSERT INTO events (event_id, event_name, body, event_time, created_at, flags)
                 VALUES ('v4', 'lead', '{}', 1000, 1000, 0)",
                [],
            )
            .unwrap();
        }
        let (mut store, _) = Store::open(&path, 1_000).unwrap();
        assert_eq!(store.queued(), 1);
        assert_eq!(store.remote_settings().unwrap(), None);
        store.set_remote_settings(&kept(None, 5)).unwrap();
        assert_eq!(store.remote_settings().unwrap(), Some(kept(None, 5)));
    }
}
