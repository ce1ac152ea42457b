//! The overhead table: what one task that does nothing costs through each executor
//! (submit + result), so the reader can tell how much work a task needs to be worth it.

use measure::report::Report;
use measure::{Bar, BarChart, Figure, Tone};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::hint::black_box;

use crate::demo::NOOP;
use worker_pool::ProcessPool;

// ANCHOR: approaches
/// Python's `[ex.submit(noop, i) for i in range(n)]`, then every result, on the process pool.
pub fn process_pool_submit(pool: &ProcessPool, n: u64) -> Vec<u64> {
    let tasks: Vec<_> = (0..n).map(|i| pool.submit(&NOOP, i)).collect();
    tasks
        .into_iter()
        .map(|t| t.wait().unwrap_or(u64::MAX))
        .collect()
}

/// `ex.map(noop, range(n), chunksize=...)`: `chunksize` tasks per round trip.
pub fn process_pool_map(pool: &ProcessPool, n: u64, chunksize: usize) -> Vec<u64> {
    pool.map(&NOOP, 0..n, chunksize)
        .map(|r| r.unwrap_or(u64::MAX))
        .collect()
}

/// The same on the thread pool: closures, no copies, no pipes.
pub fn thread_pool_submit(pool: &threads::ThreadPool, n: u64) -> Vec<u64> {
    let tasks: Vec<_> = (0..n).map(|i| pool.submit(move || black_box(i))).collect();
    tasks
        .into_iter()
        .map(|t| t.wait().unwrap_or(u64::MAX))
        .collect()
}

/// A new OS thread for every task (at most `workers` alive at once).
pub fn spawn_per_task(n: u64, workers: usize) -> Vec<u64> {
    let mut running = VecDeque::with_capacity(workers);
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        if running.len() == workers.max(1) {
            out.extend(
                running
                    .pop_front()
                    .and_then(|h: std::thread::JoinHandle<u64>| h.join().ok()),
            );
        }
        running.push_back(std::thread::spawn(move || black_box(i)));
    }
    out.extend(running.into_iter().filter_map(|h| h.join().ok()));
    out
}

/// rayon's scope: one heap-allocated job per task on its work-stealing pool.
pub fn rayon_spawn(n: u64) -> Vec<u64> {
    let mut out = vec![0u64; n as usize];
    rayon::scope(|s| {
        for (i, slot) in out.iter_mut().enumerate() {
            s.spawn(move |_| *slot = black_box(i as u64));
        }
    });
    out
}

/// rayon's parallel iterator: splits the range in a few big pieces, not one job per item.
pub fn rayon_par_iter(n: u64) -> Vec<u64> {
    (0..n).into_par_iter().map(black_box).collect()
}
// ANCHOR_END: approaches

/// The limit: calling the no-op in a loop, no executor at all.
pub fn direct(n: u64) -> Vec<u64> {
    (0..n).map(black_box).collect()
}

/// Microseconds per task of a row (its median time per run over `tasks` tasks); `None` for a
/// row that did not run or whose result did not verify.
pub fn micros_per_task(report: &Report, approach: &str) -> Option<f64> {
    let row = report.row(approach).filter(|r| r.verified != Some(false))?;
    Some(row.median_s? / report.workload.items.max(1) as f64 * 1e6)
}

/// `overhead.svg`: the time per task of every timed row, log scale, cheapest first.
pub fn chart(report: &Report) -> Figure {
    let mut bars: Vec<Bar> = report
        .results
        .iter()
        .filter_map(|r| {
            Some(Bar {
                label: r.display_name(),
                seconds: micros_per_task(report, &r.approach)? / 1e6,
                spread: None,
                note: None,
                tone: Tone::of(r.kind, r.lang),
            })
        })
        .collect();
    bars.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    BarChart {
        name: "overhead".into(),
        title: "Cost of one no-op task, submit + result (log scale), lower is better".into(),
        x_desc: "time per task".into(),
        bars,
    }
    .draw()
}
