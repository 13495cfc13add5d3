//! Everything the buffer keeps besides the queue: dead letters (bounded, without bodies),
//! diagnostic counters, the custom-name registry, the install record and delivery state that
//! must survive a restart (the backoff deadline).

use rusqlite::{params, OptionalExtension, Transaction};

use super::{Store, StoreError};
use crate::core::model::DeadLetter;
use crate::core::record::PendingEvent;

/// Dead letters kept: the newest 1,000.
pub const MAX_DEAD_LETTERS: i64 = 1000;

/// Persistent diagnostic counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Events processed by the server.
    Delivered,
    /// Server warnings.
    Warnings,
    /// Dropped: too old.
    DroppedExpired,
    /// Dropped: buffer full.
    DroppedEvicted,
    /// Dropped: collection disabled or forget.
    DroppedPurged,
    /// Dropped after acceptance: duplicate id, custom-name limit, or a stored body that
    /// cannot be read.
    DroppedInvalid,
    /// Dropped: no identity option when sending directly.
    DroppedNoIdentity,
    /// First launches of users who installed before the SDK.
    ExistingUserInstalls,
    /// Corrupt database files moved aside.
    DatabaseRecoveries,
    /// Events processed more than an hour after they happened (by the server's clock).
    SentLate,
    /// Events processed after the dedup window, a request with them having gone unanswered.
    ResentAfterDedupWindow,
}

impl Counter {
    fn key(self) -> &'static str {
        match self {
            Counter::Delivered => "delivered",
            Counter::Warnings => "warnings",
            Counter::DroppedExpired => "dropped_expired",
            Counter::DroppedEvicted => "dropped_evicted",
            Counter::DroppedPurged => "dropped_purged",
            Counter::DroppedInvalid => "dropped_invalid",
            Counter::DroppedNoIdentity => "dropped_no_identity",
            Counter::ExistingUserInstalls => "existing_user_installs",
            Counter::DatabaseRecoveries => "database_recoveries",
            Counter::SentLate => "sent_late",
            Counter::ResentAfterDedupWindow => "resent_after_dedup_window",
        }
    }
}

/// Adds `n` to a counter inside `tx`.
pub(super) fn add_counter(
    tx: &Transaction<'_>,
    counter: Counter,
    n: u64,
) -> Result<(), StoreError> {
    if n > 0 {
        tx.prepare_cached(
            "INSERT INTO counters (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
        )?
        .execute(params![counter.key(), n as i64])?;
    }
    Ok(())
}

/// Moves queue row `row` to the dead letters with `message`; returns rows removed from the queue.
pub(super) fn dead_letter_in(
    tx: &Transaction<'_>,
    row: i64,
    message: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO dead_letters (event_id, event_name, error_message, dead_lettered_at)
             SELECT event_id, event_name, ?2, ?3 FROM events WHERE id = ?1",
        )?
        .execute(params![row, message, now])?;
    tx.prepare_cached("DELETE FROM events WHERE id = ?1")?
        .execute([row])?;
    tx.prepare_cached(
        "DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?1",
    )?
    .execute([MAX_DEAD_LETTERS])?;
    Ok(inserted as u64)
}

/// The install record: one per database, written with the launch that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallRecord {
    /// Random id; app_install's event_id is derived from it.
    pub install_id: String,
    /// True when the user installed before the SDK (no app_install was recorded).
    pub existing_user: bool,
}

impl Store {
    /// Reads one counter.
    pub fn counter(&self, counter: Counter) -> Result<u64, StoreError> {
        let value: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM counters WHERE name = ?1",
                [counter.key()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(value.unwrap_or(0).max(0) as u64)
    }

    /// Adds `n` to a counter in its own transaction.
    pub fn add(&mut self, counter: Counter, n: u64) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        add_counter(&tx, counter, n)?;
        tx.commit()?;
        Ok(())
    }

    /// Dead letters kept.
    pub fn dead_letter_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM dead_letters", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// The newest `limit` dead letters, newest first.
    pub fn recent_dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT event_id, event_name, error_message, dead_lettered_at FROM dead_letters
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(DeadLetter {
                event_id: r.get(0)?,
                event_name: r.get(1)?,
                error_message: r.get(2)?,
                dead_lettered_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes every dead letter.
    pub fn clear_dead_letters(&mut self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM dead_letters", [])?;
        Ok(())
    }

    /// The advertiser-defined names already used for `ad_account_id` (lowercased).
    pub fn custom_names(&self, ad_account_id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM custom_event_names WHERE ad_account_id = ?1")?;
        let rows = stmt.query_map([ad_account_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The install record, if a launch has written one.
    pub fn install_record(&self) -> Result<Option<InstallRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT install_id, existing_user FROM install WHERE id = 1",
                [],
                |r| {
                    Ok(InstallRecord {
                        install_id: r.get(0)?,
                        existing_user: r.get::<_, i64>(1)? != 0,
                    })
                },
            )
            .optional()?)
    }

    /// Writes the install record and, for a new install, queues `install` in the same
    /// transaction, so a crash leaves either both or neither.
    pub fn record_install(
        &mut self,
        record: &InstallRecord,
        install: Option<&PendingEvent>,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO install (id, install_id, recorded_at, existing_user) VALUES (1, ?1, ?2, ?3)",
            params![record.install_id, now, record.existing_user as i64],
        )?;
        let mut next_row = self.next_row;
        let offset = self.server_offset_secs;
        let inserted = match install {
            Some(event) => Store::insert_row(&tx, &mut next_row, event, now, offset)?,
            None => false,
        };
        if record.existing_user {
            add_counter(&tx, Counter::ExistingUserInstalls, 1)?;
        }
        tx.commit()?;
        self.next_row = next_row;
        self.queued += u64::from(inserted);
        Ok(())
    }

    /// Puts back an install record known from the sidecar into a database that lost it
    /// (recreated after a loss): an SDK version that reads only the database then knows the
    /// install is decided too. Nothing is queued and no counter moves.
    pub fn restore_install_record(
        &mut self,
        record: &InstallRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO install (id, install_id, recorded_at, existing_user)
             VALUES (1, ?1, ?2, ?3)",
            params![record.install_id, now, record.existing_user as i64],
        )?;
        Ok(())
    }

    /// Removes every queued and dead-lettered event; keeps the custom-name registry (the app's
    /// event names, which the 15-name limit counts, not the user's data) and the
    /// install record. Returns the queued events removed.
    pub fn forget(&mut self) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM events", [])? as u64;
        tx.execute("DELETE FROM dead_letters", [])?;
        add_counter(&tx, Counter::DroppedPurged, n)?;
        tx.commit()?;
        // Compact so deleted pages (and the WAL) no longer hold the removed data.
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
        self.queued = 0;
        Ok(n)
    }

    /// The stored backoff deadline (monotonic milliseconds of the process that wrote it), 0
    /// when none.
    pub fn not_before(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM delivery_state WHERE key = 'not_before'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// The last `server - wall` offset learned (milliseconds), if one was stored.
    pub fn server_offset(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM delivery_state WHERE key = 'server_offset_ms'",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Stores the last `server - wall` offset learned (milliseconds).
    pub fn set_server_offset_ms(&mut self, offset_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO delivery_state (key, value) VALUES ('server_offset_ms', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [offset_ms],
        )?;
        Ok(())
    }

    /// Stores the backoff deadline.
    pub fn set_not_before(&mut self, at: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO delivery_state (key, value) VALUES ('not_before', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [at],
        )?;
        Ok(())
    }
}
