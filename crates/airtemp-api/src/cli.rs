//! The binary's flags (clap derive) and how they become a [`Config`].

use crate::date::Date;
use crate::faults::{Config, Fault, Override, parse_fault_on, parse_rate};
use clap::Parser;
use std::io;
use std::time::Duration;

/// A local data.gov.sg-style air-temperature API with deterministic readings and seeded faults.
///
/// Serves GET /v1/environment/air-temperature?date=YYYY-MM-DD on 127.0.0.1 until Ctrl-C.
/// Fault kinds: 503 (Service Unavailable), 429 (Too Many Requests with Retry-After),
/// 404 (no data for the date), reset (the connection closes part-way through the body),
/// truncated (a complete response whose JSON is cut short), malformed (a JSON syntax error
/// mid-body), html (a 200 captive-portal login page, text/html), stall (no answer for
/// --stall-ms). Per request, the header `X-Airtemp-Fault: KIND` (or `none`) forces one.
#[derive(Parser, Debug)]
#[command(name = "airtemp-api", version, verbatim_doc_comment)]
pub struct Args {
    /// Port on 127.0.0.1 to listen on; 0 picks a free one (the address is printed).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Latency added before every response, milliseconds.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Up to this many more milliseconds per request, uniform, seeded.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Seed of the faults and the jitter: the same seed gives the same run. (Readings depend on the date only.)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Share of requests that get a fault, KIND=RATE, comma-separated or repeated,
    /// e.g. --fault-rate 503=0.05,429=0.05,reset=0.02. Rates add up to at most 1. Each
    /// request for a date is drawn anew, so a retry can succeed.
    #[arg(long, value_name = "KIND=RATE", value_delimiter = ',', value_parser = parse_rate)]
    pub fault_rate: Vec<(Fault, f64)>,
    /// Every request for DATE gets KIND, e.g. --fault-on 2020-03-01=html (repeatable).
    #[arg(long, value_name = "DATE=KIND", value_parser = parse_fault_on)]
    pub fault_on: Vec<(Date, Fault)>,
    /// Seconds a 429 response tells the client to wait (its Retry-After header).
    #[arg(long, default_value_t = 1)]
    pub retry_after_s: u64,
    /// How long a stalled response hangs before it answers, milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub stall_ms: u64,
    /// Serve one item (00:00) a day instead of 1,440: tiny payloads, for the latency-bound case.
    #[arg(long)]
    pub small: bool,
}

impl Args {
    /// The server's config. Exits with a usage error (code 2) when the rates add up to more than 1.
    pub fn config(self) -> Config {
        let config = Config {
            port: self.port,
            latency: Duration::from_millis(self.latency_ms),
            jitter: Duration::from_millis(self.jitter_ms),
            seed: self.seed,
            rates: self.fault_rate,
            overrides: self
                .fault_on
                .into_iter()
                .map(|(date, fault)| Override {
                    date,
                    fault,
                    attempts: None,
                })
                .collect(),
            retry_after_s: self.retry_after_s,
            stall: Duration::from_millis(self.stall_ms),
            small: self.small,
        };
        if let Err(e) = config.validate() {
            use clap::CommandFactory;
            Args::command()
                .error(clap::error::ErrorKind::ValueValidation, e)
                .exit();
        }
        config
    }
}

/// The multi-threaded runtime the binary serves on.
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
