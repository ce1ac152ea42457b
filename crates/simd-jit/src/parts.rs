//! The binary's machinery: which parts run, in which order, on which arrays, and how `--list`
//! and `--approach` reach across them. Each part is one `measure` suite (built in
//! [`crate::suites`]), printed through a [`measure::Document`] as it finishes; with
//! `--out DIR` the document writes `output.txt` (every table, as printed), `report.json`
//! (`{"example": "simd-jit", "parts": [report + "part"...], "sweep": ...}`), and per part
//! `PART.txt` (its table) and `PART-time.svg`, plus `sweep.txt` and `sweep.svg`.

use std::path::Path;

use measure::cli::slug;
use measure::{Common, Document, Suite, UsageError};

use crate::cache::{self, Level};
use crate::data::{self, MUL_X, MUL_Y};
use crate::expr::Expr;
use crate::jit::{self, Compiled, JitError};
use crate::{suites, sweep};

/// The command line's `[PART]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    All,
    Simd,
    Jit,
}

/// The parts of one run, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartId {
    SumOfSquares { in_cache: bool },
    Axpy { in_cache: bool },
    JitCompile,
    Jit { in_cache: bool },
}

impl PartId {
    pub const SIMD: [PartId; 4] = [
        PartId::SumOfSquares { in_cache: true },
        PartId::SumOfSquares { in_cache: false },
        PartId::Axpy { in_cache: true },
        PartId::Axpy { in_cache: false },
    ];
    pub const JIT: [PartId; 3] = [
        PartId::JitCompile,
        PartId::Jit { in_cache: true },
        PartId::Jit { in_cache: false },
    ];

    /// Its key in the JSON and its file names under `--out`.
    pub fn slug(self) -> &'static str {
        match self {
            PartId::SumOfSquares { in_cache: true } => "sum-of-squares-in-cache",
            PartId::SumOfSquares { in_cache: false } => "sum-of-squares-out-of-cache",
            PartId::Axpy { in_cache: true } => "axpy-in-cache",
            PartId::Axpy { in_cache: false } => "axpy-out-of-cache",
            PartId::JitCompile => "jit-compile",
            PartId::Jit { in_cache: true } => "jit-in-cache",
            PartId::Jit { in_cache: false } => "jit-out-of-cache",
        }
    }
}

/// What every part needs to know, from the command line.
pub struct Plan {
    pub which: Which,
    /// Elements of the large arrays; in-cache runs repeat over the small ones until they
    /// have done as many.
    pub n: usize,
    /// Elements of the small arrays.
    pub n_cache: usize,
    pub expr: Expr,
    /// `--expr` as typed (trimmed).
    pub text: String,
    pub levels: Vec<Level>,
    /// Whether Cranelift can compile for this CPU (checked once, up front).
    pub jit: Result<(), JitError>,
    pub common: Common,
}

impl Plan {
    pub fn new(
        which: Which,
        expr: Expr,
        text: &str,
        n: u64,
        n_cache: u64,
        common: &Common,
    ) -> Plan {
        Plan {
            which,
            n: n as usize,
            n_cache: n_cache as usize,
            jit: jit::compile(&expr).map(drop),
            expr,
            text: text.trim().to_string(),
            levels: cache::levels(),
            common: common.clone(),
        }
    }

    /// The parts `[PART]` names, in order.
    pub fn parts(&self) -> Vec<PartId> {
        match self.which {
            Which::All => [&PartId::SIMD[..], &PartId::JIT[..]].concat(),
            Which::Simd => PartId::SIMD.to_vec(),
            Which::Jit => PartId::JIT.to_vec(),
        }
    }

    /// Elements per array and repetitions per run.
    pub fn size(&self, in_cache: bool) -> (usize, usize) {
        if in_cache {
            let len = self.n_cache.min(self.n);
            (len, self.n.div_ceil(len))
        } else {
            (self.n, 1)
        }
    }

    /// `--dump-code FILE`: the machine code the JIT generates for the expression.
    pub fn dump_code(&self, path: &Path) -> Result<(), String> {
        let compiled = jit::compile(&self.expr).map_err(|e| e.to_string())?;
        std::fs::write(path, compiled.machine_code()).map_err(|e| e.to_string())
    }

    /// `--list`: every row of every part that runs, under the part's name.
    pub fn listing(&self) -> String {
        let mut text = String::new();
        for part in self.parts() {
            let inputs = Inputs::new(part, self, true);
            let rows = suite(part, self, &inputs, &self.common).listing();
            text.push_str(&format!("[{}]\n{rows}", part.slug()));
        }
        text
    }

    /// `--approach NAME`: every name must be a row of some part that runs (one line and exit
    /// 2 otherwise, before anything is measured).
    pub fn check(&self) -> Result<(), UsageError> {
        let known: Vec<String> = self
            .parts()
            .into_iter()
            .flat_map(|p| self.rows(p))
            .collect();
        self.common.check_approaches(&known)
    }

    /// The shared flags for one part: `None` when `--approach` names none of its rows (the
    /// part does not run), else the flags with only the names this part knows.
    fn select(&self, part: PartId) -> Option<Common> {
        self.common.for_rows(&self.rows(part))
    }

    /// The names of a part's rows, as `--approach` matches them.
    fn rows(&self, part: PartId) -> Vec<String> {
        let inputs = Inputs::new(part, self, true);
        let suite = suite(part, self, &inputs, &self.common);
        suite
            .names()
            .iter()
            .map(|(name, _, _)| slug(name))
            .collect()
    }
}

/// Part 1 (unless `[PART]` is `jit`): the sum of squares and `a*x + y`, in L2 and beyond L3,
/// then GB/s against array size (skipped when `--approach` picks rows).
pub fn simd(plan: &Plan, out: &Document) -> Result<(), UsageError> {
    if plan.which == Which::Jit {
        return Ok(());
    }
    for part in PartId::SIMD {
        run(part, plan, out)?;
    }
    if plan.common.approaches.is_empty() {
        let common = &plan.common;
        let sweep = sweep::run(common.runs(), common.show_progress(), plan.levels.clone());
        out.part("sweep", "");
        out.line(format!("\n{}", sweep.table().trim_end()));
        out.record("sweep", sweep.json());
        out.figure(sweep.figure());
    }
    Ok(())
}

/// Part 2 (unless `[PART]` is `simd`): the price of compiling `--expr`, then the compiled
/// code against the interpreter, in cache and out.
pub fn jit(plan: &Plan, out: &Document) -> Result<(), UsageError> {
    if plan.which == Which::Simd {
        return Ok(());
    }
    for part in PartId::JIT {
        run(part, plan, out)?;
    }
    Ok(())
}

/// One part: make its arrays, run its suite, print its table, keep its figure as
/// `PART-time.svg`; the arrays are dropped before the next part makes its own.
fn run(part: PartId, plan: &Plan, out: &Document) -> Result<(), UsageError> {
    let Some(common) = plan.select(part) else {
        return Ok(()); // nothing asked for in this part
    };
    let inputs = Inputs::new(part, plan, false);
    let outcome = suite(part, plan, &inputs, &common).run()?;
    out.part(part.slug(), "");
    out.report(outcome.report);
    out.figures(part.slug(), outcome.figures);
    Ok(())
}

/// The arrays of one part, made before its suite and dropped after it.
#[derive(Default)]
struct Inputs {
    x: Vec<f32>,
    y: Vec<f32>,
    values: Vec<f64>,
    compiled: Option<Compiled>,
}

impl Inputs {
    /// `tiny`: just enough to name the rows (`--list`, `--approach`), nothing measured.
    fn new(part: PartId, plan: &Plan, tiny: bool) -> Inputs {
        let len = |in_cache| if tiny { 16 } else { plan.size(in_cache).0 };
        match part {
            PartId::SumOfSquares { in_cache } => Inputs {
                x: data::f32_values(len(in_cache), MUL_X),
                ..Inputs::default()
            },
            PartId::Axpy { in_cache } => Inputs {
                x: data::f32_values(len(in_cache), MUL_X),
                y: data::f32_values(len(in_cache), MUL_Y),
                ..Inputs::default()
            },
            PartId::JitCompile => Inputs {
                values: data::f64_values(16),
                ..Inputs::default()
            },
            PartId::Jit { in_cache } => Inputs {
                values: data::f64_values(len(in_cache)),
                compiled: jit::compile(&plan.expr).ok(),
                ..Inputs::default()
            },
        }
    }
}

/// A part's suite, on its arrays.
fn suite<'a>(part: PartId, plan: &'a Plan, inputs: &'a Inputs, common: &Common) -> Suite<'a> {
    match part {
        PartId::SumOfSquares { in_cache } => {
            suites::sum_of_squares(&inputs.x, plan.size(in_cache).1, in_cache, plan, common)
        }
        PartId::Axpy { in_cache } => suites::axpy(
            (&inputs.x, &inputs.y),
            plan.size(in_cache).1,
            in_cache,
            plan,
            common,
        ),
        PartId::JitCompile => suites::jit_compile(&inputs.values, plan, common),
        PartId::Jit { in_cache } => suites::jit_run(
            &inputs.values,
            inputs.compiled.as_ref().map(Compiled::kernel),
            plan.size(in_cache).1,
            in_cache,
            plan,
            common,
        ),
    }
}
