//! `process-pool`: the chapters "Threads vs processes" and case 2 in the talk's own form.
//!
//! 1. crash: ten tasks on a pool of worker processes, four of which abort, get SIGKILLed, run
//!    out of memory or panic; each fails alone and the pool carries on.
//! 2. resize: the X-ray set to 64x64, sequentially and with the process pool's `map`
//!    (chunksize 1 and 16), beside the talk's Python (list comprehension, map,
//!    ProcessPoolExecutor().map).
//! 3. overhead: what one no-op task costs through each executor, Rust and Python.

use clap::{Parser, ValueEnum};
use measure::report::Failure;
use measure::{Common, Document, PythonScript, Suite, UsageError, Workload};
use process_pool::parts;
use process_pool::resize::{self, ResizeJob, Say, Thumbnails};
use process_pool::{ProcessPool, Registry, WorkerOutput, demo, overhead};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    /// Tasks that abort, get SIGKILLed, run out of memory or panic: each fails alone
    Crash,
    /// The X-ray set to 64x64: sequential vs the process pool, beside Python
    Resize,
    /// The cost of one no-op task through each executor, Rust and Python
    Overhead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Selftest {
    Panic,
    Orphan,
    Hold,
}

fn positive_seconds(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 86_400.0 => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 86400"
        )),
    }
}

// ANCHOR: registry
/// Every task this binary's workers can run: the resize, and the demo's small tasks.
fn registry() -> Registry {
    demo::register(Registry::new().register(&resize::RESIZE))
}

fn main() -> ExitCode {
    // In a worker process this serves tasks and never returns.
    process_pool::serve_if_worker(&registry());
    // ANCHOR_END: registry

    let cli = Cli::parse();
    if let Some(what) = cli.selftest {
        return selftest(what);
    }
    let settings = Settings::from(&cli);
    // --list and --approach are checked before anything is generated or started.
    let empty = Env::default();
    let catalog = [
        resize_suite(&settings, &settings.common, &empty),
        overhead_suite(&settings, &settings.common, &empty),
    ];
    if settings.common.list {
        for (suite, part) in catalog.iter().zip([Part::Resize, Part::Overhead]) {
            if settings.runs(part) {
                print!("{}", suite.listing());
            }
        }
        return ExitCode::SUCCESS;
    }
    if let Some(e) = parts::unknown_approaches(&settings.common, &[&catalog[0], &catalog[1]]) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let program = Document::new("process-pool", &settings.common);
    let result = run(&settings, &program);
    match result {
        Ok(()) => program.finish(&settings.common),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The command line, resolved.
struct Settings {
    parts: Vec<Part>,
    images: usize,
    input: Option<PathBuf>,
    workers: usize,
    tasks: u64,
    timeout: Option<Duration>,
    verbose: bool,
    common: Common,
}

impl Settings {
    fn from(cli: &Cli) -> Settings {
        let quick = cli.common.quick;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Settings {
            parts: cli.parts.clone(),
            images: cli.images.map_or(
                if quick {
                    datasets::QUICK_COUNT
                } else {
                    datasets::FULL_COUNT
                },
                |n| n as usize,
            ),
            input: cli.input.clone(),
            workers: cli.workers.map_or(cores, |n| n as usize),
            tasks: cli.tasks.unwrap_or(if quick { 2_000 } else { 10_000 }),
            timeout: cli.task_timeout,
            verbose: cli.verbose,
            common: cli.common.clone(),
        }
    }

    fn runs(&self, part: Part) -> bool {
        self.parts.is_empty() || self.parts.contains(&part)
    }

    fn say(&self) -> Say {
        match (self.verbose, self.common.json) {
            (false, _) => Say::Nothing,
            (true, false) => Say::Stdout,
            (true, true) => Say::Stderr,
        }
    }
}

/// What the suites' closures work on; empty for `--list`.
#[derive(Default)]
struct Env {
    paths: Vec<PathBuf>,
    jobs: Vec<ResizeJob>,
    pool: Option<ProcessPool>,
    threads: Option<threads::ThreadPool>,
    /// The baseline's failed files, recorded by its run.
    failures: RefCell<Vec<Failure>>,
    /// The largest per-image difference of a Python row's mean grey level.
    worst: Cell<f64>,
    started_in: Duration,
}

/// What each row runs. `--list` builds the suites on an empty `Env` (no pools, no files),
/// whose rows are never run.
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

fn run(settings: &Settings, program: &Document) -> Result<(), String> {
    let chosen = |part| settings.runs(part) && settings.common.approaches.is_empty();
    if chosen(Part::Crash) {
        crash(settings, program)?;
    }
    if settings.runs(Part::Resize) {
        resize_part(settings, program)?;
    }
    if settings.runs(Part::Overhead) {
        overhead_part(settings, program)?;
    }
    Ok(())
}

fn crash(settings: &Settings, program: &Document) -> Result<(), String> {
    program.part("crash", "A worker that dies fails only its own task");
    let pool = ProcessPool::new(settings.workers).map_err(|e| e.to_string())?;
    let lines = demo::crash_demo(&pool);
    for line in &lines {
        program.line(line);
    }
    program.record("crash_demo", serde_json::json!(lines));
    Ok(())
}

fn resize_part(settings: &Settings, program: &Document) -> Result<(), String> {
    program.part(
        "resize",
        "Case 2: the X-ray set to 64x64, sequential vs the process pool",
    );
    let paths = match &settings.input {
        Some(dir) => resize::list_jpegs(dir)?,
        None => {
            let set = datasets::cached_xray_set(
                settings.images,
                datasets::DEFAULT_SEED,
                settings.common.show_progress(),
            )
            .map_err(|e| e.to_string())?;
            set.paths
        }
    };
    let output = match settings.common.json {
        true => WorkerOutput::Stderr,
        false => WorkerOutput::Stdout,
    };
    let started = Instant::now();
    let mut builder = ProcessPool::builder()
        .workers(settings.workers)
        .worker_output(output);
    if let Some(t) = settings.timeout {
        builder = builder.timeout(t);
    }
    let pool = builder.build().map_err(|e| e.to_string())?;
    let env = Env {
        jobs: resize::jobs(&paths, settings.say()),
        paths,
        started_in: started.elapsed(),
        pool: Some(pool),
        threads: Some(threads::ThreadPool::new(settings.workers)),
        ..Env::default()
    };
    let Some(common) = parts::select(
        &settings.common,
        &resize_suite(settings, &settings.common, &Env::default()),
    ) else {
        return Ok(());
    };
    let outcome = resize_suite(settings, &common, &env)
        .run()
        .map_err(|UsageError(e)| e)?;
    let mut report = outcome.report;
    let failures = env.failures.take();
    report.summary.failed = failures.len() as u64;
    report.summary.done = report.summary.total - report.summary.failed;
    report.failures = failures;
    for mut figure in outcome.figures {
        figure.name = format!("resize-{}", figure.name);
        program.figure(figure);
    }
    program.report(report);
    Ok(())
}

// ANCHOR: resize_suite
fn resize_suite<'a>(settings: &Settings, common: &Common, env: &'a Env) -> Suite<'a> {
    let images = env.jobs.len() as u64;
    let workload = Workload::new("X-ray JPEGs to 64x64 grey", images, "images")
        .param("workers", settings.workers as u64);
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
    .arg(settings.workers.to_string())
    .arg("--files");
    for path in &env.paths {
        python = python.arg(path.display().to_string());
    }
    suite.python(python);
    suite.compare_with(resize::compare(PYTHON_TOLERANCE, &env.worst));
    // ANCHOR_END: resize_suite
    let cores = settings.workers;
    suite.conclude(move |report| resize_lessons(report, env, cores));
    suite
}

/// A Python row's thumbnails pass when each image's mean grey level is within this many
/// levels (of 255) of Rust's: Pillow resizes with a bicubic filter, Rust with a triangle one.
const PYTHON_TOLERANCE: f64 = 3.0;

fn resize_lessons(report: &measure::Report, env: &Env, workers: usize) -> Vec<String> {
    use measure::units::{duration, ratio};
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

fn overhead_part(settings: &Settings, program: &Document) -> Result<(), String> {
    program.part(
        "overhead",
        "The overhead of parallelism: one no-op task through each executor",
    );
    let pool = ProcessPool::builder()
        .workers(settings.workers)
        .build()
        .map_err(|e| e.to_string())?;
    let env = Env {
        pool: Some(pool),
        threads: Some(threads::ThreadPool::new(settings.workers)),
        ..Env::default()
    };
    let Some(common) = parts::select(
        &settings.common,
        &overhead_suite(settings, &settings.common, &Env::default()),
    ) else {
        return Ok(());
    };
    let outcome = overhead_suite(settings, &common, &env)
        .run()
        .map_err(|UsageError(e)| e)?;
    program.figure(overhead::chart(&outcome.report));
    for mut figure in outcome.figures {
        figure.name = format!("overhead-{}", figure.name);
        program.figure(figure);
    }
    program.report(outcome.report);
    Ok(())
}

// ANCHOR: overhead_suite
fn overhead_suite<'a>(settings: &Settings, common: &Common, env: &'a Env) -> Suite<'a> {
    let (n, workers) = (settings.tasks, settings.workers);
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

fn overhead_lessons(report: &measure::Report) -> Vec<String> {
    use measure::units::{duration, ratio};
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

/// For the tests: a pool whose parent panics (the drop kills and reaps the workers), dies of
/// SIGKILL (the workers get their parent-death signal) or waits for Ctrl-C. Prints the
/// workers' pids first, on one line.
fn selftest(what: Selftest) -> ExitCode {
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
    use std::io::Write;
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
