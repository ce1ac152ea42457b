//! The report every example produces: one document, three views (table, JSON, SVG).

use crate::machine::Machine;
use crate::units;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What one run of an example measured. Serialises to the report every example prints with
/// `--json` (and writes as `report.json`): `example`, `machine`, `workload`, `baseline`, `runs`,
/// one entry of `results` per row, `summary` (total/done/failed) and `failures`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub example: String,
    pub machine: Machine,
    pub workload: Workload,
    pub baseline: String,
    /// Timed runs per approach (after one untimed warm-up).
    pub runs: u32,
    pub results: Vec<Row>,
    pub summary: RunSummary,
    pub failures: Vec<Failure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Which optional columns the table shows (not part of the JSON).
    #[serde(skip)]
    pub columns: Columns,
}

/// Optional table columns; the JSON always has the numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Columns {
    /// Process CPU time per run (threads add to it, waiting does not).
    pub cpu: bool,
    /// Minor page faults per run (where a fresh allocation's time goes).
    pub faults: bool,
}

/// What was processed: a name, how many items, their unit, and any parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub name: String,
    pub items: u64,
    /// Unit of one item, plural: `numbers`, `images`, `requests`.
    pub unit: String,
    #[serde(flatten)]
    pub params: BTreeMap<String, Value>,
}

impl Workload {
    pub fn new(name: impl Into<String>, items: u64, unit: impl Into<String>) -> Workload {
        Workload {
            name: name.into(),
            items,
            unit: unit.into(),
            params: BTreeMap::new(),
        }
    }

    /// A parameter shown in the report (`n`, `seed`, `input`...).
    pub fn param(mut self, key: &str, value: impl Into<Value>) -> Workload {
        self.params.insert(key.to_string(), value.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Rust,
    Python,
}

/// The baseline every ratio is taken against, an approach, or a limit no approach can beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Baseline,
    Approach,
    Limit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub value: f64,
    pub unit: String,
}

/// One approach's measurements, or the reason it did not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub approach: String,
    pub lang: Lang,
    pub kind: Kind,
    pub runs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_s: Option<f64>,
    /// Median process CPU time per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_s: Option<f64>,
    /// Median minor page faults per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor_faults: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speedup_vs_baseline: Option<f64>,
    /// `true`: the result matched the baseline's; `false`: it did not; absent for limits and skipped rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_error: Option<String>,
    /// Why this row has no numbers (`python3 not found`, `numpy not installed`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// One line on what the row measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How this row's result was compared with the baseline's, where the row has its own
    /// check (a tolerance and how it is derived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<String>,
    /// The inputs this row lost over all its runs (one per input, the first error seen).
    /// Those the baseline lost too are bad inputs; any other makes the row ✗.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
}

impl Row {
    /// The name as tables and charts show it: `X (baseline)`, `limit: X`, or `X`.
    pub fn display_name(&self) -> String {
        match self.kind {
            Kind::Baseline => format!("{} (baseline)", self.approach),
            Kind::Limit => format!("limit: {}", self.approach),
            Kind::Approach => self.approach.clone(),
        }
    }

    pub fn skipped(approach: &str, lang: Lang, kind: Kind, why: impl Into<String>) -> Row {
        Row {
            approach: approach.to_string(),
            lang,
            kind,
            runs: 0,
            median_s: None,
            min_s: None,
            max_s: None,
            cpu_s: None,
            minor_faults: None,
            throughput: None,
            speedup_vs_baseline: None,
            verified: None,
            verify_error: None,
            skipped: Some(why.into()),
            note: None,
            tolerance: None,
            failures: Vec::new(),
        }
    }
}

/// Every input accounted for: `done + failed == total`. `failed` counts the distinct inputs
/// that failed in any row (the baseline's bad inputs and every input another approach lost,
/// each once); each row's own losses are in its [`Row::failures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub total: u64,
    pub done: u64,
    pub failed: u64,
}

/// One input that could not be processed, and why, in one readable line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub input: String,
    pub error: String,
}

impl Report {
    /// 0 when every input was processed and every result verified; 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        let mismatch = self
            .results
            .iter()
            .any(|r| r.verified == Some(false) || !r.failures.is_empty());
        if self.summary.failed > 0 || !self.failures.is_empty() || mismatch {
            1
        } else {
            0
        }
    }

    /// Recomputes `failures` and `summary` from the rows: `failures` gets every input a row
    /// lost that it does not list yet (each input once), `failed` the number of distinct
    /// failed inputs, `done` the rest of `total`. For callers that replace `failures` after
    /// [`crate::Suite::run`].
    pub fn recount(&mut self) {
        for r in &self.results {
            for f in &r.failures {
                if !self.failures.iter().any(|g| g.input == f.input) {
                    self.failures.push(f.clone());
                }
            }
        }
        let mut inputs: Vec<&str> = self.failures.iter().map(|f| f.input.as_str()).collect();
        inputs.sort_unstable();
        inputs.dedup();
        self.summary.failed = inputs.len() as u64;
        self.summary.done = self.summary.total.saturating_sub(self.summary.failed);
    }

    pub fn row(&self, approach: &str) -> Option<&Row> {
        self.results.iter().find(|r| r.approach == approach)
    }

    /// The plain-text table (`output.txt`); `color` adds ANSI colours for a terminal.
    pub fn table(&self, color: bool) -> String {
        let paint = |code: &str, s: &str| {
            if color {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        let mut params: Vec<String> = self
            .workload
            .params
            .iter()
            .map(|(k, v)| format!("{k} = {}", show_value(v)))
            .collect();
        params.push(format!(
            "{} {}",
            units::count(self.workload.items),
            self.workload.unit
        ));
        out.push_str(&format!(
            "{} · {} ({})\n",
            self.example,
            self.workload.name,
            params.join(", ")
        ));
        out.push_str(&format!("machine: {}\n", self.machine.line()));
        out.push_str(&format!(
            "each approach: 1 warm-up run, then {} timed run{}; ratios are to \"{}\" in this run\n\n",
            self.runs,
            if self.runs == 1 { "" } else { "s" },
            self.baseline
        ));

        let mut header = vec![
            "approach",
            "lang",
            "median",
            "min … max",
            "throughput",
            "vs base",
        ];
        if self.columns.cpu {
            header.push("CPU/run");
        }
        if self.columns.faults {
            header.push("faults/run");
        }
        header.push("ok");
        let right = |col: usize| (2..header.len() - 1).contains(&col);

        let mut lines: Vec<Result<Vec<String>, (String, String)>> = Vec::new();
        for r in &self.results {
            let name = r.display_name();
            let lang = match r.lang {
                Lang::Rust => "rust",
                Lang::Python => "python",
            };
            if let Some(why) = &r.skipped {
                lines.push(Err((name, format!("{lang:<6}  skipped: {why}"))));
                continue;
            }
            let f = |x: Option<f64>| x.map(units::duration).unwrap_or_else(|| "-".into());
            let mut cells = vec![
                name,
                lang.to_string(),
                f(r.median_s),
                format!("{} … {}", f(r.min_s), f(r.max_s)),
                r.throughput
                    .as_ref()
                    .map(|t| units::rate(t.value, &t.unit))
                    .unwrap_or_else(|| "-".into()),
                r.speedup_vs_baseline
                    .map(units::ratio)
                    .unwrap_or_else(|| "-".into()),
            ];
            if self.columns.cpu {
                cells.push(f(r.cpu_s));
            }
            if self.columns.faults {
                cells.push(
                    r.minor_faults
                        .map(units::count)
                        .unwrap_or_else(|| "-".into()),
                );
            }
            cells.push(match r.verified {
                Some(true) => "✓".into(),
                Some(false) => "✗".into(),
                None => "·".into(),
            });
            lines.push(Ok(cells));
        }

        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for cells in lines.iter().flatten() {
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c.chars().count());
            }
        }
        for line in &lines {
            if let Err((name, _)) = line {
                widths[0] = widths[0].max(name.chars().count());
            }
        }
        let pad = |s: &str, w: usize, right: bool| {
            let n = s.chars().count();
            let fill = " ".repeat(w.saturating_sub(n));
            if right {
                format!("{fill}{s}")
            } else {
                format!("{s}{fill}")
            }
        };
        let head: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, h)| pad(h, widths[i], right(i)))
            .collect();
        out.push_str(head.join("  ").trim_end());
        out.push('\n');
        out.push_str(&"─".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
        out.push('\n');
        for line in &lines {
            match line {
                Ok(cells) => {
                    let mut parts: Vec<String> = cells
                        .iter()
                        .enumerate()
                        .map(|(i, c)| pad(c, widths[i], right(i)))
                        .collect();
                    if let Some(last) = parts.last_mut() {
                        *last = match last.trim() {
                            "✓" => paint("32", "✓"),
                            "✗" => paint("31", "✗"),
                            other => other.to_string(),
                        };
                    }
                    out.push_str(parts.join("  ").trim_end());
                }
                Err((name, rest)) => {
                    out.push_str(&pad(name, widths[0], false));
                    out.push_str("  ");
                    out.push_str(&paint("2", rest));
                }
            }
            out.push('\n');
        }

        let baseline_lost: Vec<&str> = self
            .results
            .iter()
            .filter(|r| r.kind == Kind::Baseline)
            .flat_map(|r| r.failures.iter().map(|f| f.input.as_str()))
            .collect();
        for r in &self.results {
            if let Some(e) = &r.verify_error {
                out.push_str(&paint("31", &format!("✗ {}: {e}\n", r.approach)));
            }
            // What this row lost that the baseline processed: one line each.
            for f in &r.failures {
                if r.kind != Kind::Baseline && !baseline_lost.contains(&f.input.as_str()) {
                    out.push_str(&paint(
                        "31",
                        &format!("  {} lost {}: {}\n", r.approach, f.input, f.error),
                    ));
                }
            }
        }
        let s = &self.summary;
        out.push_str(&format!(
            "\n{}: {} total, {} done, {} failed\n",
            self.workload.unit,
            units::count(s.total),
            units::count(s.done),
            units::count(s.failed)
        ));
        for f in &self.failures {
            out.push_str(&paint("31", &format!("failed: {}: {}\n", f.input, f.error)));
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        for n in &self.notes {
            out.push_str(&format!("• {n}\n"));
        }
        out
    }
}

fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n
            .as_u64()
            .map(units::count)
            .unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}
