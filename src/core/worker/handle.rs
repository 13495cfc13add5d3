//! What the store worker does for each command: the queue's reads and writes, erasing,
//! snapshots, and the commit a flush or a `Sync` waits for (with the storage failure, typed,
//! when it cannot be made).

use crate::core::error::StoreFailure;
use crate::core::shared::within_capacity;
use crate::core::signal::FlushWaiter;
use crate::core::store::Counter;

use super::{Batch, Command, Resolved, StoreSnapshot, StoreWorker};

impl StoreWorker {
    pub(super) fn handle(&mut self, command: Command) {
        match command {
            Command::Track(event) => {
                self.pending.push_back(event);
                self.taken_from_channel += 1;
                self.bound_pending();
            }
            Command::Launch(launch) => {
                self.launches.arrived(launch, &self.shared);
                self.commit();
            }
            Command::ReleaseLaunch => {
                self.launches.release(false);
                self.commit();
            }
            Command::TakeBatch {
                limit,
                after_row,
                reply,
            } => {
                self.commit();
                let erase_epoch = self.shared.erase_epoch();
                let max_age = self.shared.settings.max_event_age_secs;
                // Age is judged on the server's clock, due times on the monotonic one.
                let clock = self.shared.clock.as_ref();
                let expiry_now = self.shared.server_time.expiry_now_secs(clock);
                let now_ms = clock.monotonic_ms();
                let result = self.with_store(|s| {
                    if let Some(now) = expiry_now {
                        s.drop_expired(now, max_age)?;
                    }
                    let events = s.due_events(now_ms, after_row, limit)?;
                    let next_retry_at = if events.len() < limit {
                        s.next_retry_at(now_ms)?
                    } else {
                        None
                    };
                    Ok(Batch {
                        events,
                        queued: s.queued(),
                        max_row: s.last_row(),
                        next_retry_at,
                        stored_not_before: s.not_before()?,
                        erase_epoch,
                    })
                });
                self.publish_queued();
                let _ = reply.send(result);
            }
            Command::Resolve {
                resolution,
                not_before,
                reply,
            } => {
                let now = self.now();
                let result = self.write_store(|s| {
                    s.resolve(&resolution, now)?;
                    if let Some(at) = not_before {
                        s.set_not_before(at)?;
                    }
                    Ok(Resolved {
                        queued: s.queued(),
                        max_row: s.last_row(),
                    })
                });
                // Before the reply: a flush answered after it reads this count.
                self.publish_queued();
                let _ = reply.send(result);
            }
            Command::SaveServerOffset(offset_ms) => {
                let _ = self.write_store(|s| s.set_server_offset_ms(offset_ms));
            }
            Command::LoadRemoteSettings(reply) => {
                let _ = reply.send(self.with_store(|s| s.remote_settings()));
            }
            Command::SaveRemoteSettings(kept) => {
                let _ = self.write_store(|s| s.set_remote_settings(&kept));
            }
            Command::MakeAllDue => {
                let _ = self.write_store(|s| {
                    s.make_all_due()?;
                    s.set_not_before(0)
                });
            }
            Command::Purge => {
                let dropped = self.pending.len() as u64;
                self.pending.clear();
                let _ = self.write_store(|s| {
                    s.purge_queue()?;
                    s.add(Counter::DroppedPurged, dropped)
                });
                self.shared.begin_erase();
                self.sync_click_file();
            }
            Command::SyncClick => self.sync_click_file(),
            Command::Forget(reply) => {
                let dropped = self.pending.len() as u64;
                self.pending.clear();
                let result = self.write_store(|s| {
                    s.forget()?;
                    s.add(Counter::DroppedPurged, dropped)
                });
                self.sync_click_file();
                // Before the answer: once forget() returns, no batch read before is sent.
                self.shared.begin_erase();
                let _ = reply.send(result);
            }
            Command::ClearDeadLetters(reply) => {
                let _ = reply.send(self.write_store(|s| s.clear_dead_letters()));
            }
            Command::Snapshot(reply) => {
                self.commit();
                let mut snapshot = self.snapshot();
                if snapshot.is_err() && self.store.is_some() {
                    // Read again from a file recreated after corruption.
                    snapshot = self.snapshot();
                }
                let _ = reply.send(snapshot);
            }
            // run() takes a Close before it gets here; answered the same way all the same.
            Command::Close(reply) => {
                let _ = reply.send(self.close());
            }
            Command::Sync(reply) => {
                let result = self.sync();
                let _ = reply.send(result);
            }
            Command::Flush(request) => {
                self.holding_news = true;
                let result = self.sync();
                self.holding_news = false;
                let news = self.held_news.take();
                match result {
                    // One ring: the registration tells the uploader of the commit too.
                    Ok(watermark) => self.shared.signal.flush(FlushWaiter {
                        deadline_ms: request.deadline_ms,
                        watermark,
                        start: request.start,
                        reply: request.reply,
                    }),
                    Err(error) => {
                        if let Some((before, after, last_row)) = news {
                            self.announce(before, after, last_row);
                        }
                        let _ = request.reply.send(Err(error));
                    }
                }
            }
            // In its place in the channel: what a moved clock made due is done before any
            // command sent after the clock moved is answered.
            Command::Tick => self.on_deadlines(),
        }
    }

    /// Commits everything tracked so far (and learns whether a storage failure is over).
    /// Ok: the highest row id committed; Err: a fault not reported yet, or why something
    /// waits uncommitted. The queued count is published first: a flush answered right after
    /// reads it.
    fn sync(&mut self) -> Result<i64, StoreFailure> {
        self.commit();
        self.probe();
        let failing = self.storage_error().is_some();
        let fault = self.unreported_fault.take();
        let result = match &self.store {
            _ if fault.is_some() => Err(StoreFailure::FileReplaced(fault.unwrap_or_default())),
            Some(store) if self.pending.is_empty() && !self.launches.pending() && !failing => {
                Ok(store.last_row())
            }
            _ => Err(self.failure_or(StoreFailure::NotCommitted)),
        };
        self.publish_queued();
        result
    }

    fn snapshot(&mut self) -> Result<StoreSnapshot, StoreFailure> {
        let in_memory = self.pending.len() as u64;
        let capacity = self.shared.settings.max_queued;
        self.with_store(|s| {
            let counters = ALL_COUNTERS
                .iter()
                .map(|c| s.counter(*c).map(|v| (*c, v)))
                .collect::<Result<_, _>>()?;
            let stored = s.queued();
            Ok(StoreSnapshot {
                queued: within_capacity(stored, in_memory, capacity),
                oldest_created_at: s.oldest_created_at()?,
                dead_lettered: s.dead_letter_count()?,
                recent_dead_letters: s.recent_dead_letters(20)?,
                counters,
                not_before: s.not_before()?,
            })
        })
        .map_err(|e| StoreFailure::Storage(format!("{e} ({in_memory} events waiting in memory)")))
    }
}

/// Every counter, for snapshots.
const ALL_COUNTERS: [Counter; 11] = [
    Counter::Delivered,
    Counter::Warnings,
    Counter::DroppedExpired,
    Counter::DroppedEvicted,
    Counter::DroppedPurged,
    Counter::DroppedInvalid,
    Counter::DroppedNoIdentity,
    Counter::ExistingUserInstalls,
    Counter::DatabaseRecoveries,
    Counter::SentLate,
    Counter::ResentAfterDedupWindow,
];
