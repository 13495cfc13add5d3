//! The calls that wait, each bounded by the caller's timeout: `flush` (one command: the
//! store worker commits, then registers it with the uploader), `forget`, `clear_dead_letters`,
//! `diagnostics` (briefly) and `shutdown`; and `settle`, for tests on a manual clock.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::core::clock::millis;
use crate::core::error::{ConversionsError, Result, StoreFailure};
use crate::core::log::LogSink;
use crate::core::model::{Diagnostics, FlushReport, LogLevel};
use crate::core::shared::DeliveryListener;
use crate::core::sync::lock;
use crate::core::upload::flush;
use crate::core::worker::{self, Command, FlushRequest};

use super::Client;

impl Client {
    /// Commits everything tracked so far, then sends everything due, waiting at most `timeout`
    /// in all (never earlier than a backoff allows). A report with `timed_out == false` means
    /// the commit happened: the events tracked before this call survive a crash, whatever
    /// delivery then achieved. Fails with `Storage` when they could not be committed.
    pub fn flush(&self, timeout: Duration) -> Result<FlushReport> {
        // The uploader answers at the deadline; the grace covers the hand-over.
        let answered_by = Instant::now() + timeout + Duration::from_millis(50);
        let deadline_ms = self
            .shared
            .clock
            .monotonic_ms()
            .saturating_add(millis(timeout));
        let start = lock(&self.shared.status).totals.clone();
        let (reply, report) = channel();
        // One step: the worker commits what came before, then hands the flush to the uploader.
        self.send(Command::Flush(FlushRequest {
            deadline_ms,
            start: start.clone(),
            reply,
        }))?;
        match report.recv_timeout(answered_by.saturating_duration_since(Instant::now())) {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(failure)) => Err(failure.into()),
            Err(_) => Ok(self.timed_out_report(&start)),
        }
    }

    /// Waits (at most `timeout`, real time) until every earlier call is committed and the
    /// upload thread sleeps with nothing due at the clock's time: after advancing a manual
    /// clock, what was due has been done. False if that did not happen in time.
    pub fn settle(&self, timeout: Duration) -> bool {
        let give_up = Instant::now() + timeout;
        // Twice: what one round sets going on the other thread (a launch released at its
        // deadline kicks the uploader; the uploader hands the worker commands) is done by the
        // second.
        for _ in 0..2 {
            let (synced, committed) = channel();
            if self.send(Command::Sync(synced)).is_err() {
                return false;
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if committed.recv_timeout(left).is_err() {
                return false;
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if !self.shared.signal.settle(self.shared.clock.as_ref(), left) {
                return false;
            }
        }
        true
    }

    /// What happened since `start`, for a flush that ran out of time.
    fn timed_out_report(&self, start: &FlushReport) -> FlushReport {
        let totals = lock(&self.shared.status).totals.clone();
        flush::report(start, &totals, self.shared.waiting(), true)
    }

    /// Removes every queued and dead-lettered event (keeps the install record).
    pub fn forget(&self, timeout: Duration) -> Result<()> {
        let (reply, answer) = channel();
        self.shared.begin_erase();
        self.shared.update_context(|c| c.click = None);
        self.send(Command::Forget(reply))?;
        wait(answer, timeout)
    }

    /// Deletes the dead letters.
    pub fn clear_dead_letters(&self, timeout: Duration) -> Result<()> {
        let (reply, answer) = channel();
        self.send(Command::ClearDeadLetters(reply))?;
        wait(answer, timeout)
    }

    /// Sets (or removes) the delivery listener; returns once the old one is no longer in use
    /// on an SDK thread.
    pub fn set_delivery_listener(&self, listener: Option<Arc<dyn DeliveryListener>>) {
        self.shared.listener.replace(listener);
    }

    /// Sets (or removes) the log sink; returns once the old one is no longer in use on an SDK
    /// thread.
    pub fn set_log_sink(&self, sink: Option<Arc<dyn LogSink>>) {
        self.shared.logger.set_sink(sink);
    }

    /// The SDK's health. Waits briefly for the worker so it reflects every earlier call.
    /// After shutdown: the last state, read just before the database was closed.
    pub fn diagnostics(&self) -> Diagnostics {
        let (reply, answer) = channel();
        let snapshot = match self.send(Command::Snapshot(reply)) {
            Ok(()) => answer
                .recv_timeout(Duration::from_secs(2))
                .unwrap_or(Err(StoreFailure::NoAnswer("timed out"))),
            Err(_) => {
                if let Some(last) = lock(&self.closing).last.clone() {
                    return last;
                }
                Err(StoreFailure::NoAnswer("the client is shut down"))
            }
        };
        self.collect_diagnostics(snapshot)
    }

    fn collect_diagnostics(
        &self,
        snapshot: std::result::Result<worker::StoreSnapshot, StoreFailure>,
    ) -> Diagnostics {
        let status = lock(&self.shared.status).clone();
        let storage_error = lock(&self.shared.storage_error).clone();
        crate::core::diagnostics::collect(
            &self.shared,
            snapshot.unwrap_or_default(),
            status,
            storage_error,
        )
    }

    /// Commits what was tracked, stops both threads, and closes and releases the database,
    /// within `timeout`. The upload thread gets half of it to finish a request in flight (its
    /// outcome is then stored); a request that takes longer is abandoned: the thread is left
    /// to end by itself when the request returns, touching nothing (the events stay queued
    /// and are sent again by the next client, with the same event ids). A flush waiting
    /// meanwhile is answered at once. `Ok` once the file is closed and released; `Timeout` if
    /// the store worker has not closed it yet (a second call waits again); `Storage` if what
    /// was tracked could not be committed. Every other call fails with `ShutDown` from the
    /// moment shutdown begins.
    pub fn shutdown(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut closing = lock(&self.closing);
        if let Some(commands) = lock(&self.commands).take() {
            self.shared.signal.shutdown();
            let halfway = Instant::now() + timeout / 2;
            if let Some(uploader) = closing.uploader.take() {
                let left = halfway.saturating_duration_since(Instant::now());
                if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = uploader.recv_timeout(left)
                {
                    self.shared.upload_abandoned.store(true, Ordering::SeqCst);
                    self.shared.logger.log(
                        LogLevel::Warn,
                        "shutdown: a request still in flight is abandoned; its events stay queued",
                    );
                }
            }
            // Waiting flushes are answered now (timed out: they acknowledge nothing).
            drop(self.shared.signal.take_flushes(|_| true));
            let (snapshot, last) = channel();
            let (reply, answer) = channel();
            let _ = commands.send(Command::Snapshot(snapshot));
            let _ = commands.send(Command::Close(reply));
            drop(commands);
            let left = deadline.saturating_duration_since(Instant::now());
            if let Ok(snapshot) = last.recv_timeout(left) {
                closing.last = Some(self.collect_diagnostics(snapshot));
            }
            closing.worker = Some(answer);
        }
        if let Some(answer) = closing.worker.take() {
            let left = deadline.saturating_duration_since(Instant::now());
            match answer.recv_timeout(left) {
                Ok(result) => closing.closed = Some(result),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    closing.worker = Some(answer);
                    return Err(ConversionsError::timeout(timeout));
                }
                // The worker ended without answering (it had stopped already): nothing is open.
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    closing.closed = Some(Ok(()))
                }
            }
        }
        match &closing.closed {
            Some(Err(failure)) => Err(failure.clone().into()),
            _ => Ok(()),
        }
    }
}

fn wait(answer: Receiver<std::result::Result<(), StoreFailure>>, timeout: Duration) -> Result<()> {
    match answer.recv_timeout(timeout) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(failure)) => Err(failure.into()),
        Err(_) => Err(ConversionsError::timeout(timeout)),
    }
}
