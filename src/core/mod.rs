//! The SDK core in plain Rust (no binding concerns): the data flow of docs/ARCHITECTURE.md §2.
//!
//! `client` validates on the caller's thread (`event_builder`, `hash`, `privacy`), hands events
//! to the store `worker` (which owns the SQLite `store`), and the `upload` thread sends them
//! (`upload::policy` decides, `upload::flush` answers waiting flushes, `upload::transport`
//! moves bytes, `wire` shapes them). `lifecycle` notes launches and returns to the foreground
//! on the caller's side; `install` decides app_install or app_open on the worker. All time
//! comes from one `clock`.
//!
//! # Threading rules
//!
//! - **Three kinds of thread.** The app's threads call `Client` and never touch disk or
//!   network, and never wait except in `flush`, `forget`, `shutdown` and (briefly)
//!   `diagnostics`, each bounded by a timeout. The store worker owns the SQLite connection.
//!   The upload thread owns the HTTP agent and the [`upload::policy::UploadPolicy`].
//! - **Who writes what in [`shared::Shared`].** `context` and `token`: the app's calls.
//!   `status`: the upload thread. `storage_error`: the store worker. `custom_names`: `track`
//!   adds, the store worker loads and clears. The counters are atomics.
//! - **Lock order.** No code holds two of these locks at once, except that `Shared::status`
//!   may be read while nothing else is held. No lock is held across I/O, a channel wait or
//!   a call into the app: a `LogSink` or `DeliveryListener` is called with no SDK lock held,
//!   so it may call back into the SDK.
//! - **FIFO.** The store worker runs commands in the order they were sent on its one channel.
//!   The uploader relies on it: a batch asked for after an outcome sees that outcome, so it can
//!   store one outcome while the next request is in flight, and a batch read ahead (the rows
//!   after the one in flight) never overlaps it. A flush is a worker command: the worker
//!   commits the events tracked before it, then registers it with the uploader carrying the
//!   highest row committed, and row ids only grow, so "every row up to the flush's watermark
//!   has its outcome" is exact.
//! - **Waking.** Each timer lives on the thread that owns what it times. The upload thread
//!   sleeps until the policy's next deadline, a flush's deadline or a signal
//!   ([`signal::UploadSignal`], a doorbell). With nothing queued and nothing scheduled it has
//!   no deadline, and a commit rings it only when it does not know events wait. The store
//!   worker waits on its channel until a command or its own earliest deadline (a held
//!   launch's wait, the next try of failing storage; `worker::timers`), and has none while
//!   storage works and no launch waits. An idle SDK does not wake.
//! - **One client per database.** `db_lock` holds an exclusive `flock` on `<db>.lock` for
//!   the life of a client, across processes; the kernel releases it when the holder dies.
//!   The store's connection (EXCLUSIVE locking mode) also keeps the database file locked, so
//!   a deleted lock file lets no second process in; the store opens nothing without the lock.
//! - **Memory.** The command channel is unbounded so that `track` never blocks the app. What
//!   bounds memory is the store worker: it drains the channel in groups of up to 10,000
//!   commands per transaction, and while storage is down it keeps at most
//!   `max_queued_events` events in memory (evicting the oldest, never an app_install). The
//!   channel itself holds only what arrives while one transaction commits.

pub mod app_device_info;
pub mod callback;
pub mod click_id;
pub mod client;
pub mod clock;
pub mod config;
pub mod db_claim;
pub mod db_lock;
pub mod diagnostics;
pub mod error;
pub mod event_builder;
pub mod hash;
pub mod install;
pub mod lifecycle;
pub mod limits;
pub mod log;
pub mod model;
pub mod privacy;
pub mod record;
pub mod remote_settings;
pub mod server_time;
pub mod shared;
pub mod signal;
pub mod store;
pub mod sync;
pub mod upload;
pub mod wire;
pub mod worker;
