//! Every approach against an in-process `airtemp-api`: the statistics equal the model's, and
//! under injected faults every date is accounted for, retried or failed with its cause.
//! No assertion depends on how fast anything runs.

use airtemp_api::{Config, Date, Fault, Server, model};
use async_fetch::clients::{self, Fetched};
use async_fetch::retry::Cause;
use async_fetch::{Policy, Setup};
use std::time::Duration;

const APPROACHES: [&str; 5] = [
    "sequential",
    "thread pool",
    "join_all",
    "buffer_unordered",
    "semaphore",
];

fn dates(n: usize) -> Vec<Date> {
    Date::days_ending("2020-03-20".parse().unwrap(), n)
}

/// Quick retries for tests: 6 attempts, 1 ms doubling to 8 ms, a generous timeout.
fn policy() -> Policy {
    Policy {
        attempts: 6,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(8),
        timeout: Duration::from_secs(20),
        ..Policy::default()
    }
}

fn run(approach: &str, setup: &Setup, dates: &[Date]) -> Fetched {
    let rt = clients::runtime(2).unwrap();
    match approach {
        "sequential" => clients::sequential(setup, dates),
        "thread pool" => clients::thread_pool(setup, dates, 3),
        "join_all" => rt.block_on(clients::join_all(setup, dates)),
        "buffer_unordered" => rt.block_on(clients::buffer_unordered(setup, dates, 3)),
        "semaphore" => rt.block_on(clients::semaphore(setup, dates, 3)),
        other => panic!("no approach {other}"),
    }
}

fn check_accounted(name: &str, f: &Fetched, dates: &[Date]) {
    assert_eq!(f.total(), dates.len(), "{name}");
    let got: Vec<Date> = f.days.iter().map(|d| d.date).collect();
    assert_eq!(got, dates, "{name}: every date once, in date order");
    assert_eq!(f.done() + f.failure_lines().len(), f.total(), "{name}");
}

#[test]
fn every_approach_computes_the_models_statistics() {
    let server = Server::start_blocking(Config::instant()).unwrap();
    let setup = Setup::new(server.url(), policy());
    let dates = dates(7);
    let mut first = None;
    for name in APPROACHES {
        let f = run(name, &setup, &dates);
        check_accounted(name, &f, &dates);
        assert_eq!(f.done(), dates.len(), "{name}: {:?}", f.failure_lines());
        for day in f.stats() {
            assert!(
                day.equals_model(&model::expected_stats(day.date)),
                "{name} {}",
                day.date
            );
        }
        assert_eq!(
            f.requests(),
            dates.len() as u64,
            "{name}: no retries without faults"
        );
        assert!(f.bytes > 800_000 * dates.len() as u64, "{name}: whole days");
        assert!(f.spans.len() == dates.len(), "{name}: one span per request");
        let print = measure::Verify::fingerprint(&f);
        match &first {
            None => first = Some(print),
            Some(p) => assert_eq!(p, &print, "{name}"),
        }
    }
}

#[test]
fn under_twenty_percent_retryable_faults_every_date_succeeds() {
    let config = Config {
        retry_after_s: 0,
        seed: 7,
        ..Config::instant()
    }
    .fault_rate(Fault::Unavailable, 0.05)
    .fault_rate(Fault::TooManyRequests, 0.04)
    .fault_rate(Fault::Reset, 0.04)
    .fault_rate(Fault::Truncated, 0.04)
    .fault_rate(Fault::Malformed, 0.03);
    let server = Server::start_blocking(config).unwrap();
    let setup = Setup::new(server.url(), policy());
    let dates = dates(25);
    for name in APPROACHES {
        server.reset_attempts();
        let f = run(name, &setup, &dates);
        check_accounted(name, &f, &dates);
        assert_eq!(f.done(), dates.len(), "{name}: {:?}", f.failure_lines());
        assert!(
            f.requests() > dates.len() as u64,
            "{name}: some dates were retried"
        );
        for day in f.stats() {
            assert!(day.equals_model(&model::expected_stats(day.date)), "{name}");
        }
    }
    let injected: u64 = server.counts().faults.iter().map(|(_, n)| n).sum();
    assert!(
        injected >= 5 * 3,
        "faults were injected: {:?}",
        server.counts()
    );
}

#[test]
fn html_and_404_days_fail_at_once_with_their_cause() {
    let dates = dates(5);
    let config = Config::instant()
        .fault_on(dates[1], Fault::Html)
        .fault_on(dates[3], Fault::NotFound);
    let server = Server::start_blocking(config).unwrap();
    let setup = Setup::new(server.url(), policy());
    for name in APPROACHES {
        let before = server.counts().requests;
        let f = run(name, &setup, &dates);
        check_accounted(name, &f, &dates);
        assert_eq!(f.done(), 3, "{name}");
        let lines = f.failure_lines();
        assert_eq!(lines.len(), 2, "{name}: {lines:?}");
        assert!(
            lines[0].starts_with(&format!("{}: a 200 that is not JSON (text/html", dates[1])),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with(&format!("{}: HTTP 404", dates[3])),
            "{lines:?}"
        );
        assert!(
            lines.iter().all(|l| l.ends_with("(permanent, 1 attempt)")),
            "{lines:?}"
        );
        assert_eq!(
            server.counts().requests - before,
            5,
            "{name}: permanent failures are not retried"
        );
        let causes: Vec<Cause> = f
            .days
            .iter()
            .filter_map(|d| d.result.as_ref().err().map(|e| e.cause))
            .collect();
        assert_eq!(causes, [Cause::NotJson, Cause::Client]);
    }
}

#[test]
fn with_the_server_down_every_date_fails_after_one_dates_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener); // nothing listens there now
    let setup = Setup::new(url, policy());
    let dates = dates(12);
    for name in APPROACHES {
        let f = run(name, &setup, &dates);
        check_accounted(name, &f, &dates);
        assert_eq!(f.done(), 0, "{name}");
        let errors: Vec<_> = f
            .days
            .iter()
            .map(|d| d.result.as_ref().unwrap_err())
            .collect();
        assert!(errors.iter().any(|e| e.cause == Cause::Connect), "{name}");
        assert!(
            errors
                .iter()
                .all(|e| matches!(e.cause, Cause::Connect | Cause::Unreachable)),
            "{name}"
        );
        // The breaker: at most one date per request in flight (3, or all for join_all) used
        // its attempts; the others stopped as soon as it opened.
        let in_flight = if name == "join_all" {
            dates.len()
        } else if name == "sequential" {
            1
        } else {
            3
        };
        let budget = (in_flight * policy().attempts as usize) as u64;
        assert!(f.requests() <= budget, "{name}: {} requests", f.requests());
        if name == "sequential" {
            assert_eq!(f.requests(), policy().attempts as u64);
            assert!(
                f.failure_lines()[1].contains("not tried"),
                "{:?}",
                f.failure_lines()
            );
        }
    }
}

#[test]
fn a_stalled_response_times_out_and_a_retry_gets_past_it() {
    let dates = dates(2);
    let config = Config {
        stall: Duration::from_secs(30),
        ..Config::instant()
    }
    .fault_on(dates[0], Fault::Stall)
    .fault_first(dates[1], Fault::Stall, 1);
    let server = Server::start_blocking(config).unwrap();
    let setup = Setup::new(
        server.url(),
        Policy {
            attempts: 2,
            timeout: Duration::from_secs(2),
            ..policy()
        },
    );
    for name in ["sequential", "buffer_unordered"] {
        server.reset_attempts();
        let f = run(name, &setup, &dates);
        check_accounted(name, &f, &dates);
        let stalled = f.days[0].result.as_ref().unwrap_err();
        assert_eq!(stalled.cause, Cause::Timeout, "{name}: {stalled:?}");
        assert!(
            f.failure_lines()[0].contains("timed out"),
            "{:?}",
            f.failure_lines()
        );
        assert!(
            f.failure_lines()[0].ends_with("(gave up, 2 attempts)"),
            "{:?}",
            f.failure_lines()
        );
        assert_eq!(f.days[1].attempts, 2, "{name}");
        assert!(f.days[1].result.is_ok(), "{name}");
    }
}

#[test]
fn resets_and_truncated_bodies_are_retried() {
    let dates = dates(3);
    let config = Config::instant()
        .fault_first(dates[0], Fault::Reset, 2)
        .fault_first(dates[1], Fault::Truncated, 1)
        .fault_first(dates[2], Fault::Malformed, 1);
    let server = Server::start_blocking(config).unwrap();
    let setup = Setup::new(server.url(), policy());
    for name in APPROACHES {
        server.reset_attempts();
        let f = run(name, &setup, &dates);
        check_accounted(name, &f, &dates);
        assert_eq!(f.done(), 3, "{name}: {:?}", f.failure_lines());
        let attempts: Vec<u32> = f.days.iter().map(|d| d.attempts).collect();
        assert_eq!(attempts, [3, 2, 2], "{name}");
        assert!(
            f.spans.iter().any(|s| s.label.ends_with("#3")),
            "{name}: retries on the timeline"
        );
    }
}

#[test]
fn retry_after_is_honoured_up_to_its_limit() {
    let dates = dates(1);
    let config = Config {
        retry_after_s: 1,
        ..Config::instant()
    }
    .fault_first(dates[0], Fault::TooManyRequests, 1);
    let server = Server::start_blocking(config).unwrap();
    let waits = Setup::new(server.url(), policy());
    let f = run("sequential", &waits, &dates);
    assert_eq!(
        (f.done(), f.days[0].attempts),
        (1, 2),
        "{:?}",
        f.failure_lines()
    );
    server.reset_attempts();
    let impatient = Setup::new(
        server.url(),
        Policy {
            max_retry_after: Duration::ZERO,
            ..policy()
        },
    );
    let f = run("sequential", &impatient, &dates);
    assert_eq!(f.done(), 0);
    let line = &f.failure_lines()[0];
    assert!(
        line.contains("HTTP 429") && line.contains("Retry-After 1 s"),
        "{line}"
    );
}
