//! The suite of each part: what the chapter's tables measure. Each function registers the
//! rows of one table (a baseline, the approaches, the limit, the Python rows) on arrays that
//! [`crate::parts`] made, and says how results are checked; `measure` runs and reports them.

use std::hint::black_box;

use measure::units::count;
use measure::{Common, PythonScript, Suite, Verify};
use rayon::prelude::*;

use crate::cache::{decimal, fit};
use crate::data::{self, A, Bits, Shared};
use crate::expr::{DEFAULT_EXPR, Expr};
use crate::jit::{self, Compiled, Kernel};
use crate::lessons::{self, rows::*};
use crate::parts::Plan;
use crate::{aot, interp, simd};

/// Run `f` `reps` times (each time on `black_box`ed input, so nothing is hoisted out of the
/// loop) and return the last result.
fn repeat<T>(reps: usize, mut f: impl FnMut() -> T) -> T {
    let mut last = f();
    for _ in 1..reps {
        last = black_box(f());
    }
    last
}

fn where_(len: usize, bytes_per_element: usize, plan: &Plan) -> String {
    let bytes = (len * bytes_per_element) as u64;
    format!(
        "{} = {}: {}",
        count(len as u64),
        decimal(bytes),
        fit(bytes, &plan.levels)
    )
}

fn repeats_note(reps: usize, len: usize) -> String {
    format!(
        "each run repeats the kernel {} times over the same {} elements, so that it lasts long enough to time; throughput counts every pass",
        count(reps as u64),
        count(len as u64)
    )
}

/// The sum of squares of `xs`, `reps` passes per run: the in-order scalar loop (the
/// baseline) up to explicit SIMD and rayon, the read limit, numpy and numba.
pub fn sum_of_squares<'a>(
    xs: &'a [f32],
    reps: usize,
    in_cache: bool,
    plan: &Plan,
    common: &Common,
) -> Suite<'a> {
    let bytes = 4 * (xs.len() * reps) as u64;
    let workload = measure::Workload::new(
        format!("sum of squares, f32 × {}", where_(xs.len(), 4, plan)),
        bytes,
        "B",
    )
    .param("n", xs.len() as u64)
    .param("repeats", reps as u64);
    // ANCHOR: sum_of_squares
    let mut suite = Suite::new("simd-jit", workload, common);
    let timed = |kernel: fn(&[f32]) -> f32| move || repeat(reps, || kernel(black_box(xs)));

    suite.baseline(SCALAR, timed(simd::sum_squares_scalar));
    suite.approach(ITER, timed(simd::sum_squares_iter));
    suite.approach(LANES, timed(simd::sum_squares_lanes));
    suite.approach(LANES_AVX2, timed(simd::sum_squares_lanes_avx2));
    suite
        .approach(SIMD, timed(simd::sum_squares_simd))
        .note(simd::simd_level());
    suite.approach(RAYON_SIMD, timed(simd::sum_squares_rayon_simd));
    suite.limit(READ_ONE, timed(|xs| simd::read_bytes(xs) as f32));
    if !in_cache {
        suite.limit(READ_ALL, timed(|xs| simd::read_bytes_rayon(xs) as f32));
    }
    suite.python(
        PythonScript::new(
            "simd_jit.py",
            &["numpy dot", "numba loop", "numba fastmath"],
        )
        .arg("--kernel")
        .arg("sum-of-squares")
        .arg("--n")
        .arg(xs.len().to_string())
        .arg("--reps")
        .arg(reps.to_string()),
    );
    // Every approach adds in its own order: compare with the exact sum, within a tolerance.
    let exact = simd::sum_squares_f64(xs);
    suite.compare_with(data::near_exact(exact, 1e-4));
    // ANCHOR_END: sum_of_squares
    suite.footnote(format!(
        "explicit SIMD on this CPU: {}; every sum is checked against the exact one (computed in f64), within 1e-4 relative",
        simd::simd_level()
    ));
    if in_cache {
        suite.footnote(repeats_note(reps, xs.len()));
        suite.footnote("the limit here is the cache's read bandwidth, not memory's");
    }
    suite.conclude(move |r| lessons::sum_of_squares(r, in_cache));
    suite
}

/// `a*x + y` into an output array, `reps` passes per run: the indexed loop (the baseline) up
/// to explicit SIMD and rayon, the stream limit, numpy and numba.
pub fn axpy<'a>(
    (x, y): (&'a [f32], &'a [f32]),
    reps: usize,
    in_cache: bool,
    plan: &Plan,
    common: &Common,
) -> Suite<'a> {
    let n = x.len();
    let workload = measure::Workload::new(
        format!("a*x + y, f32, 3 arrays × {}", where_(n, 12, plan)),
        12 * (n * reps) as u64,
        "B",
    )
    .param("n", n as u64)
    .param("repeats", reps as u64);
    // ANCHOR: axpy_suite
    let mut suite = Suite::new("simd-jit", workload, common);
    type Axpy = fn(f32, &[f32], &[f32], &mut [f32]);
    let timed =
        |kernel: Axpy| move |out: &mut Vec<f32>| repeat(reps, || kernel(A, black_box(x), y, out));

    let out = Shared::new(vec![0.0f32; n]); // one buffer, reused by every run
    suite.baseline(AXPY_SCALAR, move || {
        repeat(reps, || {
            simd::axpy_scalar(A, black_box(x), y, &mut out.0.borrow_mut())
        });
        out.clone()
    });
    suite.approach_in(AXPY_ITER, vec![0.0; n], timed(simd::axpy_iter));
    suite.approach_in(AXPY_LANES, vec![0.0; n], timed(simd::axpy_lanes));
    suite.approach_in(AXPY_LANES_AVX2, vec![0.0; n], timed(simd::axpy_lanes_avx2));
    suite
        .approach_in(SIMD, vec![0.0; n], timed(simd::axpy_simd))
        .note(simd::simd_level());
    suite.approach_in(RAYON_SIMD, vec![0.0; n], timed(simd::axpy_rayon_simd));
    let mut sink = vec![0.0f32; n];
    suite.limit(STREAM_ONE, move || {
        repeat(reps, || simd::stream_bytes(black_box(x), y, &mut sink))
    });
    if !in_cache {
        let mut sink = vec![0.0f32; n];
        suite.limit(STREAM_ALL, move || {
            repeat(reps, || {
                simd::stream_bytes_rayon(black_box(x), y, &mut sink)
            })
        });
    }
    suite.python(
        PythonScript::new("simd_jit.py", &["numpy a*x + y", "numba loop"])
            .arg("--kernel")
            .arg("axpy")
            .arg("--n")
            .arg(n.to_string())
            .arg("--reps")
            .arg(reps.to_string()),
    );
    // FMA rounds a*x + y once instead of twice: the same within a tolerance, not bit for bit.
    suite.compare_with(measure::verify::within(1e-6));
    // ANCHOR_END: axpy_suite
    suite.footnote(format!(
        "a = {A}; explicit SIMD on this CPU: {}; results are checked against the indexed loop's within 1e-6 (FMA rounds once where a*x + y rounds twice)",
        simd::simd_level()
    ));
    if in_cache {
        suite.footnote(repeats_note(reps, n));
    }
    suite.conclude(move |r| lessons::axpy(r, in_cache));
    suite
}

/// The price of compiling: parse and interpret (the baseline) against Cranelift's set-up,
/// compile and first call, and Python's `compile()` and numba's first call.
pub fn jit_compile<'a>(probe: &'a [f64], plan: &'a Plan, common: &Common) -> Suite<'a> {
    let workload = measure::Workload::new(
        format!(
            "compile \"{}\", then run it on {} values",
            plan.text,
            probe.len()
        ),
        1,
        "compiles",
    )
    .param("expr", plan.text.as_str());
    // ANCHOR: jit_compile_suite
    let mut suite = Suite::new("simd-jit", workload, common);
    suite.baseline(PARSE, move || {
        let mut out = vec![0.0; probe.len()];
        if let Ok(expr) = Expr::parse(&plan.text) {
            interp::interpret(&expr, probe, &mut out);
        }
        Bits(out)
    });
    if plan.jit.is_ok() {
        suite.approach(COMPILE, move || FirstCall::new(&plan.text, probe));
    }
    suite.python(
        PythonScript::new(
            "simd_jit.py",
            &[
                "compile() to bytecode",
                "numba compile, warm process",
                "numba first call, fresh process",
            ],
        )
        .arg("--kernel")
        .arg("compile")
        .arg("--expr-py")
        .arg(plan.expr.to_python())
        .arg("--n")
        .arg(probe.len().to_string()),
    );
    suite.compare_with(data::same_bits);
    // ANCHOR_END: jit_compile_suite
    if let Err(e) = &plan.jit {
        suite.footnote(format!("no Cranelift rows: {e}"));
    }
    suite.footnote(
        "each Cranelift run starts from the text: parse, detect the CPU, set up a JIT module, generate and link the code, call it; freeing the code is not timed",
    );
    suite.conclude(lessons::jit_compile);
    suite
}

/// A compiled expression and its results on the probe values: verified by the results,
/// dropped (which frees the code) after the timed region.
struct FirstCall {
    _compiled: Option<Compiled>,
    values: Bits,
}

impl FirstCall {
    fn new(text: &str, probe: &[f64]) -> FirstCall {
        let compiled = Expr::parse(text).ok().and_then(|e| jit::compile(&e).ok());
        let mut out = vec![0.0; probe.len()];
        match &compiled {
            Some(c) => c.run(probe, &mut out),
            None => out.clear(), // fails verification, visibly
        }
        FirstCall {
            _compiled: compiled,
            values: Bits(out),
        }
    }
}

impl Verify for FirstCall {
    fn fingerprint(&self) -> measure::Fingerprint {
        self.values.fingerprint()
    }
}

/// `--expr` over `xs`, `reps` passes per run: the interpreter (the baseline), the JIT on one
/// core and with rayon, Rust ahead of time (default expression only), the copy limit, numpy,
/// numba and (out of cache) Python's for-loop.
pub fn jit_run<'a>(
    xs: &'a [f64],
    kernel: Option<Kernel<'a>>,
    reps: usize,
    in_cache: bool,
    plan: &'a Plan,
    common: &Common,
) -> Suite<'a> {
    let n = xs.len();
    let workload = measure::Workload::new(
        format!(
            "\"{}\" over f64 in and out, 2 arrays × {}",
            plan.text,
            where_(n, 16, plan)
        ),
        (n * reps) as u64,
        "values",
    )
    .param("expr", plan.text.as_str())
    .param("n", n as u64)
    .param("repeats", reps as u64);
    // ANCHOR: jit_suite
    let mut suite = Suite::new("simd-jit", workload, common);
    let expr = &plan.expr;

    let base = Shared::new(Bits(vec![0.0; n])); // one buffer, reused by every run
    suite.baseline(INTERPRETER, move || {
        repeat(reps, || {
            interp::interpret(expr, black_box(xs), &mut base.0.borrow_mut().0)
        });
        base.clone()
    });
    if let Some(k) = kernel {
        suite.approach_in(JIT, Bits(vec![0.0; n]), move |out| {
            repeat(reps, || k.run(black_box(xs), &mut out.0))
        });
        suite.approach_in(JIT_RAYON, Bits(vec![0.0; n]), move |out| {
            repeat(reps, || run_parallel(k, black_box(xs), &mut out.0))
        });
    }
    if Expr::parse(DEFAULT_EXPR).is_ok_and(|default| default == *expr) {
        suite.approach_in(AOT, Bits(vec![0.0; n]), move |out| {
            repeat(reps, || aot::default_expr(black_box(xs), &mut out.0))
        });
    }
    let mut sink = vec![0.0f64; n];
    suite.limit(COPY_ONE, move || {
        repeat(reps, || sink.copy_from_slice(black_box(xs)))
    });
    if !in_cache {
        let mut sink = vec![0.0f64; n];
        suite.limit(COPY_ALL, move || {
            repeat(reps, || {
                sink.par_chunks_mut(1 << 16)
                    .zip(black_box(xs).par_chunks(1 << 16))
                    .for_each(|(o, x)| o.copy_from_slice(x))
            })
        });
    }
    let python: &[&str] = if in_cache {
        &["numpy", "numba warm call"]
    } else {
        &["numpy", "numba warm call", "for-loop"]
    };
    suite.python(
        PythonScript::new("simd_jit.py", python)
            .arg("--kernel")
            .arg("expr")
            .arg("--expr-py")
            .arg(expr.to_python())
            .arg("--n")
            .arg(n.to_string())
            .arg("--reps")
            .arg(reps.to_string()),
    );
    suite.compare_with(data::same_bits); // same operations, same order: same bits
    // ANCHOR_END: jit_suite
    match (&plan.jit, kernel.is_some()) {
        (Err(e), _) => {
            suite.footnote(format!("no JIT rows: {e}"));
        }
        (Ok(()), false) => {
            suite.footnote("no JIT rows: the expression did not compile a second time");
        }
        _ => {}
    }
    if suite
        .names()
        .iter()
        .all(|(name, _, _)| name.as_str() != AOT)
    {
        suite.footnote(format!(
            "the ahead-of-time row exists for the default expression only ({DEFAULT_EXPR})"
        ));
    }
    if in_cache {
        suite.footnote(repeats_note(reps, n));
    }
    suite.footnote(
        "every result is checked bit for bit against the interpreter's (NaN payloads aside)",
    );
    suite.conclude(move |r| lessons::jit_run(r, in_cache));
    suite
}

// ANCHOR: parallel
/// numba's `parallel=True`, here: rayon splits the arrays, every thread calls the same code.
fn run_parallel(kernel: Kernel<'_>, xs: &[f64], out: &mut [f64]) {
    out.par_chunks_mut(1 << 16)
        .zip(xs.par_chunks(1 << 16))
        .for_each(|(o, x)| kernel.run(x, o));
}
// ANCHOR_END: parallel
