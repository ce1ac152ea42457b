//! `threads`: the chapters "Parallel? Asynchronous?" and "the concurrent.futures way".
//!
//! 1. The toaster: one toaster against four, where toasting is waiting (a sleeping thread).
//! 2. CPU-bound work on 1..=cores threads: real speed-up, because Rust has no GIL; beside it
//!    the same checksums in Python's ThreadPoolExecutor, which does not speed up.
//! 3. submit + as_completed, printing "worker-N: running X" as the talk does.

use clap::Parser;
use measure::Common;
use measure::Document;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use threads::parts::{self, Part, Settings};
use threads::toaster::Toasting;

/// Threads in Rust with Python's concurrent.futures vocabulary: the toaster (one toaster
/// against k), CPU-bound work on 1..=N threads beside Python's ThreadPoolExecutor, and
/// submit + as_completed. With no PART named, all three run in order.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Run only these parts (toaster, cpu, as-completed) [default: all three, in that order]
    #[arg(value_enum, value_name = "PART")]
    parts: Vec<Part>,

    /// Slices of bread to toast [default: 100 as in the talk, or 20 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    slices: Option<u64>,

    /// Toasters: worker threads of the toaster pool [default: 4, as in the talk]
    #[arg(long, value_name = "K", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    toasters: u64,

    /// Milliseconds of toasting per slice (an analogy: 1 ms stands for 1 s) [default: 30]
    #[arg(long, value_name = "MS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    toast_ms: u64,

    /// Images of the X-ray set for the CPU part [default: 100, or 12 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1341))]
    images: Option<u64>,

    /// Use every *.jpeg / *.jpg file of DIR (by name) instead of the generated X-ray set
    #[arg(long, value_name = "DIR")]
    input: Option<PathBuf>,

    /// The CPU part runs the pool with 1..=N threads [default: the number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    threads: Option<u64>,

    #[command(flatten)]
    common: Common,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quick = cli.common.quick;
    let settings = Settings {
        parts: cli.parts,
        toasting: Toasting {
            slices: cli.slices.unwrap_or(if quick { 20 } else { 100 }),
            toasters: cli.toasters as usize,
            toast: Duration::from_millis(cli.toast_ms),
        },
        images: cli
            .images
            .map_or(if quick { 12 } else { 100 }, |n| n as usize),
        input: cli.input,
        max_threads: cli.threads.map_or_else(threads::cores, |n| n as usize),
        demo_images: 8,
        common: cli.common.clone(),
    };
    if cli.common.list {
        print!("{}", settings.listing());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = settings.check() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let out = Arc::new(Document::new("threads", &cli.common));
    // The toaster, the CPU-bound suites, then submit + as_completed, each printed as it runs.
    match parts::run(&settings, &out) {
        Ok(()) => out.finish(&cli.common),
        Err((code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}
