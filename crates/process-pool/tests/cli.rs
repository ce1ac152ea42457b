//! The real `process-pool` binary, run the way a reader runs it.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_process-pool");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn json(args: &[&str]) -> (Value, i32) {
    let out = run(args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--json prints one JSON document ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, out.status.code().unwrap_or(-1))
}

fn rows(report: &Value) -> &Vec<Value> {
    report["results"].as_array().unwrap()
}

#[test]
fn every_part_runs_and_every_rust_row_is_verified() {
    let (doc, code) = json(&[
        "--json",
        "--no-python",
        "--runs",
        "1",
        "--images",
        "6",
        "--tasks",
        "300",
        "--workers",
        "2",
    ]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["example"], "process-pool");
    assert_eq!(doc["exit_code"], 0);
    let crash: Vec<&str> = doc["crash_demo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        crash
            .iter()
            .filter(|l| l.starts_with("square(") && l.contains(" = "))
            .count(),
        6
    );
    assert!(
        crash
            .iter()
            .any(|l| l.contains("test.abort(3)") && l.contains("SIGABRT"))
    );
    assert!(
        crash
            .iter()
            .any(|l| l.contains("test.sigkill(5)") && l.contains("SIGKILL"))
    );
    assert!(
        crash
            .iter()
            .any(|l| l.contains("square(12) afterwards = 144"))
    );

    let parts = doc["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    let (resize, overhead) = (&parts[0], &parts[1]);
    assert_eq!(resize["workload"]["items"], 6);
    assert_eq!(resize["summary"]["failed"], 0);
    assert_eq!(overhead["workload"]["items"], 300);
    assert_eq!(overhead["workload"]["unit"], "tasks");
    for (report, names) in [
        (
            resize,
            &[
                "sequential",
                "process pool map, chunksize 1",
                "process pool map, chunksize 16",
                "thread pool map",
            ][..],
        ),
        (
            overhead,
            &[
                "std::thread::spawn per task",
                "thread pool submit",
                "process pool submit (chunksize 1)",
                "process pool map, chunksize 100",
                "rayon scope, spawn per task",
                "rayon par_iter",
            ][..],
        ),
    ] {
        for name in names {
            let row = rows(report)
                .iter()
                .find(|r| r["approach"] == *name)
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(row["verified"], true, "{row}");
            assert!(row["median_s"].as_f64().unwrap() > 0.0);
        }
        assert!(
            rows(report)
                .iter()
                .filter(|r| r["lang"] == "python")
                .all(|r| r["skipped"] == "--no-python")
        );
    }
    let notes = overhead["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("Per task (median):")),
        "µs per task is printed: {notes:?}"
    );
}

#[test]
fn out_writes_the_report_every_part_and_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "--no-python",
        "--runs",
        "1",
        "--images",
        "4",
        "--tasks",
        "200",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let text = std::fs::read_to_string(dir.path().join("output.txt")).unwrap();
    assert_eq!(
        text, stdout,
        "output.txt is what a terminal-less run prints"
    );
    for (file, needle) in [
        ("crash.txt", "A worker that dies fails only its own task"),
        ("resize.txt", "sequential (baseline)"),
        ("overhead.txt", "process pool submit (chunksize 1)"),
    ] {
        let part = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(part.contains(needle), "{file}: {part}");
        assert!(!part.contains('\x1b'));
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["parts"].as_array().unwrap().len(), 2);
    for svg in ["resize-time.svg", "overhead-time.svg", "overhead.svg"] {
        let s = std::fs::read_to_string(dir.path().join(svg)).unwrap();
        assert!(s.starts_with("<svg"), "{svg}");
    }
    let overhead = std::fs::read_to_string(dir.path().join("overhead.svg")).unwrap();
    assert!(
        overhead.contains("process pool submit (chunksize 1)") && overhead.contains("per task")
    );
}

/// The files of `datasets hostile` that `thumbnail` rejects (as root, `unreadable.jpeg` reads
/// fine), by name.
fn expected_failures(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = datasets::write_hostile(dir)
        .unwrap()
        .into_iter()
        .filter(|h| datasets::thumbnail(&h.path, 64).is_err())
        .map(|h| h.name.to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn hostile_files_are_one_failure_line_each_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let expected = expected_failures(dir.path());
    assert!(expected.len() >= 6, "{expected:?}");
    let out = run(&[
        "resize",
        "--input",
        dir.path().to_str().unwrap(),
        "--runs",
        "1",
        "--no-python",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut failed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("failed: "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    failed.sort();
    assert_eq!(failed, expected, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "images: 7 total, {} done, {} failed",
            7 - expected.len(),
            expected.len()
        )),
        "{stdout}"
    );
    // Every approach saw the same failures: all rows verified.
    assert!(!stdout.contains('✗'), "{stdout}");

    let (doc, code) = json(&[
        "resize",
        "--input",
        dir.path().to_str().unwrap(),
        "--runs",
        "1",
        "--json",
        "--approach",
        "Python ProcessPoolExecutor().map",
    ]);
    assert_eq!(code, 1);
    let report = &doc["parts"][0];
    assert_eq!(report["failures"].as_array().unwrap().len(), expected.len());
    let python = &rows(report)[1];
    assert_eq!(python["approach"], "Python ProcessPoolExecutor().map");
    match python["skipped"].as_str() {
        Some(why) => assert!(
            why.contains("not found") || why.contains("not installed"),
            "{why}"
        ),
        None => assert_eq!(python["verified"], true, "{python}"),
    }
}

#[test]
fn verbose_shows_which_process_resizes_which_file() {
    let out = Command::new(BIN)
        .args([
            "resize",
            "--images",
            "4",
            "--runs",
            "1",
            "--no-python",
            "--verbose",
            "--approach",
            "process pool map, chunksize 1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let pids: std::collections::BTreeSet<&str> = stdout
        .lines()
        .filter(|l| l.contains("] running IM-") || l.contains("] running NORMAL"))
        .filter_map(|l| l.strip_prefix("[pid ")?.split(']').next())
        .collect();
    // The parent (sequential baseline) and at least one worker.
    assert!(pids.len() >= 2, "{stdout}");
    let lines = stdout.lines().filter(|l| l.contains("] running ")).count();
    assert_eq!(
        lines,
        4 * 2 * 2,
        "4 images, 2 approaches, warm-up + 1 run: {stdout}"
    );
}

#[test]
fn python_rows_run_and_are_verified_or_say_why_not() {
    let (doc, code) = json(&[
        "--json",
        "--runs",
        "1",
        "--images",
        "3",
        "--tasks",
        "200",
        "--approach",
        "Python map",
        "--approach",
        "Python ProcessPoolExecutor",
    ]);
    assert_eq!(code, 0, "{doc}");
    let parts = doc["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    for (report, name) in parts
        .iter()
        .zip(["Python map", "Python ProcessPoolExecutor"])
    {
        let row = &rows(report)[1];
        assert_eq!(row["approach"], name);
        match row["skipped"].as_str() {
            Some(why) => assert!(
                why.contains("not found") || why.contains("not installed"),
                "{why}"
            ),
            None => assert_eq!(row["verified"], true, "{row}"),
        }
    }
    assert!(
        doc.get("crash_demo").is_none(),
        "--approach runs only the named rows"
    );
}

#[test]
fn list_names_every_row() {
    let out = run(&["--list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "process pool map, chunksize 16",
        "Python ProcessPoolExecutor().map",
        "process pool submit (chunksize 1)",
        "Python ThreadPoolExecutor",
        "direct call, no executor (limit)",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    let out = run(&["--approach", "fork bomb"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: unknown approach 'fork bomb'"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
    for bad in [
        &["--workers", "0"][..],
        &["--images", "5000"],
        &["--tasks", "-1"],
        &["--task-timeout", "soon"],
        &["--bogus"],
        &["everything"],
    ] {
        assert_eq!(run(bad).status.code(), Some(2), "{bad:?}");
    }
    let missing = tempfile::tempdir().unwrap().path().join("nowhere");
    let out = run(&[
        "resize",
        "--input",
        missing.to_str().unwrap(),
        "--no-python",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: cannot read"), "{stderr}");
}

#[test]
fn help_explains_every_flag() {
    let out = run(&["--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--images",
        "--input",
        "--workers",
        "--tasks",
        "--task-timeout",
        "--verbose",
        "--quick",
        "--runs",
        "--json",
        "--out",
        "--approach",
        "--list",
        "--no-python",
        "crash",
        "resize",
        "overhead",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    assert!(!help.contains("selftest"), "the test hooks stay hidden");
}
