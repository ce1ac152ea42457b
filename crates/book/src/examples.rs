//! Running the examples of `examples.toml` and capturing what they print into `src/generated/`.
//!
//! Each example runs as the reader would run it (`NAME --quick --out DIR`), from the release
//! binary cargo built. Its output lands in a staging folder first and replaces
//! `generated/NAME` only when the run succeeded and wrote a non-empty table: a failed example
//! leaves no stale or empty output behind, and fails the build with its name and error line.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{Book, BuildOptions, display};

/// `examples.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(rename = "example")]
    pub examples: Vec<Example>,
}

/// One example: its package (and binary) name and the arguments added after `--quick`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Why the arguments differ from plain `--quick` (documentation only).
    #[serde(default)]
    pub why: Option<String>,
    /// Seconds before the run is killed and counts as failed.
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
}

fn default_timeout() -> u64 {
    600
}

pub fn load(book: &Book) -> Result<Manifest, String> {
    let path = book.dir.join("examples.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", display(&path)))?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| format!("{}: {}", display(&path), e.message()))?;
    for ex in &manifest.examples {
        let ok = !ex.name.is_empty()
            && ex
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(format!(
                "{}: bad example name {:?}",
                display(&path),
                ex.name
            ));
        }
    }
    Ok(manifest)
}

/// Runs every example; all of them run even when one fails, then the failures are reported.
pub fn run_all(book: &Book, options: &BuildOptions) -> Result<(), String> {
    let manifest = load(book)?;
    let bin_dir = match &options.bin_dir {
        Some(dir) => dir.clone(),
        None => cargo_build(&manifest.examples)?,
    };
    if options.python {
        ensure_python_venv()?;
    }
    let generated = book.generated();
    std::fs::create_dir_all(&generated)
        .map_err(|e| format!("cannot create {}: {e}", display(&generated)))?;

    let mut failures = Vec::new();
    for ex in &manifest.examples {
        let started = Instant::now();
        eprintln!("book: running {} --quick {}", ex.name, ex.args.join(" "));
        match run_one(ex, &bin_dir, &generated, options.python) {
            Ok(()) => eprintln!(
                "book: {} done in {:.1} s",
                ex.name,
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                eprintln!("book: {e}");
                failures.push(e);
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} example(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        ))
    }
}

fn run_one(ex: &Example, bin_dir: &Path, generated: &Path, python: bool) -> Result<(), String> {
    let name = &ex.name;
    let final_dir = generated.join(name);
    let staging = generated.join(format!(".{name}.partial"));
    let _ = std::fs::remove_dir_all(&staging);

    let result = (|| {
        let bin = bin_dir.join(name);
        if !bin.is_file() {
            return Err(format!(
                "example {name} failed: no binary at {}",
                display(&bin)
            ));
        }
        let mut cmd = Command::new(&bin);
        cmd.arg("--quick").arg("--out").arg(&staging).args(&ex.args);
        if !python {
            cmd.arg("--no-python");
        }
        let output =
            measure::process::run_with_timeout(&mut cmd, Duration::from_secs(ex.timeout_s))
                .map_err(|e| format!("example {name} failed: {e}"))?;
        if !output.status.success() {
            let line = measure::process::last_line(&output.stderr)
                .unwrap_or_else(|| "(it printed nothing on stderr)".into());
            return Err(format!("example {name} failed ({}): {line}", output.status));
        }
        for file in ["output.txt", "report.json"] {
            let len = std::fs::metadata(staging.join(file))
                .map(|m| m.len())
                .unwrap_or(0);
            if len == 0 {
                return Err(format!("example {name} failed: it wrote no {file}"));
            }
        }
        Ok(())
    })();

    // Never leave stale output: on failure the old output goes too.
    let _ = std::fs::remove_dir_all(&final_dir);
    match result {
        Ok(()) => std::fs::rename(&staging, &final_dir)
            .map_err(|e| format!("example {name}: cannot move its output into place: {e}")),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

/// `cargo build --release` of every example at once; returns the folder of the binaries.
fn cargo_build(examples: &[Example]) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(measure::process::workspace_root())
        .args(["build", "--release"]);
    for ex in examples {
        cmd.arg("-p").arg(&ex.name);
    }
    eprintln!(
        "book: building {} example(s) in release mode",
        examples.len()
    );
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build --release of the examples failed ({status})"
        ));
    }
    Ok(measure::process::target_dir().join("release"))
}

/// The Python rows want numpy and friends: make `target/python-venv` once. Outside CI a
/// failure is a warning (the rows then say why they are skipped); under `CI=true` it fails
/// the build, since every Python row must run there.
fn ensure_python_venv() -> Result<(), String> {
    if measure::python::venv_python().is_file() {
        return Ok(());
    }
    let strict = measure::python::in_ci();
    let failed = |why: String| {
        if strict {
            Err(format!("CI=true: {why}"))
        } else {
            eprintln!("book: warning: {why}; rows that need packages are skipped");
            Ok(())
        }
    };
    let Some(python) = measure::python::find_python() else {
        return failed("python3 not found".into());
    };
    let setup = measure::process::workspace_root().join("scripts/python/setup.py");
    eprintln!("book: setting up target/python-venv for the Python rows (once)");
    let mut cmd = Command::new(python);
    cmd.arg(setup);
    match measure::process::run_with_timeout(&mut cmd, Duration::from_secs(600)) {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => failed(format!(
            "python setup failed ({}): {}",
            out.status,
            measure::process::last_line(&out.stderr).unwrap_or_else(|| "no message".into())
        )),
        Err(e) => failed(format!("python setup: {e}")),
    }
}
