//! The binary's three parts, each a function that prints (through `measure::Document`) as it goes:
//! the toaster, the CPU-bound suites, and `submit` + `as_completed`. Also `--list` and the
//! `--approach` selection across the suites.

use crate::cpu::{self, Images};
use crate::toaster::{self, Toasting};
use crate::{demo, threads_label};
use measure::Document;
use measure::{Common, Suite, UsageError};
use std::path::PathBuf;
use std::sync::Arc;

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

impl Settings {
    pub fn runs(&self, part: Part) -> bool {
        self.parts.is_empty() || self.parts.contains(&part)
    }

    /// The shared flags for one suite: `None` when `--approach` names none of its rows (the
    /// suite is skipped), else the flags with only the names this suite knows.
    fn select(&self, suite: &Suite) -> Option<Common> {
        self.common.for_rows(&suite.slugs())
    }

    /// The suites of the chosen parts, built on no inputs: for `--list` and checking `--approach`.
    fn catalog<'a>(&self, empty: &'a Images) -> Vec<(&'static str, Suite<'a>)> {
        let mut suites = Vec::new();
        if self.runs(Part::Toaster) {
            suites.push(("toaster", toaster::suite(self.toasting, &self.common)));
        }
        if self.runs(Part::Cpu) {
            suites.push((
                "cpu",
                cpu::thumbnail_suite(empty, self.max_threads, &self.common),
            ));
            suites.push((
                "cpu",
                cpu::checksum_suite(empty, self.max_threads, &self.common),
            ));
        }
        suites
    }

    /// The `--list` text: every row of every chosen part.
    pub fn listing(&self) -> String {
        let empty = Images::default();
        let mut text = String::new();
        for (part, suite) in self.catalog(&empty) {
            text.push_str(&format!("# {part}\n{}", suite.listing()));
        }
        text
    }

    /// Every `--approach` must name a row of some chosen part.
    pub fn check(&self) -> Result<(), UsageError> {
        let empty = Images::default();
        let known: Vec<String> = self
            .catalog(&empty)
            .iter()
            .flat_map(|(_, s)| s.slugs())
            .collect();
        self.common.check_approaches(&known)?;
        if self.max_threads == 0 {
            return Err(UsageError("--threads must be at least 1".into()));
        }
        Ok(())
    }

    /// The images of the CPU part and the demo: `--input`, or the X-ray set.
    pub fn images(&self) -> Result<Images, String> {
        match &self.input {
            Some(dir) => Images::folder(dir, None),
            None => Images::xray_set(self.images, self.common.show_progress()),
        }
    }
}

/// Every chosen part in order. `Err((exit code, message))` stops the program: 2 for a bad
/// argument (an `--input` folder that cannot be listed), 1 when the X-ray set cannot be made.
pub fn run(s: &Settings, out: &Arc<Document>) -> Result<(), (u8, String)> {
    let usage = |e: UsageError| (2, e.0);
    if s.runs(Part::Toaster) {
        toaster(s, out).map_err(usage)?;
    }
    if s.runs(Part::Cpu) || s.runs(Part::AsCompleted) {
        let images = s
            .images()
            .map_err(|e| (if s.input.is_some() { 2 } else { 1 }, e))?;
        if s.runs(Part::Cpu) {
            cpu(s, &images, out).map_err(usage)?;
        }
        if s.runs(Part::AsCompleted) {
            as_completed(s, &images, out);
        }
    }
    Ok(())
}

// ANCHOR: toaster_part
/// Part 1: one toaster against k, measured, and a timeline of the k toasters.
pub fn toaster(s: &Settings, out: &Document) -> Result<(), UsageError> {
    let t = s.toasting;
    let Some(common) = s.select(&toaster::suite(t, &s.common)) else {
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
    let max = s.max_threads;
    let thumbs = s.select(&cpu::thumbnail_suite(images, max, &s.common));
    let sums = s.select(&cpu::checksum_suite(images, max, &s.common));
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
    if !s.common.approaches.is_empty() {
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
