//! Case 2 in the talk's own form: the X-ray set to 64x64, sequentially and through the
//! process pool (`map`, chunksize 1 and 16), checked image by image.

use measure::{Fingerprint, Verify};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::cell::Cell;
use std::path::{Path, PathBuf};

use crate::{ProcessPool, TaskFn, is_worker};

/// Thumbnails are `SIDE`x`SIDE` grey pixels.
pub const SIDE: u32 = 64;

/// Where a `running FILE` line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Say {
    Nothing,
    Stdout,
    Stderr,
}

/// One file to shrink.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResizeJob {
    pub path: PathBuf,
    pub say: Say,
}

// ANCHOR: task
/// Decode one X-ray, make it grey, shrink it to 64x64: one task, registered by name.
fn resize(job: ResizeJob) -> Result<Vec<u8>, String> {
    say_running(&job);
    datasets::thumbnail(&job.path, SIDE).map_err(|e| e.to_string())
}

pub static RESIZE: TaskFn<ResizeJob, Result<Vec<u8>, String>> = TaskFn::new("resize", resize);
// ANCHOR_END: task

/// The talk's "pid: running FILE". In a worker the line goes out on its stderr and the pool's
/// forwarder puts `[pid N] ` in front; in the parent we write the prefix ourselves.
fn say_running(job: &ResizeJob) {
    let name = file_name(&job.path);
    if is_worker() {
        if job.say != Say::Nothing {
            eprintln!("running {name}");
        }
        return;
    }
    let line = format!("[pid {}] running {name}", std::process::id());
    match job.say {
        Say::Nothing => {}
        Say::Stdout => println!("{line}"),
        Say::Stderr => eprintln!("{line}"),
    }
}

/// The file's name for messages.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The jobs for `paths`.
pub fn jobs(paths: &[PathBuf], say: Say) -> Vec<ResizeJob> {
    paths
        .iter()
        .map(|path| ResizeJob {
            path: path.clone(),
            say,
        })
        .collect()
}

// ANCHOR: sequential
/// The baseline: one file after another, in this process.
pub fn sequential(jobs: &[ResizeJob]) -> Thumbnails {
    Thumbnails(jobs.iter().map(|job| RESIZE.call(job.clone())).collect())
}
// ANCHOR_END: sequential

// ANCHOR: pool_map
/// The same through the process pool: `executor.map(resize, files, chunksize=...)`.
pub fn pool_map(pool: &ProcessPool, jobs: &[ResizeJob], chunksize: usize) -> Thumbnails {
    Thumbnails(
        pool.map(&RESIZE, jobs, chunksize)
            .map(|r| r.unwrap_or_else(|task_error| Err(task_error.to_string())))
            .collect(),
    )
}
// ANCHOR_END: pool_map

/// For comparison: the same on the thread pool of `crates/threads` (closures, no copies).
pub fn thread_pool_map(pool: &threads::ThreadPool, jobs: &[ResizeJob]) -> Thumbnails {
    Thumbnails(
        pool.map(|job| RESIZE.call(job), jobs.to_vec())
            .map(|r| r.unwrap_or_else(|task_error| Err(task_error.to_string())))
            .collect(),
    )
}

/// Every file's thumbnail, or why it has none, in input order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Thumbnails(pub Vec<Result<Vec<u8>, String>>);

impl Thumbnails {
    /// The files that failed, with their errors.
    pub fn failures(&self, paths: &[PathBuf]) -> Vec<measure::Failure> {
        self.0
            .iter()
            .zip(paths)
            .filter_map(|(r, p)| {
                r.as_ref().err().map(|e| measure::Failure {
                    input: file_name(p),
                    error: e.clone(),
                })
            })
            .collect()
    }
}

/// The mean grey level of a thumbnail, to two decimals.
fn mean(pixels: &[u8]) -> f64 {
    if pixels.is_empty() {
        return 0.0;
    }
    let sum: u64 = pixels.iter().map(|&p| p as u64).sum();
    (sum as f64 / pixels.len() as f64 * 100.0).round() / 100.0
}

impl Verify for Thumbnails {
    /// Exact for Rust rows (every byte, in order: length, sum, position-weighted sum of all
    /// thumbnails) plus what Python can be compared on: how many images decoded and each
    /// image's mean grey level.
    fn fingerprint(&self) -> Fingerprint {
        let ok: Vec<&Vec<u8>> = self.0.iter().filter_map(|r| r.as_ref().ok()).collect();
        let all: Vec<u8> = ok.iter().flat_map(|t| t.iter().copied()).collect();
        let exact = all.fingerprint().0;
        let first_error = self.0.iter().find_map(|r| r.as_ref().err());
        Fingerprint(json!({
            "images": self.0.len(),
            "ok": ok.len(),
            "failed": self.0.len() - ok.len(),
            "first_error": first_error,
            "means": ok.iter().map(|t| mean(t)).collect::<Vec<f64>>(),
            "len": exact["len"],
            "sum": exact["sum"],
            "weighted": exact["weighted"],
        }))
    }
}

/// Pillow's resize is not Rust's (bicubic against a triangle filter), so a Python row's
/// thumbnails cannot match byte for byte. A row that carries the exact fields (every Rust
/// row) must match exactly; a row without them (Python) must have the same images decoded and
/// failed, and each image's mean grey level within `tolerance` levels of the baseline's.
/// `worst` records the largest difference seen, for the report.
pub fn compare(
    tolerance: f64,
    worst: &Cell<f64>,
) -> impl Fn(&Fingerprint, &Fingerprint) -> Result<(), String> + '_ {
    move |base, other| {
        if other.0.get("weighted").is_some() {
            let (failed, expected) = (&other.0["failed"], &base.0["failed"]);
            if failed != expected {
                return Err(format!(
                    "{failed} of {} images failed where the baseline had {expected} failures \
                     (first: {})",
                    other.0["images"],
                    other.0["first_error"].as_str().unwrap_or("none")
                ));
            }
            return measure::verify::exact(base, other).map_err(|_| {
                "thumbnails differ from the baseline's (byte-exact check on all pixels)".into()
            });
        }
        for key in ["images", "ok", "failed"] {
            if base.0.get(key) != other.0.get(key) {
                return Err(format!(
                    "{key}: expected {}, got {}",
                    show(base.0.get(key)),
                    show(other.0.get(key))
                ));
            }
        }
        let means = |f: &Fingerprint| -> Vec<f64> {
            f.0.get("means")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default()
        };
        let (a, b) = (means(base), means(other));
        if a.len() != b.len() {
            return Err(format!("{} image means, expected {}", b.len(), a.len()));
        }
        let mut max = 0.0f64;
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let d = (x - y).abs();
            if d > tolerance {
                return Err(format!(
                    "image {i}: mean grey level {y:.2}, expected {x:.2} within {tolerance} levels"
                ));
            }
            max = max.max(d);
        }
        worst.set(worst.get().max(max));
        Ok(())
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "nothing".into(), Value::to_string)
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

/// The `.jpeg`/`.jpg` entries of `dir` (files or not: a folder named like an image is an input
/// that fails), sorted by name.
pub fn list_jpegs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let is_jpeg = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("jpeg") || e.eq_ignore_ascii_case("jpg"));
        if is_jpeg {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
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

    #[test]
    fn python_rows_are_compared_on_means_within_the_tolerance() {
        let worst = Cell::new(0.0);
        let cmp = compare(3.0, &worst);
        let rust = Thumbnails(vec![Ok(vec![10; 16]), Err("bad".into()), Ok(vec![200; 16])]);
        let base = rust.fingerprint();
        assert!(cmp(&base, &rust.fingerprint()).is_ok());
        let mut other = rust.clone();
        if let Ok(t) = &mut other.0[0] {
            t[0] = 11;
        }
        assert!(
            cmp(&base, &other.fingerprint()).is_err(),
            "Rust rows are exact"
        );
        let mut timed_out = rust.clone();
        timed_out.0[2] = Err("task \"resize\" #3 timed out after 5 ms".into());
        let e = cmp(&base, &timed_out.fingerprint()).unwrap_err();
        assert!(
            e.starts_with("2 of 3 images failed where the baseline had 1"),
            "{e}"
        );
        assert!(e.contains("(first: bad)"), "{e}");

        let python = |means: Value, ok: u64| {
            Fingerprint(json!({"images": 3, "ok": ok, "failed": 3 - ok, "means": means}))
        };
        assert!(cmp(&base, &python(json!([11.5, 198.0]), 2)).is_ok());
        assert_eq!(worst.get(), 2.0);
        let e = cmp(&base, &python(json!([14.5, 200.0]), 2)).unwrap_err();
        assert!(e.contains("image 0") && e.contains("within 3"), "{e}");
        assert!(cmp(&base, &python(json!([10.0, 200.0, 1.0]), 3)).is_err());
    }
}
