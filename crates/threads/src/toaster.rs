//! Sequential against parallel, told with the talk's toaster: 100 slices of bread, 30 seconds
//! each. One toaster takes 50 minutes; four toasters take 12.5.
//!
//! Here a slice takes milliseconds, not seconds (an analogy: 1 ms stands for 1 s), and toasting
//! is `thread::sleep`: the thread waits and its core is free. That is why k toasters are about
//! k times faster even on a machine with fewer than k cores. The last row makes toasting
//! *computing* instead (the same time of arithmetic on one core): then the cores are the limit.

use crate::{TaskResults, ThreadPool, cores};
use measure::report::Report;
use measure::units::{duration, ratio};
use measure::{Common, Suite, Timeline, Workload};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

/// What to toast, and with how many toasters.
#[derive(Debug, Clone, Copy)]
pub struct Toasting {
    pub slices: u64,
    pub toasters: usize,
    /// One slice's toasting time (the analogy: 1 ms stands for 1 s).
    pub toast: Duration,
}

// ANCHOR: toast
/// Toasting one slice: the thread waits for the toaster; its core is free meanwhile.
pub fn toast(slice: u64, time: Duration) -> u64 {
    thread::sleep(time);
    slice
}

/// One toaster: one slice after the other.
pub fn one_toaster(slices: u64, time: Duration) -> Vec<u64> {
    (0..slices).map(|slice| toast(slice, time)).collect()
}

/// k toasters: a pool of k worker threads, each toasting one slice at a time.
pub fn toasters(k: usize, slices: u64, time: Duration) -> TaskResults<u64> {
    let pool = ThreadPool::new(k);
    pool.map(move |slice| toast(slice, time), 0..slices)
        .collect()
}
// ANCHOR_END: toast

// ANCHOR: busy
/// A toaster that must compute to toast: `spins` steps of arithmetic that keep a core busy
/// (calibrated to take as long as a slice's toasting on one core).
pub fn busy_toast(slice: u64, spins: u64) -> u64 {
    let mut x = slice | 1;
    for _ in 0..spins {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
    black_box(x);
    slice
}

/// k computing toasters: k threads, but only as many run at once as there are cores.
pub fn busy_toasters(k: usize, slices: u64, spins: u64) -> TaskResults<u64> {
    let pool = ThreadPool::new(k);
    pool.map(move |slice| busy_toast(slice, spins), 0..slices)
        .collect()
}
// ANCHOR_END: busy

/// How many [`busy_toast`] steps take `time` on one core (the fastest of a few tries).
pub fn calibrate(time: Duration) -> u64 {
    const PROBE: u64 = 1 << 20;
    let best = (0..5)
        .map(|_| {
            let start = Instant::now();
            busy_toast(0, PROBE);
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::from_millis(1))
        .max(Duration::from_nanos(1));
    (time.as_secs_f64() / best.as_secs_f64() * PROBE as f64).max(1.0) as u64
}

/// Row names.
pub const ONE: &str = "one toaster";

pub fn many(k: usize) -> String {
    format!("{k} toasters (thread pool, {k} workers)")
}

pub fn busy(k: usize) -> String {
    format!("{k} toasters that compute instead of wait")
}

/// The toaster suite: one toaster (the baseline), k toasters, k computing toasters.
pub fn suite<'a>(t: Toasting, common: &Common) -> Suite<'a> {
    let ms = t.toast.as_secs_f64() * 1e3;
    let workload = Workload::new("toasting slices of bread", t.slices, "slices")
        .param("toasters", t.toasters as u64)
        .param(
            "toast",
            format!(
                "{} per slice, standing for {:.0} s",
                duration(t.toast.as_secs_f64()),
                ms
            ),
        )
        .param("cores", cores() as u64);
    let Toasting {
        slices,
        toasters: k,
        toast: time,
    } = t;
    // Calibrated only when the busy row runs (not for --list).
    let mut spins = None;
    let mut suite = Suite::new("threads: toaster", workload, common);
    suite.baseline(ONE, move || one_toaster(slices, time));
    suite
        .approach(&many(k), move || toasters(k, slices, time))
        .note("sleeping threads: waiting, not computing");
    suite
        .approach(&busy(k), move || {
            let spins = *spins.get_or_insert_with(|| calibrate(time));
            busy_toasters(k, slices, spins)
        })
        .note("each slice is arithmetic on one core for as long as a toast");
    suite.show_cpu().conclude(move |report| lessons(report, t));
    suite
}

/// The lesson in this run's numbers.
pub fn lessons(report: &Report, t: Toasting) -> Vec<String> {
    let median = |name: &str| report.row(name).and_then(|r| r.median_s);
    lessons_from(
        median(ONE),
        median(&many(t.toasters)),
        median(&busy(t.toasters)),
        t,
        cores(),
    )
}

/// [`lessons`] from the medians of the three rows (one toaster, `k` waiting, `k` computing).
fn lessons_from(
    one: Option<f64>,
    many_s: Option<f64>,
    busy_s: Option<f64>,
    t: Toasting,
    cores: usize,
) -> Vec<String> {
    let ms = t.toast.as_secs_f64() * 1e3;
    let k = t.toasters;
    let mut lines = Vec::new();
    let Some(one) = one else {
        return lines;
    };
    lines.push(format!(
        "One toaster took {} for {} slices of {ms:.0} ms (at best {}).",
        duration(one),
        t.slices,
        duration(t.slices as f64 * t.toast.as_secs_f64())
    ));
    if let Some(many_s) = many_s {
        let speedup = one / many_s;
        let why = if speedup >= 0.75 * k as f64 {
            format!(
                "toasting is waiting, not computing: a sleeping thread needs no core, so all {k} \
                 toasted at once"
            )
        } else {
            format!(
                "less than the {k}x that waiting allows: in this run the threads did not all \
                 wait at once (sleeps woke late, or handing out slices cost a good part of a \
                 toast)"
            )
        };
        lines.push(format!(
            "{k} toasters took {}: {} faster, on {cores} core(s); {why}.",
            duration(many_s),
            ratio(speedup)
        ));
    }
    if let Some(busy_s) = busy_s {
        let best = k.min(cores);
        let speedup = one / busy_s;
        let why = if speedup >= 0.75 * best as f64 {
            format!("{cores} core(s) can run only {best} of them at a time")
        } else {
            format!(
                "at best {best}x on {cores} core(s), and less in this run: the cores were not \
                 all ours (other programs), or the slices did not share out evenly"
            )
        };
        lines.push(format!(
            "When toasting is computing, {k} toasters gave {}: {why}.",
            ratio(speedup)
        ));
    }
    lines
}

/// The lines printed before the table.
pub fn preface(t: Toasting) -> Vec<String> {
    let ms = t.toast.as_secs_f64() * 1e3;
    vec![
        format!(
            "An analogy: 1 ms here stands for 1 s of toasting. {} slices of bread, {ms:.0} ms each \
             (the talk: 100 slices of 30 s, 50 minutes in one toaster, 12.5 in four).",
            t.slices
        ),
        format!(
            "One toaster toasts one slice after the other; {} toasters are {} worker threads of \
             a ThreadPool, on a machine with {} core(s).",
            t.toasters,
            t.toasters,
            cores()
        ),
    ]
}

/// One more run of the k toasters on a pool that records when each slice was toasted.
pub fn timeline(t: Toasting) -> Timeline {
    let pool = ThreadPool::with_timeline(t.toasters);
    let time = t.toast;
    let slices: Vec<_> = (0..t.slices)
        .map(|slice| pool.submit_named(slice.to_string(), move || toast(slice, time)))
        .collect();
    let done = slices.into_iter().filter_map(|s| s.wait().ok()).count();
    Timeline {
        name: "toaster-timeline".into(),
        title: format!(
            "{} toasters, {done} slices of {} each (1 ms stands for 1 s of toasting)",
            t.toasters,
            duration(time.as_secs_f64())
        ),
        spans: pool.spans(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slice_is_toasted_once_in_order() {
        let t = Duration::from_millis(1);
        assert_eq!(one_toaster(5, t), vec![0, 1, 2, 3, 4]);
        assert_eq!(toasters(3, 5, t).0.unwrap(), vec![0, 1, 2, 3, 4]);
        assert_eq!(busy_toasters(2, 5, 10).0.unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn the_lessons_follow_the_numbers() {
        let t = Toasting {
            slices: 8,
            toasters: 4,
            toast: Duration::from_millis(10),
        };
        // The usual story: waiting toasters all at once, computing ones limited by 2 cores.
        let lines = lessons_from(Some(0.08), Some(0.021), Some(0.041), t, 2).join("\n");
        assert!(lines.contains("a sleeping thread needs no core"), "{lines}");
        assert!(
            lines.contains("2 core(s) can run only 2 of them"),
            "{lines}"
        );
        // Contrary numbers: waiting toasters that did not overlap, computing ones far below.
        let lines = lessons_from(Some(0.08), Some(0.07), Some(0.08), t, 2).join("\n");
        assert!(lines.contains("did not all wait at once"), "{lines}");
        assert!(!lines.contains("needs no core"), "{lines}");
        assert!(lines.contains("less in this run"), "{lines}");
        assert!(lessons_from(None, Some(1.0), None, t, 2).is_empty());
    }

    #[test]
    fn calibration_gives_some_work() {
        assert!(calibrate(Duration::from_millis(2)) >= 1);
    }

    #[test]
    fn the_timeline_has_a_span_per_slice_on_k_workers() {
        let tl = timeline(Toasting {
            slices: 6,
            toasters: 3,
            toast: Duration::from_millis(2),
        });
        assert_eq!(tl.spans.len(), 6);
        let mut workers: Vec<_> = tl.spans.iter().map(|s| s.worker.as_str()).collect();
        workers.sort();
        workers.dedup();
        assert!(workers.len() <= 3 && !workers.is_empty());
        assert!(tl.spans.iter().all(|s| s.label.parse::<u64>().is_ok()));
    }
}
