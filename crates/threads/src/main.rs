//! `threads`: the chapters "Parallel? Asynchronous?" and "the concurrent.futures way".
//!
//! 1. The toaster: one toaster against four, where toasting is waiting (a sleeping thread).
//! 2. CPU-bound work on 1..=cores threads: real speed-up, because Rust has no GIL; beside it
//!    the same checksums in Python's ThreadPoolExecutor, which does not speed up.
//! 3. submit + as_completed, printing "worker-N: running X" as the talk does.
//!
//! The flags and their defaults are `Cli` and `Settings::from` in `src/parts.rs`, beside the parts.

use clap::Parser;
use measure::Document;
use std::process::ExitCode;
use std::sync::Arc;
use threads::cpu::Images;
use threads::parts::{self, Cli, Settings};

fn main() -> ExitCode {
    let settings = Settings::from(&Cli::parse());

    // --list and --approach are answered before anything is generated or started.
    let empty = Images::default();
    let catalog = settings.catalog(&empty);
    if settings.common.list {
        print!("{}", catalog.listing());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = settings.check(&catalog) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }

    // The parts named (all three by default), in order, each printed as it runs.
    let out = Arc::new(Document::new("threads", &settings.common));
    match run(&settings, &out) {
        Ok(()) => out.finish(&settings.common),
        Err((code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// `Err((exit code, message))` stops the program: 2 for a bad argument, 1 when the X-ray set
/// cannot be made.
fn run(settings: &Settings, out: &Arc<Document>) -> Result<(), (u8, String)> {
    let usage = |e: measure::UsageError| (2, e.0);
    // 1. Sequential vs parallel: one toaster against k.
    parts::toaster(settings, out).map_err(usage)?;
    // The X-ray images of parts 2 and 3 (none when neither runs).
    if let Some(images) = settings.images()? {
        // 2. CPU-bound work on 1..=N threads, beside Python's ThreadPoolExecutor.
        parts::cpu(settings, &images, out).map_err(usage)?;
        // 3. submit + as_completed on the first images.
        parts::as_completed(settings, &images, out);
    }
    Ok(())
}
