//! What one timed run cost: wall time, the process's CPU time and its minor page faults.
//!
//! CPU time tells whether a run was busy or waiting (threads add CPU time, sleeping adds
//! none); page faults tell where the time of a fresh allocation goes (the kernel hands out
//! zeroed 4 KiB pages one fault at a time, unless asked for huge pages).

use serde::{Deserialize, Serialize};
use std::time::Instant;

/// A started measurement; [`Probe::stop`] turns it into a [`Sample`].
#[derive(Debug)]
pub struct Probe {
    wall: Instant,
    cpu_s: f64,
    minor_faults: u64,
}

/// One timed run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub minor_faults: u64,
}

impl Probe {
    pub fn start() -> Self {
        Probe {
            wall: Instant::now(),
            cpu_s: process_cpu_seconds(),
            minor_faults: minor_faults(),
        }
    }

    pub fn stop(self) -> Sample {
        let wall_s = self.wall.elapsed().as_secs_f64();
        Sample {
            wall_s,
            cpu_s: (process_cpu_seconds() - self.cpu_s).max(0.0),
            minor_faults: minor_faults().saturating_sub(self.minor_faults),
        }
    }
}

/// CPU time of the whole process (all threads), in seconds.
pub fn process_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Minor page faults of the whole process so far.
pub fn minor_faults() -> u64 {
    // SAFETY: getrusage writes into the zeroed struct we hand it and nothing else.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return 0;
        }
        usage.ru_minflt.max(0) as u64
    }
}

/// Median, minimum and maximum of a set of runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no values; NaNs are ignored.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_middle() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        let s = Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn a_busy_run_costs_cpu_and_a_fresh_buffer_costs_faults() {
        let probe = Probe::start();
        let v = vec![1u8; 64 << 20];
        let mut acc = 0u64;
        for chunk in v.chunks(4096) {
            acc = acc.wrapping_add(chunk[0] as u64);
        }
        std::hint::black_box(acc);
        let s = probe.stop();
        assert!(s.wall_s > 0.0);
        assert!(s.cpu_s > 0.0);
        // 64 MiB of fresh memory cannot arrive without page faults (huge pages or not).
        assert!(s.minor_faults > 0, "{s:?}");
    }
}
