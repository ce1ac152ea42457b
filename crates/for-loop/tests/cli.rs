//! The real `for-loop` binary, run the way a reader runs it.

use serde_json::Value;
use std::process::{Command, Output};

fn for_loop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_for-loop"))
        .args(args)
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = for_loop(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON document and nothing else")
}

const APPROACHES: [&str; 7] = [
    "for-loop + push",
    "for-loop + with_capacity",
    "iter().map().collect()",
    "fill a zeroed Vec (numpy style)",
    "collect into huge pages",
    "running sums into huge pages",
    "squares into a reused buffer",
];

#[test]
fn every_approach_is_verified_and_compared_with_the_baseline() {
    let report = json(&[
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
    let rows = report["results"].as_array().unwrap();
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
    let report = json(&[
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
    let rows = report["results"].as_array().unwrap();
    let names: Vec<_> = rows
        .iter()
        .map(|r| r["approach"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["for-loop + push", "Python for-loop", "Python numpy"]
    );
    for row in &rows[1..] {
        if let Some(why) = row["skipped"].as_str() {
            assert!(
                why.contains("not found") || why.contains("not installed"),
                "{why}"
            );
        } else {
            assert_eq!(row["verified"], true, "{row}");
            assert!(row["median_s"].as_f64().unwrap() > 0.0);
        }
    }
}

#[test]
fn out_writes_the_report_the_table_and_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out = for_loop(&[
        "--quick",
        "--no-python",
        "--runs",
        "1",
        "--n",
        "5000",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let table = std::fs::read_to_string(dir.path().join("output.txt")).unwrap();
    assert_eq!(
        table, stdout,
        "output.txt is the table a terminal-less run prints"
    );
    assert!(!table.contains('\x1b'));
    assert!(table.contains("for-loop + push (baseline)") && table.contains("limit: fresh fill"));
    assert!(
        table.contains("numbers: 5,000 total, 5,000 done, 0 failed"),
        "{table}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["workload"]["N"], 5000);
    let svg = std::fs::read_to_string(dir.path().join("time.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("running sums into huge pages"));
}

#[test]
fn list_names_every_row() {
    let out = for_loop(&["--list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in APPROACHES.iter().chain(&["fresh fill", "Python numpy"]) {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    let out = for_loop(&["--approach", "while-loop"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: unknown approach 'while-loop'"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
    for bad in [
        &["--n", "-5"][..],
        &["--n", "600000000"],
        &["--runs", "0"],
        &["--bogus"],
    ] {
        assert_eq!(for_loop(bad).status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn help_explains_every_flag() {
    let out = for_loop(&["--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--n",
        "--quick",
        "--runs",
        "--json",
        "--out",
        "--approach",
        "--list",
        "--no-python",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
