//! The store worker: the one thread that owns the SQLite connection.
//!
//! Commands arrive over a channel in call order. Tracked events are gathered while more
//! commands are waiting and committed in one transaction (group commit: a burst costs one
//! fsync); any other command first commits what came before it, so a reply always reflects
//! every earlier `track()`. If the database cannot be opened or written (read-only, full,
//! a folder in its place) the events stay in memory, at most `max_queued_events` of them
//! whatever the storage state (the oldest evicted first, as the store would), and the worker
//! tries the storage again every few seconds on its own timer (not on every track). A corrupt
//! file found at any time is moved aside and recreated with what it still holds; a panic
//! while handling a command is caught and counted.
//!
//! The worker owns the timers of what it owns ([`timers`]): the end of a held launch's wait
//! and the next storage retry. It waits on its channel with the earliest deadline as timeout,
//! and with none it sleeps until a command comes: an idle worker never wakes. A flush is
//! registered here, in one step: committed first, then handed to the uploader with its
//! watermark.
//!
//! This file is the thread and its loop. `commands` lists what the worker can be asked and
//! `handle` does it; `commit` is the group commit; `storage` is how it opens, probes, recovers
//! and reports the store; `timers` its deadlines; launches are decided by
//! [`crate::core::install`].

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;

use crate::core::clock::Ring;
use crate::core::db_claim::DatabaseClaim;
use crate::core::error::StoreFailure;
use crate::core::install::Launches;
use crate::core::record::PendingEvent;
use crate::core::shared::{within_capacity, Shared};
use crate::core::store::Store;

mod commands;
mod commit;
mod handle;
mod storage;
mod timers;

pub use commands::{Batch, Command, FlushRequest, Reply, Resolved, StoreSnapshot};
use timers::Timers;

/// Most tracked events gathered into one transaction.
const MAX_GROUP: usize = 10_000;
/// Corrupt files moved aside in one process at most: storage that corrupts every new file
/// is reported as failing instead of filling the folder with copies.
const MAX_RECOVERIES: u32 = 3;

/// Starts the worker thread on the database of `claim`, released after the database is
/// closed and before a [`Command::Close`] is answered. Returns the worker's alarm, which a
/// manual clock rings when it moves (see [`WorkerAlarm`]); `to_worker` is its way in.
pub fn spawn(
    shared: Arc<Shared>,
    claim: DatabaseClaim,
    commands: Receiver<Command>,
    to_worker: Sender<Command>,
) -> std::io::Result<Arc<WorkerAlarm>> {
    let alarm = Arc::new(WorkerAlarm { to_worker });
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
        .map(|_| alarm)
}

/// How a manual clock (tests) wakes the worker: a [`Command::Tick`] each time it moves, taken
/// in its place among the commands, so whatever the move made due is done before a command
/// sent after the move is answered. Owned by the client (the worker holds no way into its own
/// channel, so it still ends when every sender is gone); a system clock never rings it.
pub struct WorkerAlarm {
    to_worker: Sender<Command>,
}

impl Ring for WorkerAlarm {
    fn ring(&self) {
        let _ = self.to_worker.send(Command::Tick);
    }
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
    /// The worker's own deadlines.
    timers: Timers,
    /// A flush is committing: news of the commit goes with its registration.
    holding_news: bool,
    /// Held news of a commit: (queued before, queued after, last row).
    held_news: Option<(u64, u64, i64)>,
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
            timers: Timers::default(),
            holding_news: false,
            held_news: None,
        }
    }

    fn now(&self) -> i64 {
        self.shared.clock.now_secs()
    }

    /// Runs commands until a [`Command::Close`] (returned with its answer, to be sent once
    /// the file is released) or until every sender is gone.
    fn run(
        &mut self,
        commands: Receiver<Command>,
    ) -> Option<(Reply<()>, Result<(), StoreFailure>)> {
        self.guarded(|w| {
            w.ensure_open();
        });
        loop {
            self.guarded(StoreWorker::on_deadlines);
            let Some(command) = self.next_command(&commands) else {
                break;
            };
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
            // While storage fails, tracked events wait in memory for the next storage retry
            // (or a flush) instead of a failing commit after every track.
            if self.storage_error().is_none() {
                self.guarded(|w| w.commit());
            }
            self.publish_queued();
        }
        let _ = self.close();
        None
    }

    /// The next command, or [`Command::Tick`] when the earliest deadline comes first; `None`
    /// once every sender is gone. With no deadline it waits for a command alone.
    fn next_command(&self, commands: &Receiver<Command>) -> Option<Command> {
        let deadline = self.timers.next(self.launches.hold_until_ms());
        let Some(wait) = deadline.and_then(|at| self.shared.clock.sleep_for(at)) else {
            return commands.recv().ok();
        };
        match commands.recv_timeout(wait) {
            Ok(command) => Some(command),
            Err(RecvTimeoutError::Timeout) => Some(Command::Tick),
            Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Does what is due on the worker's own timers: releases a held launch whose wait ended,
    /// and tries failing storage again (telling the uploader, for waiting flushes, when it
    /// still fails).
    pub(super) fn on_deadlines(&mut self) {
        let now_ms = self.shared.clock.monotonic_ms();
        let due = self.timers.take_due(self.launches.hold_until_ms(), now_ms);
        if due.launch_hold_ended {
            self.launches.release(false);
            self.commit();
        }
        if due.storage_retry {
            self.commit();
            self.probe();
            if self.storage_error().is_some() {
                self.timers.storage_failed(self.shared.clock.monotonic_ms());
                self.shared.signal.storage_failed();
            }
        }
        if due != Default::default() {
            self.publish_queued();
        }
    }

    /// Commits what waits (a launch still waiting for the tracking prompt is recorded with
    /// the state of now) and closes the database. Err when something could not be committed.
    fn close(&mut self) -> Result<(), StoreFailure> {
        self.guarded(|w| {
            w.launches.release(true);
            w.commit();
        });
        let result = if self.pending.is_empty() && !self.launches.pending() {
            Ok(())
        } else {
            Err(self.failure_or(StoreFailure::NotCommitted))
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
        within_capacity(stored, in_memory, capacity)
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
            // A flush that failed midway still lets the uploader know what was committed.
            self.holding_news = false;
            if let Some((before, after, last_row)) = self.held_news.take() {
                self.announce(before, after, last_row);
            }
        }
    }
}
