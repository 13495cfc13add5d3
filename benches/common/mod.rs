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

/// Freeze lengths counted separately: the two targets (a 10 µs `track()` call, a 20 ms
/// batch) and two sizes between and above them.
const FREEZE_SIZES: [Duration; 4] = [
    Duration::from_micros(10),
    Duration::from_millis(1),
    Duration::from_millis(20),
    Duration::from_millis(100),
];

/// Spins on one thread for `length`, reading the clock back to back, and prints the share of
/// the time lost in freezes longer than 10 µs, how many freezes of each size in
/// [`FREEZE_SIZES`] there were per second, and the longest.
pub fn print_cpu_availability(length: Duration) {
    let started = Instant::now();
    let mut previous = started;
    let (mut lost, mut longest) = (Duration::ZERO, Duration::ZERO);
    let mut counts = [0u64; FREEZE_SIZES.len()];
    while previous - started < length {
        let now = Instant::now();
        let step = now - previous;
        if step > FREEZE_SIZES[0] {
            lost += step;
            longest = longest.max(step);
            for (count, size) in counts.iter_mut().zip(FREEZE_SIZES) {
                *count += u64::from(step > size);
            }
        }
        previous = now;
    }
    let wall = previous - started;
    let per_second = |i: usize| counts[i] as f64 / wall.as_secs_f64();
    println!(
        "control: busy thread frozen {:>4.1}% of {:.0} s; freezes/s over 10 µs {:.0}, over 1 ms {:.0}, \
         over 20 ms {:.1}, over 100 ms {:.1}; longest {:.1} ms",
        lost.as_secs_f64() * 100.0 / wall.as_secs_f64(),
        wall.as_secs_f64(),
        per_second(0),
        per_second(1),
        per_second(2),
        per_second(3),
        longest.as_secs_f64() * 1000.0
    );
}
