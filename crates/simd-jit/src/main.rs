//! "JIT: what numba does, done in Rust". numba makes a numeric Python function fast by
//! compiling it for the running CPU at its first call. Rust compiles ahead of time, so this
//! example measures the two things numba's users actually get:
//!
//! - `simd`: kernels that use the running CPU's best instructions, picked at run time;
//! - `jit`: a real JIT (Cranelift) for an expression typed at run time (`--expr`).
//!
//! Each part is a `measure` suite of its own (`src/suites.rs`); `src/parts.rs` runs them in
//! order and `measure::Document` prints each table as it finishes. With no part named, both run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use measure::{Common, Document};
use simd_jit::expr::{DEFAULT_EXPR, Expr};
use simd_jit::parts::{self, Plan, Which};

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
    dump_code: Option<PathBuf>,

    #[command(flatten)]
    common: Common,
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
    let quick = cli.common.quick;
    let n = cli.n.unwrap_or(if quick { 1_000_000 } else { 10_000_000 });
    let plan = Plan::new(cli.part, expr, &cli.expr, n, cli.n_cache, &cli.common);
    if let Some(file) = &cli.dump_code
        && let Err(e) = plan.dump_code(file)
    {
        eprintln!(
            "error: cannot write the machine code into {}: {e}",
            file.display()
        );
        return ExitCode::from(1);
    }
    if cli.common.list {
        print!("{}", plan.listing());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = plan.check() {
        eprintln!("error: {e}"); // an --approach no part has
        return ExitCode::from(2);
    }

    let out = Document::new("simd-jit", &cli.common);
    // 1. SIMD: the sum of squares and a*x + y, from the in-order loop to AVX2 picked at run
    //    time and rayon, in L2 and beyond L3, beside the bandwidth limit; then GB/s by size.
    // 2. JIT: compile --expr with Cranelift, then run it against an interpreter (CPython's
    //    way), Rust compiled ahead of time, numpy and numba, in cache and out.
    let ran = parts::simd(&plan, &out).and_then(|()| parts::jit(&plan, &out));
    if let Err(e) = ran {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    out.finish(&cli.common) // --json, --out DIR, exit code 1 if a result did not verify
}
