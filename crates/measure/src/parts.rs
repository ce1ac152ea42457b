//! The plumbing of an example with several parts (`threads`: toaster, cpu, as-completed):
//! one place that knows every part's rows before anything runs.
//!
//! A multi-part example builds each part's suites on empty inputs (no file read, no pool
//! started) into a [`Catalog`]. The catalog answers `--list` for every chosen part, and
//! checks every `--approach` against all of them *before* the first part runs: a typo is
//! one line and exit 2, not a run that measures two parts and then fails. While running,
//! [`Common::for_suite`] gives each suite the flags meant for it, or `None` when `--approach`
//! named none of its rows (the part is skipped).
//!
//! ```
//! use measure::{Catalog, Common, Suite, Workload};
//! let common = Common::default();
//! let mut catalog = Catalog::new();
//! let mut first = Suite::new("demo first", Workload::new("w", 1, "items"), &common);
//! first.baseline("slow", || 1u64).approach("fast", || 1u64);
//! catalog.add("first", first);
//! assert!(catalog.listing().contains("fast"));
//! assert!(catalog.check(&common).is_ok());
//! ```

use crate::cli::{Common, UsageError, slug};
use crate::suite::Suite;

/// Every chosen part's suites, built on empty inputs, in the order the parts run.
#[derive(Default)]
pub struct Catalog<'a> {
    suites: Vec<(String, Suite<'a>)>,
}

impl<'a> Catalog<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a suite of `part` (a part may have several suites).
    pub fn add(&mut self, part: &str, suite: Suite<'a>) -> &mut Self {
        self.suites.push((part.to_string(), suite));
        self
    }

    /// The `--list` text: under `# PART`, every row of the part's suites (its slug, its name,
    /// what kind of row it is).
    pub fn listing(&self) -> String {
        let mut text = String::new();
        let mut last: Option<&str> = None;
        for (part, suite) in &self.suites {
            if last != Some(part.as_str()) {
                text.push_str(&format!("# {part}\n"));
                last = Some(part);
            }
            text.push_str(&suite.listing());
        }
        text
    }

    /// The rows' slugs of every suite, as `--approach` matches them.
    pub fn slugs(&self) -> Vec<String> {
        self.suites.iter().flat_map(|(_, s)| s.slugs()).collect()
    }

    /// Every `--approach` names a row of some suite here: else the usage error (exit 2).
    pub fn check(&self, common: &Common) -> Result<(), UsageError> {
        common.check_approaches(&self.slugs())
    }
}

impl Common {
    /// The flags for one suite of several: `None` when `--approach` names none of its rows
    /// (skip it), else these flags with only the names it knows.
    pub fn for_suite(&self, suite: &Suite) -> Option<Common> {
        self.for_rows(&suite.slugs())
    }

    /// Whether `--approach` would run the row `name` of some suite (all rows without it).
    pub fn wants(&self, name: &str) -> bool {
        self.approaches.is_empty() || self.approaches.iter().any(|a| slug(a) == slug(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Workload;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        common: Common,
    }

    fn common(args: &[&str]) -> Common {
        let mut argv = vec!["x"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().common
    }

    fn workload() -> Workload {
        Workload::new("w", 1, "items")
    }

    fn catalog(common: &Common) -> Catalog<'static> {
        let mut c = Catalog::new();
        let mut a = Suite::new("t a", workload(), common);
        a.baseline("one by one", || 1u64)
            .approach("all at once", || 1u64);
        let mut b = Suite::new("t b", workload(), common);
        b.baseline("plain", || 2u64).limit("the floor", || 2u64);
        let mut b2 = Suite::new("t b2", workload(), common);
        b2.baseline("plain again", || 3u64);
        c.add("first", a).add("second", b).add("second", b2);
        c
    }

    #[test]
    fn lists_every_part_once_with_its_rows() {
        let text = catalog(&Common::default()).listing();
        assert_eq!(text.matches("# first\n").count(), 1);
        assert_eq!(text.matches("# second\n").count(), 1);
        let at = |s: &str| text.find(s).unwrap();
        assert!(at("# first") < at("all-at-once") && at("all-at-once") < at("# second"));
        assert!(at("# second") < at("the-floor") && at("the-floor") < at("plain-again"));
        assert!(text.contains("the floor (limit)"), "{text}");
    }

    #[test]
    fn every_approach_is_checked_against_all_parts_before_any_runs() {
        let ok = common(&["--approach", "All at once", "--approach", "the-floor"]);
        let c = catalog(&ok);
        assert!(c.check(&ok).is_ok());
        let typo = common(&["--approach", "all at once", "--approach", "the flor"]);
        let err = catalog(&typo).check(&typo).unwrap_err();
        assert!(
            err.0.starts_with("unknown approach 'the flor'"),
            "{}",
            err.0
        );
        assert!(err.0.contains("plain-again"), "{}", err.0);
    }

    #[test]
    fn each_suite_gets_only_the_approaches_it_knows() {
        let asked = common(&["--approach", "all-at-once"]);
        let mut a = Suite::new("t a", workload(), &asked);
        a.baseline("one by one", || 1u64)
            .approach("all at once", || 1u64);
        let mut b = Suite::new("t b", workload(), &asked);
        b.baseline("plain", || 2u64);
        assert_eq!(asked.for_suite(&a).unwrap().approaches, ["all-at-once"]);
        assert!(asked.for_suite(&b).is_none(), "the part is skipped");
        assert!(asked.wants("All at once") && !asked.wants("plain"));
        let all = Common::default();
        assert!(all.for_suite(&b).is_some() && all.wants("plain"));
    }
}
