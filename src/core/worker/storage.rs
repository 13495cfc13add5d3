//! The store worker's side of storage faults: opening (and adopting a recreated file),
//! probing whether a failure is over, recovering a corrupt file, and publishing storage
//! errors. A reported error stays until a write succeeds; a corrupt file found at any time is
//! moved aside and recreated with what it still holds, at most `MAX_RECOVERIES` times.

use crate::core::error::StoreFailure;
use crate::core::model::LogLevel;
use crate::core::store::{ClickFile, Counter, OpenReport, Store, StoreError};
use crate::core::sync::lock;

use super::{StoreWorker, MAX_RECOVERIES};

impl StoreWorker {
    /// With nothing to commit, learns whether a storage failure is over: a closed store is
    /// opened (so a flush never answers from an unread file) and, if a failure was reported,
    /// a small write tells whether storage takes writes again.
    pub(super) fn probe(&mut self) {
        if !self.pending.is_empty() || self.launches.pending() || !self.ensure_open() {
            return;
        }
        if self.storage_error().is_some() {
            let now = self.now();
            let _ = self.write_store(|s| s.probe_write(now));
        }
    }

    /// Opens the store if needed; false while it cannot be opened. An open store is first
    /// checked to still be the file at the path, under this process's lock.
    pub(super) fn ensure_open(&mut self) -> bool {
        self.check_file();
        if self.store.is_some() {
            return true;
        }
        if let Err(e) = self.claim.ensure_locked() {
            self.report_storage_error(&StoreError::File(e));
            return false;
        }
        match Store::open(&self.path, self.now()) {
            Ok((store, report)) => self.adopt(store, report),
            Err(e) => {
                self.report_storage_error(&e);
                false
            }
        }
    }

    /// The lock lost (its file deleted and taken by another process): the store is closed and
    /// a storage error reported. The file moved, replaced or deleted under the open store:
    /// reported to the next flush, and its content carried to a new file at the path.
    fn check_file(&mut self) {
        if self.store.is_none() {
            return;
        }
        if let Err(e) = self.claim.ensure_locked() {
            self.store = None;
            self.report_storage_error(&StoreError::File(e));
            return;
        }
        if !self.store.as_ref().is_some_and(Store::has_moved) {
            return;
        }
        let Some(store) = self.store.take() else {
            return;
        };
        let message = "the database file was moved, replaced or deleted while open; its queued \
                       events were carried to a new file at its path";
        self.shared.logger.log(LogLevel::Error, message);
        self.unreported_fault = Some(message.into());
        match store.rescue(&self.path, self.now()) {
            Ok((store, report)) => {
                self.adopt(store, report);
            }
            Err(e) => self.report_storage_error(&e),
        }
    }

    /// Takes an opened (maybe recreated) store into use. A storage error reported earlier
    /// stays until a write succeeds: opening alone does not show that the fault is over.
    pub(super) fn adopt(&mut self, mut store: Store, report: OpenReport) -> bool {
        store.continue_after(self.last_row);
        let latest = self
            .shared
            .clock
            .monotonic_ms()
            .saturating_add(self.shared.settings.policy.retry_max_ms);
        if let Err(e) = store.hold_retries_within(latest) {
            self.report_storage_error(&e);
            return false;
        }
        if let Ok(Some(offset_ms)) = store.server_offset() {
            let clock = self.shared.clock.as_ref();
            self.shared.server_time.restore(offset_ms, clock);
        }
        if let Some(aside) = report.moved_aside {
            self.shared.logger.log(
                LogLevel::Warn,
                format!(
                    "corrupt buffer moved aside to {}; {} queued events copied to a new file",
                    aside.display(),
                    report.salvaged
                ),
            );
            match store.add(Counter::DatabaseRecoveries, 1) {
                Ok(()) => self.clear_storage_error(),
                Err(e) => {
                    // Closed first: a recovery moves the file, which its EXCLUSIVE lock holds.
                    drop(store);
                    self.report_storage_error(&e);
                    return false;
                }
            }
        }
        if let Err(e) = self.launches.restore_record(&mut store, self.now()) {
            drop(store);
            self.report_storage_error(&e);
            return false;
        }
        let account = &self.shared.settings.config.ad_account_id;
        if let Ok(names) = store.custom_names(account) {
            let mut registry = lock(&self.shared.custom_names);
            registry.names.extend(names);
        }
        // Events left by an earlier run (or kept through a storage failure) go out now. An
        // empty buffer wakes nobody: what is tracked next waits for its trigger.
        if store.queued() > 0 {
            self.shared.signal.kick();
        }
        self.store = Some(store);
        true
    }

    /// Moves a file found corrupt aside and recreates it with what it still holds; the events
    /// in memory stay there for the next commit.
    pub(super) fn recover(&mut self) {
        self.store = None;
        if self.recoveries >= MAX_RECOVERIES {
            return;
        }
        self.recoveries += 1;
        match Store::recover(&self.path, self.now()) {
            Ok((store, report)) => {
                if self.adopt(store, report) {
                    self.shared.signal.kick();
                }
            }
            Err(e) => self.report_storage_error(&e),
        }
    }

    pub(super) fn with_store<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreFailure> {
        let unavailable = || StoreFailure::Storage("storage unavailable".into());
        if !self.ensure_open() {
            return Err(self.failure_or(unavailable()));
        }
        let Some(store) = self.store.as_mut() else {
            return Err(unavailable());
        };
        work(store).map_err(|e| {
            self.report_storage_error(&e);
            StoreFailure::Storage(e.to_string())
        })
    }

    /// [`Self::with_store`] for work that writes: once it commits, storage works again, so a
    /// storage error reported earlier is cleared (a read alone does not show that a full disk
    /// has room again).
    pub(super) fn write_store<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreFailure> {
        let result = self.with_store(work);
        if result.is_ok() {
            self.clear_storage_error();
        }
        result
    }

    pub(super) fn storage_error(&self) -> Option<String> {
        lock(&self.shared.storage_error).clone()
    }

    /// The storage failure published now, or `otherwise` when storage is not failing.
    pub(super) fn failure_or(&self, otherwise: StoreFailure) -> StoreFailure {
        self.storage_error()
            .map_or(otherwise, StoreFailure::Storage)
    }

    /// Publishes a storage failure (redacted); the first of a run of failures is logged
    /// (outside the lock: the app's sink may call back into the SDK), and the worker tries the
    /// storage again on its own timer. A corrupt file is recovered at once.
    pub(super) fn report_storage_error(&mut self, error: &StoreError) {
        let message = self.shared.redact(error.to_string());
        let previous = lock(&self.shared.storage_error).replace(message.clone());
        if previous.as_deref() != Some(message.as_str()) {
            self.shared.logger.log(
                LogLevel::Error,
                format!("buffer unavailable: {message}; events kept in memory"),
            );
        }
        // Tried again on the worker's timer (an earlier try stays).
        let now_ms = self.shared.clock.monotonic_ms();
        self.timers.storage_failed(now_ms);
        if error.is_corruption() {
            return self.recover();
        }
        // A failing connection (file replaced, disk gone) is reopened on the next try.
        if matches!(error, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code != rusqlite::ErrorCode::DiskFull && e.code != rusqlite::ErrorCode::DatabaseBusy)
        {
            self.store = None;
        }
    }

    pub(super) fn clear_storage_error(&mut self) {
        *lock(&self.shared.storage_error) = None;
        self.timers.storage_ok();
    }

    /// Makes the click file say what the track context holds now: the kept click, or nothing
    /// after consent was withdrawn or `forget()`.
    pub(super) fn sync_click_file(&self) {
        let file = ClickFile::beside(&self.path);
        let result = match &self.shared.context().click {
            Some(click) => file.write(click),
            None => file.erase(),
        };
        if let Err(e) = result {
            self.shared.logger.log(
                LogLevel::Warn,
                format!("cannot update the click id kept beside the buffer: {e}"),
            );
        }
    }
}
