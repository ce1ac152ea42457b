//! The real `for-loop` binary, run the way a reader runs it.

use measure_testing::{self as testing, Bin};

const FOR_LOOP: Bin = Bin::new(env!("CARGO_BIN_EXE_for-loop"));

const APPROACHES: [&str; 8] = [
    "for-loop + push",
    "for-loop + with_capacity",
    "iter().map().collect()",
    "fill a zeroed Vec (numpy style)",
    "collect into huge pages",
    "running sums into huge pages",
    "squares into a reused buffer",
    "squares into a reused buffer, streaming stores",
];

#[test]
fn every_approach_is_verified_and_compared_with_the_baseline() {
    let report = FOR_LOOP.json(&[
        "--quick",
        "--json",
        "--no-python",
        "--runs",
        "2",
        "--n",
        "100003",
    ]);
    assert_eq!(report["example"], "for-loop");
    assert_eq!(report["baseline"], "for-loop + push");
    assert_eq!(report["workload"]["items"], 100003);
    assert_eq!(
        report["summary"],
        serde_json::json!({"total": 100003, "done": 100003, "failed": 0})
    );
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(
        report["machine"]["rustc"]
            .as_str()
            .unwrap()
            .starts_with("rustc")
    );
    let rows = testing::rows(&report);
    for name in APPROACHES {
        let row = rows
            .iter()
            .find(|r| r["approach"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(row["verified"], true, "{name}");
        assert_eq!(row["lang"], "rust");
        assert_eq!(row["runs"], 2);
        let (min, med, max) = (
            row["min_s"].as_f64().unwrap(),
            row["median_s"].as_f64().unwrap(),
            row["max_s"].as_f64().unwrap(),
        );
        assert!(min > 0.0 && min <= med && med <= max, "{row}");
        assert_eq!(row["throughput"]["unit"], "numbers/s");
        assert!(row["speedup_vs_baseline"].as_f64().unwrap() > 0.0);
    }
    let limits: Vec<_> = rows.iter().filter(|r| r["kind"] == "limit").collect();
    assert_eq!(limits.len(), 3);
    assert!(limits.iter().all(|r| r.get("verified").is_none()));
    let python: Vec<_> = rows.iter().filter(|r| r["lang"] == "python").collect();
    assert_eq!(python.len(), 4);
    assert!(python.iter().all(|r| r["skipped"] == "--no-python"));
}

#[test]
fn python_rows_are_measured_and_verified_or_say_why_not() {
    let report = FOR_LOOP.json(&[
        "--json",
        "--runs",
        "1",
        "--n",
        "1000",
        "--approach",
        "Python for-loop",
        "--approach",
        "python-numpy",
    ]);
    assert_eq!(
        testing::approaches(&report),
        ["for-loop + push", "Python for-loop", "Python numpy"]
    );
    for row in &testing::rows(&report)[1..] {
        if testing::assert_verified_or_skipped(row) {
            assert!(row["median_s"].as_f64().unwrap() > 0.0);
        }
    }
}

#[test]
fn out_writes_the_report_the_table_and_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    // output.txt is the table a terminal-less run prints, no colour codes.
    let table = FOR_LOOP.out(
        &["--quick", "--no-python", "--runs", "1", "--n", "5000"],
        dir.path(),
    );
    assert!(table.contains("for-loop + push (baseline)") && table.contains("limit: fresh fill"));
    assert!(
        table.contains("numbers: 5,000 total, 5,000 done, 0 failed"),
        "{table}"
    );
    let report = testing::read_json(dir.path().join("report.json"));
    assert_eq!(report["workload"]["N"], 5000);
    let svg = testing::read(dir.path().join("time.svg"));
    assert!(svg.starts_with("<svg") && svg.contains("running sums into huge pages"));
}

#[test]
fn list_names_every_row() {
    let names: Vec<&str> = APPROACHES
        .into_iter()
        .chain(["fresh fill", "Python numpy"])
        .collect();
    FOR_LOOP.assert_stdout_mentions(&["--list"], &names);
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    FOR_LOOP.assert_usage_error_line(
        &["--approach", "while-loop"],
        "error: unknown approach 'while-loop'",
    );
    FOR_LOOP.assert_usage_errors(&[
        &["--n", "-5"],
        &["--n", "2000000000000"],
        &["--runs", "0"],
        &["--bogus"],
    ]);
}

#[test]
fn a_size_beyond_the_machines_memory_is_refused_up_front() {
    // 100,000,000,000 squares: 800 GB per buffer, more than any test machine has.
    let stderr = FOR_LOOP.usage_error(&["--n", "100000000000"]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    testing::assert_mentions(
        &stderr,
        &[
            "error: --n 100,000,000,000 needs about ",
            " for the Rust rows, ",
            " with the Python rows beside the Rust buffers",
            "available (MemAvailable in /proc/meminfo)",
        ],
    );
    let stderr = FOR_LOOP.usage_error(&["--n", "100000000000", "--no-python"]);
    assert!(stderr.contains("more if the Python rows ran"), "{stderr}");
}

#[test]
fn help_explains_every_flag() {
    // Its own flags; every flag of measure::Common (--quick, --runs, --json, ...) is checked too.
    FOR_LOOP.assert_example_help(&["--n"]);
}
