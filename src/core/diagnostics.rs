//! `diagnostics()`: the SDK's health, put together from what the store worker counted, what
//! the upload thread last saw, the counters every thread keeps in memory, and the settings in
//! force.

use std::sync::atomic::Ordering;

use crate::core::model::{Diagnostics, FieldCount};
use crate::core::shared::{DeliveryStatus, Shared};
use crate::core::store::Counter;
use crate::core::sync::lock;
use crate::core::worker::StoreSnapshot;

/// The diagnostics of a client from the worker's `store` snapshot, the uploader's `status` and
/// the storage error of the moment.
pub fn collect(
    shared: &Shared,
    store: StoreSnapshot,
    status: DeliveryStatus,
    storage_error: Option<String>,
) -> Diagnostics {
    let count = |wanted: Counter| {
        store
            .counters
            .iter()
            .find(|(c, _)| *c == wanted)
            .map_or(0, |(_, v)| *v)
    };
    let now = shared.clock.now_secs();
    Diagnostics {
        queued: store.queued,
        oldest_queued_age_secs: store
            .oldest_created_at
            .map(|t| now.saturating_sub(t).max(0) as u64),
        dead_lettered: store.dead_lettered,
        recent_dead_letters: store.recent_dead_letters,
        delivered: count(Counter::Delivered),
        warnings: count(Counter::Warnings),
        sent_late: count(Counter::SentLate),
        resent_after_dedup_window: count(Counter::ResentAfterDedupWindow),
        dropped_expired: count(Counter::DroppedExpired),
        dropped_evicted: count(Counter::DroppedEvicted),
        dropped_purged: count(Counter::DroppedPurged),
        dropped_invalid: count(Counter::DroppedInvalid),
        dropped_no_identity: count(Counter::DroppedNoIdentity),
        existing_user_installs: count(Counter::ExistingUserInstalls),
        malformed_advertising_ids: shared.malformed_advertising_ids.load(Ordering::Relaxed),
        last_attempt_time: status.last_attempt_time,
        last_status: status.totals.last_status,
        last_error: status.last_error,
        next_attempt_time: if store.queued > 0 {
            let wall_ms = |at| shared.clock.wall_time_of(at);
            status
                .next_attempt_ms
                .map(|at| wall_ms(at).div_euclid(1000))
        } else {
            None
        },
        paused_reason: status.paused_reason,
        consecutive_failures: status.consecutive_failures,
        storage_error,
        database_recoveries: count(Counter::DatabaseRecoveries),
        worker_panics: shared.worker_panics.load(Ordering::Relaxed),
        upload_wakeups: shared.upload_wakeups.load(Ordering::Relaxed),
        invalid_fields: lock(&shared.invalid_fields)
            .iter()
            .map(|(field, count)| FieldCount {
                field: field.clone(),
                count: *count,
            })
            .collect(),
        settings_in_force: shared.remote.in_force(),
    }
}

/// `custom_data.contents[3].item_price` as `custom_data.contents.item_price`, so counts by field
/// stay few.
pub fn without_positions(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_brackets = false;
    for c in field.chars() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            c if !in_brackets => out.push(c),
            _ => {}
        }
    }
    out
}
