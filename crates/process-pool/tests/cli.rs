//! The real `process-pool` binary, run the way a reader runs it.

use measure_testing::{self as testing, Bin, rows};
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

/// The hostile files `thumbnail` must reject, named here rather than computed by the code
/// under test: every file `datasets hostile` writes except `unreadable.jpeg`, which is a
/// failure too unless the tests run as root (root reads a file without read permission).
fn expected_failures(dir: &Path) -> Vec<String> {
    let written: Vec<String> = datasets::write_hostile(dir)
        .unwrap()
        .into_iter()
        .map(|h| h.name.to_string())
        .collect();
    let mut names = vec![
        "empty.jpeg",
        "folder.jpeg",
        "huge-header.jpeg",
        "png-named.jpeg",
        "text.jpeg",
        "truncated.jpeg",
    ];
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        names.push("unreadable.jpeg");
    }
    names.sort();
    let mut all = names.clone();
    all.push("unreadable.jpeg");
    all.sort();
    all.dedup();
    let mut written_sorted = written.clone();
    written_sorted.sort();
    assert_eq!(
        written_sorted, all,
        "the hostile set changed: update this list"
    );
    names.into_iter().map(String::from).collect()
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
    let mut listed: Vec<&str> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["input"].as_str().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed, expected);
    assert_eq!(report["summary"]["failed"], expected.len());
    assert_eq!(
        rows(report)[0]["failures"].as_array().unwrap().len(),
        expected.len()
    );
    let python = &rows(report)[1];
    assert_eq!(python["approach"], "Python ProcessPoolExecutor().map");
    testing::assert_verified_or_skipped(python);
}

/// A worker killed mid-task (the hook `resize::SIGKILL_HOOK` makes a worker SIGKILL itself on
/// one file, as `kill -9` would): the rows that ran on workers lose that image and say so in
/// the report, with the pid and the signal; the summary counts it; the exit code is 1.
#[test]
fn a_worker_killed_mid_task_is_named_under_its_row_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4 {
        let path = dir.path().join(datasets::xray_file_name(i));
        std::fs::write(
            path,
            datasets::xray_jpeg(datasets::DEFAULT_SEED, i).unwrap(),
        )
        .unwrap();
    }
    let victim = datasets::xray_file_name(2);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_process-pool"))
        .env(process_pool::resize::SIGKILL_HOOK, &victim)
        .args(["resize", "--input", dir.path().to_str().unwrap()])
        .args(["--runs", "1", "--no-python", "--json", "--workers", "2"])
        .args(["--approach", "process pool map, chunksize 1"])
        .args(["--approach", "thread pool map"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc = testing::json_of(&out);
    let report = &doc["parts"][0];
    let row = |name: &str| {
        rows(report)
            .iter()
            .find(|r| r["approach"] == name)
            .unwrap_or_else(|| panic!("{name}: {report}"))
            .clone()
    };
    // The baseline and the thread pool run in the parent: nothing lost.
    for name in ["sequential", "thread pool map"] {
        assert_eq!(row(name)["verified"], true, "{}", row(name));
        assert_eq!(row(name)["failures"].as_array().map_or(0, Vec::len), 0);
    }
    let killed = row("process pool map, chunksize 1");
    assert_eq!(killed["verified"], false, "{killed}");
    assert!(
        killed["verify_error"].as_str().unwrap().contains(&victim),
        "{killed}"
    );
    let failures = killed["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{killed}");
    assert_eq!(failures[0]["input"], victim.as_str());
    let error = failures[0]["error"].as_str().unwrap();
    assert!(error.contains("worker pid "), "{error}");
    assert!(error.contains("SIGKILL"), "{error}");
    assert_eq!(report["summary"]["failed"], 1, "{}", report["summary"]);
    assert_eq!(report["summary"]["done"], 3);
    assert_eq!(report["failures"][0]["input"], victim.as_str());
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
        "error: cannot list",
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
