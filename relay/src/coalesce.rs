//! Coalescing: device requests for the same ad account and mode merged into upstream batches.
//!
//! A device request carries 1-5 events; the API takes 1,000 per call (20 in test mode) and
//! allows 5,000 calls a minute per ad account. So requests wait in a pending batch per
//! (ad account, test mode), never mixing live and test events, until the batch is full or
//! the linger has passed since its first request (Kafka's producer `linger.ms`), and then go
//! up as one call through [`crate::dispatch`]. Each device request stays whole inside one
//! batch, so its results are one contiguous slice of the answer: a request that would
//! overflow the pending batch sends that batch first and starts the next one, and a request
//! as large as a batch goes alone.
//!
//! The pending table holds at most two entries per configured ad account. A linger timer
//! knows the generation of the batch it was armed for and does nothing if that batch was
//! already sent (full) by the time it fires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::batch::{BatchKey, Outcome, Part};
use crate::dispatch::Dispatcher;

/// The device requests waiting for one key.
#[derive(Default)]
struct Pending {
    parts: Vec<(Part, oneshot::Sender<Outcome>)>,
    events: usize,
    generation: u64,
    opened: Option<std::time::Instant>,
}

impl Pending {
    fn take(&mut self) -> Vec<(Part, oneshot::Sender<Outcome>)> {
        if let Some(opened) = self.opened.take() {
            metrics::histogram!(crate::telemetry::LINGER_WAIT)
                .record(opened.elapsed().as_secs_f64());
        }
        self.events = 0;
        self.generation += 1;
        std::mem::take(&mut self.parts)
    }
}

/// Merges device requests into batches and hands full or lingered batches to the dispatcher.
pub(crate) struct Coalescer {
    linger: Duration,
    pending: Mutex<HashMap<BatchKey, Pending>>,
    dispatcher: Arc<Dispatcher>,
}

impl Coalescer {
    /// Batches wait at most `linger` before `dispatcher` sends them.
    pub(crate) fn new(linger: Duration, dispatcher: Arc<Dispatcher>) -> Self {
        Coalescer {
            linger,
            pending: Mutex::new(HashMap::new()),
            dispatcher,
        }
    }

    /// Adds a device request's events to the batch for `key`; the receiver gets the device's
    /// own answer once the upstream answered for its batch. Must run inside the runtime.
    pub(crate) fn submit(
        self: &Arc<Self>,
        key: BatchKey,
        part: Part,
    ) -> oneshot::Receiver<Outcome> {
        let (reply, answer) = oneshot::channel();
        let max = key.max_events();
        let mut ready = Vec::new();
        let mut arm = None;
        {
            let mut table = lock(&self.pending);
            let pending = table.entry(key.clone()).or_default();
            if !pending.parts.is_empty() && pending.events + part.count > max {
                ready.push(pending.take());
            }
            pending.events += part.count;
            pending.opened.get_or_insert_with(std::time::Instant::now);
            pending.parts.push((part, reply));
            if pending.events >= max || self.linger.is_zero() {
                ready.push(pending.take());
            } else if pending.parts.len() == 1 {
                arm = Some(pending.generation);
            }
        }
        for batch in ready {
            tokio::spawn(Arc::clone(&self.dispatcher).flush(key.clone(), batch));
        }
        if let Some(generation) = arm {
            let coalescer = Arc::clone(self);
            tokio::spawn(async move {
                tokio::time::sleep(coalescer.linger).await;
                coalescer.linger_passed(key, generation);
            });
        }
        answer
    }

    /// Sends the batch for `key` if it is still the one the timer was armed for.
    fn linger_passed(&self, key: BatchKey, generation: u64) {
        let batch = {
            let mut table = lock(&self.pending);
            match table.get_mut(&key) {
                Some(p) if p.generation == generation && !p.parts.is_empty() => p.take(),
                _ => return,
            }
        };
        tokio::spawn(Arc::clone(&self.dispatcher).flush(key, batch));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
