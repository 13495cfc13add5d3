//! Holds a callback the app implements (the log sink, the delivery listener) so that replacing
//! it is a clean cut: once `replace` returns, the old callback is neither running on an SDK
//! thread nor referenced by one, and it is never called again.
//!
//! That promise is what lets a host runtime tear down safely. Python, for one, ends any
//! thread that enters the interpreter after its shutdown began by unwinding it
//! (`pthread_exit`); an SDK thread unwound through Rust's `catch_unwind` aborts the process
//! ("FATAL: exception not rethrown"). The Python binding therefore removes the callbacks at
//! exit, before that shutdown, and relies on this wait to know no SDK thread is still inside
//! (or about to enter, or about to release) one. Kotlin and Swift get the same guarantee when
//! they drop a sink tied to a screen.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::core::sync::lock;

/// Longest `replace` waits for calls in progress (a callback that never returns must not
/// hang the app's call).
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

thread_local! {
    /// Callbacks this thread is inside right now (a callback may replace itself).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

struct Slot<T: ?Sized> {
    callback: Option<Arc<T>>,
    /// Calls in progress on any thread, each holding a clone of a callback.
    in_flight: usize,
}

/// An optional app callback, called with no SDK lock held.
pub struct CallbackSlot<T: ?Sized> {
    slot: Mutex<Slot<T>>,
    drained: Condvar,
}

impl<T: ?Sized> Default for CallbackSlot<T> {
    fn default() -> Self {
        CallbackSlot {
            slot: Mutex::new(Slot {
                callback: None,
                in_flight: 0,
            }),
            drained: Condvar::new(),
        }
    }
}

impl<T: ?Sized> CallbackSlot<T> {
    /// Calls the callback, if one is set, with no lock held; `None` when none is set.
    pub fn call<R>(&self, work: impl FnOnce(&T) -> R) -> Option<R> {
        let taken = {
            let mut slot = lock(&self.slot);
            let callback = slot.callback.clone()?;
            slot.in_flight += 1;
            callback
        };
        DEPTH.with(|d| d.set(d.get() + 1));
        let _finished = InFlight(self);
        // Declared after the guard, so dropped before it (also when `work` panics): a
        // `replace` that returns has nothing of the old callback left on this thread.
        let callback = taken;
        Some(work(&callback))
    }

    /// Sets or removes the callback. Returns once no other thread is inside the old one (at
    /// most five seconds), having released the slot's reference on the calling thread.
    pub fn replace(&self, callback: Option<Arc<T>>) {
        let old = std::mem::replace(&mut lock(&self.slot).callback, callback);
        drop(old);
        let own = DEPTH.with(Cell::get);
        let give_up = Instant::now() + DRAIN_LIMIT;
        let mut slot = lock(&self.slot);
        while slot.in_flight > own {
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            slot = match self.drained.wait_timeout(slot, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// Marks the end of one call, however it ends.
struct InFlight<'a, T: ?Sized>(&'a CallbackSlot<T>);

impl<T: ?Sized> Drop for InFlight<'_, T> {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        let mut slot = lock(&self.0.slot);
        slot.in_flight = slot.in_flight.saturating_sub(1);
        drop(slot);
        self.0.drained.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::channel;

    trait Callback: Send + Sync {
        fn run(&self);
    }

    struct Slow {
        started: Mutex<Option<std::sync::mpsc::Sender<()>>>,
        finished: AtomicBool,
    }

    impl Callback for Slow {
        fn run(&self) {
            if let Some(started) = self.started.lock().unwrap().take() {
                let _ = started.send(());
            }
            std::thread::sleep(Duration::from_millis(200));
            self.finished.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn replace_returns_only_after_calls_in_progress_have_finished_and_released() {
        let slot: Arc<CallbackSlot<dyn Callback>> = Arc::new(CallbackSlot::default());
        let (started, running) = channel();
        let slow = Arc::new(Slow {
            started: Mutex::new(Some(started)),
            finished: AtomicBool::new(false),
        });
        slot.replace(Some(slow.clone()));
        let caller = {
            let slot = slot.clone();
            std::thread::spawn(move || slot.call(|c| c.run()))
        };
        running.recv().unwrap();
        slot.replace(None);
        assert!(slow.finished.load(Ordering::SeqCst), "returned mid-call");
        assert_eq!(Arc::strong_count(&slow), 1, "an SDK thread still holds it");
        assert_eq!(slot.call(|c| c.run()), None, "never called again");
        caller.join().unwrap();
    }

    struct Replacer(Arc<CallbackSlot<dyn Callback>>);

    impl Callback for Replacer {
        fn run(&self) {
            self.0.replace(None);
        }
    }

    #[test]
    fn a_callback_may_remove_itself_without_waiting_for_itself() {
        let slot: Arc<CallbackSlot<dyn Callback>> = Arc::new(CallbackSlot::default());
        slot.replace(Some(Arc::new(Replacer(slot.clone()))));
        let began = Instant::now();
        assert_eq!(slot.call(|c| c.run()), Some(()));
        assert!(began.elapsed() < DRAIN_LIMIT);
        assert_eq!(slot.call(|_| ()), None, "removed");
    }
}
