//! The store worker: the one thread that owns the SQLite connection.
//!
//! Commands arrive over a channel in call order. Tracked events are gathered while more
//! commands are waiting and committed in one transaction (group commit: a burst costs one
//! fsync); any other command first commits what came before it, so a reply always reflects
//! every earlier `track()`. If the database cannot be opened or written (read-only, full,
//! a folder in its place) the events stay in memory, at most `max_queued_events` of them
//! whatever the storage state (the oldest evicted first, as the store would), and the upload
//! thread asks again every few seconds (the worker itself has no timer: it sleeps until a
//! command comes, and while storage fails it does not retry on every track). A corrupt file
//! found at any time is moved aside and recreated with what it still holds; a panic while
//! handling a command is caught and counted.
//!
//! `commands` lists what the worker can be asked; `storage` is how it opens, probes, recovers
//! and reports the store; launches are decided by [`crate::core::install`].

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use crate::core::db_claim::DatabaseClaim;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use crate::core::click_id;
use crate::core::event_builder::PendingEvent;
use crate::core::install::Launches;
use crate::core::model::LogLevel;
use crate::core::shared::Shared;
use crate::core::store::{Counter, Store};

mod commands;
mod storage;

pub use commands::{Batch, Command, Reply, Resolved, StoreSnapshot};

/// Most tracked events gathered into one transaction.
const MAX_GROUP: usize = 10_000;
/// Corrupt files moved aside in one process at most: storage that corrupts every new file
/// is reported as failing instead of filling the folder with copies.
const MAX_RECOVERIES: u32 = 3;

/// Starts the worker thread on the database of `claim`, released after the database is
/// closed and before a [`Command::Close`] is answered.
pub fn spawn(
    shared: Arc<Shared>,
    claim: DatabaseClaim,
    commands: Receiver<Command>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("app-conversions-store".into())
        .spawn(move || {
            let mut worker = StoreWorker::new(shared, claim);
            let closed = worker.run(commands);
            drop(worker);
            if let Some((reply, result)) = closed {
                let _ = reply.send(result);
            }
        })
        .map(drop)
}

struct StoreWorker {
    shared: Arc<Shared>,
    path: PathBuf,
    /// This process's claim on the file and the cross-process lock: no store without it.
    claim: DatabaseClaim,
    /// A fault that lost the file under the open store (moved, replaced, deleted), for the
    /// next flush to report even though its content was carried to a new file.
    unreported_fault: Option<String>,
    store: Option<Store>,
    /// Tracked events not committed yet, oldest first; at most the queue capacity.
    pending: VecDeque<PendingEvent>,
    launches: Launches,
    /// Events evicted from memory before they were committed, counted at the next commit.
    unsaved_evictions: u64,
    /// The highest row id handed out, kept across reopening the store.
    last_row: i64,
    /// Events committed, as last known (kept while the store is closed).
    stored: u64,
    /// Corrupt files moved aside by this worker.
    recoveries: u32,
    /// Tracked events taken from the channel since the count was last published.
    taken_from_channel: u64,
}

impl StoreWorker {
    fn new(shared: Arc<Shared>, claim: DatabaseClaim) -> StoreWorker {
        let path = claim.path().to_path_buf();
        StoreWorker {
            launches: Launches::new(&path),
            shared,
            path,
            claim,
            unreported_fault: None,
            store: None,
            pending: VecDeque::new(),
            unsaved_evictions: 0,
            last_row: 0,
            stored: 0,
            recoveries: 0,
            taken_from_channel: 0,
        }
    }

    fn now(&self) -> i64 {
        self.shared.clock.now_secs()
    }

    /// Runs commands until a [`Command::Close`] (returned with its answer, to be sent once
    /// the file is released) or until every sender is gone.
    fn run(&mut self, commands: Receiver<Command>) -> Option<(Reply<()>, Result<(), String>)> {
        self.guarded(|w| {
            w.ensure_open();
        });
        while let Ok(command) = commands.recv() {
            if let Command::Close(reply) = command {
                return Some((reply, self.close()));
            }
            self.guarded(|w| w.handle(command));
            let mut gathered = 1;
            while gathered < MAX_GROUP {
                match commands.try_recv() {
                    Ok(Command::Close(reply)) => return Some((reply, self.close())),
                    Ok(command) => self.guarded(|w| w.handle(command)),
                    Err(_) => break,
                }
                gathered += 1;
            }
            // While storage fails, tracked events wait in memory for the uploader's next
            // storage retry (or a flush) instead of a failing commit after every track.
            if self.storage_error().is_none() {
                self.guarded(|w| w.commit());
            }
            self.publish_queued();
        }
        let _ = self.close();
        None
    }

    /// Commits what waits (a launch still waiting for the tracking prompt is recorded with
    /// the state of now) and closes the database. Err when something could not be committed.
    fn close(&mut self) -> Result<(), String> {
        self.guarded(|w| {
            w.launches.release(true);
            w.commit();
        });
        let result = if self.pending.is_empty() && !self.launches.pending() {
            Ok(())
        } else {
            Err(self
                .storage_error()
                .unwrap_or_else(|| "not committed".into()))
        };
        self.publish_queued();
        self.store = None;
        result
    }

    /// Events queued, committed and in memory, after the evictions the next commit makes.
    fn queued(&self) -> u64 {
        let capacity = self.shared.settings.max_queued;
        let in_memory = self.pending.len() as u64;
        let stored = self.store.as_ref().map_or(self.stored, Store::queued);
        stored.max(stored.saturating_add(in_memory).min(capacity))
    }

    /// Tells the client how many events wait, for a flush that runs out of time.
    fn publish_queued(&mut self) {
        if let Some(store) = &self.store {
            self.stored = store.queued();
        }
        self.shared.queued.store(self.queued(), Ordering::SeqCst);
        // After the count that includes them: a reader may count an event twice for a moment,
        // never not at all.
        let taken = std::mem::take(&mut self.taken_from_channel);
        self.shared
            .queued_in_channel
            .fetch_sub(taken, Ordering::SeqCst);
    }

    fn guarded(&mut self, work: impl FnOnce(&mut StoreWorker)) {
        if catch_unwind(AssertUnwindSafe(|| work(self))).is_err() {
            self.shared.note_panic("store");
        }
    }

    fn handle(&mut self, command: Command) {
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
                click_id::sync_file(&self.shared, &self.path);
            }
            Command::SyncClick => click_id::sync_file(&self.shared, &self.path),
            Command::Forget(reply) => {
                let dropped = self.pending.len() as u64;
                self.pending.clear();
                let result = self.write_store(|s| {
                    s.forget()?;
                    s.add(Counter::DroppedPurged, dropped)
                });
                click_id::sync_file(&self.shared, &self.path);
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
                self.commit();
                self.probe();
                let failing = self.storage_error().is_some();
                let fault = self.unreported_fault.take();
                let result = match &self.store {
                    _ if fault.is_some() => Err(fault.unwrap_or_default()),
                    Some(store)
                        if self.pending.is_empty() && !self.launches.pending() && !failing =>
                    {
                        Ok(store.last_row())
                    }
                    _ => Err(self
                        .storage_error()
                        .unwrap_or_else(|| "not committed".into())),
                };
                // Before the reply: a flush answered right after it reads this count.
                self.publish_queued();
                let _ = reply.send(result);
            }
        }
    }

    /// Commits pending launches and events; on failure keeps them for the next try.
    fn commit(&mut self) {
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
    /// ring only if the uploader does not already know that events wait.
    fn announce(&self, before: u64, after: u64, last_row: i64) {
        let batch = self.shared.settings.batch_size.max(1) as u64;
        if after / batch > before / batch {
            self.shared.signal.kick();
        }
        self.shared.signal.committed(last_row);
    }

    /// Keeps in-memory events within the queue capacity in every storage state (closed, or
    /// open and failing, as with a full disk): the oldest event that is not an app_install
    /// goes, counted as evicted.
    fn bound_pending(&mut self) {
        let capacity = self.shared.settings.max_queued as usize;
        while self.pending.len() > capacity {
            let position = self
                .pending
                .iter()
                .position(|e| e.event_name != "app_install");
            let Some(index) = position else { return };
            self.pending.remove(index);
            self.unsaved_evictions += 1;
        }
    }

    fn snapshot(&mut self) -> Result<StoreSnapshot, String> {
        let in_memory = self.pending.len() as u64;
        let capacity = self.shared.settings.max_queued;
        self.with_store(|s| {
            let counters = ALL_COUNTERS
                .iter()
                .map(|c| s.counter(*c).map(|v| (*c, v)))
                .collect::<Result<_, _>>()?;
            let stored = s.queued();
            Ok(StoreSnapshot {
                queued: stored.max(stored.saturating_add(in_memory).min(capacity)),
                oldest_created_at: s.oldest_created_at()?,
                dead_lettered: s.dead_letter_count()?,
                recent_dead_letters: s.recent_dead_letters(20)?,
                counters,
                not_before: s.not_before()?,
            })
        })
        .map_err(|e| format!("{e} ({in_memory} events waiting in memory)"))
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
