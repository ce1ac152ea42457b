//! `measure`: the one place that times, verifies and reports.
//!
//! Every example crate builds a [`Suite`]: it names a baseline, the approaches to compare
//! and, where one exists, the limit they cannot beat; `measure` runs each one (a warm-up run,
//! then `--runs` timed runs), checks every result against the baseline's, folds in the
//! Python original's rows, and prints the same [`Report`] as a table, as JSON and as SVG.
//!
//! ```no_run
//! use measure::{Common, Suite, Workload};
//! let common = Common::default();
//! let n = 1_000_000u64;
//! let mut suite = Suite::new("for-loop", Workload::new("squares", n, "numbers"), &common);
//! suite.baseline("for-loop push", || (0..n).map(|i| i * i).collect::<Vec<u64>>());
//! suite.approach("collect", || (0..n).map(|i| i * i).collect::<Vec<u64>>());
//! let exit_code = suite.main(); // --list, run, print, --out, exit code
//! ```

pub mod cli;
pub mod document;
pub mod machine;
pub mod parts;
pub mod probe;
pub mod process;
pub mod progress;
pub mod python;
pub mod report;
pub mod stream;
pub mod suite;
pub mod svg;
pub mod units;
pub mod verify;

pub use cli::{Common, UsageError};
pub use document::Document;
pub use machine::Machine;
pub use parts::Catalog;
pub use probe::{Probe, Sample, Spread};
pub use python::PythonScript;
pub use report::{Failure, Kind, Lang, Report, Row, RunSummary, Throughput, Workload};
pub use suite::{Outcome, Suite};
pub use svg::{Bar, BarChart, Figure, LineChart, Series, Span, Timeline, Tone};
pub use verify::{Fingerprint, Verify};
