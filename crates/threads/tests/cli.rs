//! The real `threads` binary, run the way a reader runs it, on small inputs.

use measure_testing::{self as testing, Bin, rows};

const THREADS: Bin = Bin::new(env!("CARGO_BIN_EXE_threads"));

/// Small, fast settings shared by the runs below: 4 slices of 2 ms, 3 images, 2 threads.
const SMALL: [&str; 10] = [
    "--quick",
    "--runs",
    "1",
    "--slices",
    "4",
    "--toast-ms",
    "2",
    "--images",
    "3",
    "--no-python",
];

#[test]
fn quick_json_runs_every_part_and_verifies_every_row() {
    let mut args = SMALL.to_vec();
    args.extend(["--json", "--threads", "2"]);
    let doc = THREADS.json(&args);
    assert_eq!(doc["example"], "threads");
    assert_eq!(doc["exit_code"], 0);
    let parts = doc["parts"].as_array().unwrap();
    let names: Vec<&str> = parts
        .iter()
        .map(|p| p["example"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "threads: toaster",
            "threads: thumbnails",
            "threads: checksums"
        ]
    );
    for part in parts {
        for row in rows(part) {
            if row["lang"] == "python" {
                assert_eq!(row["skipped"], "--no-python");
                continue;
            }
            assert_eq!(row["verified"], true, "{row}");
            assert!(row["median_s"].as_f64().unwrap() > 0.0);
            assert_eq!(row["runs"], 1);
        }
    }
    let toaster = rows(&parts[0]);
    assert_eq!(toaster.len(), 3);
    assert_eq!(toaster[0]["approach"], "one toaster");
    assert_eq!(
        toaster[1]["approach"],
        "4 toasters (thread pool, 4 workers)"
    );
    assert_eq!(
        testing::approaches(&parts[1]),
        [
            "sequential",
            "thread pool, 1 thread",
            "thread pool, 2 threads"
        ]
    );
    assert_eq!(
        parts[1]["summary"],
        serde_json::json!({"total": 3, "done": 3, "failed": 0})
    );
    // Python rows for 1..=2 threads, both kinds.
    assert_eq!(
        rows(&parts[2])
            .iter()
            .filter(|r| r["lang"] == "python")
            .count(),
        6
    );
    let demo = &doc["as_completed"];
    assert_eq!(demo["submitted"].as_array().unwrap().len(), 3);
    let completed = demo["completed"].as_array().unwrap();
    assert_eq!(completed.len(), 3);
    assert!(completed.iter().all(|c| c["mean_grey"].as_f64().is_some()));
    // The worker lines are not on stdout with --json (stdout parsed as JSON above).
}

#[test]
fn normal_mode_prints_the_parts_and_worker_lines_and_out_writes_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = SMALL.to_vec();
    args.extend(["--threads", "2"]);
    // output.txt is what was printed, no colour codes.
    let stdout = THREADS.out(&args, dir.path());
    testing::assert_mentions(
        &stdout,
        &[
            "1. Sequential vs parallel: the toaster",
            "2. CPU-bound work",
            "3. submit + as_completed",
        ],
    );
    assert!(stdout.contains("1 ms here stands for 1 s of toasting"));
    for n in ["IM-0001-0001.jpeg", "IM-0002-0001.jpeg"] {
        assert!(
            stdout.contains(&format!(": running {n}"))
                && stdout.contains(&format!(": done with {n}")),
            "{n}:\n{stdout}"
        );
    }
    assert!(stdout.contains("worker-1: running") || stdout.contains("worker-2: running"));
    let file = |name: &str| testing::read(dir.path().join(name));
    let report = testing::read_json(dir.path().join("report.json"));
    assert_eq!(report["parts"].as_array().unwrap().len(), 3);
    assert!(file("toaster.txt").starts_with("1. Sequential vs parallel"));
    assert!(file("cpu.txt").contains("thread pool, 2 threads"));
    assert!(file("as-completed.txt").contains("as_completed, in the order they finished"));
    for svg in [
        "toaster-timeline.svg",
        "toaster-time.svg",
        "speedup.svg",
        "thumbnails-time.svg",
        "checksums-time.svg",
        "as-completed-timeline.svg",
    ] {
        let text = file(svg);
        assert!(
            text.starts_with("<svg") && !text.contains("figure not drawn"),
            "{svg}"
        );
    }
    assert!(file("toaster-timeline.svg").contains("worker-"));
    assert!(file("speedup.svg").contains("ideal"));
}

#[test]
fn python_rows_are_measured_and_verified_or_say_why_not() {
    let doc = THREADS.json(&[
        "cpu",
        "--json",
        "--runs",
        "1",
        "--images",
        "2",
        "--threads",
        "2",
        "--approach",
        "Python CRC-32 loop, 2 threads",
        "--approach",
        "python-zlib-crc32-2-threads",
    ]);
    let parts = doc["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1, "only the checksum suite has these rows");
    assert_eq!(
        testing::approaches(&parts[0]),
        [
            "CRC-32, sequential",
            "Python CRC-32 loop, 2 threads",
            "Python zlib.crc32, 2 threads"
        ]
    );
    for row in &rows(&parts[0])[1..] {
        testing::assert_verified_or_skipped(row);
    }
    assert!(
        doc.get("as_completed").is_none(),
        "--approach skips the demo"
    );
}

#[test]
fn bad_inputs_are_accounted_for_and_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    datasets::write_hostile(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("good.jpeg"),
        datasets::xray_jpeg(datasets::DEFAULT_SEED, 0).unwrap(),
    )
    .unwrap();
    let input = dir.path().to_str().unwrap();
    let out = THREADS.run(&[
        "cpu",
        "as-completed",
        "--json",
        "--runs",
        "1",
        "--no-python",
        "--threads",
        "2",
        "--input",
        input,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = testing::json_of(&out);
    let thumbs = &doc["parts"][0];
    let total = thumbs["summary"]["total"].as_u64().unwrap();
    assert_eq!(total, 8, "7 hostile inputs and one good image");
    let failed = thumbs["summary"]["failed"].as_u64().unwrap();
    // Root can read `unreadable.jpeg` (a valid JPEG), so it may count as done.
    assert!((6..=7).contains(&failed), "{thumbs}");
    assert_eq!(thumbs["summary"]["done"].as_u64().unwrap() + failed, total);
    let failures = thumbs["failures"].as_array().unwrap();
    assert_eq!(failures.len() as u64, failed);
    for name in [
        "empty.jpeg",
        "truncated.jpeg",
        "text.jpeg",
        "png-named.jpeg",
        "folder.jpeg",
    ] {
        let f = failures
            .iter()
            .find(|f| f["input"] == name)
            .unwrap_or_else(|| panic!("{name} not accounted: {thumbs}"));
        let error = f["error"].as_str().unwrap();
        assert!(!error.is_empty() && !error.contains('\n'), "{error}");
    }
    // Every row still ran on every input and agreed on which failed.
    for row in rows(thumbs) {
        assert_eq!(row["verified"], true, "{row}");
    }
    let sums = &doc["parts"][1];
    assert_eq!(sums["summary"]["total"], 8);
    assert!(sums["failures"][0]["input"] == "folder.jpeg", "{sums}");
    let completed = doc["as_completed"]["completed"].as_array().unwrap();
    assert_eq!(completed.len(), 8);
    assert!(completed.iter().any(|c| c["error"].is_string()));
}

#[test]
fn list_names_every_row_of_every_part() {
    THREADS.assert_stdout_mentions(
        &["--list", "--threads", "2"],
        &[
            "one toaster",
            "4 toasters (thread pool, 4 workers)",
            "4 toasters that compute instead of wait",
            "sequential",
            "thread pool, 2 threads",
            "CRC-32, thread pool, 1 thread",
            "Python CRC-32 loop, 2 threads",
            "Python zlib.crc32, sequential",
        ],
    );
    let toaster_only = THREADS.stdout(&["toaster", "--list"]);
    assert!(toaster_only.contains("one toaster") && !toaster_only.contains("CRC-32"));
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    THREADS.assert_usage_error_line(
        &["--approach", "three toasters"],
        "error: unknown approach 'three toasters'",
    );
    THREADS.assert_usage_error_line(
        &["cpu", "--input", "/no/such/folder", "--no-python"],
        "error: cannot list /no/such/folder",
    );
    THREADS.assert_usage_errors(&[
        &["--threads", "0"],
        &["--slices", "0"],
        &["--toasters", "-1"],
        &["--runs", "0"],
        &["breakfast"],
        &["--bogus"],
    ]);
}

#[test]
fn help_explains_every_flag_and_the_parts() {
    THREADS.assert_example_help(&[
        "--slices",
        "--toasters",
        "--toast-ms",
        "--images",
        "--input",
        "--threads",
        "toaster",
        "cpu",
        "as-completed",
    ]);
}
