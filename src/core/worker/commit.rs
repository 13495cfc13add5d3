//! The group commit: what `track()` queued in memory (and launches waiting for a working
//! store) written in one transaction within the queue's capacity, then the uploader told
//! about the new rows only when it needs to know. In memory the same capacity holds.

use crate::core::model::LogLevel;
use crate::core::record::PendingEvent;
use crate::core::store::{Counter, Store};

use super::StoreWorker;

impl StoreWorker {
    /// Commits pending launches and events; on failure keeps them for the next try.
    pub(super) fn commit(&mut self) {
        if self.pending.is_empty() && !self.launches.pending() && self.unsaved_evictions == 0 {
            return;
        }
        if !self.ensure_open() {
            return;
        }
        if let Some(store) = self.store.as_mut() {
            let clock = self.shared.clock.as_ref();
            store.set_server_offset(self.shared.server_time.offset_secs(clock));
            if let Err(e) = self.launches.record(store, &self.shared) {
                self.report_storage_error(&e);
                return;
            }
        }
        let account = self.shared.settings.config.ad_account_id.clone();
        let capacity = self.shared.settings.max_queued;
        let evictions = self.unsaved_evictions;
        let mut pending = std::mem::take(&mut self.pending);
        let now = self.now();
        let before = self.store.as_ref().map_or(0, Store::queued);
        let result = self.write_store(|s| {
            let report = s.insert(pending.make_contiguous(), &account, capacity, now)?;
            s.add(Counter::DroppedEvicted, evictions)?;
            Ok((report, s.queued(), s.last_row()))
        });
        match result {
            Ok((report, after, last_row)) => {
                self.unsaved_evictions = 0;
                self.last_row = last_row;
                if !report.too_big.is_empty() {
                    self.shared.logger.log(
                        LogLevel::Error,
                        format!(
                            "events too big to store were dead-lettered: {}",
                            report.too_big.join(", ")
                        ),
                    );
                }
                if report.inserted > 0 {
                    self.announce(before, after, last_row);
                }
            }
            // Kept for the next try; write_store reported the error.
            Err(_) => self.pending = pending,
        }
    }

    /// Tells the uploader about newly committed events: a kick when the queue reached another
    /// full batch (the batch threshold is decided here, where the count is known), otherwise a
    /// ring only if the uploader does not already know that events wait. While a flush
    /// commits, the news is held: the flush's registration carries it in the same ring.
    pub(super) fn announce(&mut self, before: u64, after: u64, last_row: i64) {
        if self.holding_news {
            let first_before = self.held_news.map_or(before, |(b, _, _)| b);
            self.held_news = Some((first_before, after, last_row));
            return;
        }
        let batch = self.shared.settings.batch_size.max(1) as u64;
        if after / batch > before / batch {
            self.shared.signal.kick();
        }
        self.shared.signal.committed(last_row);
    }

    /// Keeps in-memory events within the queue capacity in every storage state (closed, or
    /// open and failing, as with a full disk): the oldest event that is not an app_install
    /// goes, counted as evicted.
    pub(super) fn bound_pending(&mut self) {
        let capacity = self.shared.settings.max_queued as usize;
        while self.pending.len() > capacity {
            let position = self.pending.iter().position(PendingEvent::evictable);
            let Some(index) = position else { return };
            self.pending.remove(index);
            self.unsaved_evictions += 1;
        }
    }
}
