//! The real `process-pool` binary, run the way a reader runs it.

use measure::testing::{self, Bin, rows};
use std::path::Path;

const POOL: Bin = Bin::new(env!("CARGO_BIN_EXE_process-pool"));

#[test]
fn every_part_runs_and_every_rust_row_is_verified() {
    let (doc, code) = POOL.json_with_code(&[
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
    assert_eq!(code, Some(0), "{doc}");
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
    // output.txt is what a terminal-less run prints, no colour codes.
    POOL.out(
        &[
            "--no-python",
            "--runs",
            "1",
            "--images",
            "4",
            "--tasks",
            "200",
        ],
        dir.path(),
    );
    for (file, needle) in [
        ("crash.txt", "A worker that dies fails only its own task"),
        ("resize.txt", "sequential (baseline)"),
        ("overhead.txt", "process pool submit (chunksize 1)"),
    ] {
        let part = testing::read(dir.path().join(file));
        assert!(part.contains(needle), "{file}: {part}");
        assert!(!part.contains('\x1b'));
    }
    let report = testing::read_json(dir.path().join("report.json"));
    assert_eq!(report["parts"].as_array().unwrap().len(), 2);
    for svg in ["resize-time.svg", "overhead-time.svg", "overhead.svg"] {
        let s = testing::read(dir.path().join(svg));
        assert!(s.starts_with("<svg"), "{svg}");
    }
    let overhead = testing::read(dir.path().join("overhead.svg"));
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
    let out = POOL.run(&[
        "resize",
        "--input",
        dir.path().to_str().unwrap(),
        "--runs",
        "1",
        "--no-python",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = testing::text(out.stdout);
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

    let (doc, code) = POOL.json_with_code(&[
        "resize",
        "--input",
        dir.path().to_str().unwrap(),
        "--runs",
        "1",
        "--json",
        "--approach",
        "Python ProcessPoolExecutor().map",
    ]);
    assert_eq!(code, Some(1));
    let report = &doc["parts"][0];
    assert_eq!(report["failures"].as_array().unwrap().len(), expected.len());
    let python = &rows(report)[1];
    assert_eq!(python["approach"], "Python ProcessPoolExecutor().map");
    testing::assert_verified_or_skipped(python);
}

#[test]
fn verbose_shows_which_process_resizes_which_file() {
    let stdout = POOL.stdout(&[
        "resize",
        "--images",
        "4",
        "--runs",
        "1",
        "--no-python",
        "--verbose",
        "--approach",
        "process pool map, chunksize 1",
    ]);
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
    let (doc, code) = POOL.json_with_code(&[
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
    assert_eq!(code, Some(0), "{doc}");
    let parts = doc["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    for (report, name) in parts
        .iter()
        .zip(["Python map", "Python ProcessPoolExecutor"])
    {
        let row = &rows(report)[1];
        assert_eq!(row["approach"], name);
        testing::assert_verified_or_skipped(row);
    }
    assert!(
        doc.get("crash_demo").is_none(),
        "--approach runs only the named rows"
    );
}

#[test]
fn list_names_every_row() {
    POOL.assert_stdout_mentions(
        &["--list"],
        &[
            "process pool map, chunksize 16",
            "Python ProcessPoolExecutor().map",
            "process pool submit (chunksize 1)",
            "Python ThreadPoolExecutor",
            "direct call, no executor (limit)",
        ],
    );
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    POOL.assert_usage_error_line(
        &["--approach", "fork bomb"],
        "error: unknown approach 'fork bomb'",
    );
    POOL.assert_usage_errors(&[
        &["--workers", "0"],
        &["--images", "5000"],
        &["--tasks", "-1"],
        &["--task-timeout", "soon"],
        &["--bogus"],
        &["everything"],
    ]);
    let missing = tempfile::tempdir().unwrap().path().join("nowhere");
    POOL.assert_usage_error_line(
        &[
            "resize",
            "--input",
            missing.to_str().unwrap(),
            "--no-python",
        ],
        "error: cannot read",
    );
}

#[test]
fn help_explains_every_flag() {
    let help = POOL.assert_example_help(&[
        "--images",
        "--input",
        "--workers",
        "--tasks",
        "--task-timeout",
        "--verbose",
        "crash",
        "resize",
        "overhead",
    ]);
    assert!(!help.contains("selftest"), "the test hooks stay hidden");
}
