//! The binary's three parts, each a function that prints (through `measure::Document`) as it goes:
//! the toaster, the CPU-bound suites, and `submit` + `as_completed`; the command line they
//! share ([`Cli`], resolved by `Settings::from`) and their suites for `--list` and the
//! `--approach` check ([`Settings::catalog`]).

use crate::cpu::{self, Images};
use crate::toaster::{self, Toasting};
use crate::{demo, threads_label};
use measure::{Catalog, Common, Document, UsageError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Threads in Rust with Python's concurrent.futures vocabulary: the toaster (one toaster
/// against k), CPU-bound work on 1..=N threads beside Python's ThreadPoolExecutor, and
/// submit + as_completed. With no PART named, all three run in order.
#[derive(clap::Parser)]
#[command(name = "threads", version, about, long_about = None)]
pub struct Cli {
    /// Run only these parts (toaster, cpu, as-completed) [default: all three, in that order]
    #[arg(value_enum, value_name = "PART")]
    parts: Vec<Part>,

    /// Slices of bread to toast [default: 100 as in the talk, or 20 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    slices: Option<u64>,

    /// Toasters: worker threads of the toaster pool [default: 4, as in the talk]
    #[arg(long, value_name = "K", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    toasters: u64,

    /// Milliseconds of toasting per slice (an analogy: 1 ms stands for 1 s) [default: 30]
    #[arg(long, value_name = "MS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    toast_ms: u64,

    /// Images of the X-ray set for the CPU part [default: 100, or 12 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1341))]
    images: Option<u64>,

    /// Use every *.jpeg / *.jpg file of DIR (by name) instead of the generated X-ray set
    #[arg(long, value_name = "DIR")]
    input: Option<PathBuf>,

    /// The CPU part runs the pool with 1..=N threads [default: the number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    threads: Option<u64>,

    #[command(flatten)]
    common: Common,
}

/// The parts of the program, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Sequential vs parallel: one toaster against k (threads that wait)
    Toaster,
    /// CPU-bound work on 1..=N threads, beside Python's ThreadPoolExecutor (threads that compute)
    Cpu,
    /// submit + as_completed, printing "worker-N: running X" as it happens
    AsCompleted,
}

/// Everything the parts need, from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The parts to run, in order (all three when none is named).
    pub parts: Vec<Part>,
    pub toasting: Toasting,
    /// How many images of the X-ray set (ignored with `input`).
    pub images: usize,
    /// A folder of JPEGs instead of the generated set.
    pub input: Option<PathBuf>,
    /// The CPU suites run the pool with 1..=`max_threads` threads; the demo pool has as many.
    pub max_threads: usize,
    /// How many images the `as_completed` demo submits.
    pub demo_images: usize,
    pub common: Common,
}

/// The defaults the flags leave open, filled in (some depend on `--quick`).
impl From<&Cli> for Settings {
    fn from(cli: &Cli) -> Settings {
        let quick = cli.common.quick;
        Settings {
            parts: cli.parts.clone(),
            toasting: Toasting {
                slices: cli.slices.unwrap_or(if quick { 20 } else { 100 }),
                toasters: cli.toasters as usize,
                toast: Duration::from_millis(cli.toast_ms),
            },
            images: cli
                .images
                .map_or(if quick { 12 } else { 100 }, |n| n as usize),
            input: cli.input.clone(),
            max_threads: cli.threads.map_or_else(crate::cores, |n| n as usize),
            demo_images: 8,
            common: cli.common.clone(),
        }
    }
}

impl Settings {
    pub fn runs(&self, part: Part) -> bool {
        self.parts.is_empty() || self.parts.contains(&part)
    }

    /// The suites of the chosen parts, built on no inputs: for `--list` and checking `--approach`.
    pub fn catalog<'a>(&self, empty: &'a Images) -> Catalog<'a> {
        let mut catalog = Catalog::new();
        if self.runs(Part::Toaster) {
            catalog.add("toaster", toaster::suite(self.toasting, &self.common));
        }
        if self.runs(Part::Cpu) {
            catalog.add(
                "cpu",
                cpu::thumbnail_suite(empty, self.max_threads, &self.common),
            );
            catalog.add(
                "cpu",
                cpu::checksum_suite(empty, self.max_threads, &self.common),
            );
        }
        catalog
    }

    /// Every `--approach` must name a row of some chosen part (`catalog`), and the pool needs
    /// a thread.
    pub fn check(&self, catalog: &Catalog) -> Result<(), UsageError> {
        catalog.check(&self.common)?;
        if self.max_threads == 0 {
            return Err(UsageError("--threads must be at least 1".into()));
        }
        Ok(())
    }

    /// The images of the CPU part and the demo: `--input`, or the X-ray set; `None` when
    /// neither part runs. `Err((exit code, message))`: 2 for an `--input` folder that cannot
    /// be listed, 1 when the X-ray set cannot be made.
    pub fn images(&self) -> Result<Option<Images>, (u8, String)> {
        if !self.runs(Part::Cpu) && !self.runs(Part::AsCompleted) {
            return Ok(None);
        }
        let images = match &self.input {
            Some(dir) => Images::folder(dir, None),
            None => Images::xray_set(self.images, self.common.show_progress()),
        };
        images
            .map(Some)
            .map_err(|e| (if self.input.is_some() { 2 } else { 1 }, e))
    }
}

// ANCHOR: toaster_part
/// Part 1: one toaster against k, measured, and a timeline of the k toasters.
pub fn toaster(s: &Settings, out: &Document) -> Result<(), UsageError> {
    let t = s.toasting;
    if !s.runs(Part::Toaster) {
        return Ok(());
    }
    let Some(common) = s.common.for_suite(&toaster::suite(t, &s.common)) else {
        return Ok(());
    };
    out.part("toaster", "1. Sequential vs parallel: the toaster");
    for line in toaster::preface(t) {
        out.line(line);
    }
    let outcome = toaster::suite(t, &common).run()?;
    out.report(outcome.report);
    out.figures("toaster", outcome.figures);
    out.figure(toaster::timeline(t).draw());
    Ok(())
}
// ANCHOR_END: toaster_part

/// Part 2: the thumbnail suite (Rust) and the checksum suite (Rust and Python), and the
/// speed-up chart of both.
pub fn cpu(s: &Settings, images: &Images, out: &Document) -> Result<(), UsageError> {
    if !s.runs(Part::Cpu) {
        return Ok(());
    }
    let max = s.max_threads;
    let thumbs = s
        .common
        .for_suite(&cpu::thumbnail_suite(images, max, &s.common));
    let sums = s
        .common
        .for_suite(&cpu::checksum_suite(images, max, &s.common));
    if thumbs.is_none() && sums.is_none() {
        return Ok(());
    }
    out.part("cpu", "2. CPU-bound work: threads without a GIL");
    out.line(format!(
        "{} images from {}; the thread pool runs with 1 to {} on {} core(s).",
        images.paths.len(),
        images.source,
        threads_label(max),
        crate::cores()
    ));
    let mut reports = (None, None);
    if let Some(common) = thumbs {
        out.line("");
        out.line(
            "Thumbnails: decode each JPEG, make it grey, shrink it to 64×64 (the talk's case 2), \
             in Rust. Every row's thumbnails are checked against the sequential ones.",
        );
        let outcome = cpu::thumbnail_suite(images, max, &common).run()?;
        reports.0 = Some(outcome.report.clone());
        out.report(outcome.report);
        out.figures("thumbnails", outcome.figures);
    }
    if let Some(common) = sums {
        out.line("");
        out.line(
            "Checksums: the CRC-32 of each file, with the same table loop in Rust and in pure \
             Python, and Python's zlib.crc32 (C). Same numbers everywhere, so every row is \
             verified.",
        );
        let outcome = cpu::checksum_suite(images, max, &common).run()?;
        reports.1 = Some(outcome.report.clone());
        out.report(outcome.report);
        out.figures("checksums", outcome.figures);
    }
    out.figure(cpu::speedup_chart(reports.0.as_ref(), reports.1.as_ref(), max).draw());
    Ok(())
}

/// Part 3: submit + as_completed on the first images.
pub fn as_completed(s: &Settings, images: &Images, out: &Arc<Document>) {
    if !s.runs(Part::AsCompleted) || !s.common.approaches.is_empty() {
        return; // it has no approaches to select
    }
    out.part(
        "as-completed",
        "3. submit + as_completed: results in the order they finish",
    );
    let first: Vec<PathBuf> = images.paths.iter().take(s.demo_images).cloned().collect();
    let failed = demo::part(s.max_threads.max(2), &first, out);
    if failed > 0 {
        out.fail();
    }
}
