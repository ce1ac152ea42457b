//! A local stand-in for the data.gov.sg v1 air-temperature API, for the async chapter.
//!
//! `GET /v1/environment/air-temperature?date=YYYY-MM-DD` answers with a day of minute
//! readings from about 16 stations (~880 KB of JSON), generated deterministically from the
//! date by [`model`], with the real API's data-quality problems. [`Config`] adds latency,
//! jitter and seeded faults (503, 429 + `Retry-After`, 404, a reset mid-body, truncated or
//! malformed JSON, a captive portal's HTML, a stall), so clients meet what real networks do,
//! reproducibly.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use airtemp_api::{Config, Date, Fault, Server};
//! let day: Date = "2020-03-01".parse().map_err(std::io::Error::other)?;
//! let server = Server::start(Config::instant().fault_on(day, Fault::Html)).await?;
//! println!("{}{}?date=2020-03-20", server.url(), airtemp_api::PATH);
//! let expected = airtemp_api::model::expected_stats(day); // what a client should compute
//! # let _ = expected;
//! server.shutdown().await
//! # }
//! ```

pub mod cli;
pub mod date;
pub mod faults;
pub mod model;
mod rng;
pub mod server;

pub use date::Date;
pub use faults::{Config, Decision, Fault, Override};
pub use model::{Day, DayStats, Stats, expected_stats};
pub use server::{
    ATTEMPT_HEADER, BlockingServer, Counts, FAULT_HEADER, INJECTED_HEADER, PATH, Server,
};
