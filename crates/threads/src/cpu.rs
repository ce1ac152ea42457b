//! CPU-bound work on threads: Rust has no GIL, so threads run it on every core at once.
//!
//! Two suites, because the two languages can only be checked against each other on work that
//! gives bit-identical results:
//!
//! - **thumbnails** (Rust only): the talk's case-2 work on each image of the X-ray set (decode
//!   the JPEG, grey, 64×64, `datasets::thumbnail`), sequential and on the thread pool with
//!   1..=N threads. Pillow's decoder and resampler give other pixels, so Python is not in this
//!   table (the process-pool chapter runs Pillow).
//! - **checksums** (Rust and Python): the CRC-32 of each file's bytes, with the same
//!   byte-at-a-time table loop in Rust and in pure Python, plus Python's `zlib.crc32` (C code
//!   that releases the GIL while it runs). Same numbers in all three, so every row is verified.
//!   The pure-Python loop holds the GIL: its `ThreadPoolExecutor` rows do not get faster.

use crate::{TaskResults, ThreadPool, cores, threads_label};
pub use datasets::Thumbnails;
use measure::report::{Failure, Kind, Lang, Report, Row};
use measure::units::{duration, ratio};
use measure::{Common, LineChart, PythonScript, Series, Suite, Workload};
use std::path::{Path, PathBuf};

/// Thumbnail side, as in the talk.
pub const SIDE: u32 = 64;

/// The inputs of the CPU part: every file, and which of them could be read.
#[derive(Debug, Clone, Default)]
pub struct Images {
    /// Where they came from (the cached set's folder, or `--input`).
    pub source: String,
    /// Every input, in order.
    pub paths: Vec<PathBuf>,
    /// The inputs whose bytes could be read (the checksum suite's inputs).
    pub readable: Vec<PathBuf>,
    /// The inputs that could not be read, one line each.
    pub unreadable: Vec<Failure>,
    pub bytes: u64,
    /// Entries of an `--input` folder that could not even be listed (one line each).
    pub unlisted: Vec<Failure>,
}

impl Images {
    /// Every input: the listed files and the entries that could not be listed.
    pub fn total(&self) -> u64 {
        (self.paths.len() + self.unlisted.len()) as u64
    }

    /// The inputs that could not be read or listed.
    pub fn lost(&self) -> Vec<Failure> {
        self.unreadable
            .iter()
            .chain(&self.unlisted)
            .cloned()
            .collect()
    }
}

pub use datasets::file_name;

impl Images {
    /// Reads every file once: finds the unreadable ones, and puts the rest in the page cache so
    /// that no timed run pays for the disk.
    pub fn from_paths(source: String, paths: Vec<PathBuf>) -> Images {
        let mut images = Images {
            source,
            ..Images::default()
        };
        for path in paths {
            match std::fs::read(&path) {
                Ok(bytes) => {
                    images.bytes += bytes.len() as u64;
                    images.readable.push(path.clone());
                }
                Err(e) => images.unreadable.push(Failure {
                    input: file_name(&path),
                    error: format!("cannot read {}: {e}", path.display()),
                }),
            }
            images.paths.push(path);
        }
        images
    }

    /// The first `count` images of the generated X-ray set (made once, then cached).
    pub fn xray_set(count: usize, progress: bool) -> Result<Images, String> {
        let set = datasets::cached_xray_set(count, datasets::DEFAULT_SEED, progress)
            .map_err(|e| format!("cannot make the X-ray set: {e}"))?;
        Ok(Images::from_paths(set.dir.display().to_string(), set.paths))
    }

    /// The files of `dir` named `*.jpeg` or `*.jpg` (any case), by name; at most `limit`
    /// ([`datasets::list_jpegs`]: an entry the listing cannot read is an unreadable input).
    pub fn folder(dir: &Path, limit: Option<usize>) -> Result<Images, String> {
        let folder = datasets::list_jpegs(dir, limit)?;
        let mut images = Images::from_paths(dir.display().to_string(), folder.paths);
        images.unlisted = folder.failures;
        Ok(images)
    }
}

// ANCHOR: thumbnail
/// The work on one image: decode the JPEG, make it grey, shrink it to 64×64.
pub fn thumbnail(path: &Path) -> Result<Vec<u8>, String> {
    datasets::thumbnail(path, SIDE).map_err(|e| e.to_string())
}

/// One image after the other.
pub fn thumbnails_sequential(paths: &[PathBuf]) -> Thumbnails {
    let items = paths.iter().map(|path| thumbnail(path)).collect();
    Thumbnails::of(paths, items, Vec::new())
}

/// The same on a pool of `threads` workers; `map` keeps the input order.
pub fn thumbnails_pool(paths: &[PathBuf], threads: usize) -> Thumbnails {
    let pool = ThreadPool::new(threads);
    let results = pool.map(|path: PathBuf| thumbnail(&path), paths.to_vec());
    // A task that panicked is an input the pool lost: that image's failure, named in the row.
    let mut lost = Vec::new();
    let items = results
        .zip(paths)
        .map(|(r, path)| {
            r.unwrap_or_else(|e| {
                lost.push(Failure {
                    input: file_name(path),
                    error: e.to_string(),
                });
                Err(e.to_string())
            })
        })
        .collect();
    Thumbnails::of(paths, items, lost)
}
// ANCHOR_END: thumbnail

// ANCHOR: crc32
/// The CRC-32 of zlib (and PNG, and gzip), one byte at a time through a 256-entry table:
/// the same loop as the pure-Python one in `scripts/python/threads_cpu.py`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc = CRC_TABLE[((crc ^ byte as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// A file's CRC-32; a file that cannot be read any more gives [`NO_CRC`].
pub fn crc_file(path: &Path) -> u64 {
    std::fs::read(path).map_or(NO_CRC, |bytes| crc32(&bytes) as u64)
}
// ANCHOR_END: crc32

/// No CRC-32 is this large: the mark of a file that could be read before and not during a run
/// (the Python script uses the same mark).
pub const NO_CRC: u64 = 1 << 32;

// ANCHOR: crc_pool
pub fn checksums_sequential(paths: &[PathBuf]) -> Vec<u64> {
    paths.iter().map(|path| crc_file(path)).collect()
}

pub fn checksums_pool(paths: &[PathBuf], threads: usize) -> TaskResults<u64> {
    let pool = ThreadPool::new(threads);
    pool.map(|path: PathBuf| crc_file(&path), paths.to_vec())
        .collect()
}
// ANCHOR_END: crc_pool

/// Row names.
pub const SEQUENTIAL: &str = "sequential";

pub fn pool_row(threads: usize) -> String {
    format!("thread pool, {}", threads_label(threads))
}

pub const CRC_SEQUENTIAL: &str = "CRC-32, sequential";

pub fn crc_pool_row(threads: usize) -> String {
    format!("CRC-32, thread pool, {}", threads_label(threads))
}

/// The Python script's approaches for `1..=max` threads: the pure-Python loop and zlib's.
pub fn python_approaches(max: usize) -> Vec<String> {
    let mut names = Vec::new();
    for kind in [PY_LOOP, PY_ZLIB] {
        names.push(format!("{kind}, sequential"));
        for n in 1..=max {
            names.push(format!("{kind}, {}", threads_label(n)));
        }
    }
    names
}

pub const PY_LOOP: &str = "CRC-32 loop";
pub const PY_ZLIB: &str = "zlib.crc32";

/// The thumbnail suite: sequential, then the pool with 1..=`max` threads.
pub fn thumbnail_suite<'a>(images: &'a Images, max: usize, common: &Common) -> Suite<'a> {
    let workload = Workload::new(
        format!("decode + grey + {SIDE}×{SIDE} thumbnail of each image"),
        images.paths.len() as u64,
        "images",
    )
    .param("input", images.source.clone())
    .param("MB", (images.bytes as f64 / 1e6 * 10.0).round() / 10.0)
    .param("cores", cores() as u64);
    let paths = &images.paths;
    let mut suite = Suite::new("threads: thumbnails", workload, common);
    // Each row lists the inputs it has no thumbnail for (Verify::failures); the report's
    // summary counts them all, with the entries that could not be read at all.
    suite.baseline(SEQUENTIAL, move || thumbnails_sequential(paths));
    for n in 1..=max {
        suite.approach(&pool_row(n), move || thumbnails_pool(paths, n));
    }
    suite
        .account(images.total(), images.unlisted.clone())
        .show_cpu()
        .conclude(move |report| speedup_lessons(report, SEQUENTIAL, pool_row, max));
    suite
}

/// The checksum suite: Rust sequential and on the pool, Python's loop and zlib's, sequential
/// and in a `ThreadPoolExecutor` with 1..=`max` threads.
pub fn checksum_suite<'a>(images: &'a Images, max: usize, common: &Common) -> Suite<'a> {
    let workload = Workload::new(
        "CRC-32 of each file's bytes",
        images.readable.len() as u64,
        "files",
    )
    .param("input", images.source.clone())
    .param("MB", (images.bytes as f64 / 1e6 * 10.0).round() / 10.0)
    .param("cores", cores() as u64);
    let paths = &images.readable;
    let mut suite = Suite::new("threads: checksums", workload, common);
    suite.baseline(CRC_SEQUENTIAL, move || checksums_sequential(paths));
    for n in 1..=max {
        suite.approach(&crc_pool_row(n), move || checksums_pool(paths, n));
    }
    let names = python_approaches(max);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut script = PythonScript::new("threads_cpu.py", &names)
        .arg("--threads")
        .arg(max.to_string());
    for path in paths {
        script = script.arg("--file").arg(path.display().to_string());
    }
    suite.python(script);
    suite
        .account(images.total(), images.lost())
        .show_cpu()
        .footnote(
            "Python rows: \"CRC-32 loop\" is the same table loop in pure Python (it holds the \
             GIL); \"zlib.crc32\" is C that releases the GIL; \"N threads\" is a \
             ThreadPoolExecutor(max_workers=N) with executor.map.",
        )
        .conclude(move |report| checksum_lessons(report, max));
    suite
}

/// Speed-up of each pool row against the suite's sequential row.
fn speedups(
    report: &Report,
    base: &str,
    row: impl Fn(usize) -> String,
    max: usize,
) -> Vec<(f64, f64)> {
    let median = |name: &str| verified_median(report, name);
    let Some(b) = median(base) else {
        return Vec::new();
    };
    (1..=max)
        .filter_map(|n| median(&row(n)).map(|m| (n as f64, b / m)))
        .collect()
}

fn verified_median(report: &Report, name: &str) -> Option<f64> {
    report
        .row(name)
        .filter(|r| r.verified != Some(false))
        .and_then(|r| r.median_s)
}

fn speedup_lessons(
    report: &Report,
    base: &str,
    row: impl Fn(usize) -> String,
    max: usize,
) -> Vec<String> {
    let points = speedups(report, base, &row, max);
    let cpu = |name: &str| report.row(name).and_then(|r| r.cpu_s);
    let mut lines = Vec::new();
    if let Some(&(n, s)) = points.last() {
        let n = n as usize;
        let cores = cores();
        let why = if s >= 0.75 * n.min(cores) as f64 {
            "Rust threads run Rust code in parallel: there is no GIL."
        } else {
            "Below the ideal: other programs were using the cores, or there were too few tasks \
             to share out evenly (the CPU time per run shows the work itself did not grow)."
        };
        lines.push(format!(
            "{} ran at {} the speed of sequential on {cores} core(s) (ideal: {}x). {why}",
            row(n),
            ratio(s),
            n.min(cores)
        ));
        if let (Some(a), Some(b)) = (cpu(base), cpu(&row(n))) {
            lines.push(format!(
                "CPU time per run: {} sequential, {} on {}: the same work, spread over the cores.",
                duration(a),
                duration(b),
                threads_label(n)
            ));
        }
    }
    lines
}

fn checksum_lessons(report: &Report, max: usize) -> Vec<String> {
    let mut lines = speedup_lessons(report, CRC_SEQUENTIAL, crc_pool_row, max);
    let py = |kind: &str, n: Option<usize>| {
        let name = match n {
            None => format!("Python {kind}, sequential"),
            Some(n) => format!("Python {kind}, {}", threads_label(n)),
        };
        verified_median(report, &name)
    };
    if max >= 2
        && let (Some(one), Some(many)) = (py(PY_LOOP, Some(1)), py(PY_LOOP, Some(max)))
    {
        lines.push(gil_loop_line(max, many / one));
    }
    if max >= 2
        && let (Some(one), Some(many)) = (py(PY_ZLIB, Some(1)), py(PY_ZLIB, Some(max)))
    {
        let files = report.workload.items.max(1) as f64;
        let per_file = py(PY_ZLIB, None).map_or(one, |s| s) / files;
        lines.push(gil_zlib_line(max, many / one, per_file));
    }
    if let Some(rust) = verified_median(report, CRC_SEQUENTIAL) {
        if let Some(python) = py(PY_LOOP, None) {
            lines.push(match python / rust {
                r if r > 1.0 => format!(
                    "The same loop, compiled: Rust's sequential CRC-32 was {} faster than \
                     Python's.",
                    ratio(r)
                ),
                r => format!(
                    "The same loop: Python's sequential CRC-32 was {} faster than Rust's in \
                     this run.",
                    ratio(1.0 / r)
                ),
            });
        }
        if let Some(zlib) = py(PY_ZLIB, None) {
            lines.push(if zlib < rust {
                format!(
                    "zlib's C code took {} of the time of the Rust byte-at-a-time loop: it \
                     computes the same CRC with a faster algorithm (many bytes per step). A \
                     better algorithm beats a compiled naive loop; these rows are here for the \
                     GIL.",
                    ratio(zlib / rust)
                )
            } else {
                format!(
                    "zlib's C code took {} the time of the Rust byte-at-a-time loop in this run: \
                     here the compiled naive loop kept up with the better algorithm.",
                    ratio(zlib / rust)
                )
            });
        }
    }
    lines
}

/// What `max` threads of the pure-Python loop did, as a fraction of 1 thread's time: about
/// the same (or slower) is the GIL at work; clearly less is an interpreter without one.
fn gil_loop_line(max: usize, time_ratio: f64) -> String {
    let threads = threads_label(max);
    if time_ratio >= 0.8 {
        format!(
            "Python's CRC-32 loop on {threads} took {} the time of 1 thread: no faster, as the \
             GIL lets one thread run Python code at a time.",
            ratio(time_ratio)
        )
    } else {
        format!(
            "Python's CRC-32 loop on {threads} took {} the time of 1 thread: the threads did \
             run Python code at once, so this interpreter did not hold a GIL for it (a \
             free-threaded build?).",
            ratio(time_ratio)
        )
    }
}

/// What `max` threads of `zlib.crc32` did, as a fraction of 1 thread's time, with the time of
/// one call.
fn gil_zlib_line(max: usize, time_ratio: f64, per_file: f64) -> String {
    let threads = threads_label(max);
    if time_ratio < 0.8 {
        format!(
            "zlib.crc32 releases the GIL while it runs: on {threads} it took {} the time of 1 \
             thread, so the calls did overlap ({} per file).",
            ratio(time_ratio),
            duration(per_file)
        )
    } else {
        format!(
            "zlib.crc32 releases the GIL while it runs, yet on {threads} it took {} the time of \
             1 thread: a call is short here ({} per file), so handing it to a thread costs \
             about what running it alongside saves.",
            ratio(time_ratio),
            duration(per_file)
        )
    }
}

/// `speedup.svg`: speed-up against sequential by threads, for every series that ran, with the
/// ideal line.
pub fn speedup_chart(
    thumbnails: Option<&Report>,
    checksums: Option<&Report>,
    max: usize,
) -> LineChart {
    let mut series = Vec::new();
    let mut add = |name: &str, points: Vec<(f64, f64)>| {
        if !points.is_empty() {
            series.push(Series {
                name: name.to_string(),
                points,
            });
        }
    };
    if let Some(r) = thumbnails {
        add(
            "Rust: 64×64 thumbnails",
            speedups(r, SEQUENTIAL, pool_row, max),
        );
    }
    if let Some(r) = checksums {
        add(
            "Rust: CRC-32 loop",
            speedups(r, CRC_SEQUENTIAL, crc_pool_row, max),
        );
        let python =
            |kind: &'static str| move |n: usize| format!("Python {kind}, {}", threads_label(n));
        add(
            "Python: CRC-32 loop (holds the GIL)",
            speedups(
                r,
                &format!("Python {PY_LOOP}, sequential"),
                python(PY_LOOP),
                max,
            ),
        );
        add(
            "Python: zlib.crc32 (releases the GIL)",
            speedups(
                r,
                &format!("Python {PY_ZLIB}, sequential"),
                python(PY_ZLIB),
                max,
            ),
        );
    }
    series.push(Series {
        name: "ideal: N threads, N times faster".into(),
        points: (1..=max).map(|n| (n as f64, n as f64)).collect(),
    });
    LineChart {
        name: "speedup".into(),
        title: format!(
            "Speed-up against sequential by threads, on {} core(s) (higher is better)",
            cores()
        ),
        x_desc: "threads".into(),
        y_desc: "speed-up against sequential".into(),
        series,
    }
}

/// Rows of a report that are Python's (for tests and the chapter).
pub fn python_rows(report: &Report) -> Vec<&Row> {
    report
        .results
        .iter()
        .filter(|r| r.lang == Lang::Python && r.kind == Kind::Approach)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::Verify;

    #[test]
    fn the_gil_lines_follow_the_numbers() {
        let held = gil_loop_line(2, 1.02);
        assert!(held.contains("no faster") && held.contains("GIL"), "{held}");
        // Numbers against the usual story: the loop got faster on threads.
        let free = gil_loop_line(2, 0.52);
        assert!(free.contains("did run Python code at once"), "{free}");
        assert!(!free.contains("no faster"), "{free}");
        let overlap = gil_zlib_line(2, 0.55, 1e-3);
        assert!(overlap.contains("did overlap"), "{overlap}");
        let short = gil_zlib_line(2, 1.1, 1e-6);
        assert!(short.contains("a call is short here"), "{short}");
    }

    fn report_with(rows: &[(&str, f64, Option<f64>)], items: u64) -> Report {
        Report {
            example: "t".into(),
            machine: measure::Machine::detect(),
            workload: Workload::new("w", items, "files"),
            baseline: rows[0].0.into(),
            runs: 1,
            results: rows
                .iter()
                .map(|&(name, median, cpu)| {
                    let mut row = Row::skipped(name, Lang::Rust, Kind::Approach, "");
                    row.skipped = None;
                    row.median_s = Some(median);
                    row.cpu_s = cpu;
                    row.verified = Some(true);
                    row
                })
                .collect(),
            summary: measure::RunSummary {
                total: items,
                done: items,
                failed: 0,
            },
            failures: Vec::new(),
            notes: Vec::new(),
            columns: Default::default(),
        }
    }

    #[test]
    fn the_checksum_lessons_say_what_the_run_showed() {
        let usual = report_with(
            &[
                (CRC_SEQUENTIAL, 1.0, None),
                ("Python CRC-32 loop, sequential", 50.0, None),
                ("Python CRC-32 loop, 1 thread", 50.0, None),
                ("Python CRC-32 loop, 2 threads", 51.0, None),
                ("Python zlib.crc32, sequential", 0.1, None),
            ],
            10,
        );
        let lines = checksum_lessons(&usual, 2).join("\n");
        assert!(
            lines.contains("Rust's sequential CRC-32 was 50.0x faster"),
            "{lines}"
        );
        assert!(lines.contains("no faster, as the GIL"), "{lines}");
        assert!(lines.contains("a faster algorithm"), "{lines}");
        let contrary = report_with(
            &[
                (CRC_SEQUENTIAL, 1.0, None),
                ("Python CRC-32 loop, sequential", 0.5, None),
                ("Python CRC-32 loop, 1 thread", 0.5, None),
                ("Python CRC-32 loop, 2 threads", 0.26, None),
                ("Python zlib.crc32, sequential", 2.0, None),
            ],
            10,
        );
        let lines = checksum_lessons(&contrary, 2).join("\n");
        assert!(
            lines.contains("Python's sequential CRC-32 was 2.00x faster"),
            "{lines}"
        );
        assert!(lines.contains("did run Python code at once"), "{lines}");
        assert!(
            lines.contains("kept up with the better algorithm"),
            "{lines}"
        );
        assert!(!lines.contains("the GIL lets"), "{lines}");
    }

    #[test]
    fn the_speed_up_line_follows_the_numbers() {
        let n = cores().min(2);
        let ideal = report_with(
            &[
                (SEQUENTIAL, 1.0, Some(1.0)),
                (&pool_row(2), 1.0 / n as f64, Some(1.0)),
            ],
            10,
        );
        let lines = speedup_lessons(&ideal, SEQUENTIAL, pool_row, 2).join("\n");
        assert!(lines.contains("there is no GIL"), "{lines}");
        let slow = report_with(&[(SEQUENTIAL, 1.0, None), (&pool_row(2), 2.0, None)], 10);
        let lines = speedup_lessons(&slow, SEQUENTIAL, pool_row, 2).join("\n");
        assert!(lines.contains("Below the ideal"), "{lines}");
        assert!(!lines.contains("no GIL"), "{lines}");
    }

    #[test]
    fn crc32_matches_the_standard_check_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn python_names_cover_every_thread_count() {
        assert_eq!(
            python_approaches(2),
            [
                "CRC-32 loop, sequential",
                "CRC-32 loop, 1 thread",
                "CRC-32 loop, 2 threads",
                "zlib.crc32, sequential",
                "zlib.crc32, 1 thread",
                "zlib.crc32, 2 threads"
            ]
        );
    }

    #[test]
    fn pool_and_sequential_agree_on_real_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.jpeg");
        std::fs::write(
            &good,
            datasets::xray_jpeg(datasets::DEFAULT_SEED, 3).unwrap(),
        )
        .unwrap();
        let bad = dir.path().join("b.jpeg");
        std::fs::write(&bad, b"not a jpeg").unwrap();
        let missing = dir.path().join("c.jpeg");
        let paths = vec![good.clone(), bad.clone(), missing, good];
        let seq = thumbnails_sequential(&paths);
        assert_eq!(seq.items[0].as_ref().unwrap().len(), 64 * 64);
        assert!(seq.items[1].is_err() && seq.items[2].is_err());
        let failures = seq.failures();
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].input, "b.jpeg");
        let pooled = thumbnails_pool(&paths, 3);
        assert_eq!(pooled, seq);
        assert_eq!(pooled.fingerprint(), seq.fingerprint());
        let mut swapped = seq.clone();
        swapped.items.swap(0, 1);
        assert_ne!(swapped.fingerprint(), seq.fingerprint());

        let crcs = checksums_sequential(&paths);
        assert_eq!(crcs[2], NO_CRC);
        assert_eq!(crcs[0], crcs[3]);
        assert_eq!(crcs[1], crc32(b"not a jpeg") as u64);
        assert_eq!(checksums_pool(&paths, 2).0.unwrap(), crcs);
    }
}
