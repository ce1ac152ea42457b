//! The flags every example shares; flatten them into an example's clap parser:
//!
//! ```
//! #[derive(clap::Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     common: measure::Common,
//!     /// How many numbers.
//!     #[arg(long)]
//!     n: Option<u64>,
//! }
//! ```

use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct Common {
    /// Small inputs that finish in a few seconds: the live-demo and book-build mode.
    #[arg(long)]
    pub quick: bool,

    /// Timed runs per approach; one warm-up run before them is never counted.
    /// [default: 5, or 3 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: Option<u32>,

    /// Print the report as one JSON document on stdout and nothing else there.
    #[arg(long)]
    pub json: bool,

    /// Also write report.json, output.txt (the plain table) and the SVG figures into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Run only the named approach (repeatable; the baseline always runs). `--list` names them.
    #[arg(long = "approach", value_name = "NAME")]
    pub approaches: Vec<String>,

    /// List the approaches this example can run, then exit.
    #[arg(long)]
    pub list: bool,

    /// Skip the Python rows even when Python is available.
    #[arg(long)]
    pub no_python: bool,
}

impl Common {
    /// Timed runs per approach.
    pub fn runs(&self) -> u32 {
        self.runs.unwrap_or(if self.quick { 3 } else { 5 })
    }

    /// Every `--approach` must name one of `rows` (slugs, see [`slug`]); else the one-line
    /// usage error that lists them.
    pub fn check_approaches(&self, rows: &[String]) -> Result<(), UsageError> {
        let mut known: Vec<&str> = Vec::new();
        for r in rows {
            if !known.contains(&r.as_str()) {
                known.push(r);
            }
        }
        match self
            .approaches
            .iter()
            .find(|a| !known.contains(&slug(a).as_str()))
        {
            Some(asked) => Err(UsageError(format!(
                "unknown approach '{asked}'; `--list` names them: {}",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// For one suite of a program that runs several: `None` when `--approach` names none of
    /// its `rows` (the suite does not run), else these flags with only the names it knows.
    pub fn for_rows(&self, rows: &[String]) -> Option<Common> {
        if self.approaches.is_empty() {
            return Some(self.clone());
        }
        let mine: Vec<String> = self
            .approaches
            .iter()
            .filter(|a| rows.contains(&slug(a)))
            .cloned()
            .collect();
        (!mine.is_empty()).then(|| Common {
            approaches: mine,
            ..self.clone()
        })
    }

    /// Progress bars only for a person watching a terminal, never with `--json`.
    pub fn show_progress(&self) -> bool {
        !self.json && std::io::stderr().is_terminal()
    }
}

/// A bad argument the parser could not catch (an unknown approach, a bad combination):
/// print it as one line and exit with code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A name as typed on the command line: lower case, words joined by `-`.
/// `"iter().map().collect()"` and `"iter map collect"` both become `iter-map-collect`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        common: Common,
    }

    #[test]
    fn slugs_match_what_people_type() {
        assert_eq!(slug("iter().map().collect()"), "iter-map-collect");
        assert_eq!(slug("Python for-loop"), "python-for-loop");
        assert_eq!(slug("Vec::with_capacity + push"), "vec-with-capacity-push");
    }

    #[test]
    fn approaches_are_routed_to_the_suites_that_have_them() {
        let cli =
            Cli::try_parse_from(["x", "--approach", "Rayon par_iter", "--approach", "b"]).unwrap();
        let rows = |names: &[&str]| names.iter().map(|n| slug(n)).collect::<Vec<_>>();
        let first = cli
            .common
            .for_rows(&rows(&["rayon par_iter", "c"]))
            .unwrap();
        assert_eq!(first.approaches, ["Rayon par_iter"]);
        assert!(cli.common.for_rows(&rows(&["c"])).is_none());
        assert!(
            cli.common
                .check_approaches(&rows(&["rayon par_iter", "b"]))
                .is_ok()
        );
        let err = cli
            .common
            .check_approaches(&rows(&["rayon par_iter", "c", "c"]))
            .unwrap_err();
        assert_eq!(
            err.0,
            "unknown approach 'b'; `--list` names them: rayon-par-iter, c"
        );
    }

    #[test]
    fn runs_default_and_range() {
        let cli = Cli::try_parse_from(["x", "--quick"]).unwrap();
        assert_eq!(cli.common.runs(), 3);
        let cli = Cli::try_parse_from(["x", "--runs", "7", "--approach", "a", "--approach", "b"])
            .unwrap();
        assert_eq!(cli.common.runs(), 7);
        assert_eq!(cli.common.approaches, ["a", "b"]);
        assert!(Cli::try_parse_from(["x", "--runs", "0"]).is_err());
    }
}
