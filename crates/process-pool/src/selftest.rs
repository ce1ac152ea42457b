//! The hidden `--selftest` hook: the pool's promises about dying parents, checked on the real
//! binary.
//!
//! "No zombies, no orphans" is a claim about what happens when the *parent* goes wrong, and
//! that can only be observed from outside: a test starts the binary with `--selftest`, reads
//! the workers' pids from its first line, makes the parent panic, die of SIGKILL or receive
//! Ctrl-C, then looks the pids up in `/proc`. The flag is hidden from `--help`: it is a test
//! hook, not something a reader runs.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use crate::demo;
use worker_pool::ProcessPool;

/// How the parent of a busy pool ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Selftest {
    /// The parent panics: the pool's drop, running during the unwind, kills and reaps the
    /// workers.
    Panic,
    /// The parent dies of SIGKILL, no drop runs: the workers get their parent-death signal.
    Orphan,
    /// The parent waits on its busy workers, until a Ctrl-C (SIGINT to the whole process
    /// group) ends them all.
    Hold,
}

/// Starts a pool of two workers, keeps both busy with long sleeps, prints
/// `workers PID PID` on one line, then ends as `what` says.
pub fn run(what: Selftest) -> ExitCode {
    // A shell without job control starts background commands with SIGINT ignored, and an
    // ignored signal stays ignored across exec; a terminal's foreground program has the default.
    // SAFETY: signal(2) with the default disposition, before any thread is started.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
    let pool = match ProcessPool::new(2) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let busy: Vec<_> = (0..4)
        .map(|_| pool.submit(&demo::SLEEP_MS, 60_000u64))
        .collect();
    let pids: Vec<String> = pool.worker_pids().iter().map(u32::to_string).collect();
    println!("workers {}", pids.join(" "));
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_millis(100));
    match what {
        Selftest::Panic => panic!("the parent panics on purpose, its pool still busy"),
        Selftest::Orphan => {
            // SAFETY: kill(2) on our own pid: the parent dies without running any drop.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            ExitCode::from(1)
        }
        Selftest::Hold => {
            for t in busy {
                let _ = t.wait();
            }
            ExitCode::SUCCESS
        }
    }
}
