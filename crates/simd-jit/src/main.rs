//! "JIT: what numba does, done in Rust". numba makes a numeric Python function fast by
//! compiling it for the running CPU at its first call. Rust compiles ahead of time, so this
//! example measures the two things numba's users actually get:
//!
//! - `simd`: kernels that use the running CPU's best instructions, picked at run time;
//! - `jit`: a real JIT (Cranelift) for an expression typed at run time (`--expr`).
//!
//! Each part is a `measure` suite of its own; with no part named, both run.

use std::hint::black_box;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use measure::units::count;
use measure::{Common, PythonScript, Suite, UsageError, Verify, cli::slug};
use rayon::prelude::*;

use simd_jit::cache::{self, Level, decimal, fit};
use simd_jit::data::{self, A, Bits, MUL_X, MUL_Y, Shared};
use simd_jit::expr::{DEFAULT_EXPR, Expr};
use simd_jit::jit::{self, Compiled, JitError, Kernel};
use simd_jit::lessons::{self, rows::*};
use simd_jit::multi::{Combined, Part};
use simd_jit::{aot, interp, simd, sweep};

/// SIMD kernels with run-time CPU dispatch, and a Cranelift JIT for an expression typed at
/// run time: numba's two gifts, done in Rust, beside numpy and numba measured in the same run.
///
/// `simd`: sum of squares and a*x + y on f32 arrays, from the plain loop to AVX2 intrinsics
/// picked at run time and rayon, on an array that fits in L2 and one that does not, with the
/// memory bandwidth beside them, then GB/s against array size. `jit`: compile time, then
/// --expr over the arrays with a tree-walking interpreter, the Cranelift JIT and (for the
/// default expression) the same code written in Rust.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Which part to run: `simd`, `jit`, or `all` (both).
    #[arg(value_enum, default_value_t = Which::All)]
    part: Which,

    /// Elements of the large arrays (out of cache)
    /// [default: 10,000,000, or 1,000,000 with --quick]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    n: Option<u64>,

    /// Elements of the small arrays, that fit in L2; in-cache runs repeat the kernel over
    /// them until they have done --n elements, so that each run is long enough to time.
    #[arg(long, default_value_t = 32_768, value_parser = clap::value_parser!(u64).range(16..=16_777_216))]
    n_cache: u64,

    /// The expression the JIT compiles, of one variable x: numbers, x, + - * /, unary minus,
    /// parentheses, sqrt(a), abs(a), min(a, b), max(a, b). Nesting deeper than 256 levels
    /// (parentheses, calls, unary minus and chained operators each count) is refused.
    #[arg(long, default_value = DEFAULT_EXPR, allow_hyphen_values = true)]
    expr: String,

    /// Also write the machine code the JIT generates for --expr into FILE (raw bytes; on
    /// x86-64: `objdump -D -b binary -mi386:x86-64 FILE`).
    #[arg(long, value_name = "FILE")]
    dump_code: Option<std::path::PathBuf>,

    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    All,
    Simd,
    Jit,
}

/// The parts of one run, in order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PartId {
    SumOfSquares { in_cache: bool },
    Axpy { in_cache: bool },
    JitCompile,
    Jit { in_cache: bool },
}

impl PartId {
    fn of(which: Which) -> Vec<PartId> {
        use PartId::*;
        let simd = [
            SumOfSquares { in_cache: true },
            SumOfSquares { in_cache: false },
            Axpy { in_cache: true },
            Axpy { in_cache: false },
        ];
        let jit = [JitCompile, Jit { in_cache: true }, Jit { in_cache: false }];
        match which {
            Which::All => simd.into_iter().chain(jit).collect(),
            Which::Simd => simd.to_vec(),
            Which::Jit => jit.to_vec(),
        }
    }

    fn slug(self) -> &'static str {
        match self {
            PartId::SumOfSquares { in_cache: true } => "sum-of-squares-in-cache",
            PartId::SumOfSquares { in_cache: false } => "sum-of-squares-out-of-cache",
            PartId::Axpy { in_cache: true } => "axpy-in-cache",
            PartId::Axpy { in_cache: false } => "axpy-out-of-cache",
            PartId::JitCompile => "jit-compile",
            PartId::Jit { in_cache: true } => "jit-in-cache",
            PartId::Jit { in_cache: false } => "jit-out-of-cache",
        }
    }
}

/// What every part needs to know.
struct Plan {
    n: usize,
    n_cache: usize,
    expr: Expr,
    text: String,
    levels: Vec<Level>,
    /// Whether Cranelift can compile for this CPU (checked once, up front).
    jit: Result<(), JitError>,
}

impl Plan {
    /// Elements per array and repetitions per run.
    fn size(&self, in_cache: bool) -> (usize, usize) {
        if in_cache {
            let len = self.n_cache.min(self.n);
            (len, self.n.div_ceil(len))
        } else {
            (self.n, 1)
        }
    }
}

/// The arrays of one part, made before its suite and dropped after it.
#[derive(Default)]
struct Inputs {
    x: Vec<f32>,
    y: Vec<f32>,
    values: Vec<f64>,
    compiled: Option<Compiled>,
}

impl Inputs {
    /// `tiny`: just enough to name the rows (`--list`), nothing measured.
    fn new(part: PartId, plan: &Plan, tiny: bool) -> Inputs {
        let len = |in_cache| if tiny { 16 } else { plan.size(in_cache).0 };
        match part {
            PartId::SumOfSquares { in_cache } => Inputs {
                x: data::f32_values(len(in_cache), MUL_X),
                ..Inputs::default()
            },
            PartId::Axpy { in_cache } => Inputs {
                x: data::f32_values(len(in_cache), MUL_X),
                y: data::f32_values(len(in_cache), MUL_Y),
                ..Inputs::default()
            },
            PartId::JitCompile => Inputs {
                values: data::f64_values(16),
                ..Inputs::default()
            },
            PartId::Jit { in_cache } => Inputs {
                values: data::f64_values(len(in_cache)),
                compiled: jit::compile(&plan.expr).ok(),
                ..Inputs::default()
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // ANCHOR: parse_error
    let expr = match Expr::parse(&cli.expr) {
        Ok(expr) => expr,
        Err(e) => {
            eprintln!("{}", e.render()); // error: ... at column N, the input, a caret under N
            return ExitCode::from(2);
        }
    };
    // ANCHOR_END: parse_error
    let n = cli.n.unwrap_or(if cli.common.quick {
        1_000_000
    } else {
        10_000_000
    }) as usize;
    let plan = Plan {
        n,
        n_cache: cli.n_cache as usize,
        jit: jit::compile(&expr).map(drop),
        expr,
        text: cli.expr.trim().to_string(),
        levels: cache::levels(),
    };
    let parts = PartId::of(cli.part);
    let common = &cli.common;
    if let Some(path) = &cli.dump_code {
        let written = jit::compile(&plan.expr)
            .map_err(|e| e.to_string())
            .and_then(|c| std::fs::write(path, c.machine_code()).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!(
                "error: cannot write the machine code into {}: {e}",
                path.display()
            );
            return ExitCode::from(1);
        }
    }

    if common.list {
        for &part in &parts {
            let inputs = Inputs::new(part, &plan, true);
            println!("[{}]", part.slug());
            print!("{}", suite(part, &plan, &inputs, common).listing());
        }
        return ExitCode::SUCCESS;
    }
    let selected = match selection(&parts, &plan, common) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };

    let mut combined = Combined::default();
    for &part in &parts {
        let mut part_common = common.clone();
        if let Some(chosen) = &selected {
            let here: Vec<String> = chosen
                .iter()
                .filter(|(p, _)| *p == part.slug())
                .map(|(_, name)| name.clone())
                .collect();
            if here.is_empty() {
                continue; // nothing asked for in this part
            }
            part_common.approaches = here;
        }
        let inputs = Inputs::new(part, &plan, false);
        match suite(part, &plan, &inputs, &part_common).run() {
            Ok(outcome) => combined.push(
                Part {
                    slug: part.slug(),
                    outcome,
                },
                common.json,
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
        if part == (PartId::Axpy { in_cache: false }) && selected.is_none() {
            let sweep = sweep::run(common.runs(), common.show_progress(), plan.levels.clone());
            combined.push_sweep(sweep, common.json);
        }
    }

    if common.json {
        match serde_json::to_string_pretty(&combined.json()) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot encode the report: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if let Some(dir) = &common.out
        && let Err(e) = combined.write(dir)
    {
        eprintln!("error: cannot write the report into {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    ExitCode::from(combined.exit_code())
}

/// `--approach NAME`: check every name against every part's rows (one line and exit 2 for
/// an unknown one); `None` means everything.
fn selection(
    parts: &[PartId],
    plan: &Plan,
    common: &Common,
) -> Result<Option<Vec<(&'static str, String)>>, UsageError> {
    if common.approaches.is_empty() {
        return Ok(None);
    }
    let mut names: Vec<(&'static str, String)> = Vec::new();
    for &part in parts {
        let inputs = Inputs::new(part, plan, true);
        for (name, _, _) in suite(part, plan, &inputs, common).names() {
            names.push((part.slug(), slug(&name)));
        }
    }
    let mut chosen = Vec::new();
    for asked in &common.approaches {
        let s = slug(asked);
        let matching: Vec<_> = names.iter().filter(|(_, n)| *n == s).cloned().collect();
        if matching.is_empty() {
            let mut known: Vec<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
            known.sort();
            known.dedup();
            return Err(UsageError(format!(
                "unknown approach '{asked}'; `--list` names them: {}",
                known.join(", ")
            )));
        }
        chosen.extend(matching);
    }
    Ok(Some(chosen))
}

fn suite<'a>(part: PartId, plan: &'a Plan, inputs: &'a Inputs, common: &Common) -> Suite<'a> {
    match part {
        PartId::SumOfSquares { in_cache } => {
            sum_of_squares(&inputs.x, plan.size(in_cache).1, in_cache, plan, common)
        }
        PartId::Axpy { in_cache } => axpy(
            (&inputs.x, &inputs.y),
            plan.size(in_cache).1,
            in_cache,
            plan,
            common,
        ),
        PartId::JitCompile => jit_compile(&inputs.values, plan, common),
        PartId::Jit { in_cache } => jit_run(
            &inputs.values,
            inputs.compiled.as_ref().map(Compiled::kernel),
            plan.size(in_cache).1,
            in_cache,
            plan,
            common,
        ),
    }
}

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

fn sum_of_squares<'a>(
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

fn axpy<'a>(
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

fn jit_compile<'a>(probe: &'a [f64], plan: &'a Plan, common: &Common) -> Suite<'a> {
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

fn jit_run<'a>(
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
