//! CPU time of the SDK's own threads, read from the kernel's per-thread counters
//! (`/proc/self/task/<tid>/schedstat`, nanoseconds on CPU), so an idle measurement counts
//! what the SDK's threads ran, not wall time. Linux only.

use std::collections::BTreeSet;
use std::time::Duration;

/// The SDK names its threads `app-conversions-*`; the kernel keeps the first 15 bytes.
const THREAD_PREFIX: &str = "app-conversions";

/// The ids of this process's SDK threads alive now.
pub fn sdk_threads() -> BTreeSet<u32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return BTreeSet::new();
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| t.file_name().to_str()?.parse::<u32>().ok())
        .filter(|tid| thread_name(*tid).is_some_and(|name| name.starts_with(THREAD_PREFIX)))
        .collect()
}

/// CPU time `tid` has used so far (zero once the thread has ended).
pub fn cpu_time(tid: u32) -> Duration {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// CPU time used by all of `tids` so far.
pub fn total_cpu(tids: &BTreeSet<u32>) -> Duration {
    tids.iter().map(|t| cpu_time(*t)).sum()
}

/// The kernel's name of thread `tid` (at most 15 bytes), if it is alive.
pub fn thread_name(tid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/comm"))
        .ok()
        .map(|name| name.trim_end().to_string())
}
