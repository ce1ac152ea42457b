//! `datasets`: make the inputs the examples run on.
//!
//! ```text
//! datasets xray                    fill the cache (target/talk-data/) with the 1,341-image set
//! datasets xray --quick            ... with the first 100 only
//! datasets xray --count 20 --out DIR
//! datasets hostile --out DIR       empty, truncated, text, PNG, huge-header, unreadable, folder
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use clap::{Parser, Subcommand};
use datasets::{DEFAULT_SEED, FULL_COUNT, QUICK_COUNT};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Deterministic inputs for the examples: an X-ray-like JPEG set shaped like the Kaggle chest
/// X-ray training set (train/NORMAL), and hostile files that look like images but are not.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the X-ray-like set (grayscale JPEGs, 1000-2500 px wide, a few RGB) into the
    /// cache under target/talk-data/, or into --out. Images already there are reused.
    Xray {
        /// How many images [default: 1341, the size of train/NORMAL; 100 with --quick]
        #[arg(long, conflicts_with = "quick", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        count: Option<u64>,
        /// The 100-image subset (the first 100 images of the full set)
        #[arg(long)]
        quick: bool,
        /// Seed of the set: the same seed gives the same bytes
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Write the set into this folder instead of the cache (created if needed)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Write the hostile files (empty, truncated, plain text, a PNG named .jpeg, a header
    /// declaring 60000x60000 pixels, an unreadable file, a folder named .jpeg) into --out.
    Hostile {
        /// The folder to write them into (created if needed)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let progress = std::io::stderr().is_terminal();
    match run(cli.command, progress) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, progress: bool) -> Result<String, datasets::DatasetError> {
    match command {
        Command::Xray {
            count,
            quick,
            seed,
            out,
        } => {
            let count = match count {
                Some(n) => n as usize,
                None if quick => QUICK_COUNT,
                None => FULL_COUNT,
            };
            match out {
                Some(dir) => {
                    let manifest = datasets::write_xray_set(&dir, count, seed, progress)?;
                    Ok(summary(
                        manifest.files.len(),
                        manifest.total_bytes(),
                        &dir,
                        None,
                    ))
                }
                None => {
                    let set = datasets::cached_xray_set(count, seed, progress)?;
                    Ok(summary(
                        set.paths.len(),
                        set.total_bytes,
                        &set.dir,
                        Some(set.generated),
                    ))
                }
            }
        }
        Command::Hostile { out } => {
            let files = datasets::write_hostile(&out)?;
            let bytes = files
                .iter()
                .filter_map(|h| std::fs::symlink_metadata(&h.path).ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum();
            Ok(summary(files.len(), bytes, &out, None))
        }
    }
}

/// `100 files, 31.4 MB in /path (3 generated, 97 reused)`
fn summary(files: usize, bytes: u64, dir: &Path, generated: Option<usize>) -> String {
    let mb = bytes as f64 / 1e6;
    let digits = if mb < 10.0 { 2 } else { 1 };
    let mut line = format!(
        "{} files, {mb:.digits$} MB in {}",
        measure::units::count(files as u64),
        dir.display()
    );
    if let Some(g) = generated {
        line.push_str(&format!(" ({g} generated, {} reused)", files - g));
    }
    line
}
