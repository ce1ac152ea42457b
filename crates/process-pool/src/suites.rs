//! The two measured suites: case 2 (the resize) and the overhead table, each registered the
//! way every example registers its rows (a baseline, the approaches, Python's rows, a lesson).
//!
//! A suite's rows are closures that borrow an [`Resources`], and the `Resources` owns the pools. That
//! split is deliberate: the same suite is built twice, once on an empty `Resources` to answer
//! `--list` and check `--approach` (which must not start a worker or generate a file), and
//! once on the real one, whose pools are started once, before the timed runs, and outlive
//! every run instead of being paid for inside it.

use datasets::{Difference, ThumbnailCheck};
use measure::units::{duration, ratio};
use measure::{Common, PythonScript, Report, Suite, Workload};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use crate::overhead;
use crate::resize::{self, ResizeJob, SIDE, Thumbnails};
use worker_pool::{Builder, ProcessPool};

/// What the suites' closures work on; empty (no pools, no files) for `--list`, whose rows are
/// never run.
#[derive(Default)]
pub struct Resources {
    pub paths: Vec<PathBuf>,
    pub jobs: Vec<ResizeJob>,
    pub pool: Option<ProcessPool>,
    /// How to start a pool like `pool`, for the row that starts its pool inside every timed
    /// run, as Python's `with ProcessPoolExecutor() as executor:` does.
    pub builder: Option<Builder>,
    pub threads: Option<threads::ThreadPool>,
    /// Where the Python script writes each run's thumbnails (raw grey pixels, one file per
    /// run), for the comparison image by image; removed with the `Resources`.
    pub pixels: Option<tempfile::TempDir>,
    /// How long the resize pool took to start (outside the timed runs, so reported apart).
    pub started_in: Duration,
}

/// What each row runs. On an empty `Resources` a row returns an empty result; `--list` never runs it.
impl Resources {
    fn sequential(&self) -> Thumbnails {
        resize::sequential(&self.jobs)
    }

    fn pool_map(&self, chunksize: usize) -> Thumbnails {
        self.pool
            .as_ref()
            .map(|pool| resize::pool_map(pool, &self.jobs, chunksize))
            .unwrap_or_default()
    }

    /// Start a pool, map, stop the pool: all inside the timed run. A pool that cannot start
    /// loses every input, with the reason.
    fn pool_map_started_in_run(&self, chunksize: usize) -> Thumbnails {
        let Some(builder) = self.builder.clone() else {
            return Thumbnails::default();
        };
        match builder.build() {
            Ok(pool) => resize::pool_map(&pool, &self.jobs, chunksize),
            Err(e) => resize::lost_all(&self.jobs, &format!("the pool did not start: {e}")),
        }
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

/// The Rust row whose pool starts before the timer, and the one that starts it in every run.
pub const POOL_MAP_1: &str = "process pool map, chunksize 1";
pub const POOL_MAP_1_STARTED: &str = "process pool map, chunksize 1, started in the run";
/// Python's rows: the talk's form (the `with` block starts and stops the executor in every
/// run) and the executor started once, before the timed runs.
pub const PY_POOL: &str = "ProcessPoolExecutor().map";
pub const PY_POOL_STARTED_BEFORE: &str = "ProcessPoolExecutor map, started before";
const PY_APPROACHES: [&str; 4] = ["list comprehension", "map", PY_POOL, PY_POOL_STARTED_BEFORE];

// ANCHOR: resize_suite
/// Case 2: the X-ray set to 64x64, sequentially, through the process pool and the thread
/// pool, beside the talk's three Python versions on the same files.
pub fn resize_suite<'a>(workers: usize, common: &Common, env: &'a Resources) -> Suite<'a> {
    let images = env.jobs.len() as u64;
    let workload = Workload::new("X-ray JPEGs to 64x64 grey", images, "images")
        .param("workers", workers as u64);
    let mut suite = Suite::new("process-pool resize", workload, common);
    suite.baseline("sequential", || env.sequential());
    suite.approach(POOL_MAP_1, || env.pool_map(1));
    suite.note("the pool's workers start once, before the timed runs");
    suite.approach(POOL_MAP_1_STARTED, || env.pool_map_started_in_run(1));
    suite.note("starts and stops its workers inside every timed run, as Python's `with` block");
    suite.approach("process pool map, chunksize 16", || env.pool_map(16));
    suite.approach("thread pool map", || env.thread_pool_map());
    let mut python = PythonScript::new("process_pool_resize.py", &PY_APPROACHES)
        .arg("--workers")
        .arg(workers.to_string());
    if let Some(dir) = &env.pixels {
        python = python
            .arg("--pixels-dir")
            .arg(dir.path().display().to_string());
    }
    python = python.arg("--files");
    for path in &env.paths {
        python = python.arg(path.display().to_string());
    }
    suite.python(python);
    // ANCHOR_END: resize_suite
    // Rust rows byte for byte; Python's (Pillow's decoder and bicubic filter) thumbnail by
    // thumbnail, in order, within the bounds measured for Pillow (datasets::PILLOW_MAX_ABS).
    let check = Rc::new(ThumbnailCheck::pillow(SIDE));
    let c = Rc::clone(&check);
    suite.compare_with(move |base, other| c.compare(base, other));
    for name in PY_APPROACHES {
        let c = Rc::clone(&check);
        suite.check_row(
            &PythonScript::row_name(name),
            move |base, other| c.compare(base, other),
            format!(
                "{}: Pillow's decoder and bicubic filter against ours, measured on the generated \
                 set at most 11 levels and at least 43.5 dB; a transposed, flipped or swapped \
                 thumbnail is at least 60 levels and at most 28.2 dB away",
                check.describe()
            ),
        );
    }
    let started_in = env.pool.as_ref().map(|_| env.started_in);
    suite.conclude(move |report| resize_lessons(report, workers, started_in, check.worst.get()));
    suite
}

/// The lesson of the resize, in this run's numbers: the cost of one image, how close each
/// chunksize gets to the ideal (and the best its chunking allows), Python beside Rust, each
/// pool started the same way, and what starting one costs.
fn resize_lessons(
    report: &Report,
    workers: usize,
    started_in: Option<Duration>,
    worst: Option<Difference>,
) -> Vec<String> {
    // Rows whose result did not verify draw no lesson.
    let median = |name: &str| {
        report
            .row(name)
            .filter(|r| r.verified != Some(false))
            .and_then(|r| r.median_s)
    };
    let python = |name: &str| median(&PythonScript::row_name(name));
    let mut lines = Vec::new();
    let images = report.workload.items as usize;
    if let Some(seq) = median("sequential") {
        lines.push(format!(
            "One image costs {} on one core (sequential / images); with {workers} workers the \
             best possible is {} per run.",
            duration(seq / images.max(1) as f64),
            duration(seq / workers as f64)
        ));
        for (name, chunksize) in [(POOL_MAP_1, 1), ("process pool map, chunksize 16", 16)] {
            if let Some(t) = median(name) {
                let bound = resize::chunk_balance(images, chunksize, workers);
                lines.push(format!(
                    "{name}: {} than sequential, {:.0}% of the ideal {workers}x; {images} \
                     images in chunks of {chunksize} allow at best {:.0}% on {workers} workers.",
                    match seq / t {
                        r if r >= 1.0 => format!("{} faster", ratio(r)),
                        r => format!("{} slower", ratio(1.0 / r)),
                    },
                    100.0 * seq / t / workers as f64,
                    100.0 * bound
                ));
            }
        }
        if let Some(py) = python("list comprehension") {
            lines.push(sequential_costs(py, seq));
        }
    }
    for (rust, py, how) in [
        (
            POOL_MAP_1_STARTED,
            PY_POOL,
            "both start and stop their workers inside every timed run",
        ),
        (
            POOL_MAP_1,
            PY_POOL_STARTED_BEFORE,
            "both start their workers once, before the timed runs",
        ),
    ] {
        if let (Some(p), Some(r)) = (python(py), median(rust)) {
            lines.push(format!(
                "Python's {py} took {} and the Rust pool's {rust} {} ({how}, the same files, \
                 {workers} workers each): {}.",
                duration(p),
                duration(r),
                faster(p, r, "Rust", "Python")
            ));
        }
    }
    for (lang, inside, outside) in [
        ("Rust", median(POOL_MAP_1_STARTED), median(POOL_MAP_1)),
        ("Python", python(PY_POOL), python(PY_POOL_STARTED_BEFORE)),
    ] {
        if let (Some(i), Some(o)) = (inside, outside) {
            lines.push(start_up_cost(lang, i, o));
        }
    }
    if let Some(t) = started_in {
        lines.push(format!(
            "Starting the Rust pool's {workers} worker processes took {} (once, before the timed \
             runs).",
            duration(t.as_secs_f64())
        ));
    }
    if let Some(d) = worst {
        lines.push(format!(
            "Python's thumbnails were checked one by one against Rust's: at most {} grey levels \
             apart at any pixel, PSNR at least {:.1} dB in this run. Rust rows are checked byte \
             for byte.",
            d.max_abs, d.psnr_db
        ));
    }
    lines
}

/// "Rust 2.1x faster", "Python 1.3x faster" or "about the same" (within 10%).
fn faster(slow_if_a: f64, b: f64, b_name: &str, a_name: &str) -> String {
    let r = slow_if_a / b;
    if (1.0 / 1.1..=1.1).contains(&r) {
        "about the same".into()
    } else if r > 1.0 {
        format!("{b_name} {} faster", ratio(r))
    } else {
        format!("{a_name} {} faster", ratio(1.0 / r))
    }
}

/// What the sequential rows say about the cost of one image in each language.
fn sequential_costs(py: f64, rs: f64) -> String {
    let r = py / rs;
    let verdict = if (1.0 / 1.25..=1.25).contains(&r) {
        "one image costs about the same in both (Pillow decodes and resizes in C), so any \
         difference between the pools is in the pools"
            .to_string()
    } else if r > 1.0 {
        format!(
            "one image costs Python {} as much as Rust, so the pools' ratios carry that \
             difference too",
            ratio(r)
        )
    } else {
        format!(
            "one image costs Rust {} as much as Python, so the pools' ratios carry that \
             difference too",
            ratio(1.0 / r)
        )
    };
    format!(
        "Sequentially, Python's list comprehension took {} and Rust {}: {verdict}.",
        duration(py),
        duration(rs)
    )
}

/// What starting the workers inside the timed run added, from the two rows of one language.
fn start_up_cost(lang: &str, inside: f64, outside: f64) -> String {
    let extra = inside - outside;
    if extra > 0.05 * outside {
        format!(
            "{lang}: starting the pool inside the run took {} against {} with the pool started \
             before: start-up cost about {} per run.",
            duration(inside),
            duration(outside),
            duration(extra)
        )
    } else if extra >= -0.05 * outside {
        format!(
            "{lang}: starting the pool inside the run took {} against {} with the pool started \
             before: within 5%, start-up does not show at this size.",
            duration(inside),
            duration(outside)
        )
    } else {
        format!(
            "{lang}: starting the pool inside the run took {} against {} with the pool started \
             before: faster, so in this run the noise between runs was larger than start-up.",
            duration(inside),
            duration(outside)
        )
    }
}

// ANCHOR: overhead_suite
/// The overhead of parallelism: `n` no-op tasks (submit + result) through every executor the
/// book uses, beside Python's two executors, and the limit: no executor at all.
pub fn overhead_suite<'a>(
    n: u64,
    workers: usize,
    common: &Common,
    env: &'a Resources,
) -> Suite<'a> {
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
                "{ours}: {} per task, 1/{} of {theirs}'s {}.",
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

#[cfg(test)]
mod tests {
    use super::*;
    use measure::{Fingerprint, Verify};

    #[test]
    fn the_sequential_line_says_what_the_numbers_show() {
        let same = sequential_costs(1.05, 1.0);
        assert!(same.contains("about the same"), "{same}");
        // Numbers that contradict the usual story: Python far slower, or far faster.
        let slow = sequential_costs(3.0, 1.0);
        assert!(
            slow.contains("costs Python 3.00x as much as Rust"),
            "{slow}"
        );
        assert!(!slow.contains("about the same"), "{slow}");
        let fast = sequential_costs(1.0, 2.0);
        assert!(
            fast.contains("costs Rust 2.00x as much as Python"),
            "{fast}"
        );
    }

    #[test]
    fn the_ratio_and_start_up_lines_follow_the_numbers() {
        assert_eq!(faster(2.0, 1.0, "Rust", "Python"), "Rust 2.00x faster");
        assert_eq!(faster(1.0, 3.0, "Rust", "Python"), "Python 3.00x faster");
        assert_eq!(faster(1.0, 1.05, "Rust", "Python"), "about the same");
        let costly = start_up_cost("Python", 0.3, 0.2);
        assert!(
            costly.contains("start-up cost about 100.0 ms per run"),
            "{costly}"
        );
        let free = start_up_cost("Rust", 0.201, 0.2);
        assert!(free.contains("does not show"), "{free}");
        let faster_inside = start_up_cost("Rust", 0.15, 0.2);
        assert!(faster_inside.contains("noise"), "{faster_inside}");
    }

    /// The real Python script's thumbnails against the Rust baseline through the suite's
    /// check: they pass as they are, and a transposed thumbnail or a swapped pair is ✗.
    #[test]
    fn python_thumbnails_are_checked_one_by_one_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let pixels = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..3)
            .map(|i| {
                let path = dir.path().join(datasets::xray_file_name(i));
                std::fs::write(
                    &path,
                    datasets::xray_jpeg(datasets::DEFAULT_SEED, i).unwrap(),
                )
                .unwrap();
                path
            })
            .collect();
        let base = resize::sequential(&resize::jobs(&paths, resize::Verbose::Off)).fingerprint();
        let mut script = PythonScript::new("process_pool_resize.py", &["list comprehension"])
            .arg("--pixels-dir")
            .arg(pixels.path().display().to_string())
            .arg("--files");
        for p in &paths {
            script = script.arg(p.display().to_string());
        }
        let rows = measure::python::run(&script, &["list comprehension".to_string()], 1);
        if let Some(why) = &rows[0].skipped {
            assert!(
                !measure::python::in_ci(),
                "a skipped Python row fails in CI: {why}"
            );
            eprintln!("skipped: {why}");
            return;
        }
        let fp = rows[0].fingerprints[0].clone();
        let check = ThumbnailCheck::pillow(SIDE);
        assert_eq!(check.compare(&base, &fp), Ok(()));
        let file = fp.0["pixels_file"].as_str().unwrap().to_string();
        let raw = std::fs::read(&file).unwrap();
        let area = (SIDE * SIDE) as usize;
        let side = SIDE as usize;
        let with = |raw: Vec<u8>, name: &str| {
            let path = pixels.path().join(name);
            std::fs::write(&path, raw).unwrap();
            let mut other = fp.clone();
            other.0["pixels_file"] = serde_json::json!(path.display().to_string());
            Fingerprint(other.0)
        };
        let mut transposed = raw.clone();
        for i in 0..area {
            transposed[area + i] = raw[area + (i % side) * side + i / side];
        }
        let e = check
            .compare(&base, &with(transposed, "transposed.raw"))
            .unwrap_err();
        assert!(e.starts_with("image 1: thumbnail differs"), "{e}");
        let mut swapped = raw.clone();
        swapped[..area].copy_from_slice(&raw[2 * area..]);
        swapped[2 * area..].copy_from_slice(&raw[..area]);
        let e = check
            .compare(&base, &with(swapped, "swapped.raw"))
            .unwrap_err();
        assert!(e.starts_with("image 0: thumbnail differs"), "{e}");
    }
}
