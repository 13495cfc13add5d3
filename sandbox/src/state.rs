//! Shared, thread-safe state of one sandbox: recorded requests, accepted events, the
//! fault queue and the advertiser-defined event names.
//!
//! Each kind of data sits behind its own mutex so the hot path (accepting a batch of
//! 1,000 events) takes the `accepted` lock once per request and never contends with
//! readers of the request log. Every lock goes through [`lock`], which recovers a
//! poisoned mutex instead of panicking: the data is append-only, so a panic elsewhere
//! cannot leave it half-updated in a way that matters to a test double.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::config::SandboxConfig;
use crate::faults::Fault;

/// One request received on the events endpoint, as recorded by the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// Request path without the query string, e.g. `/v5/ad_accounts/549768257474/events`.
    pub path: String,
    /// Raw query string without the leading `?` (empty when there was none).
    pub query: String,
    /// Whether the query carried `test=true` (case-insensitive).
    pub test_mode: bool,
    /// Raw `Authorization` header value, if any.
    pub authorization: Option<String>,
    /// Raw `User-Agent` header value, if any.
    pub user_agent: Option<String>,
    /// Request body as text (invalid UTF-8 replaced; empty when over the size cap).
    pub body: String,
    /// HTTP status sent back; `0` when no status line was sent (dropped connection).
    pub status: u16,
}

/// Locks a mutex, recovering the data if another thread panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Events answered `processed` outside test mode, plus a per-`event_id` counter.
#[derive(Default)]
struct Accepted {
    events: Vec<Value>,
    by_id: HashMap<String, usize>,
}

/// Everything the server threads and the [`crate::Sandbox`] handle share.
pub(crate) struct Shared {
    /// Configuration fixed at start.
    pub(crate) config: SandboxConfig,
    faults: Mutex<VecDeque<Fault>>,
    requests: Mutex<Vec<(u64, RecordedRequest)>>,
    next_request_id: Mutex<u64>,
    accepted: Mutex<Accepted>,
    accepted_changed: Condvar,
    custom_names: Mutex<HashSet<String>>,
}

impl Shared {
    /// Builds the state for `config`, seeding the custom event names from it.
    pub(crate) fn new(config: SandboxConfig) -> Shared {
        let custom_names = config
            .custom_event_names
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        Shared {
            config,
            faults: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            next_request_id: Mutex::new(0),
            accepted: Mutex::new(Accepted::default()),
            accepted_changed: Condvar::new(),
            custom_names: Mutex::new(custom_names),
        }
    }

    /// Queues a fault for a later events request.
    pub(crate) fn push_fault(&self, fault: Fault) {
        lock(&self.faults).push_back(fault);
    }

    /// Takes the oldest queued fault, if any.
    pub(crate) fn pop_fault(&self) -> Option<Fault> {
        lock(&self.faults).pop_front()
    }

    /// Appends a request to the log and returns a handle for [`Shared::set_status`].
    pub(crate) fn record(&self, request: RecordedRequest) -> u64 {
        let id = {
            let mut next = lock(&self.next_request_id);
            *next += 1;
            *next
        };
        lock(&self.requests).push((id, request));
        id
    }

    /// Sets the status of a recorded request once the answer is known.
    pub(crate) fn set_status(&self, id: u64, status: u16) {
        let mut requests = lock(&self.requests);
        if let Some((_, r)) = requests.iter_mut().rev().find(|(i, _)| *i == id) {
            r.status = status;
        }
    }

    /// Copy of the request log, oldest first.
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests)
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Stores accepted events (moved, not cloned) and wakes waiters.
    pub(crate) fn accept(&self, events: Vec<Value>) {
        if events.is_empty() {
            return;
        }
        let mut accepted = lock(&self.accepted);
        accepted.events.reserve(events.len());
        for event in events {
            if let Some(id) = event.get("event_id").and_then(Value::as_str) {
                match accepted.by_id.get_mut(id) {
                    Some(n) => *n += 1,
                    None => {
                        accepted.by_id.insert(id.to_string(), 1);
                    }
                }
            }
            accepted.events.push(event);
        }
        drop(accepted);
        self.accepted_changed.notify_all();
    }

    /// Copy of the accepted events, in arrival order.
    pub(crate) fn accepted(&self) -> Vec<Value> {
        lock(&self.accepted).events.clone()
    }

    /// The accepted events serialised as a JSON array (no intermediate copy).
    pub(crate) fn accepted_json(&self) -> Vec<u8> {
        serde_json::to_vec(&lock(&self.accepted).events).unwrap_or_else(|_| b"[]".to_vec())
    }

    /// How many accepted events carry this `event_id`.
    pub(crate) fn times_accepted(&self, event_id: &str) -> usize {
        lock(&self.accepted)
            .by_id
            .get(event_id)
            .copied()
            .unwrap_or(0)
    }

    /// Blocks until at least `count` events were accepted or `timeout` passed.
    pub(crate) fn wait_for_accepted(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut accepted = lock(&self.accepted);
        loop {
            if accepted.events.len() >= count {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            accepted = match self.accepted_changed.wait_timeout(accepted, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Adds an advertiser-defined event name (stored lower-case).
    pub(crate) fn register_custom_name(&self, name: &str) {
        lock(&self.custom_names).insert(name.to_ascii_lowercase());
    }

    /// Whether `name` is a registered advertiser-defined event name (case-insensitive).
    pub(crate) fn is_custom_name(&self, name: &str) -> bool {
        let names = lock(&self.custom_names);
        !names.is_empty() && names.contains(&name.to_ascii_lowercase())
    }

    /// Forgets requests, accepted events and queued faults (custom names stay).
    pub(crate) fn reset(&self) {
        lock(&self.faults).clear();
        lock(&self.requests).clear();
        {
            let mut accepted = lock(&self.accepted);
            accepted.events.clear();
            accepted.by_id.clear();
        }
        self.accepted_changed.notify_all();
    }
}
