//! The Python original, run beside the Rust approaches on the same inputs.
//!
//! A script in `scripts/python/` takes `--runs R` and `--approach NAME` (repeatable) plus its
//! own arguments, times each approach itself (warm-up, then R runs, like `measure`) and prints
//! one JSON document: `{"python": "3.11.7", "rows": [{"approach", "times_s", "fingerprint"} |
//! {"approach", "skipped"}]}`. Anything that keeps a row from running (no interpreter, a missing
//! package, a crashed script) becomes a skipped row with the reason, never a made-up number.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::verify::Fingerprint;

/// A script of `scripts/python/` and the approaches it implements.
#[derive(Debug, Clone)]
pub struct PythonScript {
    pub script: String,
    pub args: Vec<String>,
    pub approaches: Vec<String>,
    pub timeout: Duration,
}

impl PythonScript {
    /// `script` is a file name in `scripts/python/`; `approaches` are the names it answers to.
    pub fn new(script: &str, approaches: &[&str]) -> PythonScript {
        PythonScript {
            script: script.to_string(),
            args: Vec::new(),
            approaches: approaches.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_secs(600),
        }
    }

    /// Arguments passed on to the script (`--n`, `--input`...).
    pub fn arg(mut self, arg: impl Into<String>) -> PythonScript {
        self.args.push(arg.into());
        self
    }

    /// The name of an approach's row in the report.
    pub fn row_name(approach: &str) -> String {
        format!("Python {approach}")
    }
}

/// What the script reported for one approach.
#[derive(Debug, Clone, Deserialize)]
pub struct PythonRow {
    pub approach: String,
    #[serde(default)]
    pub times_s: Vec<f64>,
    #[serde(default)]
    pub fingerprint: Option<Fingerprint>,
    #[serde(default)]
    pub skipped: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ScriptOutput {
    rows: Vec<PythonRow>,
}

/// The workspace's root folder (where `scripts/` and `target/` live).
/// `TALK_ROOT` overrides it for a binary moved elsewhere.
pub fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os("TALK_ROOT") {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Cargo's target folder: `CARGO_TARGET_DIR` when set, else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("target"),
    }
}

/// The interpreter to use: `TALK_PYTHON`, then the project's venv (`target/python-venv`,
/// made by `scripts/python/setup`), then `python3` on `PATH`.
pub fn find_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TALK_PYTHON") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        return on_path(p.to_str()?);
    }
    let venv = target_dir().join("python-venv/bin/python3");
    if venv.is_file() {
        return Some(venv);
    }
    on_path("python3")
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `script` for the `selected` approaches with `runs` timed runs each.
/// Returns one row per selected approach, in the order asked for.
pub fn run(script: &PythonScript, selected: &[String], runs: u32) -> Vec<PythonRow> {
    let skip_all = |why: String| {
        selected
            .iter()
            .map(|a| PythonRow {
                approach: a.clone(),
                times_s: Vec::new(),
                fingerprint: None,
                skipped: Some(why.clone()),
            })
            .collect()
    };
    let Some(python) = find_python() else {
        return skip_all("python3 not found".into());
    };
    let path = workspace_root().join("scripts/python").join(&script.script);
    if !path.is_file() {
        return skip_all(format!("{} not found", path.display()));
    }
    let mut cmd = Command::new(&python);
    cmd.arg("-u")
        .arg(&path)
        .arg("--runs")
        .arg(runs.to_string())
        .args(&script.args);
    for a in selected {
        cmd.arg("--approach").arg(a);
    }
    let output = match run_with_timeout(&mut cmd, script.timeout) {
        Ok(o) => o,
        Err(e) => return skip_all(format!("{}: {e}", script.script)),
    };
    if !output.status.success() {
        let last = last_line(&output.stderr).unwrap_or_else(|| "no message".into());
        return skip_all(format!(
            "{} failed ({}): {last}",
            script.script, output.status
        ));
    }
    let parsed: ScriptOutput = match serde_json::from_slice(&output.stdout) {
        Ok(p) => p,
        Err(e) => return skip_all(format!("{} printed no valid report: {e}", script.script)),
    };
    selected
        .iter()
        .map(|a| {
            parsed
                .rows
                .iter()
                .find(|r| &r.approach == a)
                .cloned()
                .unwrap_or_else(|| PythonRow {
                    approach: a.clone(),
                    times_s: Vec::new(),
                    fingerprint: None,
                    skipped: Some(format!("{} reported no row for it", script.script)),
                })
        })
        .collect()
}

/// The last non-blank line a program printed: usually its error message.
pub fn last_line(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}

/// Runs a command to completion, killing it after `timeout`.
pub fn run_with_timeout(
    cmd: &mut Command,
    timeout: Duration,
) -> std::io::Result<std::process::Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let read_out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = std::io::Read::read_to_end(o, &mut buf);
        }
        buf
    });
    let read_err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = std::io::Read::read_to_end(e, &mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("timed out after {} s", timeout.as_secs()),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = read_out.join().unwrap_or_default();
    let stderr = read_err.join().unwrap_or_default();
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}
