//! Case 2 in the talk's own form: the X-ray set to 64x64, sequentially and through the
//! process pool (`map`, chunksize 1 and 16), checked image by image.

pub use datasets::{Thumbnails, file_name};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use worker_pool::{ProcessPool, TaskFn, is_worker};

/// Thumbnails are `SIDE`x`SIDE` grey pixels.
pub const SIDE: u32 = 64;

/// `--verbose`: whether the worker prints a `running FILE` line, and on which stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verbose {
    Off,
    ToStdout,
    ToStderr,
}

/// One file to shrink.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResizeJob {
    pub path: PathBuf,
    pub verbose: Verbose,
}

// ANCHOR: task
/// Decode one X-ray, make it grey, shrink it to 64x64: one task, registered by name.
fn resize(job: ResizeJob) -> Result<Vec<u8>, String> {
    say_running(&job);
    kill_hook(&job);
    datasets::thumbnail(&job.path, SIDE).map_err(|e| e.to_string())
}

pub static RESIZE: TaskFn<ResizeJob, Result<Vec<u8>, String>> = TaskFn::new("resize", resize);
// ANCHOR_END: task

/// For the tests (a hook): a worker whose environment has
/// `PROCESS_POOL_TEST_SIGKILL_ON=NAME` sends itself SIGKILL when it starts on the file `NAME`,
/// as the OOM killer or a reader's `kill -9` would. The parent never does.
pub const SIGKILL_HOOK: &str = "PROCESS_POOL_TEST_SIGKILL_ON";

fn kill_hook(job: &ResizeJob) {
    if is_worker()
        && let Some(name) = std::env::var_os(SIGKILL_HOOK)
        && job.path.file_name() == Some(name.as_os_str())
    {
        // SAFETY: kill(2) on our own pid.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// The talk's "pid: running FILE". In a worker the line goes out on its stderr and the pool's
/// forwarder puts `[pid N] ` in front; in the parent we write the prefix ourselves.
fn say_running(job: &ResizeJob) {
    let name = file_name(&job.path);
    if is_worker() {
        if job.verbose != Verbose::Off {
            eprintln!("running {name}");
        }
        return;
    }
    let line = format!("[pid {}] running {name}", std::process::id());
    match job.verbose {
        Verbose::Off => {}
        Verbose::ToStdout => println!("{line}"),
        Verbose::ToStderr => eprintln!("{line}"),
    }
}

/// The jobs for `paths`.
pub fn jobs(paths: &[PathBuf], verbose: Verbose) -> Vec<ResizeJob> {
    paths
        .iter()
        .map(|path| ResizeJob {
            path: path.clone(),
            verbose,
        })
        .collect()
}

// ANCHOR: sequential
/// The baseline: one file after another, in this process.
pub fn sequential(jobs: &[ResizeJob]) -> Thumbnails {
    let items = jobs.iter().map(|job| RESIZE.call(job.clone())).collect();
    Thumbnails::of(&paths(jobs), items, Vec::new())
}
// ANCHOR_END: sequential

// ANCHOR: pool_map
/// The same through the process pool: `executor.map(resize, files, chunksize=...)`.
pub fn pool_map(pool: &ProcessPool, jobs: &[ResizeJob], chunksize: usize) -> Thumbnails {
    collect(jobs, pool.map(&RESIZE, jobs, chunksize))
}
// ANCHOR_END: pool_map

/// For comparison: the same on the thread pool of `crates/threads` (closures, no copies).
pub fn thread_pool_map(pool: &threads::ThreadPool, jobs: &[ResizeJob]) -> Thumbnails {
    collect(jobs, pool.map(|job| RESIZE.call(job), jobs.to_vec()))
}

/// Every input lost with the same `error` (the executor could not run at all).
pub fn lost_all(jobs: &[ResizeJob], error: &str) -> Thumbnails {
    let lost = jobs
        .iter()
        .map(|job| measure::Failure {
            input: file_name(&job.path),
            error: error.to_string(),
        })
        .collect();
    let items = jobs.iter().map(|_| Err(error.to_string())).collect();
    Thumbnails::of(&paths(jobs), items, lost)
}

fn paths(jobs: &[ResizeJob]) -> Vec<PathBuf> {
    jobs.iter().map(|job| job.path.clone()).collect()
}

/// The executor's answers in input order: a task the executor lost (its worker died, it timed
/// out or panicked) is an item that failed and one of the result's lost inputs, named by file.
fn collect<E: std::fmt::Display>(
    jobs: &[ResizeJob],
    results: impl Iterator<Item = Result<Result<Vec<u8>, String>, E>>,
) -> Thumbnails {
    let mut lost = Vec::new();
    let items = results
        .zip(jobs)
        .map(|(r, job)| {
            r.unwrap_or_else(|task_error| {
                let error = task_error.to_string();
                lost.push(measure::Failure {
                    input: file_name(&job.path),
                    error: error.clone(),
                });
                Err(error)
            })
        })
        .collect();
    Thumbnails::of(&paths(jobs), items, lost)
}

/// The best a `map` with `chunksize` can do on `workers` workers, as a fraction of the ideal,
/// when every item costs the same: chunks go, in order, to whichever worker is free first, and
/// the run lasts as long as the busiest worker.
pub fn chunk_balance(items: usize, chunksize: usize, workers: usize) -> f64 {
    if items == 0 || workers == 0 {
        return 1.0;
    }
    let chunksize = chunksize.max(1);
    let mut loads = vec![0usize; workers];
    let mut left = items;
    while left > 0 {
        let chunk = left.min(chunksize);
        if let Some(least) = loads.iter_mut().min() {
            *least += chunk;
        }
        left -= chunk;
    }
    let busiest = loads.iter().copied().max().unwrap_or(items).max(1);
    (items as f64 / workers as f64) / busiest as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_bound_the_balance() {
        assert_eq!(chunk_balance(40, 1, 2), 1.0);
        // 16 + 8 on one worker, 16 on the other: 20 / 24.
        assert!((chunk_balance(40, 16, 2) - 20.0 / 24.0).abs() < 1e-12);
        assert_eq!(chunk_balance(100, 100, 2), 0.5);
        assert_eq!(chunk_balance(3, 1, 4), 0.75);
    }
}
