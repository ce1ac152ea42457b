//! `async-fetch`: the talk's case 1, fetching days of air temperature from an HTTP API, one
//! after another, on a thread pool, and as async tasks, with retries, against `airtemp-api`.
//!
//! - [`day`]: the API's JSON as typed structs (serde) and the statistics a client computes
//!   from them (per station and over all stations: mean, min, max, count, missing).
//! - [`retry`]: what one attempt's answer means (done, retry, give up) and the backoff.
//! - [`clients`]: one function per approach; each returns a [`Fetched`]: every date
//!   accounted for, with its statistics or its cause of failure, and a span per request.
//! - [`fetch`]: the `fetch` part of the binary: the suite, the CSV, the timelines, the lessons.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod clients;
pub mod day;
pub mod fetch;
pub mod retry;

pub use airtemp_api::Date;
pub use clients::{Fetched, Setup};
pub use day::{DailyStats, parse_day};
pub use retry::{FetchError, Policy};
