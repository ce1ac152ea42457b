//! `process-pool`: the chapters "Threads vs processes" and case 2 in the talk's own form.
//!
//! 1. crash: ten tasks on a pool of worker processes, four of which abort, get SIGKILLed, run
//!    out of memory or panic; each fails alone and the pool carries on.
//! 2. resize: the X-ray set to 64x64, sequentially and with the process pool's `map`
//!    (chunksize 1 and 16), beside the talk's Python (list comprehension, map,
//!    ProcessPoolExecutor().map).
//! 3. overhead: what one no-op task costs through each executor, Rust and Python.
//!
//! The pool is the `worker-pool` crate; the flags, their defaults (`Settings::from`) and the
//! parts are `src/parts.rs`, the measured suites `src/suites.rs`.

use clap::Parser;
use measure::Document;
use process_pool::parts::{self, Cli, Settings};
use process_pool::suites::Resources;
use process_pool::{demo, resize};
use std::process::ExitCode;
use worker_pool::Registry;

// ANCHOR: registry
/// Every task this binary's workers can run: the resize, and the demo's small tasks.
fn registry() -> Registry {
    demo::register(Registry::new().register(&resize::RESIZE))
}

fn main() -> ExitCode {
    // In a worker process this serves tasks and never returns.
    worker_pool::serve_if_worker(&registry());
    // ANCHOR_END: registry

    let settings = Settings::from(Cli::parse());

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
