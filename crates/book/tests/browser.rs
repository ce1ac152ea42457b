//! The real book, as a reader sees it: `book build` runs the real examples, `book serve` serves
//! the result on loopback, and headless Chromium loads the for-loop chapter. Without Chromium
//! this test says "skipped: chromium not found" (`.ci/run` installs it, so CI always runs it).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
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

#[test]
fn the_for_loop_chapter_renders_in_a_browser_with_real_numbers() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: chromium not found");
        return;
    };
    let book = env!("CARGO_BIN_EXE_book");
    let build = Command::new(book).arg("build").output().unwrap();
    assert!(
        build.status.success(),
        "book build failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let server = common::Server::start(None);

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
        !dom.contains("{{#include"),
        "an include was left unexpanded"
    );
    // The table the example printed while the book was built: real rows, verified.
    for row in [
        "for-loop + push (baseline)",
        "running sums into huge pages",
        "limit: fresh fill",
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
