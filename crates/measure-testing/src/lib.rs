//! Helpers for the examples' integration tests: run the real binary the way a reader runs it,
//! read its `--json`, check that bad arguments exit 2 and that `--help` names every flag.
//!
//! Test support, not example code: every helper panics with a readable message (the
//! program's stderr, the arguments) when what it checks does not hold.
//!
//! ```no_run
//! use measure_testing::{self as testing, Bin};
//! const FOR_LOOP: Bin = Bin::new("target/release/for-loop"); // env!("CARGO_BIN_EXE_for-loop")
//! let report = FOR_LOOP.json(&["--quick", "--json", "--no-python"]);
//! for row in testing::rows(&report) {
//!     assert_eq!(row["verified"], true, "{row}");
//! }
//! FOR_LOOP.assert_stdout_mentions(&["--list"], &["for-loop + push"]);
//! FOR_LOOP.assert_usage_error_line(&["--approach", "while-loop"], "error: unknown approach");
//! FOR_LOOP.assert_usage_errors(&[&["--runs", "0"], &["--bogus"]]);
//! FOR_LOOP.assert_example_help(&["--n"]); // and every flag of `Common`
//! ```

use clap::Args;
use measure::Common;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// One example binary, by path (`env!("CARGO_BIN_EXE_name")` in an integration test).
#[derive(Clone, Copy, Debug)]
pub struct Bin {
    path: &'static str,
}

impl Bin {
    /// The binary at `path`; `const`, so a test file can hold it in a `const`.
    pub const fn new(path: &'static str) -> Self {
        Self { path }
    }

    /// Runs the binary with `args` and returns what it did (exit status, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(self.path)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.path))
    }

    /// Runs the binary, asserts it exited 0 and returns its stdout as text.
    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_success(&out);
        text(out.stdout)
    }

    /// Runs the binary with `args` and `--out dir`, asserts it exited 0 and that
    /// `dir/output.txt` is exactly what it printed, with no colour codes (a terminal-less
    /// run); returns that text.
    pub fn out(&self, args: &[&str], dir: &Path) -> String {
        let dir_arg = dir
            .to_str()
            .unwrap_or_else(|| panic!("{} is not UTF-8", dir.display()));
        let mut all = args.to_vec();
        all.extend(["--out", dir_arg]);
        let stdout = self.stdout(&all);
        assert_eq!(
            read(dir.join("output.txt")),
            stdout,
            "output.txt is what a terminal-less run prints"
        );
        assert!(!stdout.contains('\x1b'), "colour codes in:\n{stdout}");
        stdout
    }

    /// Runs the binary with `args` (which include `--json`), asserts it exited 0 and returns
    /// the one JSON document it printed.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert_success(&out);
        json_of(&out)
    }

    /// Like [`Bin::json`], for runs that may fail: the JSON document and the exit code (`None`
    /// if a signal ended the program).
    pub fn json_with_code(&self, args: &[&str]) -> (Value, Option<i32>) {
        let out = self.run(args);
        (json_of(&out), out.status.code())
    }

    /// Runs the binary, asserts it exited 2 (bad arguments) and returns its stderr.
    pub fn usage_error(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = text(out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        stderr
    }

    /// Asserts `args` exit 2 with exactly one line on stderr, starting with `starts_with`.
    pub fn assert_usage_error_line(&self, args: &[&str], starts_with: &str) {
        let stderr = self.usage_error(args);
        assert!(stderr.starts_with(starts_with), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }

    /// Asserts each list of arguments exits 2 and prints nothing on stdout (nothing ran).
    pub fn assert_usage_errors(&self, cases: &[&[&str]]) {
        for args in cases {
            let out = self.run(args);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
        }
    }

    /// Asserts `args` exit 0 and print every one of `words` (`--list` names every row);
    /// returns what they printed, for further checks.
    pub fn assert_stdout_mentions(&self, args: &[&str], words: &[&str]) -> String {
        let text = self.stdout(args);
        assert_mentions(&text, words);
        text
    }

    /// Asserts `--help` exits 0 and mentions every one of `words` (flags, parts); returns the
    /// help text for further checks.
    pub fn assert_help_mentions(&self, words: &[&str]) -> String {
        self.assert_stdout_mentions(&["--help"], words)
    }

    /// For an example built on [`Common`]: asserts `--help` exits 0 and mentions every flag
    /// of [`Common`] (see [`common_flags`]) and every one of `own` (its own flags and parts);
    /// returns the help text.
    pub fn assert_example_help(&self, own: &[&str]) -> String {
        let common = common_flags();
        let mut words: Vec<&str> = own.to_vec();
        words.extend(common.iter().map(String::as_str));
        self.assert_help_mentions(&words)
    }
}

/// Asserts the program exited 0, with its stderr in the message if not.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts `text` contains every one of `words`, with the text in the message.
pub fn assert_mentions(text: &str, words: &[&str]) {
    for word in words {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}

/// The long flags every example shares, those of [`Common`] (`--quick`, `--runs`, `--json`,
/// …), read from its clap definition so that a flag added there is checked everywhere.
pub fn common_flags() -> Vec<String> {
    Common::augment_args(clap::Command::new("example"))
        .get_arguments()
        .filter_map(clap::Arg::get_long)
        .map(|long| format!("--{long}"))
        .collect()
}

/// The one JSON document a `--json` run printed on stdout (and nothing else).
pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--json prints one JSON document and nothing else ({e}):\n{}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The rows (`"results"`) of one report.
pub fn rows(report: &Value) -> &[Value] {
    report["results"]
        .as_array()
        .unwrap_or_else(|| panic!("a report has results: {report}"))
}

/// The names of a report's rows (`"approach"`), in order.
pub fn approaches(report: &Value) -> Vec<&str> {
    rows(report)
        .iter()
        .map(|r| {
            r["approach"]
                .as_str()
                .unwrap_or_else(|| panic!("a row names its approach: {r}"))
        })
        .collect()
}

/// Asserts a row either ran and was verified, or was skipped for a reason a reader can act
/// on (the interpreter or a package not found / not installed). True if it ran.
/// Under `CI=true` (see [`measure::python::in_ci`]) every row asked for must run: a skip fails.
pub fn assert_verified_or_skipped(row: &Value) -> bool {
    if let Some(why) = row["skipped"].as_str() {
        assert!(
            !measure::python::skip_fails_in_ci(why),
            "CI=true: every row must run, this one was skipped: {row}"
        );
        assert!(
            why.contains("not found") || why.contains("not installed"),
            "{why}"
        );
        false
    } else {
        assert_eq!(row["verified"], true, "{row}");
        true
    }
}

/// A file the program wrote, as text.
pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A JSON file the program wrote (`report.json`).
pub fn read_json(path: impl AsRef<Path>) -> Value {
    let path = path.as_ref();
    serde_json::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Text the program printed (stdout or stderr), which must be UTF-8.
pub fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn common_flags_are_read_from_clap() {
        let flags = super::common_flags();
        for flag in [
            "--quick",
            "--runs",
            "--json",
            "--out",
            "--approach",
            "--list",
            "--no-python",
        ] {
            assert!(flags.iter().any(|f| f == flag), "{flag} not in {flags:?}");
        }
    }
}
