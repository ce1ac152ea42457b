//! `book`: the book is built from what the examples print on this machine.
//!
//! `build` runs every example of `book/examples.toml` (release binaries, built once) with
//! `--quick --out book/src/generated/NAME`, checks that every include, anchor and figure the
//! chapters name exists, then renders the mdBook with mdBook's own library. `serve` builds,
//! then serves the result on 127.0.0.1. `check` only checks.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use book::{Book, BuildOptions};

/// Build the book from the examples' real output, check it, and serve it on 127.0.0.1.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// The book's folder (holding book.toml and examples.toml) [default: book/ in the workspace]
    #[arg(long, value_name = "DIR", global = true)]
    book: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every example with --quick, capture its output and figures, check, render the HTML.
    Build(BuildArgs),
    /// Build, then serve the book on http://127.0.0.1:PORT until Ctrl-C.
    Serve {
        #[command(flatten)]
        build: BuildArgs,
        /// Port on 127.0.0.1 (0 picks a free one and prints it).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Serve what is already built instead of building first.
        #[arg(long)]
        no_build: bool,
    },
    /// Fail when an include, an anchor or a generated file that a chapter names is missing.
    Check,
}

#[derive(clap::Args)]
struct BuildArgs {
    /// Keep the captured output already in book/src/generated instead of running the examples.
    #[arg(long)]
    no_run: bool,
    /// Pass --no-python to every example, and do not set up target/python-venv.
    #[arg(long)]
    no_python: bool,
    /// Take the example binaries from DIR instead of building them with cargo.
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let book = Book::at(cli.book.unwrap_or_else(Book::default_dir));
    let result = match cli.command {
        Command::Build(args) => book.build(&options(args)),
        Command::Serve {
            build,
            port,
            no_build,
        } => {
            let built = if no_build {
                Ok(())
            } else {
                book.build(&options(build))
            };
            built.and_then(|()| book::serve::serve(&book, port))
        }
        Command::Check => book.check(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn options(args: BuildArgs) -> BuildOptions {
    BuildOptions {
        run: !args.no_run,
        python: !args.no_python,
        bin_dir: args.bin_dir,
    }
}
