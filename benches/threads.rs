//! Per-task overhead of the executors (chapter "the concurrent.futures way"): what one no-op
//! task costs through `threads::ThreadPool` (submit + wait), a fresh `std::thread::spawn` per
//! task, and rayon, with as many workers as cores.
//!
//! Two shapes: a batch (submit 1,000 tasks, then wait for all: the cost per task when the queue
//! is kept busy) and a round trip (submit one task, wait for it: two thread wake-ups per task).
//! Python's `ThreadPoolExecutor` on the same machine costs several µs per task in a batch.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::Duration;
use threads::{Task, ThreadPool};

const BATCH: u64 = 1_000;

fn batch(c: &mut Criterion) {
    let workers = threads::cores();
    let pool = ThreadPool::new(workers);
    let mut group = c.benchmark_group(format!("task overhead/batch of {BATCH} no-ops"));
    group
        .throughput(Throughput::Elements(BATCH))
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    group.bench_function(BenchmarkId::new("thread pool submit+wait", workers), |b| {
        b.iter(|| {
            let tasks: Vec<Task<u64>> = (0..BATCH)
                .map(|i| pool.submit(move || black_box(i)))
                .collect();
            tasks
                .into_iter()
                .map(|t| t.wait().unwrap_or(0))
                .sum::<u64>()
        })
    });
    group.bench_function("std::thread::spawn+join", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..BATCH)
                .map(|i| std::thread::spawn(move || black_box(i)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(0))
                .sum::<u64>()
        })
    });
    group.bench_function(
        BenchmarkId::new("rayon scope spawn", rayon::current_num_threads()),
        |b| {
            b.iter(|| {
                rayon::scope(|s| {
                    for i in 0..BATCH {
                        s.spawn(move |_| {
                            black_box(i);
                        });
                    }
                })
            })
        },
    );
    group.bench_function(
        BenchmarkId::new("rayon par_iter", rayon::current_num_threads()),
        |b| b.iter(|| (0..BATCH).into_par_iter().map(black_box).sum::<u64>()),
    );
    group.finish();
}

fn round_trip(c: &mut Criterion) {
    let workers = threads::cores();
    let pool = ThreadPool::new(workers);
    let mut group = c.benchmark_group("task overhead/one at a time");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    group.bench_function(BenchmarkId::new("thread pool submit+wait", workers), |b| {
        b.iter(|| pool.submit(|| black_box(1u64)).wait().unwrap_or(0))
    });
    group.bench_function("std::thread::spawn+join", |b| {
        b.iter(|| std::thread::spawn(|| black_box(1u64)).join().unwrap_or(0))
    });
    group.bench_function(
        BenchmarkId::new("rayon scope spawn", rayon::current_num_threads()),
        |b| {
            b.iter(|| {
                rayon::scope(|s| {
                    s.spawn(|_| {
                        black_box(1u64);
                    })
                })
            })
        },
    );
    group.finish();
}

criterion_group!(benches, batch, round_trip);
criterion_main!(benches);
