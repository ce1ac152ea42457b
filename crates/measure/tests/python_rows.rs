//! The Python rows: a real interpreter running real scripts, and every way that can go wrong
//! becoming a skipped row with its reason. One test function: it sets process-wide variables.

use measure::python::{self, PythonScript};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn python_rows_run_or_say_why_not() {
    let root = tempfile::tempdir().unwrap();
    let scripts = root.path().join("scripts/python");
    std::fs::create_dir_all(&scripts).unwrap();
    // The real harness, beside scripts of our own.
    let harness = measure::process::workspace_root().join("scripts/python/_measure.py");
    std::fs::copy(harness, scripts.join("_measure.py")).unwrap();
    write(
        &scripts,
        "ok.py",
        "from _measure import main, need\n\
         main('t', {'range': lambda a: lambda: list(range(5)), \
                    'missing': lambda a: need('no_such_module_xyz')})\n",
    );
    write(
        &scripts,
        "crash.py",
        "import sys\nprint('boom: bad input', file=sys.stderr)\nsys.exit(3)\n",
    );
    write(&scripts, "garbage.py", "print('not json')\n");
    // SAFETY (edition 2024): this is the only test in this binary, so no thread reads the
    // environment while we change it.
    unsafe {
        std::env::set_var("TALK_ROOT", root.path());
        std::env::set_var("CARGO_TARGET_DIR", root.path().join("target"));
    }

    let selected = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if python::find_python().is_some() {
        // The header names the interpreter the rows ran with (and packages, where installed).
        let versions = python::versions().unwrap();
        assert!(versions.starts_with("Python 3."), "{versions}");
        let rows = python::run(
            &PythonScript::new("ok.py", &["range", "missing"]),
            &selected(&["range", "missing"]),
            2,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].times_s.len(), 2, "{rows:?}");
        assert_eq!(
            rows[0].fingerprint.as_ref().unwrap().0,
            serde_json::json!({"len": 5, "sum": 10, "weighted": 40})
        );
        assert_eq!(
            rows[1].skipped.as_deref(),
            Some("no_such_module_xyz not installed")
        );

        let rows = python::run(&PythonScript::new("crash.py", &["a"]), &selected(&["a"]), 1);
        let why = rows[0].skipped.as_deref().unwrap();
        assert!(
            why.contains("crash.py failed") && why.contains("boom: bad input"),
            "{why}"
        );

        let rows = python::run(
            &PythonScript::new("garbage.py", &["a"]),
            &selected(&["a"]),
            1,
        );
        assert!(
            rows[0]
                .skipped
                .as_deref()
                .unwrap()
                .contains("no valid report"),
            "{rows:?}"
        );

        let rows = python::run(
            &PythonScript::new("absent.py", &["a"]),
            &selected(&["a"]),
            1,
        );
        assert!(
            rows[0].skipped.as_deref().unwrap().contains("not found"),
            "{rows:?}"
        );
    } else {
        eprintln!("skipped: python3 not found (the not-found path is checked below)");
    }

    unsafe {
        std::env::set_var("TALK_PYTHON", root.path().join("no-python-here"));
    }
    let rows = python::run(
        &PythonScript::new("ok.py", &["range"]),
        &selected(&["range"]),
        1,
    );
    assert_eq!(rows[0].skipped.as_deref(), Some("python3 not found"));
}
