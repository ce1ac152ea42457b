//! The book pipeline: run the examples, check the chapters' references, render, serve.

pub mod check;
pub mod examples;
pub mod serve;

use std::path::{Path, PathBuf};

/// A book folder: `book.toml`, `examples.toml`, `src/` (chapters, `src/generated/` output).
#[derive(Debug, Clone)]
pub struct Book {
    pub dir: PathBuf,
}

/// What `build` does besides rendering.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Run the examples (else keep what `src/generated/` holds).
    pub run: bool,
    /// Python rows (and setting up `target/python-venv` when it is missing).
    pub python: bool,
    /// Example binaries from here instead of `cargo build --release`.
    pub bin_dir: Option<PathBuf>,
}

impl Book {
    pub fn at(dir: PathBuf) -> Book {
        Book { dir }
    }

    /// `book/` in the workspace.
    pub fn default_dir() -> PathBuf {
        measure::process::workspace_root().join("book")
    }

    pub fn src(&self) -> PathBuf {
        self.dir.join("src")
    }

    pub fn generated(&self) -> PathBuf {
        self.src().join("generated")
    }

    /// Where the HTML lands (`build-dir` of book.toml, `build/` here).
    pub fn html_dir(&self) -> PathBuf {
        self.dir.join("build")
    }

    /// Run the examples, check every reference, render the HTML.
    pub fn build(&self, options: &BuildOptions) -> Result<(), String> {
        if options.run {
            examples::run_all(self, options)?;
        }
        self.check()?;
        self.render()
    }

    /// Every include, anchor and generated file the chapters name exists.
    pub fn check(&self) -> Result<(), String> {
        let problems = check::problems(&self.src());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the book has {} broken reference(s):\n{}",
                problems.len(),
                problems.join("\n")
            ))
        }
    }

    /// Render with mdBook's library (mdbook-driver): no separate install.
    pub fn render(&self) -> Result<(), String> {
        let book = mdbook_driver::MDBook::load(&self.dir)
            .map_err(|e| format!("cannot load the book in {}: {e:#}", self.dir.display()))?;
        book.build()
            .map_err(|e| format!("cannot render the book: {e:#}"))?;
        eprintln!(
            "book: rendered into {}",
            display(&self.html_dir().join("index.html"))
        );
        Ok(())
    }
}

/// A path relative to the current folder when it is under it (shorter messages).
pub fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}
