//! "Data processing is slow?" — the talk's first example, the squares of 0..N, in Rust.
//!
//! Python's for-loop is slow because the interpreter runs every step. Here every version
//! compiles to a tight loop, and the numbers show what is left: allocation and memory.

use clap::Parser;
use for_loop::*;
use measure::{Common, PythonScript, Suite, Workload};
use std::process::ExitCode;

/// The squares of 0..N as a Vec<u64>: a for-loop, with_capacity, an iterator, a numpy-style
/// fill and huge pages, beside the limit (a plain fill of the same bytes) and Python's
/// for-loop, list comprehension, map and numpy, all measured in the same run.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// How many squares [default: 10,000,000, or 1,000,000 with --quick]; a size that needs
    /// more memory than the machine has available is refused before anything is allocated
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=MAX_N))]
    n: Option<u64>,

    #[command(flatten)]
    common: Common,
}

/// Far beyond any machine's memory (8 TiB per buffer), small enough that no byte count overflows.
const MAX_N: u64 = 1 << 40;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let n = cli.n.unwrap_or(if cli.common.quick {
        1_000_000
    } else {
        10_000_000
    });
    if !cli.common.list
        && let Some(available) = memory_available()
        && let Some(line) = refuse_n(n, python_rows_run(&cli.common), available)
    {
        eprintln!("{line}");
        return ExitCode::from(2);
    }
    let workload = Workload::new("squares of 0..N as a Vec<u64>", n, "numbers")
        .param("N", n)
        .param("bytes", n * 8);
    let mut reused = vec![0u64; n as usize];
    let buffer = vec![0u64; n as usize];
    let streamed = vec![0u64; n as usize];

    // ANCHOR: suite
    let mut suite = Suite::new("for-loop", workload, &cli.common);
    suite.baseline(names::PUSH, || for_loop_push(n));
    suite.approach("for-loop + with_capacity", || for_loop_with_capacity(n));
    suite.approach("iter().map().collect()", || iter_map_collect(n));
    suite.approach("fill a zeroed Vec (numpy style)", || fill_zeroed(n));
    suite.approach("collect into huge pages", || collect_huge_pages(n));
    suite.approach("running sums into huge pages", || {
        running_sums_huge_pages(n)
    });
    suite.approach_in("squares into a reused buffer", buffer, |b| squares_into(b));
    suite.approach_in(
        "squares into a reused buffer, streaming stores",
        streamed,
        |b| squares_streaming(b),
    );
    suite.limit("fresh fill", || fresh_fill(n));
    suite.limit("fresh fill, huge pages", || fresh_fill_huge_pages(n));
    suite.limit("refill a reused buffer", || refill(&mut reused));
    suite.python(
        PythonScript::new(
            "squares.py",
            &["for-loop", "list comprehension", "map", "numpy"],
        )
        .arg("--n")
        .arg(n.to_string()),
    );
    // ANCHOR_END: suite

    suite.show_cpu().show_page_faults().conclude(lessons);
    suite.main()
}

/// Whether this run starts the Python rows: not with --no-python, nor when every
/// --approach names a Rust row.
fn python_rows_run(common: &Common) -> bool {
    !common.no_python
        && (common.approaches.is_empty()
            || common
                .approaches
                .iter()
                .any(|a| a.to_lowercase().starts_with("python")))
}
