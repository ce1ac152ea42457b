//! SIMD kernels on `f32` arrays, from the plain loop to explicit AVX2 picked at run time.
//!
//! numba compiles for the CPU it runs on. Rust compiles ahead of time for a baseline CPU
//! (SSE2 on x86-64), so a binary that wants the running CPU's wider instructions carries
//! both versions and picks one at run time: [`sum_squares_simd`] checks for AVX2 and FMA
//! with `is_x86_feature_detected!` and calls the intrinsics version, or falls back to
//! portable code the compiler vectorises for any CPU. The public functions are all safe.
//!
//! Two kernels: a reduction (the sum of squares, whose summation order changes the last
//! bits of the result, so approaches are compared within a tolerance) and an element-wise
//! one (`a*x + y`, one pass over three arrays).

use rayon::prelude::*;

/// Elements per rayon task: big enough to hide the task's overhead, small enough to balance.
const PAR_CHUNK: usize = 1 << 16;

/// What [`sum_squares_simd`] and [`axpy_simd`] run on this CPU.
pub fn simd_level() -> &'static str {
    if has_avx2_fma() {
        "AVX2+FMA intrinsics"
    } else {
        "portable fallback (16 accumulators)"
    }
}

// ANCHOR: detect
/// Whether this CPU has AVX2 and FMA (checked once by std, then cached).
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
// ANCHOR_END: detect

// ANCHOR: scalar
/// The plain loop: one multiply and one add per element, in order. Each add waits for the
/// one before (floating-point addition is not associative, so the compiler may not reorder
/// it): the loop runs at the adder's latency, not its throughput. The sum is kept in f64:
/// an f32 running sum of ten million squares loses about 1% (the small squares vanish
/// against the large sum).
#[allow(
    clippy::needless_range_loop,
    reason = "the indexed loop is the point: the talk's for-loop"
)]
pub fn sum_squares_scalar(xs: &[f32]) -> f32 {
    let mut sum = 0.0f64;
    for i in 0..xs.len() {
        sum += (xs[i] * xs[i]) as f64;
    }
    sum as f32
}

/// The iterator version: the same in-order sum, so the same speed and the same bits.
pub fn sum_squares_iter(xs: &[f32]) -> f32 {
    xs.iter().map(|x| (x * x) as f64).sum::<f64>() as f32
}
// ANCHOR_END: scalar

/// Elements per block of the vectorised sums: each block is summed in f32 lanes, then
/// added to an f64 total, so the error stays that of a 4,096-element sum whatever the size.
const BLOCK: usize = 4096;

// ANCHOR: lanes
/// Sixteen independent running sums: the reordering the compiler may not do, done by hand.
/// Now the sixteen adds of a step do not wait for each other, and the compiler turns them
/// into SIMD instructions for whatever CPU it compiles for.
#[inline(always)]
fn lanes_block(xs: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for k in 0..LANES {
            acc[k] += chunk[k] * chunk[k];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for x in rest {
        sum += x * x;
    }
    sum
}

#[inline(always)]
fn lanes_body(xs: &[f32]) -> f64 {
    xs.chunks(BLOCK)
        .map(|block| lanes_block(block) as f64)
        .sum()
}

/// Sixteen accumulators, compiled for the baseline CPU (SSE2 on x86-64).
pub fn sum_squares_lanes(xs: &[f32]) -> f32 {
    lanes_body(xs) as f32
}
// ANCHOR_END: lanes

// ANCHOR: multiversion
/// The same portable code compiled a second time with AVX2 enabled, picked at run time:
/// no intrinsics, just wider instructions for the same source.
pub fn sum_squares_lanes_avx2(xs: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { x86::lanes_avx2(xs) } as f32;
    }
    lanes_body(xs) as f32
}
// ANCHOR_END: multiversion

// ANCHOR: dispatch
/// The sum of squares with the best instructions of the running CPU: AVX2+FMA intrinsics
/// where the CPU has them, the portable sixteen-accumulator code everywhere else.
pub fn sum_squares_simd(xs: &[f32]) -> f32 {
    sum_squares_simd_f64(xs) as f32
}

fn sum_squares_simd_f64(xs: &[f32]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above), the only requirement of
        // a `#[target_feature(enable = "avx2,fma")]` function.
        return unsafe { x86::sum_squares_avx2_fma(xs) };
    }
    lanes_body(xs)
}
// ANCHOR_END: dispatch

// ANCHOR: rayon
/// All cores, each running the SIMD kernel on its share of the array.
pub fn sum_squares_rayon_simd(xs: &[f32]) -> f32 {
    let total: f64 = xs.par_chunks(PAR_CHUNK).map(sum_squares_simd_f64).sum();
    total as f32
}
// ANCHOR_END: rayon

/// The exact answer to compare with: every square and the sum in f64.
pub fn sum_squares_f64(xs: &[f32]) -> f64 {
    xs.iter().map(|&x| x as f64 * x as f64).sum()
}

// ANCHOR: axpy
/// `out = a*x + y`, the plain indexed loop (bounds checks and all).
pub fn axpy_scalar(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
    let n = out.len().min(x.len()).min(y.len());
    for i in 0..n {
        out[i] = a * x[i] + y[i];
    }
}

/// The iterator version: no bounds checks, and the compiler vectorises it for SSE2.
pub fn axpy_iter(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(x).zip(y) {
        *o = a * x + y;
    }
}
// ANCHOR_END: axpy

#[inline(always)]
fn axpy_lanes_body(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
    const LANES: usize = 16;
    let n = out.len().min(x.len()).min(y.len());
    let (out, x, y) = (&mut out[..n], &x[..n], &y[..n]);
    let mut o = out.chunks_exact_mut(LANES);
    let (xc, yc) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    for ((o, x), y) in (&mut o).zip(xc).zip(yc) {
        for k in 0..LANES {
            o[k] = a * x[k] + y[k];
        }
    }
    let done = n - o.into_remainder().len();
    for i in done..n {
        out[i] = a * x[i] + y[i];
    }
}

/// Blocks of sixteen, compiled for the baseline CPU.
pub fn axpy_lanes(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
    axpy_lanes_body(a, x, y, out);
}

/// Blocks of sixteen, recompiled for AVX2 and picked at run time.
pub fn axpy_lanes_avx2(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { x86::axpy_lanes_avx2(a, x, y, out) };
    }
    axpy_lanes_body(a, x, y, out);
}

/// `a*x + y` with AVX2+FMA intrinsics where the CPU has them (one rounding per element
/// instead of two, so the last bit may differ from the other versions), else the portable
/// blocks of sixteen.
pub fn axpy_simd(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { x86::axpy_avx2_fma(a, x, y, out) };
    }
    axpy_lanes_body(a, x, y, out);
}

/// All cores, each running [`axpy_simd`] on its share.
pub fn axpy_rayon_simd(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
    out.par_chunks_mut(PAR_CHUNK)
        .zip(x.par_chunks(PAR_CHUNK))
        .zip(y.par_chunks(PAR_CHUNK))
        .for_each(|((o, x), y)| axpy_simd(a, x, y, o));
}

// ANCHOR: limits
/// The limit of a reduction: read the same bytes and do (almost) nothing with them, a
/// wrapping sum of their bits, with the widest instructions the CPU has.
pub fn read_bytes(xs: &[f32]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { x86::read_bytes_avx2(xs) };
    }
    read_bytes_body(xs)
}

/// The limit of an element-wise kernel: read both inputs and write the output, with no
/// arithmetic (the bitwise xor of the inputs).
pub fn stream_bytes(x: &[f32], y: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { x86::stream_bytes_avx2(x, y, out) };
    }
    stream_bytes_body(x, y, out);
}
// ANCHOR_END: limits

/// [`read_bytes`] on all cores.
pub fn read_bytes_rayon(xs: &[f32]) -> u32 {
    xs.par_chunks(PAR_CHUNK)
        .map(read_bytes)
        .reduce(|| 0, u32::wrapping_add)
}

/// [`stream_bytes`] on all cores.
pub fn stream_bytes_rayon(x: &[f32], y: &[f32], out: &mut [f32]) {
    out.par_chunks_mut(PAR_CHUNK)
        .zip(x.par_chunks(PAR_CHUNK))
        .zip(y.par_chunks(PAR_CHUNK))
        .for_each(|((o, x), y)| stream_bytes(x, y, o));
}

#[inline(always)]
fn read_bytes_body(xs: &[f32]) -> u32 {
    // Integer addition is associative: the compiler vectorises this loop by itself.
    xs.iter().fold(0u32, |s, x| s.wrapping_add(x.to_bits()))
}

#[inline(always)]
fn stream_bytes_body(x: &[f32], y: &[f32], out: &mut [f32]) {
    for ((o, x), y) in out.iter_mut().zip(x).zip(y) {
        *o = f32::from_bits(x.to_bits() ^ y.to_bits());
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The versions compiled for AVX2 (and FMA). Calling one is `unsafe` for one reason only:
    //! the CPU must have the features it is compiled for. The callers check first.
    use std::arch::x86_64::*;

    // ANCHOR: avx2
    /// Eight accumulators of eight lanes each: sixty-four squares in flight, enough to keep
    /// both FMA units busy while each FMA's result is still four cycles away. Each block's
    /// f32 sum goes into an f64 total.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn sum_squares_avx2_fma(xs: &[f32]) -> f64 {
        xs.chunks(super::BLOCK).map(|b| block(b) as f64).sum()
    }

    #[target_feature(enable = "avx2,fma")]
    fn block(xs: &[f32]) -> f32 {
        const ACC: usize = 8;
        let mut acc = [_mm256_setzero_ps(); ACC];
        let chunks = xs.chunks_exact(8 * ACC);
        let rest = chunks.remainder();
        for chunk in chunks {
            for (k, acc) in acc.iter_mut().enumerate() {
                // SAFETY: `chunk` holds 64 floats, so 8 at offset 8·k (k < 8) are in bounds.
                let v = unsafe { _mm256_loadu_ps(chunk.as_ptr().add(8 * k)) };
                *acc = _mm256_fmadd_ps(v, v, *acc); // acc + v·v, one rounding
            }
        }
        // Add the accumulators pairwise, then the eight lanes of the last one.
        let mut width = ACC;
        while width > 1 {
            width /= 2;
            for k in 0..width {
                acc[k] = _mm256_add_ps(acc[k], acc[k + width]);
            }
        }
        let half = _mm_add_ps(
            _mm256_castps256_ps128(acc[0]),
            _mm256_extractf128_ps(acc[0], 1),
        );
        let quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
        let one = _mm_add_ss(quarter, _mm_shuffle_ps(quarter, quarter, 0b01));
        let mut sum = _mm_cvtss_f32(one);
        for &x in rest {
            sum = x.mul_add(x, sum);
        }
        sum
    }
    // ANCHOR_END: avx2

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn axpy_avx2_fma(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
        let n = out.len().min(x.len()).min(y.len());
        let va = _mm256_set1_ps(a);
        let mut i = 0;
        while i + 32 <= n {
            for k in (0..32).step_by(8) {
                // SAFETY: i + k + 8 <= i + 32 <= n, and all three slices hold at least n.
                unsafe {
                    let vx = _mm256_loadu_ps(x.as_ptr().add(i + k));
                    let vy = _mm256_loadu_ps(y.as_ptr().add(i + k));
                    _mm256_storeu_ps(out.as_mut_ptr().add(i + k), _mm256_fmadd_ps(va, vx, vy));
                }
            }
            i += 32;
        }
        for j in i..n {
            out[j] = a.mul_add(x[j], y[j]);
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn lanes_avx2(xs: &[f32]) -> f64 {
        super::lanes_body(xs)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn axpy_lanes_avx2(a: f32, x: &[f32], y: &[f32], out: &mut [f32]) {
        super::axpy_lanes_body(a, x, y, out)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn read_bytes_avx2(xs: &[f32]) -> u32 {
        super::read_bytes_body(xs)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn stream_bytes_avx2(x: &[f32], y: &[f32], out: &mut [f32]) {
        super::stream_bytes_body(x, y, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 37) % 101) as f32 / 7.0 - 6.0)
            .collect()
    }

    #[test]
    fn every_sum_of_squares_is_close_to_the_exact_one() {
        for n in [
            0, 1, 7, 15, 16, 17, 63, 64, 65, 1000, 4097, 100_003, 300_000, 3_000_000,
        ] {
            let xs = data(n);
            let exact = sum_squares_f64(&xs);
            for (name, f) in [
                ("scalar", sum_squares_scalar as fn(&[f32]) -> f32),
                ("iter", sum_squares_iter),
                ("lanes", sum_squares_lanes),
                ("lanes avx2", sum_squares_lanes_avx2),
                ("simd", sum_squares_simd),
                ("rayon", sum_squares_rayon_simd),
            ] {
                let got = f(&xs) as f64;
                let err = (got - exact).abs() / exact.max(1.0);
                assert!(err < 1e-6, "{name}, n = {n}: {got} vs {exact}");
            }
        }
        assert_eq!(
            sum_squares_scalar(&data(1000)),
            sum_squares_iter(&data(1000))
        );
    }

    #[test]
    fn every_axpy_matches_the_loop() {
        for n in [0, 1, 7, 31, 32, 33, 100, 100_003, 200_000] {
            let (x, y) = (data(n), data(n + 5)[5..].to_vec());
            let mut expected = vec![0.0; n];
            axpy_scalar(2.5, &x, &y, &mut expected);
            for (name, f) in [
                ("iter", axpy_iter as fn(f32, &[f32], &[f32], &mut [f32])),
                ("lanes", axpy_lanes),
                ("lanes avx2", axpy_lanes_avx2),
                ("simd", axpy_simd),
                ("rayon", axpy_rayon_simd),
            ] {
                let mut out = vec![f32::NAN; n];
                f(2.5, &x, &y, &mut out);
                for i in 0..n {
                    // FMA rounds once where a*x + y rounds twice: within one rounding.
                    let tol = expected[i].abs().max(1.0) * 1e-6;
                    assert!(
                        (out[i] - expected[i]).abs() <= tol,
                        "{name}, n = {n}, i = {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn limits_touch_every_byte() {
        let xs = data(1001);
        let expected = xs.iter().fold(0u32, |s, x| s.wrapping_add(x.to_bits()));
        assert_eq!(read_bytes(&xs), expected);
        assert_eq!(
            read_bytes_rayon(&data(300_001)),
            read_bytes_body(&data(300_001))
        );
        let mut out = vec![0.0; 1001];
        stream_bytes(&xs, &xs, &mut out);
        assert!(out.iter().all(|&v| v.to_bits() == 0));
        stream_bytes_rayon(&xs, &xs, &mut out);
        assert!(out.iter().all(|&v| v.to_bits() == 0));
    }
}
