//! Python rows as processes: one process and one timeout per row, nothing left running after a
//! timeout, and under `CI=true` a row that cannot run fails the run instead of passing by
//! being skipped. One test function: it sets process-wide variables (TALK_ROOT, CI).

use clap::Parser;
use measure::python::{self, PythonScript};
use measure::{Common, Suite, Workload};
use std::path::Path;
use std::time::{Duration, Instant};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Whether `pid` is a live process (a zombie waiting for its reaper counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Waits up to 10 s for `pid` to be gone (SIGKILL is asynchronous); true if it went.
fn gone(pid: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn common(args: &[&str]) -> Common {
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        common: Common,
    }
    let mut argv = vec!["test"];
    argv.extend_from_slice(args);
    Cli::parse_from(argv).common
}

/// A suite whose one Python row needs a module that is not installed; its report's exit code
/// and that row.
fn run_missing_module_suite(args: &[&str]) -> (u8, measure::Row) {
    let c = common(args);
    let mut suite = Suite::new("t", Workload::new("range", 5, "numbers"), &c);
    suite.baseline("base", || (0..5u64).collect::<Vec<u64>>());
    suite.python(PythonScript::new("ok.py", &["missing"]));
    let report = suite.run().unwrap().report;
    let row = report.row("Python missing").unwrap().clone();
    (report.exit_code(), row)
}

#[test]
fn each_row_has_its_own_process_and_timeout_and_ci_fails_skips() {
    let root = tempfile::tempdir().unwrap();
    let scripts = root.path().join("scripts/python");
    std::fs::create_dir_all(&scripts).unwrap();
    let harness = measure::process::workspace_root().join("scripts/python/_measure.py");
    std::fs::copy(harness, scripts.join("_measure.py")).unwrap();
    let pid_file = root.path().join("grandchild.pid");
    // `slow` starts a grandchild (as a pool would), records its pid, then hangs.
    write(
        &scripts,
        "rows.py",
        &format!(
            "import subprocess, time\n\
             from _measure import main, need\n\
             def slow(args):\n\
             \x20   p = subprocess.Popen(['sleep', '60'])\n\
             \x20   open({pid:?}, 'w').write(str(p.pid))\n\
             \x20   time.sleep(60)\n\
             main('t', {{'fast': lambda a: lambda: list(range(5)), 'slow': slow, \
                         'also fast': lambda a: lambda: list(range(3))}})\n",
            pid = pid_file.to_str().unwrap()
        ),
    );
    write(
        &scripts,
        "ok.py",
        "from _measure import main, need\n\
         main('t', {'missing': lambda a: need('no_such_module_xyz')})\n",
    );
    // SAFETY (edition 2024): this is the only test in this binary, so no thread reads the
    // environment while we change it.
    unsafe {
        std::env::set_var("TALK_ROOT", root.path());
        std::env::remove_var("CI");
    }

    if python::find_python().is_none() {
        // Outside CI: the reader has no Python; under CI the venv step of .ci/run failed first.
        assert!(!python::in_ci(), "CI=true but python3 not found");
        eprintln!("skipped: python3 not found");
        return;
    }

    // One slow row times out; the rows before and after it report.
    let mut script = PythonScript::new("rows.py", &["fast", "slow", "also fast"]);
    script.timeout = Duration::from_secs(5);
    let selected: Vec<String> = ["fast", "slow", "also fast"].map(String::from).to_vec();
    let start = Instant::now();
    let rows = python::run(&script, &selected, 2);
    assert!(
        start.elapsed() < Duration::from_secs(50),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].approach, "fast");
    assert_eq!(rows[0].times_s.len(), 2, "{rows:?}");
    assert_eq!(rows[1].approach, "slow");
    assert_eq!(
        rows[1].skipped.as_deref(),
        Some("rows.py: timed out after 5 s")
    );
    assert_eq!(rows[2].approach, "also fast");
    assert_eq!(rows[2].times_s.len(), 2, "{rows:?}");
    // The slow row's grandchild went with it.
    let text = std::fs::read_to_string(&pid_file).unwrap();
    let grandchild: u32 = text.trim().parse().unwrap();
    assert!(gone(grandchild), "grandchild {grandchild} is still running");

    // Outside CI a row that cannot run here is skipped and says why; the run passes.
    let (code, row) = run_missing_module_suite(&[]);
    assert_eq!(
        row.skipped.as_deref(),
        Some("no_such_module_xyz not installed")
    );
    assert_eq!(row.verified, None);
    assert_eq!(code, 0);

    // Under CI the same skip is ✗ and the run exits 1.
    unsafe {
        std::env::set_var("CI", "true");
    }
    let (code, row) = run_missing_module_suite(&[]);
    assert_eq!(row.verified, Some(false), "{row:?}");
    assert!(
        row.verify_error
            .as_deref()
            .unwrap()
            .contains("no_such_module_xyz not installed"),
        "{row:?}"
    );
    assert_eq!(code, 1);
    // --no-python asks for no Python rows: still a plain skip under CI.
    let (code, row) = run_missing_module_suite(&["--no-python"]);
    assert_eq!(row.skipped.as_deref(), Some("--no-python"));
    assert_eq!(row.verified, None);
    assert_eq!(code, 0);
    unsafe {
        std::env::remove_var("CI");
    }
}
