//! Why a timed call was slow, as the kernel saw it on the calling thread (Linux only; other
//! systems print nothing): a wait on a contended lock, a preemption, a page fault, or none of
//! these. Also the cost of writing to fresh and reused memory, which a growing heap pays.

use crate::percentiles;

/// Per-thread kernel counters: minor page faults, voluntary context switches (the thread
/// waited, for instance on a contended lock), involuntary ones (it was preempted), and the
/// CPU time it has run.
#[derive(Clone, Copy)]
pub struct ThreadCounters {
    faults: i64,
    waits: i64,
    preemptions: i64,
    cpu_nanos: u64,
}

#[cfg(target_os = "linux")]
pub fn thread_counters() -> Option<ThreadCounters> {
    // SAFETY: getrusage fills the zeroed struct it is lent and keeps no pointer to it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let status = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    // SAFETY: clock_gettime fills the zeroed struct it is lent and keeps no pointer to it.
    let mut cpu: libc::timespec = unsafe { std::mem::zeroed() };
    let cpu_status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut cpu) };
    (status == 0 && cpu_status == 0).then_some(ThreadCounters {
        faults: usage.ru_minflt,
        waits: usage.ru_nvcsw,
        preemptions: usage.ru_nivcsw,
        cpu_nanos: cpu.tv_sec as u64 * 1_000_000_000 + cpu.tv_nsec as u64,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn thread_counters() -> Option<ThreadCounters> {
    None
}

/// A call slower than this counts towards the on-CPU share of its class.
const SLOW_NANOS: u64 = 20_000;

/// Timed calls of one cause: their durations, and for the slow ones the wall and CPU time.
#[derive(Default)]
struct CauseClass {
    nanos: Vec<u64>,
    slow_wall: u64,
    slow_cpu: u64,
}

/// Timed calls sorted by what happened on the calling thread during each.
#[derive(Default)]
pub struct CallsByCause {
    waited: CauseClass,
    preempted: CauseClass,
    faulted: CauseClass,
    none: CauseClass,
}

impl CallsByCause {
    /// Files one call of `nanos` under its cause, from the counters read around it.
    pub fn add(
        &mut self,
        nanos: u64,
        before: Option<ThreadCounters>,
        after: Option<ThreadCounters>,
    ) {
        let (Some(b), Some(a)) = (before, after) else {
            return;
        };
        let class = if a.waits > b.waits {
            &mut self.waited
        } else if a.preemptions > b.preemptions {
            &mut self.preempted
        } else if a.faults > b.faults {
            &mut self.faulted
        } else {
            &mut self.none
        };
        class.nanos.push(nanos);
        if nanos > SLOW_NANOS {
            class.slow_wall += nanos;
            class.slow_cpu += (a.cpu_nanos - b.cpu_nanos).min(nanos);
        }
    }

    /// Prints each cause's share of `calls` and its percentiles.
    pub fn print(self, calls: usize) {
        if self.none.nanos.is_empty() {
            return;
        }
        println!(
            "  by what the kernel counted on the calling thread during the call \
             (share of calls; percentiles; CPU share of calls over {} µs):",
            SLOW_NANOS / 1000
        );
        for (label, mut class) in [
            ("waited (a contended lock)", self.waited),
            ("preempted", self.preempted),
            ("took a page fault", self.faulted),
            ("none of these", self.none),
        ] {
            let share = class.nanos.len() as f64 * 100.0 / calls as f64;
            if class.nanos.is_empty() {
                println!("    {label:<26} {share:>6.2}%");
                continue;
            }
            let on_cpu = class.slow_cpu as f64 * 100.0 / class.slow_wall.max(1) as f64;
            println!(
                "    {label:<26} {share:>6.2}%   {}   on CPU {on_cpu:>3.0}%",
                percentiles(&mut class.nanos)
            );
        }
    }
}

/// Microseconds per 4 KiB page to write into 32 MiB of memory the process never used, then
/// into the same memory again after handing it back to the kernel: what heap growth costs here.
#[cfg(target_os = "linux")]
pub fn page_touch_micros() -> Option<(f64, f64)> {
    const LEN: usize = 32 << 20;
    const PAGE: usize = 4096;
    // SAFETY: an anonymous private mapping this function alone uses, written only within LEN,
    // and unmapped before it returns.
    unsafe {
        let base = libc::mmap(
            std::ptr::null_mut(),
            LEN,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if base == libc::MAP_FAILED {
            return None;
        }
        let bytes = base as *mut u8;
        let touch = || {
            let t = std::time::Instant::now();
            for offset in (0..LEN).step_by(PAGE) {
                std::ptr::write_volatile(bytes.add(offset), 1);
            }
            t.elapsed().as_secs_f64() * 1e6 / (LEN / PAGE) as f64
        };
        let fresh = touch();
        libc::madvise(base, LEN, libc::MADV_DONTNEED);
        let reused = touch();
        libc::munmap(base, LEN);
        Some((fresh, reused))
    }
}

#[cfg(not(target_os = "linux"))]
pub fn page_touch_micros() -> Option<(f64, f64)> {
    None
}
