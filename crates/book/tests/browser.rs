//! The real book, as a reader sees it: `book build` runs the real examples, `book serve` serves
//! the result on loopback, and headless Chromium loads the for-loop chapter. All of it happens
//! in a temporary copy of the book: the checkout's `book/src/generated` and `book/build` are
//! never written. Without Chromium this test says "skipped: chromium not found"; under
//! `CI=true` (`.ci/run` installs Chromium) a missing Chromium fails it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Headless Chromium with the flags this sandbox needs, a fresh profile each time.
fn headless(browser: &PathBuf, profile: &tempfile::TempDir, args: &[&str]) -> String {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args);
    let out = measure::process::run_with_timeout(&mut cmd, Duration::from_secs(120))
        .expect("chromium ran");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn copy_dir(from: &Path, to: &Path, skip: &[&Path]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if skip.contains(&path.as_path()) {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&path, &to.join(entry.file_name()), skip);
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// A copy of `book/` (without its `build/` and `src/generated/`) in `dir/book`, beside a
/// link `dir/crates` to the workspace's crates, so the chapters' `../../crates/...` includes
/// resolve to the real code.
fn book_copy(dir: &Path) -> PathBuf {
    let root = measure::process::workspace_root();
    let original = root.join("book");
    let copy = dir.join("book");
    copy_dir(
        &original,
        &copy,
        &[&original.join("build"), &original.join("src/generated")],
    );
    std::os::unix::fs::symlink(root.join("crates"), dir.join("crates")).unwrap();
    copy
}

/// When each of these paths was last modified, or that it does not exist.
fn stamps(paths: &[PathBuf]) -> Vec<Option<SystemTime>> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}

#[test]
fn the_for_loop_chapter_renders_in_a_browser_with_real_numbers() {
    let Some(browser) = chromium() else {
        assert!(
            !measure::python::in_ci(),
            "CI=true: chromium not found (set CHROMIUM or put chromium on PATH)"
        );
        eprintln!("skipped: chromium not found (set CHROMIUM or put chromium on PATH)");
        return;
    };
    let checkout = measure::process::workspace_root().join("book");
    let untouched = [
        checkout.join("build"),
        checkout.join("src/generated"),
        checkout.join("src/generated/for-loop/output.txt"),
        checkout.join("build/for-loop.html"),
    ];
    let before = stamps(&untouched);

    let dir = tempfile::tempdir().unwrap();
    let copy = book_copy(dir.path());
    let book = env!("CARGO_BIN_EXE_book");
    let build = Command::new(book)
        .arg("--book")
        .arg(&copy)
        .arg("build")
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "book build failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(copy.join("src/generated/for-loop/output.txt").is_file());
    assert!(copy.join("build/for-loop.html").is_file());
    assert_eq!(
        stamps(&untouched),
        before,
        "the build wrote into the checkout's book/"
    );

    let server = common::Server::start(Some(&copy));

    let profile = tempfile::tempdir().unwrap();
    let page = server.url("/for-loop.html");
    let dom = headless(&browser, &profile, &["--dump-dom", &page]);
    let shot_dir = measure::process::target_dir().join("browser-test");
    std::fs::create_dir_all(&shot_dir).unwrap();
    let shot = shot_dir.join("for-loop.png");
    headless(
        &browser,
        &profile,
        &[
            "--window-size=1280,2400",
            &format!("--screenshot={}", shot.display()),
            &page,
        ],
    );
    let svg = headless(
        &browser,
        &profile,
        &["--dump-dom", &server.url("/generated/for-loop/time.svg")],
    );
    server.stop();

    // The chapter's code came from the crate by anchor, not from a copy.
    assert!(dom.contains("for_loop_push"), "anchored code missing");
    assert!(
        dom.contains("squares_streaming"),
        "the streaming approach's code is missing"
    );
    assert!(
        !dom.contains("{{#include"),
        "an include was left unexpanded"
    );
    // The table the example printed while the book was built: real rows, verified.
    for row in [
        "for-loop + push (baseline)",
        "running sums into huge pages",
        "limit: fresh fill",
        "squares into a reused buffer, streaming stores",
        "limit: refill a reused buffer",
        "Python for-loop",
    ] {
        assert!(
            dom.contains(row),
            "row {row:?} missing from the rendered chapter"
        );
    }
    assert!(dom.contains('✓'), "no verified row");
    assert!(dom.contains("numbers: 10,000,000 total, 10,000,000 done, 0 failed"));
    assert!(
        dom.contains("generated/for-loop/time.svg"),
        "the figure is not on the page"
    );
    // The figure itself loads and carries its labels as text.
    assert!(
        svg.contains("for-loop + push (baseline)"),
        "figure labels missing:\n{svg:.300}"
    );
    let shot_len = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        shot_len > 10_000,
        "screenshot {} is {shot_len} bytes",
        shot.display()
    );
}
