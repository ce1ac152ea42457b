//! The Python original, run beside the Rust approaches on the same inputs.
//!
//! A script in `scripts/python/` takes `--runs R` and `--approach NAME` (repeatable) plus its
//! own arguments, times each approach itself (warm-up, then R runs, like `measure`) and prints
//! one JSON document: `{"python": "3.11.7", "rows": [{"approach", "times_s", "fingerprint",
//! "fingerprints"} | {"approach", "skipped"}]}`: `fingerprint` is the warm-up's, `fingerprints`
//! has one per timed run (each verified). Anything that keeps a row from running (no interpreter, a missing
//! package, a crashed script) becomes a skipped row with the reason, never a made-up number.
//!
//! Each approach runs in a process of its own (`--approach NAME` once) with the script's
//! timeout, so one slow row says "timed out" while the others report. Under `CI=true` a
//! skipped row (other than `--no-python`) is ✗ and fails the run: see [`skip_fails_in_ci`].

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process;
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
    /// The warm-up's fingerprint (optional).
    #[serde(default)]
    pub fingerprint: Option<Fingerprint>,
    /// One fingerprint per timed run, in the order of `times_s`: each is verified.
    #[serde(default)]
    pub fingerprints: Vec<Fingerprint>,
    #[serde(default)]
    pub skipped: Option<String>,
}

impl PythonRow {
    /// A row that did not run, and why.
    pub fn skipped(approach: &str, why: impl Into<String>) -> PythonRow {
        PythonRow {
            approach: approach.to_string(),
            times_s: Vec::new(),
            fingerprint: None,
            fingerprints: Vec::new(),
            skipped: Some(why.into()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ScriptOutput {
    rows: Vec<PythonRow>,
}

/// The project's venv interpreter, `target/python-venv/bin/python3` under the workspace root
/// (made by `scripts/python/setup.py`). Always under the workspace, never under
/// `CARGO_TARGET_DIR`: a build into another target folder still finds the same venv.
pub fn venv_python() -> PathBuf {
    process::workspace_root().join("target/python-venv/bin/python3")
}

/// The interpreter to use: `TALK_PYTHON`, then the project's venv ([`venv_python`]), then
/// `python3` on `PATH`.
pub fn find_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TALK_PYTHON") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        return on_path(p.to_str()?);
    }
    let venv = venv_python();
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
///
/// Each approach runs in a process of its own with the script's timeout (`--approach NAME`
/// once): a row that hangs or crashes is skipped with its reason ("timed out after 600 s")
/// while the others report, and nothing it started outlives it ([`process::run_with_timeout`]).
pub fn run(script: &PythonScript, selected: &[String], runs: u32) -> Vec<PythonRow> {
    let skip_all = |why: String| {
        selected
            .iter()
            .map(|a| PythonRow::skipped(a, why.clone()))
            .collect()
    };
    let Some(python) = find_python() else {
        return skip_all("python3 not found".into());
    };
    let path = process::workspace_root()
        .join("scripts/python")
        .join(&script.script);
    if !path.is_file() {
        return skip_all(format!("{} not found", path.display()));
    }
    selected
        .iter()
        .map(|approach| run_one(&python, &path, script, approach, runs))
        .collect()
}

/// One approach of `script`, in its own process.
fn run_one(
    python: &Path,
    path: &Path,
    script: &PythonScript,
    approach: &str,
    runs: u32,
) -> PythonRow {
    let name = &script.script;
    let mut cmd = Command::new(python);
    cmd.arg("-u")
        .arg(path)
        .arg("--runs")
        .arg(runs.to_string())
        .args(&script.args)
        .arg("--approach")
        .arg(approach);
    let output = match process::run_with_timeout(&mut cmd, script.timeout) {
        Ok(o) => o,
        Err(e) => return PythonRow::skipped(approach, format!("{name}: {e}")),
    };
    if !output.status.success() {
        let last = process::last_line(&output.stderr).unwrap_or_else(|| "no message".into());
        return PythonRow::skipped(
            approach,
            format!("{name} failed ({}): {last}", output.status),
        );
    }
    let parsed: ScriptOutput = match serde_json::from_slice(&output.stdout) {
        Ok(p) => p,
        Err(e) => {
            return PythonRow::skipped(approach, format!("{name} printed no valid report: {e}"));
        }
    };
    parsed
        .rows
        .into_iter()
        .find(|r| r.approach == approach)
        .unwrap_or_else(|| PythonRow::skipped(approach, format!("{name} reported no row for it")))
}

/// The packages whose versions a report names when Python rows ran: distribution names, as
/// `pip` knows them.
const PACKAGES: [&str; 5] = ["numpy", "numba", "Pillow", "requests", "aiohttp"];

/// `Python 3.11.2 · numpy 2.4.6 · Pillow 13.0.0 ...`: the interpreter the Python rows use and
/// the versions of the packages installed in it (read from their metadata, without importing
/// them, so this costs one interpreter start, once per process). `None` without a Python.
pub fn versions() -> Option<String> {
    static VERSIONS: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    VERSIONS
        .get_or_init(|| {
            let python = find_python()?;
            let program = format!(
                "import sys, importlib.metadata as m\n\
                 print('Python ' + sys.version.split()[0])\n\
                 for p in {PACKAGES:?}:\n\
                 \x20   try: print(p + ' ' + m.version(p))\n\
                 \x20   except Exception: pass\n"
            );
            let mut cmd = Command::new(python);
            cmd.arg("-c").arg(program);
            let out =
                process::run_with_timeout(&mut cmd, std::time::Duration::from_secs(30)).ok()?;
            let text = String::from_utf8_lossy(&out.stdout);
            let parts: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            (out.status.success() && !parts.is_empty()).then(|| parts.join(" · "))
        })
        .clone()
}

/// Whether a Python row's skip fails this run: under `CI` (any value but empty, `0` or
/// `false`, as CI services set `CI=true`) every Python row asked for must run, so a skip for a
/// missing interpreter or package, a crash or a timeout is a failure there, never a vacuous
/// pass. `--no-python` is asked for and stays a skip. On a reader's machine the row is skipped
/// and says why.
pub fn skip_fails_in_ci(why: &str) -> bool {
    in_ci() && why != "--no-python"
}

/// `CI` is set to something other than empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
        .unwrap_or(false)
}

/// The skipped Python row `row` (see [`skip_fails_in_ci`]) marked ✗ when a skip fails the run
/// here: `verified: false` with the reason, so the report and the exit code (1) show it.
pub fn fail_skip_in_ci(row: &mut crate::Row) {
    if let Some(why) = &row.skipped
        && skip_fails_in_ci(why)
    {
        row.verified = Some(false);
        row.verify_error = Some(format!(
            "CI=true: a Python row that cannot run fails the run ({why})"
        ));
    }
}
