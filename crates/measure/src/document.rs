//! A program made of several parts (several suites, lines printed by worker threads) as one
//! output: text printed as it happens (headings, lines, tables), one JSON document with
//! `--json`, and with `--out DIR` the files the book includes: `report.json`, `output.txt`
//! (everything printed, no colour), one `PART.txt` per part, and every figure as `NAME.svg`.
//! Each report in the JSON names the part it was reported in (`"part": KEY`).
//! A single-suite example needs none of this: [`crate::Suite::main`] does it all.

use crate::{Common, Figure, Machine, Report};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};

/// Everything the parts say, printed live on stdout (not with `--json`) and kept for `--out`.
/// Safe to share between worker threads: each line is printed and recorded under one lock, so
/// the file has the lines in the order the terminal showed them.
#[derive(Debug)]
pub struct Document {
    example: String,
    echo: bool,
    color: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The text of each part so far: (part key, text).
    parts: Vec<(String, String)>,
    /// Each suite's report, with the key of the part it was reported in.
    reports: Vec<(String, Report)>,
    figures: Vec<Figure>,
    extra: serde_json::Map<String, Value>,
    /// Some input failed or some result did not verify.
    failed: bool,
    /// Lines for stderr at the end (verification errors).
    errors: Vec<String>,
}

impl Document {
    pub fn new(example: &str, common: &Common) -> Document {
        Document {
            example: example.to_string(),
            echo: !common.json,
            color: !common.json && std::io::stdout().is_terminal(),
            state: Mutex::new(State::default()),
        }
    }

    /// Output that prints nothing (for tests and `--list`).
    pub fn silent(example: &str) -> Document {
        Document {
            example: example.to_string(),
            echo: false,
            color: false,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a part: a heading underlined, then its lines. With an empty heading nothing is
    /// printed: `key` only names the part's `KEY.txt` and tags its reports.
    pub fn part(&self, key: &str, heading: &str) {
        let mut state = self.state();
        let mut text = String::new();
        if !heading.is_empty() {
            if !state.parts.is_empty() {
                text.push('\n');
            }
            text.push_str(heading);
            text.push('\n');
            text.push_str(&"═".repeat(heading.chars().count()));
            text.push('\n');
        }
        self.emit(&text);
        state.parts.push((key.to_string(), text));
    }

    /// One line of the current part (from any thread).
    pub fn line(&self, line: impl AsRef<str>) {
        let mut state = self.state();
        let line = format!("{}\n", line.as_ref());
        self.emit(&line);
        match state.parts.last_mut() {
            Some((_, text)) => text.push_str(&line),
            None => state.parts.push((String::new(), line)),
        }
    }

    /// A suite's table (coloured on a terminal; after a blank line unless it is the first
    /// thing printed) and its report for the JSON.
    pub fn report(&self, report: Report) {
        let plain = report.table(false);
        let shown = if self.color {
            report.table(true)
        } else {
            plain.clone()
        };
        let mut state = self.state();
        let gap = if state.parts.iter().all(|(_, t)| t.is_empty()) {
            ""
        } else {
            "\n"
        };
        self.emit(&format!("{gap}{shown}"));
        let text = format!("{gap}{plain}");
        match state.parts.last_mut() {
            Some((_, t)) => t.push_str(&text),
            None => state.parts.push((String::new(), text)),
        }
        if report.exit_code() != 0 {
            state.failed = true;
        }
        let key = state
            .parts
            .last()
            .map(|(k, _)| k.clone())
            .unwrap_or_default();
        for row in &report.results {
            if let Some(e) = &row.verify_error {
                let part = if key.is_empty() {
                    String::new()
                } else {
                    format!("{key}: ")
                };
                state
                    .errors
                    .push(format!("error: {part}{}: {e}", row.approach));
            }
        }
        state.reports.push((key, report));
    }

    pub fn figure(&self, figure: Figure) {
        self.state().figures.push(figure);
    }

    /// A suite's figures (`Outcome::figures`), each renamed `PREFIX-NAME`, so that two suites'
    /// `time.svg` do not overwrite each other.
    pub fn figures(&self, prefix: &str, figures: Vec<Figure>) {
        for mut f in figures {
            f.name = format!("{prefix}-{}", f.name);
            self.figure(f);
        }
    }

    /// A part's record that is not a suite's report (`as_completed`), under `key` in the JSON.
    pub fn record(&self, key: &str, value: Value) {
        self.state().extra.insert(key.to_string(), value);
    }

    /// Some input failed: the exit code will be 1.
    pub fn fail(&self) {
        self.state().failed = true;
    }

    /// Prints on stdout now (the caller holds the state's lock, so lines never interleave).
    fn emit(&self, shown: &str) {
        if self.echo {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(shown.as_bytes());
            let _ = out.flush();
        }
    }

    /// Everything printed so far, without colour: `output.txt`.
    pub fn text(&self) -> String {
        let state = self.state();
        state.parts.iter().map(|(_, t)| t.as_str()).collect()
    }

    /// The JSON document: `{"example": NAME, "machine", "parts": [report...], ...}`; each
    /// report also has `"part": KEY` when it was reported in a part with a key.
    pub fn json(&self) -> Value {
        let state = self.state();
        let reports: Vec<Value> = state
            .reports
            .iter()
            .map(|(key, report)| {
                let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
                if let Some(object) = value.as_object_mut()
                    && !key.is_empty()
                {
                    object.insert("part".into(), json!(key));
                }
                value
            })
            .collect();
        let mut doc = serde_json::Map::new();
        doc.insert("example".into(), json!(self.example));
        // The machine, with the Python a part's rows ran with, if any did.
        let machine = Machine {
            python: state
                .reports
                .iter()
                .find_map(|(_, r)| r.machine.python.clone()),
            ..Machine::detect()
        };
        doc.insert(
            "machine".into(),
            serde_json::to_value(machine).unwrap_or(Value::Null),
        );
        doc.insert("parts".into(), Value::Array(reports));
        for (k, v) in &state.extra {
            doc.insert(k.clone(), v.clone());
        }
        doc.insert("exit_code".into(), json!(if state.failed { 1 } else { 0 }));
        Value::Object(doc)
    }

    /// Writes `report.json`, `output.txt`, `PART.txt` per part and the figures into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(&self.json()).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        std::fs::write(dir.join("output.txt"), self.text())?;
        let state = self.state();
        for (key, text) in &state.parts {
            if !key.is_empty() {
                let text = text.trim_start_matches('\n');
                std::fs::write(dir.join(format!("{key}.txt")), text)?;
            }
        }
        for f in &state.figures {
            std::fs::write(dir.join(format!("{}.svg", f.name)), &f.svg)?;
        }
        Ok(())
    }

    /// The end of the program: the JSON document with `--json`, the files of `--out`, the
    /// verification errors on stderr; exit code 0, or 1 when an input failed or a result
    /// did not verify.
    pub fn finish(&self, common: &Common) -> ExitCode {
        if common.json {
            match serde_json::to_string_pretty(&self.json()) {
                Ok(json) => println!("{json}"),
                Err(e) => {
                    eprintln!("error: cannot encode the report: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        if let Some(dir) = &common.out
            && let Err(e) = self.write(dir)
        {
            eprintln!("error: cannot write the report into {}: {e}", dir.display());
            return ExitCode::from(1);
        }
        let state = self.state();
        for e in &state.errors {
            eprintln!("{e}");
        }
        ExitCode::from(if state.failed { 1 } else { 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Suite, Workload};

    fn report() -> Report {
        let common = Common {
            runs: Some(1),
            no_python: true,
            ..Common::default()
        };
        let mut suite = Suite::new("t", Workload::new("sum", 10, "numbers"), &common);
        suite.baseline("sum", || (0..10u64).sum::<u64>());
        match suite.run() {
            Ok(outcome) => outcome.report,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn headed_parts_are_underlined_and_tables_follow_a_blank_line() {
        let doc = Document::silent("t");
        doc.part("one", "One");
        doc.line("a line");
        doc.report(report());
        let text = doc.text();
        assert!(text.starts_with("One\n═══\na line\n\nt · sum"), "{text}");
        assert_eq!(doc.json()["parts"][0]["part"], "one");
    }

    #[test]
    fn parts_without_a_heading_print_only_their_tables() {
        let doc = Document::silent("t");
        doc.part("first", "");
        doc.report(report());
        doc.part("second", "");
        doc.report(report());
        let text = doc.text();
        assert!(
            text.starts_with("t · sum"),
            "no heading, no blank line first:\n{text}"
        );
        let table = report().table(false);
        assert_eq!(text.matches("t · sum").count(), 2);
        assert!(text.contains(&format!("\n\n{}", table.lines().next().unwrap_or(""))));
        let json = doc.json();
        let keys: Vec<&Value> = json["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| &p["part"])
            .collect();
        assert_eq!(keys, [&json!("first"), &json!("second")]);
        assert_eq!(
            json["parts"][0]["example"], "t",
            "the report's own fields stay"
        );
    }

    #[test]
    fn a_suites_figures_are_named_after_it() {
        let doc = Document::silent("t");
        let figure = |name: &str| Figure {
            name: name.into(),
            svg: "<svg/>".into(),
        };
        doc.figures("a", vec![figure("time")]);
        doc.figures("b", vec![figure("time")]);
        let dir = std::env::temp_dir().join(format!("measure-document-{}", std::process::id()));
        doc.write(&dir).unwrap();
        assert!(dir.join("a-time.svg").is_file() && dir.join("b-time.svg").is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
