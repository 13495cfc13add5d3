//! The store worker: the one thread that owns the SQLite connection.
//!
//! Commands arrive over a channel in call order. Tracked events are gathered while more
//! commands are waiting and committed in one transaction (group commit: a burst costs one
//! fsync); any other command first commits what came before it, so a reply always reflects
//! every earlier `track()`. If the database cannot be opened or written (read-only, full,
//! a folder in its place) the events stay in memory, bounded by the queue capacity, and the
//! worker retries; a panic while handling a command is caught and counted.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use crate::core::backoff::{unix_now, unix_now_ms};
use crate::core::event_builder::PendingEvent;
use crate::core::model::{DeadLetter, LogLevel};
use crate::core::shared::{lock, Shared};
use crate::core::store::{Counter, InstallRecord, QueuedEvent, Resolution, Store, StoreError};

/// Most tracked events gathered into one transaction.
const MAX_GROUP: usize = 10_000;
/// How often a broken store is retried while events wait in memory.
const STORAGE_RETRY: Duration = Duration::from_secs(2);

/// A cold start, decided by the worker against the install record.
pub struct Launch {
    /// The app_install to record if this is a new install.
    pub install: PendingEvent,
    /// Its install id (the install event's id is derived from it).
    pub install_id: String,
    /// The app_open to record otherwise.
    pub open: PendingEvent,
    /// The host's first_install_time is older than the install window.
    pub existing_user: bool,
}

/// What the worker knows, for diagnostics and scheduling.
#[derive(Debug, Clone, Default)]
pub struct StoreSnapshot {
    /// Events queued (committed and in memory).
    pub queued: u64,
    /// Creation time of the oldest queued event.
    pub oldest_created_at: Option<i64>,
    /// Dead letters kept.
    pub dead_lettered: u64,
    /// Newest dead letters.
    pub recent_dead_letters: Vec<DeadLetter>,
    /// Counter values, by counter.
    pub counters: Vec<(Counter, u64)>,
    /// Stored backoff deadline, Unix milliseconds.
    pub not_before: i64,
    /// Earliest per-event retry time in the future, Unix milliseconds.
    pub next_retry_at: Option<i64>,
}

/// Reply channel of a command.
pub type Reply<T> = Sender<Result<T, String>>;

/// The answer to [`Command::TakeBatch`].
pub struct Batch {
    /// Due events, oldest first.
    pub events: Vec<QueuedEvent>,
    /// Events queued in all (due or not).
    pub queued: u64,
    /// The stored backoff deadline (Unix milliseconds), so an uploader that could not read it
    /// at start (storage was failing then) still honours it.
    pub stored_not_before: i64,
}

/// What the store worker can be asked to do.
pub enum Command {
    /// Queue an event.
    Track(PendingEvent),
    /// Decide install or open for a cold start.
    Launch(Box<Launch>),
    /// Drop expired events, then return up to `limit` due events queued after `after_row`.
    TakeBatch {
        /// Maximum events.
        limit: usize,
        /// Only rows after this one (0: from the oldest); skips a batch still in flight.
        after_row: i64,
        /// Reply.
        reply: Reply<Batch>,
    },
    /// Apply an attempt's outcome, and store the backoff deadline.
    Resolve {
        /// The outcome.
        resolution: Resolution,
        /// New backoff deadline, if it changed.
        not_before: Option<i64>,
        /// Reply: events still queued.
        reply: Reply<u64>,
    },
    /// Make every queued event due and clear the backoff deadline.
    MakeAllDue,
    /// Delete every queued event (collection disabled).
    Purge,
    /// Delete queued and dead-lettered events and the custom-name registry.
    Forget(Reply<()>),
    /// Delete the dead letters.
    ClearDeadLetters(Reply<()>),
    /// Report what the worker knows.
    Snapshot(Reply<StoreSnapshot>),
    /// Commit everything tracked so far.
    Sync(Reply<()>),
}

/// Starts the worker thread.
/// Starts the worker thread; `on_exit` runs after the database is closed.
pub fn spawn(
    shared: Arc<Shared>,
    path: PathBuf,
    commands: Receiver<Command>,
    on_exit: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("app-conversions-store".into())
        .spawn(move || {
            StoreWorker::new(shared, path).run(commands);
            on_exit();
        })
        .map(drop)
}

struct StoreWorker {
    shared: Arc<Shared>,
    path: PathBuf,
    store: Option<Store>,
    pending: Vec<PendingEvent>,
    launches: Vec<Launch>,
    /// Events evicted from memory while storage was down, counted once storage works again.
    unsaved_evictions: u64,
}

impl StoreWorker {
    fn new(shared: Arc<Shared>, path: PathBuf) -> StoreWorker {
        StoreWorker {
            shared,
            path,
            store: None,
            pending: Vec::new(),
            launches: Vec::new(),
            unsaved_evictions: 0,
        }
    }

    fn run(mut self, commands: Receiver<Command>) {
        self.guarded(|w| {
            w.ensure_open();
        });
        loop {
            let waiting = !self.pending.is_empty() || !self.launches.is_empty();
            let first = if waiting {
                commands.recv_timeout(STORAGE_RETRY)
            } else {
                commands.recv().map_err(|_| RecvTimeoutError::Disconnected)
            };
            match first {
                Ok(command) => {
                    self.guarded(|w| w.handle(command));
                    let mut gathered = 1;
                    while gathered < MAX_GROUP {
                        match commands.try_recv() {
                            Ok(command) => self.guarded(|w| w.handle(command)),
                            Err(_) => break,
                        }
                        gathered += 1;
                    }
                    self.guarded(|w| w.commit());
                }
                Err(RecvTimeoutError::Timeout) => self.guarded(|w| w.commit()),
                Err(RecvTimeoutError::Disconnected) => {
                    self.guarded(|w| w.commit());
                    return;
                }
            }
        }
    }

    fn guarded(&mut self, work: impl FnOnce(&mut StoreWorker)) {
        if catch_unwind(AssertUnwindSafe(|| work(self))).is_err() {
            self.shared.note_panic("store");
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Track(event) => {
                self.pending.push(event);
                self.bound_pending();
            }
            Command::Launch(launch) => {
                self.launches.push(*launch);
                self.commit();
            }
            Command::TakeBatch {
                limit,
                after_row,
                reply,
            } => {
                self.commit();
                let max_age = self.shared.settings.max_event_age_secs;
                let result = self.with_store(|s| {
                    s.drop_expired(unix_now(), max_age)?;
                    Ok(Batch {
                        events: s.due_events(unix_now_ms(), after_row, limit)?,
                        queued: s.queued(),
                        stored_not_before: s.not_before()?,
                    })
                });
                let _ = reply.send(result);
            }
            Command::Resolve {
                resolution,
                not_before,
                reply,
            } => {
                let result = self.write_store(|s| {
                    s.resolve(&resolution, unix_now())?;
                    if let Some(at) = not_before {
                        s.set_not_before(at)?;
                    }
                    Ok(s.queued())
                });
                let _ = reply.send(result);
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
            }
            Command::Forget(reply) => {
                let dropped = self.pending.len() as u64;
                self.pending.clear();
                let result = self.write_store(|s| {
                    s.forget()?;
                    s.add(Counter::DroppedPurged, dropped)
                });
                if result.is_ok() {
                    lock(&self.shared.custom_names).names.clear();
                }
                let _ = reply.send(result);
            }
            Command::ClearDeadLetters(reply) => {
                let _ = reply.send(self.write_store(|s| s.clear_dead_letters()));
            }
            Command::Snapshot(reply) => {
                self.commit();
                let _ = reply.send(self.snapshot());
            }
            Command::Sync(reply) => {
                self.commit();
                let result = if self.pending.is_empty() && self.launches.is_empty() {
                    Ok(())
                } else {
                    Err(self
                        .storage_error()
                        .unwrap_or_else(|| "not committed".into()))
                };
                let _ = reply.send(result);
            }
        }
    }

    /// Commits pending launches and events; on failure keeps them for the next try.
    fn commit(&mut self) {
        if self.pending.is_empty() && self.launches.is_empty() && self.unsaved_evictions == 0 {
            return;
        }
        if !self.ensure_open() {
            return;
        }
        let launches = std::mem::take(&mut self.launches);
        for (i, launch) in launches.iter().enumerate() {
            if let Err(e) = self.record_launch(launch) {
                self.report_storage_error(&e);
                self.launches = launches.into_iter().skip(i).collect();
                return;
            }
        }
        let account = self.shared.settings.config.ad_account_id.clone();
        let capacity = self.shared.settings.max_queued;
        let evictions = self.unsaved_evictions;
        let pending = std::mem::take(&mut self.pending);
        let result = self.write_store(|s| {
            let report = s.insert(&pending, &account, capacity, unix_now())?;
            s.add(Counter::DroppedEvicted, evictions)?;
            Ok(report)
        });
        match result {
            Ok(report) => {
                self.unsaved_evictions = 0;
                let threshold = self.shared.settings.batch_size as u64;
                if report.inserted > 0
                    && self.store.as_ref().map(Store::queued).unwrap_or(0) >= threshold
                {
                    self.shared.signal.kick();
                }
            }
            // Kept for the next try; write_store reported the error.
            Err(_) => self.pending = pending,
        }
    }

    fn record_launch(&mut self, launch: &Launch) -> Result<(), StoreError> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        if store.install_record()?.is_none() {
            let record = InstallRecord {
                install_id: launch.install_id.clone(),
                existing_user: launch.existing_user,
            };
            let install = (!launch.existing_user).then_some(&launch.install);
            store.record_install(&record, install, unix_now())?;
            if install.is_some() {
                self.shared.signal.kick();
                return Ok(());
            }
        }
        let account = self.shared.settings.config.ad_account_id.clone();
        store.insert(
            std::slice::from_ref(&launch.open),
            &account,
            self.shared.settings.max_queued,
            unix_now(),
        )?;
        self.shared.signal.kick();
        Ok(())
    }

    /// Opens the store if needed; false while it cannot be opened.
    fn ensure_open(&mut self) -> bool {
        if self.store.is_some() {
            return true;
        }
        match Store::open(&self.path, unix_now()) {
            Ok((mut store, report)) => {
                if let Some(aside) = report.moved_aside {
                    self.shared.logger.log(
                        LogLevel::Warn,
                        format!("corrupt buffer moved aside to {}", aside.display()),
                    );
                    if let Err(e) = store.add(Counter::DatabaseRecoveries, 1) {
                        self.report_storage_error(&e);
                        return false;
                    }
                }
                let account = &self.shared.settings.config.ad_account_id;
                if let Ok(names) = store.custom_names(account) {
                    let mut registry = lock(&self.shared.custom_names);
                    registry.names.extend(names);
                    registry.loaded = true;
                }
                // Events left by an earlier run (or kept through a storage failure) go out
                // now. An empty buffer wakes nobody: what is tracked next waits for its trigger.
                if store.queued() > 0 {
                    self.shared.signal.kick();
                }
                self.store = Some(store);
                self.clear_storage_error();
                true
            }
            Err(e) => {
                self.report_storage_error(&e);
                false
            }
        }
    }

    fn with_store<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, String> {
        if !self.ensure_open() {
            return Err(self
                .storage_error()
                .unwrap_or_else(|| "storage unavailable".into()));
        }
        let Some(store) = self.store.as_mut() else {
            return Err("storage unavailable".into());
        };
        work(store).map_err(|e| {
            self.report_storage_error(&e);
            e.to_string()
        })
    }

    /// [`Self::with_store`] for work that writes: once it commits, storage works again, so a
    /// storage error reported earlier is cleared (a read alone does not show that a full disk
    /// has room again).
    fn write_store<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, String> {
        let result = self.with_store(work);
        if result.is_ok() {
            self.clear_storage_error();
        }
        result
    }

    /// Keeps in-memory events within the queue capacity while storage is down.
    fn bound_pending(&mut self) {
        let capacity = self.shared.settings.max_queued as usize;
        if self.store.is_none() && self.pending.len() > capacity {
            let position = self
                .pending
                .iter()
                .position(|e| e.event_name != "app_install");
            if let Some(index) = position {
                self.pending.remove(index);
                self.unsaved_evictions += 1;
            }
        }
    }

    fn snapshot(&mut self) -> Result<StoreSnapshot, String> {
        let in_memory = self.pending.len() as u64;
        self.with_store(|s| {
            let counters = ALL_COUNTERS
                .iter()
                .map(|c| s.counter(*c).map(|v| (*c, v)))
                .collect::<Result<_, _>>()?;
            Ok(StoreSnapshot {
                queued: s.queued() + in_memory,
                oldest_created_at: s.oldest_created_at()?,
                dead_lettered: s.dead_letter_count()?,
                recent_dead_letters: s.recent_dead_letters(20)?,
                counters,
                not_before: s.not_before()?,
                next_retry_at: s.next_retry_at(unix_now_ms())?,
            })
        })
        .map_err(|e| format!("{e} ({in_memory} events waiting in memory)"))
    }

    fn storage_error(&self) -> Option<String> {
        lock(&self.shared.storage_error).clone()
    }

    fn report_storage_error(&mut self, error: &StoreError) {
        let message = error.to_string();
        let mut current = lock(&self.shared.storage_error);
        if current.as_deref() != Some(message.as_str()) {
            self.shared.logger.log(
                LogLevel::Error,
                format!("buffer unavailable: {message}; events kept in memory"),
            );
        }
        *current = Some(message);
        drop(current);
        // A failing connection (file replaced, disk gone) is reopened on the next try.
        if matches!(error, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code != rusqlite::ErrorCode::DiskFull && e.code != rusqlite::ErrorCode::DatabaseBusy)
        {
            self.store = None;
        }
    }

    fn clear_storage_error(&self) {
        *lock(&self.shared.storage_error) = None;
    }
}

/// Every counter, for snapshots.
const ALL_COUNTERS: [Counter; 9] = [
    Counter::Delivered,
    Counter::Warnings,
    Counter::DroppedExpired,
    Counter::DroppedEvicted,
    Counter::DroppedPurged,
    Counter::DroppedInvalid,
    Counter::DroppedNoIdentity,
    Counter::ExistingUserInstalls,
    Counter::DatabaseRecoveries,
];
