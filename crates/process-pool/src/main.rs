//! `process-pool`: the chapters "Threads vs processes" and case 2 in the talk's own form.
//!
//! 1. crash: ten tasks on a pool of worker processes, four of which abort, get SIGKILLed, run
//!    out of memory or panic; each fails alone and the pool carries on.
//! 2. resize: the X-ray set to 64x64, sequentially and with the process pool's `map`
//!    (chunksize 1 and 16), beside the talk's Python (list comprehension, map,
//!    ProcessPoolExecutor().map).
//! 3. overhead: what one no-op task costs through each executor, Rust and Python.
//!
//! The pool is the library (`src/pool.rs`); the parts and their suites are `src/parts.rs` and
//! `src/suites.rs`.

use clap::Parser;
use datasets::{FULL_COUNT, QUICK_COUNT};
use measure::{Common, Document};
use process_pool::parts::{self, Part, Settings, positive_seconds};
use process_pool::selftest::{self, Selftest};
use process_pool::suites::Resources;
use process_pool::{demo, resize};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use worker_pool::Registry;

/// A process pool in Rust with Python's ProcessPoolExecutor vocabulary: a crash-safety demo,
/// the X-ray set resized to 64x64 (sequential vs the pool's map, chunksize 1 and 16, beside the
/// talk's Python), and the overhead of one task through each executor. With no PART named,
/// all three run in order.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Run only these parts (crash, resize, overhead) [default: all three, in that order]
    #[arg(value_enum, value_name = "PART")]
    parts: Vec<Part>,

    /// Images of the X-ray set to resize [default: 1341, or 100 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1341))]
    images: Option<u64>,

    /// Resize the *.jpeg / *.jpg files of DIR instead of the generated X-ray set
    #[arg(long, value_name = "DIR")]
    input: Option<PathBuf>,

    /// Worker processes of each pool (and threads of the thread pool) [default: the number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    workers: Option<u64>,

    /// No-op tasks per run in the overhead table [default: 10,000, or 2,000 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    tasks: Option<u64>,

    /// Kill and replace a worker whose image takes longer than SECONDS (that image fails)
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    task_timeout: Option<Duration>,

    /// Print "[pid N] running FILE" for every image, from the process that resizes it
    /// (on stdout; on stderr with --json)
    #[arg(long)]
    verbose: bool,

    /// For the tests: start a pool, then panic / die / wait for Ctrl-C
    #[arg(long, value_enum, hide = true)]
    selftest: Option<Selftest>,

    #[command(flatten)]
    common: Common,
}

// ANCHOR: registry
/// Every task this binary's workers can run: the resize, and the demo's small tasks.
fn registry() -> Registry {
    demo::register(Registry::new().register(&resize::RESIZE))
}

fn main() -> ExitCode {
    // In a worker process this serves tasks and never returns.
    worker_pool::serve_if_worker(&registry());
    // ANCHOR_END: registry

    let cli = Cli::parse();
    if let Some(what) = cli.selftest {
        return selftest::run(what);
    }
    let quick = cli.common.quick;
    let settings = Settings {
        parts: cli.parts,
        images: cli
            .images
            .map_or(if quick { QUICK_COUNT } else { FULL_COUNT }, |n| n as usize),
        input: cli.input,
        workers: cli.workers.map_or_else(threads::cores, |n| n as usize),
        tasks: cli.tasks.unwrap_or(if quick { 2_000 } else { 10_000 }),
        timeout: cli.task_timeout,
        verbose: cli.verbose,
        common: cli.common,
    };

    // --list and --approach are answered before anything is generated or started.
    let empty = Resources::default();
    let catalog = settings.catalog(&empty);
    if settings.common.list {
        print!("{}", catalog.listing());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = catalog.check(&settings.common) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }

    // The parts named (all three by default), in order, each printed as it runs.
    let program = Document::new("process-pool", &settings.common);
    let ran = parts::crash_demo(&settings, &program)
        .and_then(|()| parts::resize(&settings, &program))
        .and_then(|()| parts::overhead(&settings, &program));
    match ran {
        Ok(()) => program.finish(&settings.common),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
