//! The squares of 0..N (chapter "Data processing is slow?"): every approach at a size that
//! stays in the allocator's reuse range (1 M numbers, 8 MB) and one that does not (10 M, 80 MB),
//! and the rows that write into a reused buffer with ordinary and with streaming stores (the
//! limit "refill a reused buffer" uses streaming stores; its ordinary-store twin is beside it).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use for_loop::*;
use std::hint::black_box;
use std::time::Duration;

/// An approach of the chapter: how many squares in, the vector out.
type Approach = fn(u64) -> Vec<u64>;

fn squares(c: &mut Criterion) {
    let approaches: [(&str, Approach); 8] = [
        ("for-loop + push", for_loop_push),
        ("for-loop + with_capacity", for_loop_with_capacity),
        ("iter().map().collect()", iter_map_collect),
        ("fill a zeroed Vec", fill_zeroed),
        ("collect into huge pages", collect_huge_pages),
        ("running sums into huge pages", running_sums_huge_pages),
        ("limit: fresh fill", fresh_fill),
        ("limit: fresh fill, huge pages", fresh_fill_huge_pages),
    ];
    for n in [1_000_000u64, 10_000_000] {
        let mut group = c.benchmark_group(format!("squares/{n}"));
        group.throughput(Throughput::Elements(n));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(3));
        for (name, f) in approaches {
            group.bench_with_input(BenchmarkId::from_parameter(name), &n, |b, &n| {
                b.iter(|| f(black_box(n)))
            });
        }
        // The rows that write into memory already mapped: ordinary stores read each cache
        // line before overwriting it, streaming stores do not.
        let mut buffer = vec![0u64; n as usize];
        group.bench_function("squares into a reused buffer", |b| {
            b.iter(|| squares_into(black_box(&mut buffer)))
        });
        group.bench_function("squares into a reused buffer, streaming stores", |b| {
            b.iter(|| squares_streaming(black_box(&mut buffer)))
        });
        group.bench_function("limit: refill a reused buffer", |b| {
            b.iter(|| refill(black_box(&mut buffer)))
        });
        group.bench_function("refill a reused buffer, ordinary stores", |b| {
            b.iter(|| refill_ordinary(black_box(&mut buffer)))
        });
        group.finish();
    }
}

criterion_group!(benches, squares);
criterion_main!(benches);
