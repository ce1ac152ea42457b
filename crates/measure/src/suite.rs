//! A suite: the baseline, the approaches, the limit and the Python rows of one example,
//! run the same way and folded into one [`Report`].

use std::hint::black_box;
use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{Common, UsageError, slug};
use crate::machine::Machine;
use crate::probe::{Probe, Sample, Spread};
use crate::progress::Progress;
use crate::python::{self, PythonScript};
use crate::report::{Columns, Failure, Kind, Lang, Report, Row, RunSummary, Throughput, Workload};
use crate::svg::{self, Figure};
use crate::verify::{self, Fingerprint, Poison, Verify};

/// One run's time, its result's fingerprint (none for limits) and the inputs it lost.
struct RunResult {
    sample: Sample,
    fingerprint: Option<Fingerprint>,
    failures: Vec<Failure>,
}

type Body<'a> = Box<dyn FnMut() -> RunResult + 'a>;
type Compare<'a> = Box<dyn Fn(&Fingerprint, &Fingerprint) -> Result<(), String> + 'a>;
type Conclude<'a> = Box<dyn FnOnce(&Report) -> Vec<String> + 'a>;

struct Entry<'a> {
    name: String,
    kind: Kind,
    note: Option<String>,
    body: Body<'a>,
}

/// The approaches of one example. Register them, then [`Suite::main`] (or [`Suite::run`]).
pub struct Suite<'a> {
    example: String,
    workload: Workload,
    common: Common,
    entries: Vec<Entry<'a>>,
    python: Vec<PythonScript>,
    compare: Compare<'a>,
    /// Per-row checks ([`Suite::check_with`], [`Suite::check_row`]): row name, check, why.
    checks: Vec<(String, Compare<'a>, String)>,
    columns: Columns,
    accounted: Option<(RunSummary, Vec<Failure>)>,
    notes: Vec<String>,
    conclude: Option<Conclude<'a>>,
}

/// A finished run: the report and the figures drawn from it.
pub struct Outcome {
    pub report: Report,
    pub figures: Vec<Figure>,
}

impl<'a> Suite<'a> {
    pub fn new(example: &str, workload: Workload, common: &Common) -> Suite<'a> {
        Suite {
            example: example.to_string(),
            workload,
            common: common.clone(),
            entries: Vec::new(),
            python: Vec::new(),
            compare: Box::new(verify::exact),
            checks: Vec::new(),
            columns: Columns::default(),
            accounted: None,
            notes: Vec::new(),
            conclude: None,
        }
    }

    /// The approach every ratio is taken against and every result is checked against.
    pub fn baseline<T: Verify>(&mut self, name: &str, f: impl FnMut() -> T + 'a) -> &mut Self {
        self.entries.retain(|e| e.kind != Kind::Baseline);
        self.push(name, Kind::Baseline, verified(f))
    }

    /// An approach: timed like the baseline, its result checked against the baseline's.
    pub fn approach<T: Verify>(&mut self, name: &str, f: impl FnMut() -> T + 'a) -> &mut Self {
        self.push(name, Kind::Approach, verified(f))
    }

    /// An approach that works in place on `state` (a reused buffer): only `f` is timed, then
    /// `state` itself is checked against the baseline's result. Before every run (the warm-up
    /// and each timed one, outside the timer) `state` is poisoned (NaN, or a sentinel for
    /// integers: [`Poison`]), so each run is checked on what it wrote itself.
    pub fn approach_in<S: Verify + Poison + 'a>(
        &mut self,
        name: &str,
        mut state: S,
        mut f: impl FnMut(&mut S) + 'a,
    ) -> &mut Self {
        self.push(
            name,
            Kind::Approach,
            Box::new(move || {
                state.poison();
                black_box(&mut state);
                let probe = Probe::start();
                f(&mut state);
                black_box(&mut state);
                let sample = probe.stop();
                RunResult {
                    sample,
                    fingerprint: Some(state.fingerprint()),
                    failures: state.failures(),
                }
            }),
        )
    }

    /// A limit: the cost of the unavoidable part (a plain fill of the same bytes, one network
    /// round trip...). Timed, never verified: it computes something else on purpose.
    pub fn limit<T>(&mut self, name: &str, mut f: impl FnMut() -> T + 'a) -> &mut Self {
        self.push(
            name,
            Kind::Limit,
            Box::new(move || {
                let probe = Probe::start();
                let out = black_box(f());
                let sample = probe.stop();
                drop(out);
                RunResult {
                    sample,
                    fingerprint: None,
                    failures: Vec::new(),
                }
            }),
        )
    }

    /// One line on what the last registered row measures.
    pub fn note(&mut self, note: &str) -> &mut Self {
        if let Some(e) = self.entries.last_mut() {
            e.note = Some(note.to_string());
        }
        self
    }

    /// A line printed under the table.
    pub fn footnote(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(note.into());
        self
    }

    /// Lines drawn from the finished report (the lesson in this run's own numbers), printed
    /// under the table.
    pub fn conclude(&mut self, f: impl FnOnce(&Report) -> Vec<String> + 'a) -> &mut Self {
        self.conclude = Some(Box::new(f));
        self
    }

    /// Rows from a script of `scripts/python/`, run on the same inputs.
    pub fn python(&mut self, script: PythonScript) -> &mut Self {
        self.python.push(script);
        self
    }

    /// Replace exact fingerprint equality, e.g. by [`verify::within`] for floating-point
    /// results whose summation order differs between approaches.
    pub fn compare_with(
        &mut self,
        compare: impl Fn(&Fingerprint, &Fingerprint) -> Result<(), String> + 'a,
    ) -> &mut Self {
        self.compare = Box::new(compare);
        self
    }

    /// The check of the last registered row, instead of the suite's ([`Suite::compare_with`]),
    /// and `why` it is the right one (a tolerance and how it is derived). `why` lands in the
    /// row's `tolerance` in the report.
    pub fn check_with(
        &mut self,
        compare: impl Fn(&Fingerprint, &Fingerprint) -> Result<(), String> + 'a,
        why: impl Into<String>,
    ) -> &mut Self {
        if let Some(name) = self.entries.last().map(|e| e.name.clone()) {
            self.check_row(&name, compare, why);
        }
        self
    }

    /// The check of the row named `row` (a Rust row, or a Python one: `Python NAME`), instead
    /// of the suite's, and `why` (see [`Suite::check_with`]).
    pub fn check_row(
        &mut self,
        row: &str,
        compare: impl Fn(&Fingerprint, &Fingerprint) -> Result<(), String> + 'a,
        why: impl Into<String>,
    ) -> &mut Self {
        self.checks.retain(|(n, _, _)| n != row);
        self.checks
            .push((row.to_string(), Box::new(compare), why.into()));
        self
    }

    pub fn show_cpu(&mut self) -> &mut Self {
        self.columns.cpu = true;
        self
    }

    pub fn show_page_faults(&mut self) -> &mut Self {
        self.columns.faults = true;
        self
    }

    /// Record what happened to the inputs (for examples whose inputs can fail).
    pub fn account(&mut self, total: u64, failures: Vec<Failure>) -> &mut Self {
        let failed = failures.len() as u64;
        let summary = RunSummary {
            total,
            done: total.saturating_sub(failed),
            failed,
        };
        self.accounted = Some((summary, failures));
        self
    }

    /// Every row this suite can produce: (name, kind, lang).
    pub fn names(&self) -> Vec<(String, Kind, Lang)> {
        let mut names: Vec<_> = self
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.kind, Lang::Rust))
            .collect();
        for s in &self.python {
            for a in &s.approaches {
                names.push((PythonScript::row_name(a), Kind::Approach, Lang::Python));
            }
        }
        names
    }

    /// The `--list` text.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for (name, kind, lang) in self.names() {
            let what = match (kind, lang) {
                (Kind::Baseline, _) => "baseline, always runs",
                (Kind::Limit, _) => "limit",
                (_, Lang::Python) => "python",
                (_, Lang::Rust) => "rust",
            };
            out.push_str(&format!("{:<36} {name} ({what})\n", slug(&name)));
        }
        out
    }

    /// The whole program after argument parsing: `--list`, run, print, write `--out`, exit code.
    pub fn main(self) -> ExitCode {
        if self.common.list {
            print!("{}", self.listing());
            return ExitCode::SUCCESS;
        }
        let common = self.common.clone();
        match self.run() {
            Ok(outcome) => outcome.finish(&common),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    }

    /// Runs the selected rows and returns the report (no printing on stdout).
    pub fn run(mut self) -> Result<Outcome, UsageError> {
        let selected = self.selection()?;
        let wanted = |name: &str, kind: Kind| {
            kind == Kind::Baseline
                || selected
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|x| x == &slug(name)))
        };
        let Some(baseline_name) = self
            .entries
            .iter()
            .find(|e| e.kind == Kind::Baseline)
            .map(|e| e.name.clone())
        else {
            return Err(UsageError(format!(
                "{}: no baseline registered",
                self.example
            )));
        };
        let runs = self.common.runs();
        let progress = self.common.show_progress();
        let unit = format!("{}/s", self.workload.unit);
        let items = self.workload.items as f64;

        // The baseline first: its result is the reference, its median the denominator.
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by_key(|&i| self.entries[i].kind != Kind::Baseline);
        let mut reference: Option<Fingerprint> = None;
        // The inputs the baseline lost: bad inputs, not an approach's fault.
        let mut baseline_lost: Vec<Failure> = Vec::new();
        let mut rows: Vec<(usize, Row)> = Vec::new();
        for index in order {
            let entry = &mut self.entries[index];
            if !wanted(&entry.name, entry.kind) {
                continue;
            }
            let check = self.checks.iter().find(|(n, _, _)| *n == entry.name);
            let compare = check.map_or(&self.compare, |(_, c, _)| c);
            let bar = Progress::bar(progress, runs as u64 + 1, &entry.name);
            bar.message("warm-up");
            let mut samples = Vec::with_capacity(runs as usize);
            let mut verdict: Result<(), String> = Ok(());
            let mut failures: Vec<Failure> = Vec::new();
            for run in 0..=runs {
                let result = (entry.body)();
                if let Some(fp) = result.fingerprint {
                    match &reference {
                        None => reference = Some(fp),
                        Some(reference) if verdict.is_ok() => {
                            verdict = compare(reference, &fp).map_err(|e| match run {
                                0 => format!("warm-up: {e}"),
                                _ => format!("run {run}: {e}"),
                            });
                        }
                        Some(_) => {}
                    }
                }
                merge_failures(&mut failures, result.failures);
                if run > 0 {
                    samples.push(result.sample);
                }
                bar.inc();
                bar.message(format!("run {}/{runs}", run + 1));
            }
            bar.finish();
            if entry.kind == Kind::Baseline {
                baseline_lost = failures.clone();
            } else if entry.kind == Kind::Approach {
                let lost = failures
                    .iter()
                    .filter(|f| !baseline_lost.iter().any(|b| b.input == f.input))
                    .count();
                if lost > 0 {
                    let first = failures
                        .iter()
                        .find(|f| !baseline_lost.iter().any(|b| b.input == f.input))
                        .map(|f| format!("{}: {}", f.input, f.error))
                        .unwrap_or_default();
                    let what = format!(
                        "lost {lost} input{} that the baseline processed (first: {first})",
                        if lost == 1 { "" } else { "s" }
                    );
                    verdict = match verdict {
                        Ok(()) => Err(what),
                        Err(e) => Err(format!("{what}; {e}")),
                    };
                }
            }
            let mut row = row_from_samples(&entry.name, Lang::Rust, entry.kind, &samples);
            row.note = entry.note.clone();
            row.tolerance = check.map(|(_, _, why)| why.clone());
            row.verified = match entry.kind {
                Kind::Limit => None,
                _ => Some(verdict.is_ok()),
            };
            row.verify_error = verdict.err();
            row.failures = failures;
            rows.push((index, row));
        }
        // Restore registration order for the table.
        rows.sort_by_key(|(i, _)| *i);
        let mut results: Vec<Row> = rows.into_iter().map(|(_, r)| r).collect();
        results.sort_by_key(|r| r.kind == Kind::Limit);

        // The interpreter and packages, for the machine header, when a Python row ran.
        let mut python_versions = None;
        for script in &self.python {
            let chosen: Vec<String> = script
                .approaches
                .iter()
                .filter(|a| wanted(&PythonScript::row_name(a), Kind::Approach))
                .cloned()
                .collect();
            if chosen.is_empty() {
                continue;
            }
            let python_rows = if self.common.no_python {
                chosen
                    .iter()
                    .map(|a| python::PythonRow {
                        approach: a.clone(),
                        times_s: Vec::new(),
                        fingerprint: None,
                        fingerprints: Vec::new(),
                        skipped: Some("--no-python".into()),
                    })
                    .collect()
            } else {
                let spin = Progress::spinner(progress, &format!("Python {}", script.script));
                let rows = python::run(script, &chosen, runs);
                spin.finish();
                if rows.iter().any(|r| r.skipped.is_none()) {
                    python_versions = python::versions();
                }
                rows
            };
            for pr in python_rows {
                let name = PythonScript::row_name(&pr.approach);
                if let Some(why) = pr.skipped {
                    let mut row = Row::skipped(&name, Lang::Python, Kind::Approach, why);
                    python::fail_skip_in_ci(&mut row);
                    results.push(row);
                    continue;
                }
                let samples: Vec<Sample> = pr
                    .times_s
                    .iter()
                    .map(|&t| Sample {
                        wall_s: t,
                        cpu_s: f64::NAN,
                        minor_faults: 0,
                    })
                    .collect();
                let mut row = row_from_samples(&name, Lang::Python, Kind::Approach, &samples);
                row.cpu_s = None;
                row.minor_faults = None;
                let check = self.checks.iter().find(|(n, _, _)| *n == name);
                let compare = check.map_or(&self.compare, |(_, c, _)| c);
                row.tolerance = check.map(|(_, _, why)| why.clone());
                let verdict = verify_python(
                    reference.as_ref(),
                    pr.fingerprint.as_ref(),
                    &pr.fingerprints,
                    pr.times_s.len(),
                    compare,
                );
                row.verified = Some(verdict.is_ok());
                row.verify_error = verdict.err();
                results.push(row);
            }
        }

        // Throughput and ratios from the same run.
        let base_median = results
            .iter()
            .find(|r| r.kind == Kind::Baseline)
            .and_then(|r| r.median_s);
        for row in &mut results {
            if let Some(m) = row.median_s.filter(|m| *m > 0.0) {
                row.throughput = Some(Throughput {
                    value: items / m,
                    unit: unit.clone(),
                });
                row.speedup_vs_baseline = base_median.map(|b| b / m);
            }
        }

        let (summary, failures) = self.accounted.take().unwrap_or((
            RunSummary {
                total: self.workload.items,
                done: self.workload.items,
                failed: 0,
            },
            Vec::new(),
        ));
        // The summary accounts for every row: an input lost by any approach counts once.
        if selected.is_some() {
            self.notes.push(format!("only the approaches named with --approach ran, and the baseline \"{baseline_name}\""));
        }
        let mut report = Report {
            example: self.example,
            machine: Machine {
                python: python_versions,
                ..Machine::detect()
            },
            workload: self.workload,
            baseline: baseline_name,
            runs,
            results,
            summary,
            failures,
            notes: self.notes,
            columns: self.columns,
        };
        report.recount();
        if let Some(conclude) = self.conclude.take() {
            let lines = conclude(&report);
            report.notes.extend(lines);
        }
        let figures = vec![svg::approaches_chart(&report)];
        Ok(Outcome { report, figures })
    }

    /// `None`: everything; `Some(slugs)`: only these (validated).
    fn selection(&self) -> Result<Option<Vec<String>>, UsageError> {
        if self.common.approaches.is_empty() {
            return Ok(None);
        }
        self.common.check_approaches(&self.slugs())?;
        Ok(Some(
            self.common.approaches.iter().map(|a| slug(a)).collect(),
        ))
    }

    /// The names of every row as `--approach` matches them.
    pub fn slugs(&self) -> Vec<String> {
        self.names().iter().map(|(n, _, _)| slug(n)).collect()
    }

    fn push(&mut self, name: &str, kind: Kind, body: Body<'a>) -> &mut Self {
        debug_assert!(
            self.entries.iter().all(|e| slug(&e.name) != slug(name)),
            "two approaches named {name}"
        );
        self.entries.push(Entry {
            name: name.to_string(),
            kind,
            note: None,
            body,
        });
        self
    }
}

/// Adds `more` to `into`, one failure per input (the first error seen).
fn merge_failures(into: &mut Vec<Failure>, more: Vec<Failure>) {
    for f in more {
        if !into.iter().any(|g| g.input == f.input) {
            into.push(f);
        }
    }
}

/// A Python row's verdict: the warm-up's fingerprint (if the script sent one) and one per
/// timed run, each checked against the baseline's, as the Rust rows are.
fn verify_python(
    reference: Option<&Fingerprint>,
    warm_up: Option<&Fingerprint>,
    timed: &[Fingerprint],
    runs: usize,
    compare: &Compare<'_>,
) -> Result<(), String> {
    let Some(reference) = reference else {
        return Err("no baseline result to compare with".into());
    };
    if timed.len() != runs {
        return Err(format!(
            "the script reported {} fingerprint(s) for {runs} timed run(s)",
            timed.len()
        ));
    }
    if let Some(fp) = warm_up {
        compare(reference, fp).map_err(|e| format!("warm-up: {e}"))?;
    }
    for (run, fp) in timed.iter().enumerate() {
        compare(reference, fp).map_err(|e| format!("run {}: {e}", run + 1))?;
    }
    Ok(())
}

fn verified<'a, T: Verify>(mut f: impl FnMut() -> T + 'a) -> Body<'a> {
    Box::new(move || {
        let probe = Probe::start();
        let out = black_box(f());
        let sample = probe.stop();
        // Checking and freeing happen outside the timed region.
        let fingerprint = out.fingerprint();
        let failures = out.failures();
        drop(out);
        RunResult {
            sample,
            fingerprint: Some(fingerprint),
            failures,
        }
    })
}

fn row_from_samples(name: &str, lang: Lang, kind: Kind, samples: &[Sample]) -> Row {
    let wall: Vec<f64> = samples.iter().map(|s| s.wall_s).collect();
    let cpu: Vec<f64> = samples.iter().map(|s| s.cpu_s).collect();
    let faults: Vec<f64> = samples.iter().map(|s| s.minor_faults as f64).collect();
    let Some(w) = Spread::of(&wall) else {
        return Row::skipped(name, lang, kind, "no timed runs");
    };
    let mut row = Row::skipped(name, lang, kind, "");
    row.skipped = None;
    row.runs = samples.len() as u32;
    row.median_s = Some(w.median);
    row.min_s = Some(w.min);
    row.max_s = Some(w.max);
    row.cpu_s = Spread::of(&cpu).map(|s| s.median);
    row.minor_faults = Spread::of(&faults).map(|s| s.median.round() as u64);
    row
}

impl Outcome {
    /// Prints the report (table, or JSON with `--json`), writes `--out`, returns the exit code.
    pub fn finish(self, common: &Common) -> ExitCode {
        if common.json {
            match serde_json::to_string_pretty(&self.report) {
                Ok(json) => println!("{json}"),
                Err(e) => {
                    eprintln!("error: cannot encode the report: {e}");
                    return ExitCode::from(1);
                }
            }
        } else {
            print!("{}", self.report.table(std::io::stdout().is_terminal()));
        }
        if let Some(dir) = &common.out
            && let Err(e) = self.write(dir)
        {
            eprintln!("error: cannot write the report into {}: {e}", dir.display());
            return ExitCode::from(1);
        }
        for row in &self.report.results {
            if let Some(e) = &row.verify_error {
                eprintln!("error: {}: {e}", row.approach);
            }
        }
        ExitCode::from(self.report.exit_code())
    }

    /// `report.json`, `output.txt` (the table without colour) and one SVG per figure.
    pub fn write(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(&self.report).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        std::fs::write(dir.join("output.txt"), self.report.table(false))?;
        for f in &self.figures {
            std::fs::write(dir.join(format!("{}.svg", f.name)), &f.svg)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common(args: &[&str]) -> Common {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            common: Common,
        }
        let mut argv = vec!["test"];
        argv.extend_from_slice(args);
        Cli::parse_from(argv).common
    }

    fn squares(n: u64) -> Vec<u64> {
        (0..n).map(|i| i * i).collect()
    }

    #[test]
    fn verifies_every_approach_and_takes_ratios_from_the_same_run() {
        let c = common(&["--runs", "2", "--no-python"]);
        let mut calls = 0;
        let mut suite = Suite::new("t", Workload::new("squares", 1000, "numbers"), &c);
        suite.baseline("base", || squares(1000));
        suite.approach("good", || {
            calls += 1;
            squares(1000)
        });
        suite.approach("wrong order", || {
            let mut v = squares(1000);
            v.reverse();
            v
        });
        suite.approach_in("in place", vec![0u64; 1000], |b| {
            for (i, x) in b.iter_mut().enumerate() {
                *x = (i * i) as u64;
            }
        });
        suite.limit("fill", || vec![1u64; 1000]);
        let report = suite.run().unwrap().report;
        assert_eq!(calls, 3, "one warm-up and two timed runs");
        let row = |n: &str| report.row(n).unwrap().clone();
        assert_eq!(row("base").verified, Some(true));
        assert_eq!(row("base").speedup_vs_baseline, Some(1.0));
        assert_eq!(row("good").verified, Some(true));
        assert_eq!(row("good").runs, 2);
        assert_eq!(row("in place").verified, Some(true));
        assert_eq!(row("wrong order").verified, Some(false));
        assert!(row("wrong order").verify_error.unwrap().contains("differs"));
        assert_eq!(row("fill").verified, None);
        assert_eq!(row("fill").kind, Kind::Limit);
        let t = row("good").throughput.unwrap();
        assert_eq!(t.unit, "numbers/s");
        assert!((t.value - 1000.0 / row("good").median_s.unwrap()).abs() < 1e-6);
        assert_eq!(report.exit_code(), 1, "a wrong result fails the run");
        // Limits come last in the table, the rest in registration order.
        let names: Vec<_> = report.results.iter().map(|r| r.approach.as_str()).collect();
        assert_eq!(names, ["base", "good", "wrong order", "in place", "fill"]);
    }

    #[test]
    fn selection_runs_the_baseline_and_the_named_approaches_only() {
        let c = common(&["--runs", "1", "--approach", "B two"]);
        let mut suite = Suite::new("t", Workload::new("w", 10, "items"), &c);
        suite.baseline("a one", || squares(10));
        suite.approach("b two", || squares(10));
        suite.approach("c three", || squares(10));
        let report = suite.run().unwrap().report;
        let names: Vec<_> = report.results.iter().map(|r| r.approach.as_str()).collect();
        assert_eq!(names, ["a one", "b two"]);
        assert!(report.notes[0].contains("--approach"));

        let c = common(&["--approach", "nope"]);
        let mut suite = Suite::new("t", Workload::new("w", 10, "items"), &c);
        suite.baseline("a", || squares(10));
        let err = suite.run().err().unwrap();
        assert!(err.0.contains("unknown approach 'nope'"), "{err}");
    }

    #[test]
    fn failures_are_accounted_and_fail_the_run() {
        let c = common(&["--runs", "1"]);
        let mut suite = Suite::new("t", Workload::new("w", 3, "images"), &c);
        suite.baseline("a", || squares(3));
        suite.account(
            3,
            vec![Failure {
                input: "x.jpeg".into(),
                error: "truncated".into(),
            }],
        );
        suite.conclude(|r| vec![format!("{} rows", r.results.len())]);
        let out = suite.run().unwrap();
        assert_eq!(
            out.report.summary,
            RunSummary {
                total: 3,
                done: 2,
                failed: 1
            }
        );
        assert_eq!(out.report.exit_code(), 1);
        assert_eq!(out.report.notes, ["1 rows"]);
        let table = out.report.table(false);
        assert!(table.contains("failed: x.jpeg: truncated"), "{table}");
        assert!(
            table.contains("images: 3 total, 2 done, 1 failed"),
            "{table}"
        );
        assert!(!table.contains('\x1b'));
        assert!(out.figures[0].svg.contains("<svg") && out.figures[0].svg.contains("a (baseline)"));
    }

    #[test]
    fn a_reused_buffer_is_poisoned_before_every_run() {
        let c = common(&["--runs", "3", "--no-python"]);
        let mut suite = Suite::new("t", Workload::new("squares", 100, "numbers"), &c);
        suite.baseline("base", || squares(100));
        let mut first = true;
        // A kernel that writes only on its first call: the warm-up is right, the timed runs
        // would find the warm-up's answer still in the buffer if it were not poisoned.
        suite.approach_in("writes once", vec![0u64; 100], move |b| {
            if std::mem::take(&mut first) {
                b.copy_from_slice(&squares(100));
            }
        });
        suite.approach_in("writes every time", vec![0u64; 100], |b| {
            b.copy_from_slice(&squares(100))
        });
        let mut calls = 0;
        let mut floats = Suite::new("t", Workload::new("halves", 10, "numbers"), &c);
        floats.baseline("base", || {
            (0..10).map(|i| i as f32 / 2.0).collect::<Vec<_>>()
        });
        floats.compare_with(verify::within(1e-6));
        floats.approach_in("skips the last on run 2", vec![0f32; 10], move |b| {
            calls += 1;
            let end = if calls == 3 { 9 } else { 10 };
            for (i, x) in b[..end].iter_mut().enumerate() {
                *x = i as f32 / 2.0;
            }
        });

        let report = suite.run().unwrap().report;
        let row = report.row("writes once").unwrap();
        assert_eq!(row.verified, Some(false));
        assert!(
            row.verify_error.as_deref().unwrap().starts_with("run 1: "),
            "{row:?}"
        );
        assert_eq!(
            report.row("writes every time").unwrap().verified,
            Some(true)
        );
        assert_eq!(report.exit_code(), 1);

        let report = floats.run().unwrap().report;
        let row = report.row("skips the last on run 2").unwrap();
        assert_eq!(row.verified, Some(false));
        assert!(
            row.verify_error.as_deref().unwrap().starts_with("run 2: "),
            "{row:?}"
        );
        assert_eq!(report.exit_code(), 1);
    }

    #[test]
    fn a_row_can_have_its_own_check_and_says_why() {
        let c = common(&["--runs", "1", "--no-python"]);
        let mut suite = Suite::new("t", Workload::new("sum", 1, "sums"), &c);
        suite.baseline("exact", || 1000.0f64);
        suite.approach("close", || 1000.5f64);
        suite.approach("loose", || 1000.5f64);
        suite.check_with(verify::within(1e-3), "within 1e-3: the bound of its order");
        suite.approach("far", || 1002.0f64);
        suite.check_with(verify::within(1e-3), "within 1e-3");
        suite.check_row("Python x", verify::within(1.0), "anything goes");
        let report = suite.run().unwrap().report;
        let row = |n: &str| report.row(n).unwrap().clone();
        assert_eq!(
            row("close").verified,
            Some(false),
            "the suite's check: exact"
        );
        assert_eq!(row("close").tolerance, None);
        assert_eq!(row("loose").verified, Some(true));
        assert_eq!(
            row("loose").tolerance.as_deref(),
            Some("within 1e-3: the bound of its order")
        );
        assert_eq!(row("far").verified, Some(false));
        assert!(row("far").verify_error.unwrap().contains("1e-3"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["results"][2]["tolerance"],
            "within 1e-3: the bound of its order"
        );
        assert!(json["results"][0].get("tolerance").is_none());
    }

    /// A result that lost some inputs: each lost input is a failure.
    struct Partial {
        values: Vec<u64>,
        lost: Vec<&'static str>,
    }

    impl Verify for Partial {
        fn fingerprint(&self) -> Fingerprint {
            self.values.fingerprint()
        }

        fn failures(&self) -> Vec<Failure> {
            self.lost
                .iter()
                .map(|input| Failure {
                    input: input.to_string(),
                    error: format!("worker killed by signal 9 while on {input}"),
                })
                .collect()
        }
    }

    #[test]
    fn a_row_that_loses_inputs_says_so_in_the_report() {
        let c = common(&["--runs", "2", "--no-python"]);
        let mut suite = Suite::new("t", Workload::new("images", 4, "images"), &c);
        // The baseline cannot read d.jpeg: a bad input, not a fault of any row.
        suite.baseline("sequential", || Partial {
            values: vec![1, 2, 3],
            lost: vec!["d.jpeg"],
        });
        suite.approach("pool, fine", || Partial {
            values: vec![1, 2, 3],
            lost: vec!["d.jpeg"],
        });
        let mut run = 0;
        suite.approach("pool, killed", move || {
            run += 1;
            Partial {
                values: vec![1, 2, 3],
                // b.jpeg lost twice (counted once), c.jpeg in the last run only.
                lost: match run {
                    1 => vec!["d.jpeg"],
                    2 => vec!["d.jpeg", "b.jpeg"],
                    _ => vec!["b.jpeg", "c.jpeg", "d.jpeg"],
                },
            }
        });
        let out = suite.run().unwrap();
        let report = &out.report;
        let row = |n: &str| report.row(n).unwrap().clone();
        assert_eq!(row("sequential").verified, Some(true));
        assert_eq!(row("sequential").failures.len(), 1);
        assert_eq!(row("pool, fine").verified, Some(true));
        let killed = row("pool, killed");
        assert_eq!(killed.verified, Some(false));
        let inputs: Vec<&str> = killed.failures.iter().map(|f| f.input.as_str()).collect();
        assert_eq!(inputs, ["d.jpeg", "b.jpeg", "c.jpeg"]);
        let e = killed.verify_error.unwrap();
        assert!(
            e.starts_with(
                "lost 2 inputs that the baseline processed (first: b.jpeg: worker killed"
            ),
            "{e}"
        );
        // The summary accounts for every row: d, b and c failed somewhere.
        assert_eq!(
            report.summary,
            RunSummary {
                total: 4,
                done: 1,
                failed: 3
            }
        );
        let all: Vec<&str> = report.failures.iter().map(|f| f.input.as_str()).collect();
        assert_eq!(all, ["d.jpeg", "b.jpeg", "c.jpeg"]);
        assert_eq!(report.exit_code(), 1);
        let json = serde_json::to_value(report).unwrap();
        assert_eq!(json["results"][2]["failures"][1]["input"], "b.jpeg");
        assert_eq!(json["summary"]["failed"], 3);
        assert!(json["results"][1]["failures"][0]["error"].is_string());
        let table = report.table(false);
        assert!(
            table.contains(
                "  pool, killed lost b.jpeg: worker killed by signal 9 while on b.jpeg\n"
            ),
            "{table}"
        );
        assert!(table.contains("  pool, killed lost c.jpeg: "), "{table}");
        assert!(!table.contains("pool, fine lost"), "{table}");
        assert!(
            table.contains("images: 4 total, 1 done, 3 failed"),
            "{table}"
        );
    }

    #[test]
    fn python_rows_are_verified_on_every_timed_run() {
        let compare: Compare = Box::new(verify::exact);
        let fp = |v: u64| Fingerprint(serde_json::json!({ "value": v }));
        let good = [fp(1), fp(1), fp(1)];
        assert_eq!(
            verify_python(Some(&fp(1)), Some(&fp(1)), &good, 3, &compare),
            Ok(())
        );
        let later = [fp(1), fp(1), fp(2)];
        let e = verify_python(Some(&fp(1)), Some(&fp(1)), &later, 3, &compare).unwrap_err();
        assert!(e.starts_with("run 3: result differs"), "{e}");
        let e = verify_python(Some(&fp(1)), Some(&fp(2)), &good, 3, &compare).unwrap_err();
        assert!(e.starts_with("warm-up: "), "{e}");
        let e = verify_python(Some(&fp(1)), Some(&fp(1)), &good[..2], 3, &compare).unwrap_err();
        assert!(e.contains("2 fingerprint(s) for 3 timed run(s)"), "{e}");
        assert!(verify_python(None, None, &good, 3, &compare).is_err());
    }

    #[test]
    fn listing_names_every_row() {
        let c = common(&[]);
        let mut suite = Suite::new("t", Workload::new("w", 1, "items"), &c);
        suite.baseline("for-loop + push", || squares(1));
        suite.limit("fresh fill", || 0);
        suite.python(PythonScript::new("squares.py", &["numpy"]));
        let listing = suite.listing();
        assert!(listing.contains("for-loop-push"), "{listing}");
        assert!(listing.contains("fresh fill (limit)"), "{listing}");
        assert!(listing.contains("Python numpy (python)"), "{listing}");
    }
}
