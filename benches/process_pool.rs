//! Per-task overhead of the process pool (chapter "When should you go parallel?"): a no-op
//! task through `submit` (chunksize 1) and through `map` with chunksize 100, on 2 workers.
//! Target (issue 3): at most 1/20 of Python's ProcessPoolExecutor (about 87 µs a task here),
//! i.e. under about 4.4 µs; a pipe round trip with compact frames costs about 1 µs.
//!
//! The workers are this bench binary started again: `main` below calls
//! `worker_pool::serve_if_worker` first, as every binary that starts a pool must.

use criterion::{BenchmarkId, Criterion, Throughput};
use process_pool::demo::{self, NOOP};
use process_pool::worker_pool::{ProcessPool, Registry};
use std::hint::black_box;
use std::time::Duration;

fn overhead(c: &mut Criterion) {
    let pool = ProcessPool::new(2).expect("the bench's worker processes start");
    const TASKS: u64 = 1_000;
    let mut group = c.benchmark_group("process_pool/no-op tasks");
    group.throughput(Throughput::Elements(TASKS));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(3));
    group.bench_with_input(
        BenchmarkId::from_parameter("submit + wait, chunksize 1"),
        &TASKS,
        |b, &n| {
            b.iter(|| {
                let tasks: Vec<_> = (0..n).map(|i| pool.submit(&NOOP, i)).collect();
                for t in tasks {
                    black_box(t.wait().expect("a no-op task succeeds"));
                }
            })
        },
    );
    group.bench_with_input(
        BenchmarkId::from_parameter("map, chunksize 100"),
        &TASKS,
        |b, &n| {
            b.iter(|| {
                for r in pool.map(&NOOP, 0..n, 100) {
                    black_box(r.expect("a no-op task succeeds"));
                }
            })
        },
    );
    group.finish();
    // One task alone: the latency of a round trip, with nothing to batch it with.
    let mut group = c.benchmark_group("process_pool/one task");
    group.throughput(Throughput::Elements(1));
    group.bench_function("submit + wait", |b| {
        b.iter(|| {
            black_box(
                pool.submit(&NOOP, 1u64)
                    .wait()
                    .expect("a no-op task succeeds"),
            )
        })
    });
    group.finish();
}

fn main() {
    process_pool::worker_pool::serve_if_worker(&demo::register(Registry::new()));
    let mut criterion = Criterion::default().configure_from_args();
    overhead(&mut criterion);
    criterion.final_summary();
}
