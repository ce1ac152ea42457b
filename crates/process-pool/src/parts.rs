//! The binary's three parts, in the order they run: the crash demo, case 2 (the resize) and
//! the overhead table. Each prints through `measure::Document` as it goes (text as it
//! happens, one JSON document with `--json`, files with `--out DIR`).
//!
//! Two of the parts are measured suites ([`crate::suites`]) sharing one command line, which
//! takes some care: `--list` names the rows of both, every `--approach` is checked against
//! both before anything is generated or started (a typo is one line and exit code 2, not an
//! error after minutes of work), and each suite then gets only the names it knows.

use datasets::{FULL_COUNT, QUICK_COUNT};
use measure::{Catalog, Common, Document, UsageError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::demo;
use crate::resize::Verbose;
use crate::suites::{self, Resources};
use worker_pool::{ProcessPool, WorkerOutput};

/// A process pool in Rust with Python's ProcessPoolExecutor vocabulary: a crash-safety demo,
/// the X-ray set resized to 64x64 (sequential vs the pool's map, chunksize 1 and 16, beside the
/// talk's Python), and the overhead of one task through each executor. With no PART named,
/// all three run in order.
#[derive(clap::Parser)]
#[command(name = "process-pool", version, about, long_about = None)]
pub struct Cli {
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

    #[command(flatten)]
    common: Common,
}

/// The defaults the flags leave open, filled in (some depend on `--quick`).
impl From<Cli> for Settings {
    fn from(cli: Cli) -> Settings {
        let quick = cli.common.quick;
        Settings {
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
        }
    }
}

/// The parts of the program, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Tasks that abort, get SIGKILLed, run out of memory or panic: each fails alone
    Crash,
    /// The X-ray set to 64x64: sequential vs the process pool, beside Python
    Resize,
    /// The cost of one no-op task through each executor, Rust and Python
    Overhead,
}

/// The command line, resolved: every default filled in.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The parts to run, in order (all three when none is named).
    pub parts: Vec<Part>,
    /// How many images of the generated X-ray set (ignored with `input`).
    pub images: usize,
    /// A folder of JPEGs instead of the generated set.
    pub input: Option<PathBuf>,
    /// Worker processes of each pool, and threads of the thread pool: the same number, so
    /// the rows compare executors, not amounts of hardware.
    pub workers: usize,
    /// No-op tasks per run of the overhead table.
    pub tasks: u64,
    /// Kill and replace a worker whose image takes longer than this (that image fails).
    pub timeout: Option<Duration>,
    /// Print "[pid N] running FILE" for every image.
    pub verbose: bool,
    pub common: Common,
}

impl Settings {
    /// Whether `part` runs: every part when none is named.
    pub fn runs(&self, part: Part) -> bool {
        self.parts.is_empty() || self.parts.contains(&part)
    }

    /// Where the `--verbose` lines go. With `--json`, stdout carries the JSON document and
    /// nothing else, so they go to stderr.
    fn verbose_to(&self) -> Verbose {
        match (self.verbose, self.common.json) {
            (false, _) => Verbose::Off,
            (true, false) => Verbose::ToStdout,
            (true, true) => Verbose::ToStderr,
        }
    }

    /// The chosen parts' suites on empty `Resources`: their rows' names, with no pool
    /// started and no file made; `--list` and the `--approach` check read them.
    pub fn catalog<'a>(&self, empty: &'a Resources) -> Catalog<'a> {
        let mut catalog = Catalog::new();
        if self.runs(Part::Resize) {
            catalog.add(
                "resize",
                suites::resize_suite(self.workers, &self.common, empty),
            );
        }
        if self.runs(Part::Overhead) {
            catalog.add(
                "overhead",
                suites::overhead_suite(self.tasks, self.workers, &self.common, empty),
            );
        }
        catalog
    }
}

/// `--task-timeout`: a number of seconds, more than 0 and at most a day.
pub fn positive_seconds(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 86_400.0 => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!(
            "'{s}' is not a number of seconds between 0 and 86400"
        )),
    }
}

/// Part 1: ten tasks on a fresh pool, four of which kill their worker; the lines go into the
/// report as `crash_demo`. It has no rows to pick, so `--approach` skips it.
pub fn crash_demo(settings: &Settings, program: &Document) -> Result<(), String> {
    if !settings.runs(Part::Crash) || !settings.common.approaches.is_empty() {
        return Ok(());
    }
    program.part("crash", "A worker that dies fails only its own task");
    let pool = ProcessPool::new(settings.workers).map_err(|e| e.to_string())?;
    let lines = demo::crash_demo(&pool);
    for line in &lines {
        program.line(line);
    }
    program.record("crash_demo", serde_json::json!(lines));
    Ok(())
}

/// Part 2, case 2: the X-ray set (or `--input DIR`) to 64x64. The pool starts once, before
/// the timed runs; its start-up time is reported apart. A file that fails is one failure in
/// the report, as the baseline saw it, and the exit code becomes 1.
pub fn resize(settings: &Settings, program: &Document) -> Result<(), String> {
    if !settings.runs(Part::Resize) {
        return Ok(());
    }
    program.part(
        "resize",
        "Case 2: the X-ray set to 64x64, sequential vs the process pool",
    );
    let (paths, unlisted) = match &settings.input {
        Some(dir) => {
            let folder = datasets::list_jpegs(dir, None)?;
            (folder.paths, folder.failures)
        }
        None => {
            let set = datasets::cached_xray_set(
                settings.images,
                datasets::DEFAULT_SEED,
                settings.common.show_progress(),
            )
            .map_err(|e| e.to_string())?;
            (set.paths, Vec::new())
        }
    };
    // The workers' own output (the `--verbose` lines) must not land in the JSON document.
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
    let pool = builder.clone().build().map_err(|e| e.to_string())?;
    let started_in = started.elapsed();
    let pixels = tempfile::Builder::new()
        .prefix("process-pool-thumbnails-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder for Python's thumbnails: {e}"))?;
    let env = Resources {
        jobs: crate::resize::jobs(&paths, settings.verbose_to()),
        paths,
        started_in,
        pool: Some(pool),
        builder: Some(builder),
        threads: Some(threads::ThreadPool::new(settings.workers)),
        pixels: Some(pixels),
    };
    let Some(common) = settings.common.for_suite(&suites::resize_suite(
        settings.workers,
        &settings.common,
        &Resources::default(),
    )) else {
        return Ok(());
    };
    // Every input is accounted for: the entries the folder listing could not read, and (in
    // the report's summary) every input any row lost, each under the row that lost it.
    let total = (env.paths.len() + unlisted.len()) as u64;
    let mut suite = suites::resize_suite(settings.workers, &common, &env);
    suite.account(total, unlisted);
    let outcome = suite.run().map_err(|UsageError(e)| e)?;
    program.figures("resize", outcome.figures);
    program.report(outcome.report);
    Ok(())
}

/// Part 3: the overhead table and its figure, `overhead.svg`.
pub fn overhead(settings: &Settings, program: &Document) -> Result<(), String> {
    if !settings.runs(Part::Overhead) {
        return Ok(());
    }
    program.part(
        "overhead",
        "The overhead of parallelism: one no-op task through each executor",
    );
    let pool = ProcessPool::builder()
        .workers(settings.workers)
        .build()
        .map_err(|e| e.to_string())?;
    let env = Resources {
        pool: Some(pool),
        threads: Some(threads::ThreadPool::new(settings.workers)),
        ..Resources::default()
    };
    let (tasks, workers) = (settings.tasks, settings.workers);
    let Some(common) = settings.common.for_suite(&suites::overhead_suite(
        tasks,
        workers,
        &settings.common,
        &Resources::default(),
    )) else {
        return Ok(());
    };
    let outcome = suites::overhead_suite(tasks, workers, &common, &env)
        .run()
        .map_err(|UsageError(e)| e)?;
    program.figure(crate::overhead::chart(&outcome.report));
    program.figures("overhead", outcome.figures);
    program.report(outcome.report);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(parts: &[Part], approaches: &[&str]) -> Settings {
        Settings {
            parts: parts.to_vec(),
            images: 4,
            input: None,
            workers: 2,
            tasks: 10,
            timeout: None,
            verbose: false,
            common: Common {
                approaches: approaches.iter().map(|a| a.to_string()).collect(),
                ..Common::default()
            },
        }
    }

    #[test]
    fn seconds_are_positive_and_at_most_a_day() {
        assert_eq!(positive_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(positive_seconds("86400"), Ok(Duration::from_secs(86_400)));
        for bad in ["0", "-1", "86401", "NaN", "inf", "soon"] {
            assert!(positive_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_names_the_rows_of_the_chosen_parts_only() {
        let listing = |parts: &[Part]| {
            settings(parts, &[])
                .catalog(&Resources::default())
                .listing()
        };
        let all = listing(&[]);
        assert!(
            all.contains("sequential") && all.contains("rayon par_iter"),
            "{all}"
        );
        let overhead = listing(&[Part::Overhead]);
        assert!(!overhead.contains("sequential"), "{overhead}");
        assert!(overhead.contains("rayon par_iter"), "{overhead}");
        assert!(listing(&[Part::Crash]).is_empty());
    }

    #[test]
    fn every_approach_must_name_a_row_of_some_suite() {
        let check = |approaches: &[&str]| {
            let s = settings(&[], approaches);
            s.catalog(&Resources::default()).check(&s.common)
        };
        assert!(check(&["sequential", "rayon-par-iter"]).is_ok());
        let e = check(&["sequential", "fork bomb"]).unwrap_err().0;
        assert!(e.starts_with("unknown approach 'fork bomb'; `--list` names them: sequential, "));
    }

    #[test]
    fn each_suite_gets_only_the_names_it_knows() {
        let common = settings(&[], &["sequential", "rayon-par-iter"]).common;
        let empty = Resources::default();
        let resize = suites::resize_suite(2, &common, &empty);
        let overhead = suites::overhead_suite(10, 2, &common, &empty);
        assert_eq!(
            common.for_suite(&resize).unwrap().approaches,
            ["sequential"]
        );
        assert_eq!(
            common.for_suite(&overhead).unwrap().approaches,
            ["rayon-par-iter"]
        );
        let only_resize = settings(&[], &["thread pool map"]).common;
        assert!(only_resize.for_suite(&overhead).is_none());
    }
}
