//! The real `simd-jit` binary, run the way a reader runs it.

use measure_testing::{self as testing, Bin, rows};
use serde_json::Value;

const SIMD_JIT: Bin = Bin::new(env!("CARGO_BIN_EXE_simd-jit"));

/// Small and quick: no Python, one timed run, small arrays.
const SMALL: [&str; 7] = [
    "--no-python",
    "--runs",
    "1",
    "--n",
    "20003",
    "--n-cache",
    "1000",
];

/// The report of one part: each names its part (`"part": slug`).
fn part<'a>(doc: &'a Value, slug: &str) -> &'a Value {
    doc["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["part"] == slug)
        .unwrap_or_else(|| panic!("no part {slug}"))
}

#[test]
fn every_rust_row_of_every_part_is_verified() {
    let mut args = vec!["--json"];
    args.extend(SMALL);
    let doc = SIMD_JIT.json(&args);
    assert_eq!(doc["example"], "simd-jit");
    let slugs: Vec<_> = doc["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["part"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        [
            "sum-of-squares-in-cache",
            "sum-of-squares-out-of-cache",
            "axpy-in-cache",
            "axpy-out-of-cache",
            "jit-compile",
            "jit-in-cache",
            "jit-out-of-cache",
        ]
    );
    for slug in slugs {
        let report = part(&doc, slug);
        assert_eq!(report["example"], "simd-jit");
        assert_eq!(report["summary"]["failed"], 0);
        for row in rows(report) {
            let name = row["approach"].as_str().unwrap();
            match (row["lang"].as_str(), row["kind"].as_str()) {
                (Some("python"), _) => assert_eq!(row["skipped"], "--no-python", "{slug}: {name}"),
                (_, Some("limit")) => assert!(row.get("verified").is_none(), "{slug}: {name}"),
                _ => {
                    assert_eq!(row["verified"], true, "{slug}: {name}: {row}");
                    assert!(row["median_s"].as_f64().unwrap() > 0.0);
                }
            }
        }
    }
    // In-cache parts repeat the kernel: 20,003 elements over arrays of 1,000 → 21 passes.
    let in_cache = part(&doc, "sum-of-squares-in-cache");
    assert_eq!(in_cache["workload"]["repeats"], 21);
    assert_eq!(in_cache["workload"]["items"], 4 * 1000 * 21);
    let gbps = &rows(in_cache)[0]["throughput"]["unit"];
    assert_eq!(gbps, "B/s");
    // The JIT parts have every row the issue asks for.
    let jit = part(&doc, "jit-out-of-cache");
    for name in [
        "interpreter, a tree walk per element",
        "Cranelift JIT, warm call",
        "Cranelift JIT + rayon",
        "Rust, ahead of time",
        "copy the same bytes, one core",
    ] {
        assert!(rows(jit).iter().any(|r| r["approach"] == name), "{name}");
    }
    let compile = part(&doc, "jit-compile");
    assert!(rows(compile).iter().any(|r| r["approach"]
        == "Cranelift: JIT set-up + compile + first call"
        && r["verified"] == true));
    // The size sweep: one series per kernel, one point per size.
    let sweep = &doc["sweep"];
    let sizes = sweep["sizes_bytes"].as_array().unwrap().len();
    assert!(sizes >= 10);
    for s in sweep["series"].as_array().unwrap() {
        assert_eq!(s["gb_per_s"].as_array().unwrap().len(), sizes);
    }
}

#[test]
fn out_writes_every_table_the_reports_and_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    // output.txt is what a terminal-less run prints, no colour codes.
    let text = SIMD_JIT.out(&SMALL, dir.path());
    testing::assert_mentions(
        &text,
        &[
            "scalar loop, in order (baseline)",
            "limit: read the same bytes, one core",
            "GB/s",
            "interpreter, a tree walk per element (baseline)",
            "GB/s against array size",
            "(target: under 10 ms",
        ],
    );
    let report = testing::read_json(dir.path().join("report.json"));
    assert_eq!(report["parts"].as_array().unwrap().len(), 7);
    assert_eq!(report["exit_code"], 0);
    let sweep = testing::read(dir.path().join("sweep.svg"));
    assert!(sweep.starts_with("<svg") && sweep.contains("explicit SIMD"));
    let sweep = testing::read(dir.path().join("sweep.txt"));
    assert!(sweep.starts_with("sum of squares: GB/s against array size"));
    // Per part: its table alone as PART.txt (what the chapter includes) and its figure.
    for slug in [
        "sum-of-squares-in-cache",
        "axpy-out-of-cache",
        "jit-compile",
        "jit-out-of-cache",
    ] {
        let table = testing::read(dir.path().join(format!("{slug}.txt")));
        assert!(table.starts_with("simd-jit · "), "{slug}: {table}");
        assert!(
            text.contains(&table),
            "{slug}'s table is part of output.txt"
        );
        let svg = testing::read(dir.path().join(format!("{slug}-time.svg")));
        assert!(svg.starts_with("<svg"), "{slug}");
        assert!(
            report["parts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["part"] == slug)
        );
    }
}

#[test]
fn bad_expressions_get_a_caret_and_exit_2() {
    let deep_minus = format!("{}x", "-".repeat(100_000));
    let deep_parens = format!("{}x", "(".repeat(100_000));
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "error: empty expression at column 1"),
        (
            "(x + 1".into(),
            "error: unclosed '(': no ')' matches it at column 1",
        ),
        ("x + 1)".into(), "error: unmatched ')' at column 6"),
        ("x + y".into(), "error: unknown name 'y' at column 5"),
        (
            "x*x + 3*x - 1 garbage".into(),
            "error: unexpected 'garbage' after a complete expression at column 15",
        ),
        (
            "1e999 * x".into(),
            "error: number 1e999 is out of range for f64 at column 1",
        ),
        (deep_minus, "error: nesting deeper than 256 at column 257"),
        (deep_parens, "error: nesting deeper than 256 at column 257"),
    ];
    for (expr, first_line) in cases {
        let out = SIMD_JIT.run(&["jit", "--no-python", &format!("--expr={expr}")]);
        assert_eq!(out.status.code(), Some(2), "{first_line}");
        assert!(out.stdout.is_empty(), "nothing runs: {first_line}");
        let stderr = testing::text(out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines[0], first_line);
        assert_eq!(lines.len(), 3, "{stderr}");
        // The caret sits under the column the first line names.
        let column: usize = first_line.rsplit(' ').next().unwrap().parse().unwrap();
        assert_eq!(
            lines[2],
            format!("  {}^", " ".repeat(column - 1)),
            "{stderr}"
        );
    }
}

#[test]
fn the_caret_display_for_the_issue_example() {
    assert_eq!(
        SIMD_JIT.usage_error(&["--expr", "x + y"]),
        "error: unknown name 'y' at column 5\n  x + y\n      ^\n"
    );
}

#[test]
fn division_by_zero_follows_ieee() {
    let doc = SIMD_JIT.json(&[
        "jit",
        "--json",
        "--no-python",
        "--runs",
        "1",
        "--n",
        "1000",
        "--expr",
        "1/(x - x) + sqrt(x)",
    ]);
    for slug in ["jit-compile", "jit-in-cache", "jit-out-of-cache"] {
        for row in rows(part(&doc, slug)) {
            if row["lang"] == "rust" && row["kind"] != "limit" {
                assert_eq!(row["verified"], true, "{slug}: {row}");
            }
        }
        // Not the default expression: no ahead-of-time row, and the table says why.
        assert!(
            rows(part(&doc, slug))
                .iter()
                .all(|r| r["approach"] != "Rust, ahead of time")
        );
    }
    let notes = part(&doc, "jit-out-of-cache")["notes"].to_string();
    assert!(notes.contains("default expression only"), "{notes}");
}

#[test]
fn python_rows_are_measured_and_verified_or_say_why_not() {
    let doc = SIMD_JIT.json(&[
        "jit",
        "--json",
        "--runs",
        "1",
        "--n",
        "2000",
        "--approach",
        "Python numpy",
        "--approach",
        "python-numba-warm-call",
    ]);
    let report = part(&doc, "jit-out-of-cache");
    let python: Vec<_> = rows(report)
        .iter()
        .filter(|r| r["lang"] == "python")
        .collect();
    assert_eq!(python.len(), 2);
    for row in python {
        testing::assert_verified_or_skipped(row);
    }
    // Parts with none of the named approaches do not run.
    assert!(
        doc["parts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["part"] != "jit-compile")
    );
}

#[test]
fn list_names_every_row_of_every_part() {
    SIMD_JIT.assert_stdout_mentions(
        &["--list"],
        &[
            "[sum-of-squares-in-cache]",
            "[jit-out-of-cache]",
            "explicit SIMD, run-time dispatch",
            "blocks of 16, recompiled for AVX2",
            "Cranelift JIT, warm call",
            "Python numba first call, fresh process",
            "read the same bytes, all cores (limit)",
        ],
    );
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    SIMD_JIT.assert_usage_error_line(
        &["--approach", "while-loop"],
        "error: unknown approach 'while-loop'",
    );
    SIMD_JIT.assert_usage_errors(&[
        &["--n", "0"],
        &["--n", "-5"],
        &["--n-cache", "8"],
        &["--runs", "0"],
        &["gpu"],
        &["--bogus"],
    ]);
}

#[test]
fn dump_code_writes_the_machine_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("code.bin");
    SIMD_JIT.stdout(&["jit", "--list", "--dump-code", file.to_str().unwrap()]);
    assert!(std::fs::metadata(&file).unwrap().len() > 32);
}

#[test]
fn help_explains_every_flag() {
    SIMD_JIT.assert_example_help(&[
        "[PART]",
        "simd",
        "--n ",
        "--n-cache",
        "--expr",
        "--dump-code",
    ]);
}
