//! Shared, thread-safe state of one sandbox: recorded requests, accepted events, the
//! fault queue and the advertiser-defined event names.
//!
//! Each kind of data sits behind its own mutex so the hot path (accepting a batch of
//! 1,000 events) takes the `accepted` lock once per request and never contends with
//! readers of the request log. Every lock goes through [`lock`], which recovers a
//! poisoned mutex instead of panicking: the data is append-only, so a panic elsewhere
//! cannot leave it half-updated in a way that matters to a test double.
//!
//! An accepted event is kept as a byte range of the recorded request body it came in,
//! not as a parsed tree: a parsed 600-byte event takes several kilobytes of heap, and a
//! sandbox that kept 100,000 of them spent most of each answer growing its heap.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::config::SandboxConfig;
use crate::faults::Fault;
use crate::sdk_settings::SdkSettings;

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
    /// Request body as text, inflated when it came gzip-compressed (invalid UTF-8 replaced;
    /// empty when over the size cap).
    pub body: String,
    /// Its `Content-Encoding` header, if any.
    pub content_encoding: Option<String>,
    /// Bytes of body on the wire (before inflating).
    pub wire_bytes: usize,
    /// HTTP status sent back; `0` when no status line was sent (dropped connection).
    pub status: u16,
}

/// Locks a mutex, recovering the data if another thread panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The request log, with the id the next request gets. Ids are handed out under the same
/// lock as the pushes, so the log is sorted by id.
#[derive(Default)]
struct RequestLog {
    next_id: u64,
    entries: Vec<(u64, RecordedRequest)>,
}

impl RequestLog {
    /// The body of the request with this id, if it is still in the log.
    fn body(&self, id: u64) -> Option<&str> {
        let index = self.entries.binary_search_by_key(&id, |(i, _)| *i).ok()?;
        Some(&self.entries[index].1.body)
    }
}

/// One event answered `processed`: which recorded request carried it, and where in its body.
pub(crate) struct AcceptedEvent {
    /// Id of the recorded request, as returned by [`Shared::record`].
    pub(crate) request: u64,
    /// The event's JSON text within that request's body.
    pub(crate) text: Range<usize>,
    /// Its `event_id`, when it had one.
    pub(crate) event_id: Option<String>,
}

/// Events answered `processed` outside test mode, plus a per-`event_id` counter.
#[derive(Default)]
struct Accepted {
    events: Vec<(u64, Range<usize>)>,
    by_id: HashMap<String, usize>,
}

/// Everything the server threads and the [`crate::Sandbox`] handle share.
pub(crate) struct Shared {
    /// Configuration fixed at start.
    pub(crate) config: SandboxConfig,
    faults: Mutex<VecDeque<Fault>>,
    requests: Mutex<RequestLog>,
    accepted: Mutex<Accepted>,
    accepted_changed: Condvar,
    custom_names: Mutex<HashSet<String>>,
    /// The remote settings route of a relay (`crate::sdk_settings`).
    pub(crate) sdk_settings: SdkSettings,
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
            requests: Mutex::new(RequestLog::default()),
            accepted: Mutex::new(Accepted::default()),
            accepted_changed: Condvar::new(),
            custom_names: Mutex::new(custom_names),
            sdk_settings: SdkSettings::default(),
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
        let mut log = lock(&self.requests);
        log.next_id += 1;
        let id = log.next_id;
        log.entries.push((id, request));
        id
    }

    /// Sets the status of a recorded request once the answer is known.
    pub(crate) fn set_status(&self, id: u64, status: u16) {
        let mut log = lock(&self.requests);
        if let Ok(index) = log.entries.binary_search_by_key(&id, |(i, _)| *i) {
            log.entries[index].1.status = status;
        }
    }

    /// Copy of the request log, oldest first.
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests)
            .entries
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Stores accepted events and wakes waiters.
    pub(crate) fn accept(&self, events: Vec<AcceptedEvent>) {
        if events.is_empty() {
            return;
        }
        let mut accepted = lock(&self.accepted);
        accepted.events.reserve(events.len());
        for event in events {
            if let Some(id) = event.event_id {
                *accepted.by_id.entry(id).or_insert(0) += 1;
            }
            accepted.events.push((event.request, event.text));
        }
        drop(accepted);
        self.accepted_changed.notify_all();
    }

    /// The JSON text of every accepted event, in arrival order.
    fn accepted_texts<T>(&self, mut each: impl FnMut(&str) -> T) -> Vec<T> {
        let accepted = lock(&self.accepted);
        let log = lock(&self.requests);
        accepted
            .events
            .iter()
            .filter_map(|(request, text)| log.body(*request)?.get(text.clone()))
            .map(&mut each)
            .collect()
    }

    /// The accepted events, parsed, in arrival order.
    pub(crate) fn accepted(&self) -> Vec<Value> {
        self.accepted_texts(|text| serde_json::from_str(text).unwrap_or(Value::Null))
    }

    /// How many events were accepted (duplicates counted).
    pub(crate) fn accepted_count(&self) -> usize {
        lock(&self.accepted).events.len()
    }

    /// The accepted events as one JSON array, built from their recorded text.
    pub(crate) fn accepted_json(&self) -> Vec<u8> {
        let texts = self.accepted_texts(|text| text.to_string());
        format!("[{}]", texts.join(",")).into_bytes()
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

    /// Drops the faults not yet applied.
    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// Forgets requests, accepted events and queued faults (custom names stay).
    pub(crate) fn reset(&self) {
        lock(&self.faults).clear();
        self.sdk_settings.reset_counts();
        lock(&self.requests).entries.clear();
        {
            let mut accepted = lock(&self.accepted);
            accepted.events.clear();
            accepted.by_id.clear();
        }
        self.accepted_changed.notify_all();
    }
}
