//! The queue of events waiting to be sent: group inserts with eviction, due batches oldest
//! first, and the outcomes of a delivery attempt (delete, dead-letter, reschedule).

use rusqlite::{params, OptionalExtension, Transaction};

use super::records::{add_counter, dead_letter_in, Counter, MAX_DEAD_LETTERS};
use super::{Store, StoreError};
use crate::core::model::EventName;
use crate::core::record::{flags, PendingEvent, QueuedEvent, Resolution};

/// The earliest retry after `?1`; `next_attempt_at > 0` lets SQLite read it from the partial
/// index `events_retry` instead of scanning the queue.
pub(super) const NEXT_RETRY_SQL: &str =
    "SELECT MIN(next_attempt_at) FROM events WHERE next_attempt_at > 0 AND next_attempt_at > ?1";

/// What a group insert did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InsertReport {
    /// New rows.
    pub inserted: u64,
    /// Dropped: same event_id already queued.
    pub invalid: u64,
    /// Event ids of events too big for SQLite to store: dead-lettered instead.
    pub too_big: Vec<String>,
    /// Oldest events evicted to respect the capacity.
    pub evicted: u64,
}

impl Store {
    /// Commits `events` in one transaction within `capacity`: the oldest events (never a
    /// pending app_install) are evicted first, from the queue and then from the oldest of
    /// `events`, so the transaction never needs room for more than `capacity` events (a
    /// backlog kept in memory while the disk was full fits the space a full queue takes).
    /// Events later found to be duplicates may make the queue end a little below capacity.
    pub fn insert(
        &mut self,
        events: &[PendingEvent],
        ad_account_id: &str,
        capacity: u64,
        now: i64,
    ) -> Result<InsertReport, StoreError> {
        let mut report = InsertReport::default();
        let offset = self.server_offset_secs;
        let tx = self.conn.transaction()?;
        let incoming = events.len() as u64;
        let over = self
            .queued
            .saturating_add(incoming)
            .saturating_sub(capacity);
        let from_queue = if over > 0 {
            evict_oldest(&tx, over.min(self.queued))?
        } else {
            0
        };
        let mut skip = over - from_queue;
        let mut next_row = self.next_row;
        for event in events {
            if skip > 0 && event.evictable() {
                skip -= 1;
                report.evicted += 1;
                continue;
            }
            match insert_one(&tx, &mut next_row, event, ad_account_id, now, offset) {
                Ok(true) => report.inserted += 1,
                Ok(false) => report.invalid += 1,
                // A row SQLite refuses for its size fails alone (the transaction stays good):
                // dead-lettered without its body, so it never blocks the events after it.
                Err(e) if e.is_too_big() => {
                    dead_letter_unstored(&tx, event, now)?;
                    report.too_big.push(event.event_id.clone());
                }
                Err(e) => return Err(e),
            }
        }
        report.evicted += from_queue;
        add_counter(&tx, Counter::DroppedInvalid, report.invalid)?;
        add_counter(&tx, Counter::DroppedEvicted, report.evicted)?;
        tx.commit()?;
        self.next_row = next_row;
        self.queued = self.queued - from_queue + report.inserted;
        Ok(report)
    }

    /// Up to `limit` events due at `now_ms` (monotonic milliseconds) queued after row `after_row`,
    /// oldest first. `after_row` lets the uploader take the next batch while the previous one,
    /// still queued, is in flight.
    pub fn due_events(
        &self,
        now_ms: i64,
        after_row: i64,
        limit: usize,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, event_id, event_name, body, attempts, flags, event_time, server_time,
                    unanswered_since FROM events
             WHERE id > ?1 AND next_attempt_at <= ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after_row, now_ms, limit as i64], |r| {
            Ok(QueuedEvent {
                row: r.get(0)?,
                event_id: r.get(1)?,
                event_name: r.get(2)?,
                body: r.get(3)?,
                attempts: r.get(4)?,
                flags: r.get(5)?,
                event_time: r.get(6)?,
                server_time: r.get(7)?,
                unanswered_since: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Drops events older than `max_age_secs` at `now` (both by the server's clock: each
    /// event's server_time, else its event_time); returns how many.
    pub fn drop_expired(&mut self, now: i64, max_age_secs: i64) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM events WHERE COALESCE(server_time, event_time) < ?1",
            params![now.saturating_sub(max_age_secs)],
        )? as u64;
        add_counter(&tx, Counter::DroppedExpired, n)?;
        tx.commit()?;
        self.queued = self.queued.saturating_sub(n);
        Ok(n)
    }

    /// Applies a delivery attempt's outcome in one transaction.
    ///
    /// Committed with `synchronous=NORMAL`: the commit is not flushed to disk at once (the
    /// next tracked events' commit or a checkpoint flushes it). A power cut may undo an
    /// outcome, and then its events are sent again with the same event_ids, which the server
    /// deduplicates; in exchange a batch's answer never waits for the disk, whose flush takes
    /// hundreds of milliseconds at times.
    pub fn resolve(&mut self, outcome: &Resolution, now: i64) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = self.resolve_in_one_transaction(outcome, now);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        result
    }

    fn resolve_in_one_transaction(
        &mut self,
        outcome: &Resolution,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        // Rows erased while their request was in flight are gone: only rows deleted here are
        // counted, so an event is counted once (purged, or delivered).
        let mut delivered = 0;
        let mut no_identity = 0;
        let mut unreadable = 0;
        {
            let mut delete = tx.prepare_cached("DELETE FROM events WHERE id = ?1")?;
            for row in &outcome.delivered {
                delivered += delete.execute([row])? as u64;
            }
            for row in &outcome.no_identity {
                no_identity += delete.execute([row])? as u64;
            }
            for row in &outcome.unreadable {
                unreadable += delete.execute([row])? as u64;
            }
            let mut retry = tx.prepare_cached(
                "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?2,
                     unanswered_since = COALESCE(unanswered_since, ?3) WHERE id = ?1",
            )?;
            for row in &outcome.retry {
                retry.execute(params![row, outcome.retry_at_ms, outcome.unanswered_at])?;
            }
            let mut retime = tx.prepare_cached(
                "UPDATE events SET attempts = attempts + 1, next_attempt_at = 0,
                     flags = flags | ?2 WHERE id = ?1",
            )?;
            for row in &outcome.refused_future {
                retime.execute(params![row, flags::REFUSED_FUTURE])?;
            }
        }
        let mut removed = delivered + no_identity + unreadable;
        for (row, message) in &outcome.dead {
            removed += dead_letter_in(&tx, *row, message, now)?;
        }
        add_counter(&tx, Counter::Delivered, delivered)?;
        add_counter(&tx, Counter::Warnings, outcome.warnings.min(delivered))?;
        add_counter(&tx, Counter::DroppedNoIdentity, no_identity)?;
        add_counter(&tx, Counter::DroppedInvalid, unreadable)?;
        add_counter(&tx, Counter::SentLate, outcome.sent_late.min(delivered))?;
        let resent = outcome.resent_after_dedup_window.min(delivered);
        add_counter(&tx, Counter::ResentAfterDedupWindow, resent)?;
        tx.commit()?;
        self.queued = self.queued.saturating_sub(removed);
        Ok(())
    }

    /// Brings every retry time later than `latest_ms` back to `latest_ms`; returns how many
    /// moved. Retry times were written on an earlier process's monotonic clock, which started
    /// at that process's wall-clock time: after the clock was set back, they may lie days or
    /// years ahead. Reads only the rows of the `events_retry` index past `latest_ms`.
    pub fn hold_retries_within(&mut self, latest_ms: i64) -> Result<u64, StoreError> {
        Ok(self.conn.execute(
            "UPDATE events SET next_attempt_at = ?1 WHERE next_attempt_at > ?1",
            [latest_ms],
        )? as u64)
    }

    /// Makes every queued event due now (network back, token replaced).
    pub fn make_all_due(&mut self) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE events SET next_attempt_at = 0 WHERE next_attempt_at > 0",
            [],
        )?;
        Ok(())
    }

    /// Deletes every queued event, counting them as purged; returns how many.
    pub fn purge_queue(&mut self) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM events", [])? as u64;
        add_counter(&tx, Counter::DroppedPurged, n)?;
        tx.commit()?;
        self.queued = 0;
        Ok(n)
    }

    /// Unix seconds of the oldest queued event's creation.
    pub fn oldest_created_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                // The first queued row (ids grow with insertion): no scan of the queue.
                "SELECT created_at FROM events ORDER BY id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The earliest scheduled retry after `now_ms`, monotonic milliseconds.
    pub fn next_retry_at(&self, now_ms: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(NEXT_RETRY_SQL, [now_ms], |r| r.get(0))
            .optional()?
            .flatten())
    }
}

fn insert_one(
    tx: &Transaction<'_>,
    next_row: &mut i64,
    event: &PendingEvent,
    ad_account_id: &str,
    now: i64,
    server_offset_secs: i64,
) -> Result<bool, StoreError> {
    if let Some(name) = &event.custom_name {
        remember_custom_name(tx, ad_account_id, name)?;
    }
    Store::insert_row(tx, next_row, event, now, server_offset_secs)
}

/// Remembers a custom name for the 15-name limit. The limit itself is enforced by `track()`,
/// which counts a name as soon as it accepts an event with it: an event it accepted is never
/// dropped here, even in the rare case (the buffer unreadable at start) where that makes a
/// 16th name.
fn remember_custom_name(
    tx: &Transaction<'_>,
    ad_account_id: &str,
    name: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO custom_event_names (ad_account_id, name) VALUES (?1, ?2)",
    )?
    .execute(params![ad_account_id, name])?;
    Ok(())
}

/// Dead-letters an event that was never stored (its row was refused), trimming the dead
/// letters to their cap as [`dead_letter_in`] does.
fn dead_letter_unstored(
    tx: &Transaction<'_>,
    event: &PendingEvent,
    now: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO dead_letters (event_id, event_name, error_message, dead_lettered_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        event.event_id,
        event.event_name,
        "too big to store in the buffer (SQLite refused the row); not sent",
        now
    ])?;
    tx.prepare_cached(
        "DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?1",
    )?
    .execute([MAX_DEAD_LETTERS])?;
    Ok(())
}

fn evict_oldest(tx: &Transaction<'_>, count: u64) -> Result<u64, StoreError> {
    Ok(tx.execute(
        "DELETE FROM events WHERE id IN (
             SELECT id FROM events WHERE event_name <> ?2 ORDER BY id LIMIT ?1)",
        params![count as i64, EventName::AppInstall.wire_name()],
    )? as u64)
}
