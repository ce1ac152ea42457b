//! SIMD kernels and the JIT (chapter "JIT: what numba does, done in Rust"), each at a size
//! that fits in L2 (32,768 elements) and one that does not (10,000,000).
//!
//! The targets, to read off these numbers: explicit SIMD sum of squares at least 8x
//! the scalar loop in L2; the JIT within 1.5x of ahead-of-time Rust per element, at least
//! 20x the interpreter; compiling the default expression under 10 ms.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use simd_jit::data::{A, MUL_X, MUL_Y, f32_values, f64_values};
use simd_jit::expr::{DEFAULT_EXPR, Expr};
use simd_jit::{aot, interp, jit, simd};
use std::hint::black_box;
use std::time::Duration;

const SIZES: [usize; 2] = [32_768, 10_000_000];

type Sum = fn(&[f32]) -> f32;

fn sum_of_squares(c: &mut Criterion) {
    let kernels: [(&str, Sum); 6] = [
        ("scalar loop, in order", simd::sum_squares_scalar),
        ("16 accumulators", simd::sum_squares_lanes),
        ("16 accumulators, AVX2", simd::sum_squares_lanes_avx2),
        ("explicit SIMD", simd::sum_squares_simd),
        ("rayon + explicit SIMD", simd::sum_squares_rayon_simd),
        ("limit: read the same bytes", |xs| {
            simd::read_bytes(xs) as f32
        }),
    ];
    for n in SIZES {
        let xs = f32_values(n, MUL_X);
        let mut group = c.benchmark_group(format!("sum_of_squares/{n}"));
        group.throughput(Throughput::Bytes(4 * n as u64));
        group
            .sample_size(30)
            .measurement_time(Duration::from_secs(2));
        for (name, f) in kernels {
            group.bench_with_input(BenchmarkId::from_parameter(name), &xs, |b, xs| {
                b.iter(|| f(black_box(xs)))
            });
        }
        group.finish();
    }
}

fn axpy(c: &mut Criterion) {
    type Axpy = fn(f32, &[f32], &[f32], &mut [f32]);
    let kernels: [(&str, Axpy); 5] = [
        ("indexed loop", simd::axpy_scalar),
        ("iterator zip", simd::axpy_iter),
        ("blocks of 16, AVX2", simd::axpy_lanes_avx2),
        ("explicit SIMD", simd::axpy_simd),
        ("limit: stream the same bytes", |_, x, y, out| {
            simd::stream_bytes(x, y, out)
        }),
    ];
    for n in SIZES {
        let (x, y) = (f32_values(n, MUL_X), f32_values(n, MUL_Y));
        let mut out = vec![0.0f32; n];
        let mut group = c.benchmark_group(format!("axpy/{n}"));
        group.throughput(Throughput::Bytes(12 * n as u64));
        group
            .sample_size(30)
            .measurement_time(Duration::from_secs(2));
        for (name, f) in kernels {
            group.bench_function(name, |b| b.iter(|| f(A, black_box(&x), &y, &mut out)));
        }
        group.finish();
    }
}

fn jit_over_arrays(c: &mut Criterion) {
    let expr = Expr::parse(DEFAULT_EXPR).unwrap();
    let compiled = jit::compile(&expr).unwrap();
    for n in SIZES {
        let xs = f64_values(n);
        let mut out = vec![0.0f64; n];
        let mut group = c.benchmark_group(format!("jit/{n}"));
        group.throughput(Throughput::Elements(n as u64));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(2));
        group.bench_function("interpreter", |b| {
            b.iter(|| interp::interpret(&expr, black_box(&xs), &mut out))
        });
        group.bench_function("Cranelift JIT", |b| {
            b.iter(|| compiled.run(black_box(&xs), &mut out))
        });
        group.bench_function("Rust, ahead of time", |b| {
            b.iter(|| aot::default_expr(black_box(&xs), &mut out))
        });
        group.finish();
    }
}

fn jit_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("jit_compile");
    group.sample_size(50);
    for text in [
        DEFAULT_EXPR,
        "sqrt(abs(x)) * max(x, 1) - min(x / 3, -x) + 0.5",
    ] {
        group.bench_with_input(BenchmarkId::from_parameter(text), text, |b, text| {
            b.iter(|| {
                let expr = Expr::parse(black_box(text)).unwrap();
                jit::compile(&expr).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sum_of_squares, axpy, jit_over_arrays, jit_compile);
criterion_main!(benches);
