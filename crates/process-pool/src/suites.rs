//! The two measured suites: case 2 (the resize) and the overhead table, each registered the
//! way every example registers its rows (a baseline, the approaches, Python's rows, a lesson).
//!
//! A suite's rows are closures that borrow an [`Env`], and the `Env` owns the pools. That
//! split is deliberate: the same suite is built twice, once on an empty `Env` to answer
//! `--list` and check `--approach` (which must not start a worker or generate a file), and
//! once on the real one, whose pools are started once, before the timed runs, and outlive
//! every run instead of being paid for inside it.

use measure::report::Failure;
use measure::units::{duration, ratio};
use measure::{Common, PythonScript, Report, Suite, Workload};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::time::Duration;

use crate::ProcessPool;
use crate::overhead;
use crate::resize::{self, ResizeJob, Thumbnails};

/// What the suites' closures work on; empty (no pools, no files) for `--list`, whose rows are
/// never run.
#[derive(Default)]
pub struct Env {
    pub paths: Vec<PathBuf>,
    pub jobs: Vec<ResizeJob>,
    pub pool: Option<ProcessPool>,
    pub threads: Option<threads::ThreadPool>,
    /// The baseline's failed files, recorded by its run: the report accounts for every input,
    /// and the baseline's verdict on each file is the one the other rows are checked against.
    pub failures: RefCell<Vec<Failure>>,
    /// The largest per-image difference of a Python row's mean grey level, for the lesson.
    pub worst: Cell<f64>,
    /// How long the resize pool took to start (outside the timed runs, so reported apart).
    pub started_in: Duration,
}

/// What each row runs. On an empty `Env` a row returns an empty result; `--list` never runs it.
impl Env {
    fn sequential(&self) -> Thumbnails {
        let thumbnails = resize::sequential(&self.jobs);
        *self.failures.borrow_mut() = thumbnails.failures(&self.paths);
        thumbnails
    }

    fn pool_map(&self, chunksize: usize) -> Thumbnails {
        self.pool
            .as_ref()
            .map(|pool| resize::pool_map(pool, &self.jobs, chunksize))
            .unwrap_or_default()
    }

    fn thread_pool_map(&self) -> Thumbnails {
        self.threads
            .as_ref()
            .map(|pool| resize::thread_pool_map(pool, &self.jobs))
            .unwrap_or_default()
    }

    fn thread_pool_submit(&self, n: u64) -> Vec<u64> {
        self.threads
            .as_ref()
            .map(|pool| overhead::thread_pool_submit(pool, n))
            .unwrap_or_default()
    }

    fn process_pool_submit(&self, n: u64) -> Vec<u64> {
        self.pool
            .as_ref()
            .map(|pool| overhead::process_pool_submit(pool, n))
            .unwrap_or_default()
    }

    fn process_pool_map(&self, n: u64, chunksize: usize) -> Vec<u64> {
        self.pool
            .as_ref()
            .map(|pool| overhead::process_pool_map(pool, n, chunksize))
            .unwrap_or_default()
    }
}

// ANCHOR: resize_suite
/// Case 2: the X-ray set to 64x64, sequentially, through the process pool and the thread
/// pool, beside the talk's three Python versions on the same files.
pub fn resize_suite<'a>(workers: usize, common: &Common, env: &'a Env) -> Suite<'a> {
    let images = env.jobs.len() as u64;
    let workload = Workload::new("X-ray JPEGs to 64x64 grey", images, "images")
        .param("workers", workers as u64);
    let mut suite = Suite::new("process-pool resize", workload, common);
    suite.baseline("sequential", || env.sequential());
    suite.approach("process pool map, chunksize 1", || env.pool_map(1));
    suite.approach("process pool map, chunksize 16", || env.pool_map(16));
    suite.approach("thread pool map", || env.thread_pool_map());
    let mut python = PythonScript::new(
        "process_pool_resize.py",
        &["list comprehension", "map", "ProcessPoolExecutor().map"],
    )
    .arg("--workers")
    .arg(workers.to_string())
    .arg("--files");
    for path in &env.paths {
        python = python.arg(path.display().to_string());
    }
    suite.python(python);
    suite.compare_with(resize::compare(PYTHON_TOLERANCE, &env.worst));
    // ANCHOR_END: resize_suite
    suite.conclude(move |report| resize_lessons(report, env, workers));
    suite
}

/// A Python row's thumbnails pass when each image's mean grey level is within this many
/// levels (of 255) of Rust's: Pillow resizes with a bicubic filter, Rust with a triangle one.
const PYTHON_TOLERANCE: f64 = 3.0;

/// The lesson of the resize, in this run's numbers: the cost of one image, how close each
/// chunksize gets to the ideal (and the best its chunking allows), Python beside Rust.
fn resize_lessons(report: &Report, env: &Env, workers: usize) -> Vec<String> {
    // Rows whose result did not verify draw no lesson.
    let median = |name: &str| {
        report
            .row(name)
            .filter(|r| r.verified != Some(false))
            .and_then(|r| r.median_s)
    };
    let mut lines = Vec::new();
    let images = report.workload.items as usize;
    if let Some(seq) = median("sequential") {
        lines.push(format!(
            "One image costs {} on one core (sequential / images); with {workers} workers the \
             best possible is {} per run.",
            duration(seq / images.max(1) as f64),
            duration(seq / workers as f64)
        ));
        for (name, chunksize) in [
            ("process pool map, chunksize 1", 1),
            ("process pool map, chunksize 16", 16),
        ] {
            if let Some(t) = median(name) {
                let bound = resize::chunk_balance(images, chunksize, workers);
                lines.push(format!(
                    "{name}: {} faster than sequential, {:.0}% of the ideal {workers}x; {images} \
                     images in chunks of {chunksize} allow at best {:.0}% on {workers} workers.",
                    ratio(seq / t),
                    100.0 * seq / t / workers as f64,
                    100.0 * bound
                ));
            }
        }
        if let Some(py) = median("Python list comprehension") {
            lines.push(format!(
                "Sequentially, Python's list comprehension took {} and Rust {}: Pillow decodes and \
                 resizes in C, so one image costs about the same; the difference is in the pools.",
                duration(py),
                duration(seq)
            ));
        }
    }
    if let (Some(py), Some(rs)) = (
        median("Python ProcessPoolExecutor().map"),
        median("process pool map, chunksize 1"),
    ) {
        lines.push(format!(
            "Python's ProcessPoolExecutor().map took {} (timed in the talk's form: the `with` block \
             starts and stops the executor in every run); the Rust pool's map, chunksize 1, {}: {} \
             faster on the same files with the same number of workers.",
            duration(py),
            duration(rs),
            ratio(py / rs)
        ));
    }
    if env.pool.is_some() {
        lines.push(format!(
            "Starting the Rust pool's {workers} worker processes took {} (once, before the timed \
             runs).",
            duration(env.started_in.as_secs_f64())
        ));
    }
    if report
        .results
        .iter()
        .any(|r| r.lang == measure::Lang::Python && r.median_s.is_some())
    {
        lines.push(format!(
            "Python rows are checked image by image on the mean grey level, within \
             {PYTHON_TOLERANCE} levels of 255 (Pillow's bicubic resize is not byte-identical to \
             Rust's triangle filter); the largest difference in this run: {:.2}. Rust rows are \
             checked byte for byte.",
            env.worst.get()
        ));
    }
    lines
}

// ANCHOR: overhead_suite
/// The overhead of parallelism: `n` no-op tasks (submit + result) through every executor the
/// book uses, beside Python's two executors, and the limit: no executor at all.
pub fn overhead_suite<'a>(n: u64, workers: usize, common: &Common, env: &'a Env) -> Suite<'a> {
    let workload =
        Workload::new("no-op tasks, submit + result", n, "tasks").param("workers", workers as u64);
    let mut suite = Suite::new("process-pool overhead", workload, common);
    suite.baseline("std::thread::spawn per task", move || {
        overhead::spawn_per_task(n, workers)
    });
    suite.approach("thread pool submit", move || env.thread_pool_submit(n));
    suite.approach("process pool submit (chunksize 1)", move || {
        env.process_pool_submit(n)
    });
    suite.approach("process pool map, chunksize 100", move || {
        env.process_pool_map(n, 100)
    });
    suite.approach("rayon scope, spawn per task", move || {
        overhead::rayon_spawn(n)
    });
    suite.approach("rayon par_iter", move || overhead::rayon_par_iter(n));
    suite.limit("direct call, no executor", move || overhead::direct(n));
    suite.python(
        PythonScript::new(
            "executor_overhead.py",
            &[
                "ThreadPoolExecutor",
                "ProcessPoolExecutor",
                "ProcessPoolExecutor map chunksize=100",
            ],
        )
        .arg("--tasks")
        .arg(n.to_string())
        .arg("--workers")
        .arg(workers.to_string()),
    );
    // ANCHOR_END: overhead_suite
    suite.conclude(overhead_lessons);
    suite
}

/// The lesson of the overhead table, in this run's numbers: each row's cost per task, the
/// ratios to Python's executors, and how big a task must be for that cost not to matter.
fn overhead_lessons(report: &Report) -> Vec<String> {
    let us = |name: &str| overhead::micros_per_task(report, name);
    let mut lines = Vec::new();
    let per_task: Vec<String> = report
        .results
        .iter()
        .filter_map(|r| {
            Some(format!(
                "{} {}",
                r.approach,
                duration(us(&r.approach)? / 1e6)
            ))
        })
        .collect();
    if !per_task.is_empty() {
        lines.push(format!("Per task (median): {}.", per_task.join("; ")));
    }
    let compare = |ours: &str, theirs: &str, lines: &mut Vec<String>| {
        if let (Some(a), Some(b)) = (us(ours), us(theirs)) {
            lines.push(format!(
                "{ours}: {} per task, 1/{} of {theirs}'s {} (the target is at most 1/20).",
                duration(a / 1e6),
                ratio(b / a).trim_end_matches('x'),
                duration(b / 1e6)
            ));
        }
    };
    compare(
        "process pool submit (chunksize 1)",
        "Python ProcessPoolExecutor",
        &mut lines,
    );
    compare(
        "thread pool submit",
        "Python ThreadPoolExecutor",
        &mut lines,
    );
    if let Some(p) = us("process pool submit (chunksize 1)") {
        lines.push(format!(
            "A task must do much more work than its overhead to be worth sending: at {} per task, \
             a task of 100x that ({}) loses about 1% to the process pool.",
            duration(p / 1e6),
            duration(p * 100.0 / 1e6)
        ));
    }
    lines
}
