//! What both bench binaries share: percentiles, and a control they print, how much of the wall
//! clock this machine actually gives a busy thread. On a virtual machine the host can freeze a virtual CPU without the guest
//! seeing it (the guest still counts the time as the thread's CPU time), and every latency and
//! rate measured in the same run pays for those freezes.

use std::time::{Duration, Instant};

/// The `p` percentile (0.0 to 1.0) of `sorted`, divided by 1000: nanoseconds to microseconds,
/// or microseconds to milliseconds.
pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0
}

/// A clock reading later than the previous one by more than this counts as a freeze.
const GAP: Duration = Duration::from_micros(20);

/// Spins on one thread for `length`, reading the clock back to back, and prints the share of
/// the time lost in freezes longer than 20 µs, how many there were per second, and the longest.
pub fn print_cpu_availability(length: Duration) {
    let started = Instant::now();
    let mut previous = started;
    let (mut lost, mut gaps, mut longest) = (Duration::ZERO, 0u64, Duration::ZERO);
    while previous - started < length {
        let now = Instant::now();
        let step = now - previous;
        if step > GAP {
            lost += step;
            gaps += 1;
            longest = longest.max(step);
        }
        previous = now;
    }
    let wall = previous - started;
    println!(
        "control: busy thread frozen {:>4.1}% of {:.0} s ({:.0} freezes/s over 20 µs, longest {:.1} ms)",
        lost.as_secs_f64() * 100.0 / wall.as_secs_f64(),
        wall.as_secs_f64(),
        gaps as f64 / wall.as_secs_f64(),
        longest.as_secs_f64() * 1000.0
    );
}
