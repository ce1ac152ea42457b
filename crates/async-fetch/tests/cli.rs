//! The binary end to end, on small runs against its in-process server (no latency): exit 0 when
//! every date is fetched, exit 1 with one line per failed date otherwise, the CSV under --out.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_async-fetch"))
        .args(["--runs", "1", "--latency-ms", "0", "--no-python"])
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_clean_run_verifies_every_row_and_writes_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&["--days", "3", "--out", out.to_str().unwrap()]);
    let stdout = text(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("requests: 3 total, 3 done, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("equals the model's statistics for 3 of the 3 days"),
        "{stdout}"
    );
    assert_eq!(stdout.matches(" ✓").count(), 5, "{stdout}");
    let csv = std::fs::read_to_string(out.join("daily-stats.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("date,station,count,missing,mean,min,max")
    );
    let expected = airtemp_api::model::expected_stats("2020-03-18".parse().unwrap());
    let all = format!(
        "2020-03-18,all,{},{},",
        expected.all.count, expected.all.missing
    );
    assert!(csv.contains(&all), "{all} in {csv}");
    for f in [
        "report.json",
        "daily-temperature.svg",
        "timeline-join-all-all-in-flight.svg",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
}

#[test]
fn failed_dates_are_listed_with_their_cause_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "--days",
        "4",
        "--fault-on",
        "2020-03-18=html",
        "--fault-on",
        "2020-03-20=404",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("requests: 4 total, 2 done, 2 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("failed: 2020-03-18: a 200 that is not JSON"),
        "{stdout}"
    );
    assert!(stdout.contains("failed: 2020-03-20: HTTP 404"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let text = report.to_string();
    assert!(
        text.contains("2020-03-18") && text.contains("not JSON"),
        "{text}"
    );
    // Partial results are still written: the two good days.
    let csv = std::fs::read_to_string(out.join("daily-stats.csv")).unwrap();
    assert!(csv.contains("2020-03-17,all,") && csv.contains("2020-03-19,all,"));
    assert!(!csv.contains("2020-03-18,") && !csv.contains("2020-03-20,"));
}

#[test]
fn a_server_that_is_down_fails_every_date_and_exits_1() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let o = run(&["--days", "5", "--base-url", &url]);
    let stdout = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("requests: 5 total, 0 done, 5 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("cannot connect"), "{stdout}");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--end", "2020-02-30"][..],
        &["--fault-rate", "503=2"],
        &["--approach", "no such row"],
    ] {
        let o = run(args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
