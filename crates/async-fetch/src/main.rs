//! `async-fetch`: the talk's case 1. Fetch N days of air temperature from the API one after
//! another, on a thread pool (submit + as_completed), and as async tasks (join_all,
//! buffer_unordered, a semaphore), with retries, all verified against the sequential result.

use airtemp_api::faults::{parse_fault_on, parse_rate};
use airtemp_api::{Config, Date, Fault, Server};
use async_fetch::fetch::{self, Settings};
use async_fetch::{Policy, Setup, clients};
use clap::Parser;
use measure::{Common, Document};
use std::process::ExitCode;
use std::time::Duration;

/// The parts of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// N days, by every approach, verified, with requests/s, timelines and the daily CSV
    Fetch,
}

/// Case 1: fetch days of air-temperature readings from a data.gov.sg-style API (our own
/// airtemp-api, in-process, unless --base-url), sequentially, on a thread pool and as async
/// tasks, with retries; every date is accounted for and every row checked against the
/// sequential one. Exit 1 when any date failed.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// The part to run [default: fetch]
    #[arg(value_enum, value_name = "PART")]
    parts: Vec<Part>,

    /// Days to fetch, ending on --end [default: 100, or 10 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=3660))]
    days: Option<u64>,

    /// The last day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", default_value = "2020-03-20")]
    end: Date,

    /// The API's base URL, e.g. http://127.0.0.1:8080 [default: our server, in-process]
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,

    /// Requests in flight: the pool's threads, buffer_unordered's and the semaphore's k
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    concurrency: u64,

    /// In-process server: latency per request
    #[arg(long, value_name = "MS", default_value_t = 50)]
    latency_ms: u64,

    /// In-process server: up to this much more latency, seeded
    #[arg(long, value_name = "MS", default_value_t = 0)]
    jitter_ms: u64,

    /// In-process server: one reading a day instead of 1,440 (the latency-bound case)
    #[arg(long)]
    small: bool,

    /// In-process server: inject a fault into this share of requests, KIND=RATE (503, 429,
    /// 404, reset, truncated, malformed, html, stall), repeatable
    #[arg(long, value_name = "KIND=RATE", value_parser = parse_rate)]
    fault_rate: Vec<(Fault, f64)>,

    /// In-process server: every request for DATE gets the fault KIND, DATE=KIND, repeatable
    #[arg(long, value_name = "DATE=KIND", value_parser = parse_fault_on)]
    fault_on: Vec<(Date, Fault)>,

    /// In-process server: the seed of its faults and jitter (and of the client's jitter)
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// In-process server: the Retry-After of its 429s, seconds
    #[arg(long, value_name = "S", default_value_t = 1)]
    retry_after_s: u64,

    /// Attempts per date, the first one included
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    attempts: u32,

    /// Timeout per request (connect, head, whole body)
    #[arg(long, value_name = "MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_ms: u64,

    /// Print "worker-N: running DATE" / "done with DATE" on stderr from the thread pool
    #[arg(long)]
    verbose: bool,

    #[command(flatten)]
    common: Common,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let days = cli
        .days
        .map_or(if cli.common.quick { 10 } else { 100 }, |n| n as usize);
    let dates = Date::days_ending(cli.end, days);
    if dates.len() != days {
        eprintln!("error: there are not {days} days ending {}", cli.end);
        return ExitCode::from(2);
    }
    let policy = Policy {
        attempts: cli.attempts,
        timeout: Duration::from_millis(cli.timeout_ms),
        seed: cli.seed,
        ..Policy::default()
    };
    let mut config = Config {
        latency: Duration::from_millis(cli.latency_ms),
        jitter: Duration::from_millis(cli.jitter_ms),
        seed: cli.seed,
        rates: cli.fault_rate.clone(),
        retry_after_s: cli.retry_after_s,
        small: cli.small,
        ..Config::default()
    };
    for &(date, fault) in &cli.fault_on {
        config = config.fault_on(date, fault);
    }
    if let Err(e) = config.validate() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    // Our server on a runtime of its own (its own threads), unless a base URL is given.
    let server = match (&cli.base_url, cli.common.list) {
        (None, false) => match Server::start_blocking(config) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("error: cannot start the in-process server: {e}");
                return ExitCode::from(1);
            }
        },
        _ => None,
    };
    let base_url = match (&cli.base_url, &server) {
        (Some(url), _) => url.clone(),
        (None, Some(s)) => s.url(),
        (None, None) => "http://127.0.0.1".to_string(), // --list only
    };
    let mut setup = Setup::new(base_url, policy);
    setup.verbose = cli.verbose;
    let settings = Settings {
        dates,
        setup,
        concurrency: cli.concurrency as usize,
        latency_ms: server.as_ref().map(|_| cli.latency_ms),
        model_is_reference: server.is_some() && !cli.small,
        common: cli.common.clone(),
    };
    // The clients' runtime: two worker threads, as many as the machine the talk ran on has cores.
    let runtime = match clients::runtime(2) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the client runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let reset = || {
        if let Some(s) = &server {
            s.reset_attempts();
        }
    };
    if cli.common.list {
        let kept = Default::default();
        print!(
            "# fetch\n{}",
            fetch::suite(&settings, &runtime, &reset, &kept).listing()
        );
        return ExitCode::SUCCESS;
    }
    let _ = &cli.parts; // one part for now: fetch
    let out = Document::new("async-fetch", &cli.common);
    match fetch::run(&settings, &runtime, &reset, &out) {
        Ok(()) => out.finish(&cli.common),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
