//! The lines under each table: the chapter's lessons and the targets, in this run's
//! own numbers.

use measure::Report;
use measure::units::{duration, ratio};

/// Row names shared by `main.rs`, the lessons and the tests.
pub mod rows {
    pub const SCALAR: &str = "scalar loop, in order";
    pub const ITER: &str = "iterator, in order";
    pub const LANES: &str = "16 accumulators (compiler vectorises)";
    pub const LANES_AVX2: &str = "16 accumulators, recompiled for AVX2";
    pub const SIMD: &str = "explicit SIMD, run-time dispatch";
    pub const RAYON_SIMD: &str = "rayon + explicit SIMD";
    pub const READ_ONE: &str = "read the same bytes, one core";
    pub const READ_ALL: &str = "read the same bytes, all cores";
    pub const STREAM_ONE: &str = "stream the same bytes, one core";
    pub const STREAM_ALL: &str = "stream the same bytes, all cores";
    pub const NUMPY_DOT: &str = "Python numpy dot";

    pub const AXPY_SCALAR: &str = "indexed loop";
    pub const AXPY_ITER: &str = "iterator zip";
    pub const AXPY_LANES: &str = "blocks of 16 (compiler vectorises)";
    pub const AXPY_LANES_AVX2: &str = "blocks of 16, recompiled for AVX2";

    pub const INTERPRETER: &str = "interpreter, a tree walk per element";
    pub const JIT: &str = "Cranelift JIT, warm call";
    pub const JIT_RAYON: &str = "Cranelift JIT + rayon";
    pub const AOT: &str = "Rust, ahead of time";
    pub const COPY_ONE: &str = "copy the same bytes, one core";
    pub const COPY_ALL: &str = "copy the same bytes, all cores";
    pub const NUMBA_WARM: &str = "Python numba warm call";
    pub const NUMPY: &str = "Python numpy";

    pub const PARSE: &str = "parse only (all the interpreter needs)";
    pub const COMPILE: &str = "Cranelift: JIT set-up + compile + first call";
    pub const NUMBA_FIRST: &str = "Python numba first call, fresh process";
}

fn median(report: &Report, name: &str) -> Option<f64> {
    report
        .row(name)
        .filter(|r| r.verified != Some(false))
        .and_then(|r| r.median_s)
}

fn gbps(report: &Report, name: &str) -> Option<f64> {
    report
        .row(name)
        .and_then(|r| r.throughput.as_ref())
        .map(|t| t.value / 1e9)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

/// Whether `ours` beat `theirs`: "met" by the medians; where the medians say no but the two
/// rows' min…max ranges overlap, the run cannot tell them apart, and the verdict says so.
fn race(report: &Report, ours: &str, theirs: &str) -> &'static str {
    let spread = |name: &str| {
        report
            .row(name)
            .and_then(|r| Some((r.min_s?, r.median_s?, r.max_s?)))
    };
    match (spread(ours), spread(theirs)) {
        (Some((_, a, _)), Some((_, b, _))) if a <= b => "met",
        (Some((a_min, _, _)), Some((_, _, b_max))) if a_min <= b_max => {
            "missed by the medians, a tie within this run's min…max"
        }
        _ => "missed",
    }
}

/// Sum of squares (`in_cache`: the array fits in L2).
pub fn sum_of_squares(report: &Report, in_cache: bool) -> Vec<String> {
    use rows::*;
    let mut lines = Vec::new();
    if let (Some(scalar), Some(simd)) = (median(report, SCALAR), median(report, SIMD)) {
        let speedup = scalar / simd;
        let target = if in_cache {
            format!(
                " (target on an array in L2: at least 8x — {})",
                verdict(speedup >= 8.0)
            )
        } else {
            String::new()
        };
        lines.push(format!(
            "Explicit SIMD runs {} faster than the in-order scalar loop{target}.",
            ratio(speedup)
        ));
    }
    if let (Some(simd), Some(dot)) = (median(report, SIMD), median(report, NUMPY_DOT)) {
        lines.push(format!(
            "numpy.dot took {} per run, explicit SIMD {}: {} (target: ahead of numpy.dot — {}).",
            duration(dot),
            duration(simd),
            ratio(dot / simd),
            race(report, SIMD, NUMPY_DOT)
        ));
    }
    if let (Some(simd), Some(limit)) = (gbps(report, SIMD), gbps(report, READ_ONE)) {
        let what = if in_cache {
            "reading the same bytes from cache"
        } else {
            "reading the same bytes from memory on one core"
        };
        lines.push(format!(
            "Explicit SIMD: {simd:.1} GB/s, {:.0}% of {what} ({limit:.1} GB/s).",
            100.0 * simd / limit
        ));
    }
    if !in_cache
        && let (Some(par), Some(limit)) = (gbps(report, RAYON_SIMD), gbps(report, READ_ALL))
    {
        lines.push(format!(
            "rayon + SIMD: {par:.1} GB/s against {limit:.1} GB/s for reading with all cores: past this, only fewer bytes help."
        ));
    }
    lines
}

/// `a*x + y`.
pub fn axpy(report: &Report, in_cache: bool) -> Vec<String> {
    use rows::*;
    let mut lines = Vec::new();
    if let (Some(scalar), Some(simd), Some(iter)) = (
        median(report, AXPY_SCALAR),
        median(report, SIMD),
        median(report, AXPY_ITER),
    ) {
        lines.push(format!(
            "Element-wise code vectorises by itself: against the indexed loop, the iterator runs at {}, explicit SIMD at {}.",
            ratio(scalar / iter),
            ratio(scalar / simd)
        ));
    }
    if let (Some(simd), Some(limit)) = (gbps(report, SIMD), gbps(report, STREAM_ONE)) {
        let place = if in_cache { "cache" } else { "memory" };
        lines.push(format!(
            "Explicit SIMD moves {simd:.1} GB/s; moving the same bytes through {place} without arithmetic, {limit:.1} GB/s."
        ));
    }
    lines
}

/// The JIT over an array.
pub fn jit_run(report: &Report, in_cache: bool) -> Vec<String> {
    use rows::*;
    let mut lines = Vec::new();
    if let (Some(jit), Some(aot)) = (median(report, JIT), median(report, AOT)) {
        let r = jit / aot;
        lines.push(format!(
            "JIT time per element / ahead-of-time Rust: {} (target: at most 1.5x — {}).",
            ratio(r),
            verdict(r <= 1.5)
        ));
    }
    if let (Some(jit), Some(interp)) = (median(report, JIT), median(report, INTERPRETER)) {
        let r = interp / jit;
        lines.push(format!(
            "The JIT runs {} faster than the tree-walking interpreter (target: at least 20x — {}).",
            ratio(r),
            verdict(r >= 20.0)
        ));
    }
    if let (Some(jit), Some(numba)) = (median(report, JIT), median(report, NUMBA_WARM)) {
        lines.push(format!(
            "numba's warm call took {}, the JIT {}: {} (target: no slower than numba — {}).",
            duration(numba),
            duration(jit),
            ratio(numba / jit),
            race(report, JIT, NUMBA_WARM)
        ));
        if in_cache && numba < jit {
            lines.push(
                "numba's LLVM compiles for the CPU's widest vectors (up to 512 bits with AVX-512); Cranelift's x86-64 backend stops at 128 bits, trading code quality for compile time (see the compile table).".into(),
            );
        }
    }
    if let (Some(jit), Some(numpy)) = (median(report, JIT), median(report, NUMPY)) {
        lines.push(format!(
            "numpy evaluates the expression one whole-array operation at a time (a temporary array per step): {}, {} the JIT's time.",
            duration(numpy),
            ratio(numpy / jit)
        ));
    }
    lines
}

/// Compiling the expression.
pub fn jit_compile(report: &Report) -> Vec<String> {
    use rows::*;
    let mut lines = Vec::new();
    if let Some(compile) = median(report, COMPILE) {
        lines.push(format!(
            "Cranelift compiled the expression, JIT set-up included, in {} (target: under 10 ms — {}).",
            duration(compile),
            verdict(compile < 0.010)
        ));
        if let Some(numba) = median(report, NUMBA_FIRST) {
            lines.push(format!(
                "numba's first call in a fresh process (after `import numba`) took {}: {} as long.",
                duration(numba),
                ratio(numba / compile)
            ));
        }
    }
    lines
}
