//! One run of `simd-jit` measures several parts (each a `measure::Suite` of its own, with
//! its own workload), plus the size sweep. This file puts them together:
//!
//! - stdout: each part's table as it finishes (or, with `--json`, one JSON document at the
//!   end: `{"example": "simd-jit", "parts": [{"part", "report"}...], "sweep": ...}`);
//! - `--out DIR`: `DIR/output.txt` (every table, as printed), `DIR/report.json` (the JSON
//!   document), `DIR/sweep.svg`, and per part `DIR/PART/{output.txt, report.json, time.svg}`.

use std::io::IsTerminal;
use std::path::Path;

use measure::Outcome;
use serde_json::{Value, json};

use crate::sweep::Sweep;

/// A finished part: its name (a folder name under `--out`) and what its suite produced.
pub struct Part {
    pub slug: &'static str,
    pub outcome: Outcome,
}

#[derive(Default)]
pub struct Combined {
    pub parts: Vec<Part>,
    pub sweep: Option<Sweep>,
    /// Every table without colour, in the order printed.
    text: String,
}

impl Combined {
    /// Prints a finished part's table now (unless `json`), and keeps it.
    pub fn push(&mut self, part: Part, json: bool) {
        if !json {
            println!(
                "{}",
                part.outcome.report.table(std::io::stdout().is_terminal())
            );
        }
        self.text.push_str(&part.outcome.report.table(false));
        self.text.push('\n');
        for row in &part.outcome.report.results {
            if let Some(e) = &row.verify_error {
                eprintln!("error: {}: {}: {e}", part.slug, row.approach);
            }
        }
        self.parts.push(part);
    }

    pub fn push_sweep(&mut self, sweep: Sweep, json: bool) {
        if !json {
            println!("{}", sweep.table());
        }
        self.text.push_str(&sweep.table());
        self.text.push('\n');
        self.sweep = Some(sweep);
    }

    /// 0 when every part verified every result; 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        self.parts
            .iter()
            .map(|p| p.outcome.report.exit_code())
            .max()
            .unwrap_or(0)
    }

    pub fn json(&self) -> Value {
        let parts: Vec<Value> = self
            .parts
            .iter()
            .map(|p| json!({ "part": p.slug, "report": p.outcome.report }))
            .collect();
        let mut doc = json!({ "example": "simd-jit", "parts": parts });
        if let Some(s) = &self.sweep {
            doc["sweep"] = s.json();
        }
        doc
    }

    /// Every table without colour, in the order printed.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for p in &self.parts {
            p.outcome.write(&dir.join(p.slug))?;
        }
        if let Some(s) = &self.sweep {
            std::fs::write(dir.join("sweep.svg"), s.figure().svg)?;
        }
        let json = serde_json::to_string_pretty(&self.json()).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        std::fs::write(dir.join("output.txt"), self.text())
    }
}
