//! The book pipeline on a small book of its own: examples are stand-in programs that behave
//! like real ones (write --out, or fail with an error line), so every path is exercised.

mod common;

use measure_testing as testing;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn book(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_book"))
        .arg("--book")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// `book build` of `book_dir` with the stand-in examples of `bins` and no Python rows.
fn build(book_dir: &Path, bins: &Path) -> Output {
    book(
        book_dir,
        &["build", "--no-python", "--bin-dir", bins.to_str().unwrap()],
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A tiny book whose one chapter includes an example's captured output and figure.
fn small_book(examples: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("book.toml"),
        "[book]\ntitle = \"t\"\nsrc = \"src\"\n[build]\nbuild-dir = \"build\"\ncreate-missing = false\n",
    );
    let manifest: String = examples
        .iter()
        .map(|e| format!("[[example]]\nname = \"{e}\"\n"))
        .collect();
    write(&d.join("examples.toml"), &manifest);
    write(
        &d.join("src/SUMMARY.md"),
        "# Summary\n\n- [Chapter](chapter.md)\n",
    );
    write(
        &d.join("code.rs"),
        "// ANCHOR: body\nfn answer() -> u32 { 42 }\n// ANCHOR_END: body\n",
    );
    write(
        &d.join("src/chapter.md"),
        "# Chapter\n\n```rust\n{{#include ../code.rs:body}}\n```\n\n```text\n{{#include generated/good/output.txt}}\n```\n\n![figure](generated/good/time.svg)\n",
    );
    dir
}

/// Stand-in example binaries: `good` writes what a real example writes, `bad` fails like one.
fn bin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        "good",
        r#"[ "$1" = --quick ] && [ "$2" = --out ] || exit 9
mkdir -p "$3" && echo "good table: 42 rows ✓" > "$3/output.txt" && echo '{"example":"good"}' > "$3/report.json"
echo '<svg xmlns="http://www.w3.org/2000/svg"><text>bars</text></svg>' > "$3/time.svg""#,
    );
    script(
        "bad",
        "mkdir -p \"$3\"\necho 'partial' > \"$3/output.txt\"\necho 'error: input.jpeg: truncated JPEG' >&2\nexit 1",
    );
    script("empty", "mkdir -p \"$3\"\n: > \"$3/output.txt\"");
    dir
}

#[test]
fn a_built_book_shows_the_captured_output_and_figure() {
    let book_dir = small_book(&["good"]);
    let bins = bin_dir();
    testing::assert_success(&build(book_dir.path(), bins.path()));
    let html = std::fs::read_to_string(book_dir.path().join("build/chapter.html")).unwrap();
    assert!(
        html.contains("good table: 42 rows ✓"),
        "the captured table is in the page"
    );
    assert!(
        html.contains("fn answer"),
        "the anchored code is in the page"
    );
    assert!(html.contains("generated/good/time.svg"));
    assert!(
        book_dir
            .path()
            .join("build/generated/good/time.svg")
            .is_file()
    );
    let search_index = std::fs::read_dir(book_dir.path().join("build"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("searchindex"));
    assert!(search_index, "the search feature builds an index");
}

#[test]
fn a_failed_example_fails_the_build_and_leaves_no_stale_output() {
    let book_dir = small_book(&["good", "bad", "empty", "missing"]);
    let stale = book_dir.path().join("src/generated/bad/output.txt");
    write(&stale, "yesterday's numbers");
    let bins = bin_dir();
    let out = build(book_dir.path(), bins.path());
    assert_eq!(out.status.code(), Some(1));
    testing::assert_mentions(
        &testing::text(out.stderr),
        &[
            "example bad failed (exit status: 1): error: input.jpeg: truncated JPEG",
            "example empty failed: it wrote no output.txt",
            "example missing failed: no binary at",
            "3 example(s) failed",
        ],
    );
    assert!(
        !stale.exists(),
        "stale output of a failed example is removed"
    );
    assert!(!book_dir.path().join("src/generated/empty").exists());
    assert!(
        book_dir
            .path()
            .join("src/generated/good/output.txt")
            .is_file(),
        "the others still ran"
    );
    let leftovers: Vec<_> = std::fs::read_dir(book_dir.path().join("src/generated"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers, ["good"], "no staging folders are left behind");
    assert!(
        !book_dir.path().join("build/index.html").exists(),
        "nothing is rendered"
    );
}

#[test]
fn check_names_every_broken_reference() {
    let book_dir = small_book(&["good"]);
    let d = book_dir.path();
    write(
        &d.join("src/SUMMARY.md"),
        "# Summary\n\n- [Chapter](chapter.md)\n- [Gone](gone.md)\n",
    );
    write(&d.join("code.rs"), "fn answer() -> u32 { 42 }\n");
    let out = book(d, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    testing::assert_mentions(
        &testing::text(out.stderr),
        &[
            "SUMMARY.md:4: gone.md does not exist",
            "chapter.md:4: ../code.rs has no anchor `body`",
            "chapter.md:8: included file generated/good/output.txt does not exist",
            "chapter.md:11: generated/good/time.svg does not exist",
        ],
    );
}

#[test]
fn bad_manifest_is_one_clear_line() {
    let book_dir = small_book(&["good"]);
    write(
        &book_dir.path().join("examples.toml"),
        "[[example]]\nname = \"../etc\"\n",
    );
    let out = book(
        book_dir.path(),
        &["build", "--no-python", "--bin-dir", "/nonexistent"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("bad example name \"../etc\"")
    );
}

#[test]
fn serve_answers_on_loopback_with_the_book() {
    let book_dir = small_book(&["good"]);
    let bins = bin_dir();
    testing::assert_success(&build(book_dir.path(), bins.path()));
    let server = common::Server::start(Some(book_dir.path()));
    let page = server.get("/chapter.html");
    let svg = server.get("/generated/good/time.svg");
    let missing = server.get("/nope.html");
    server.stop();
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("good table: 42 rows"),
        "{page}"
    );
    assert!(
        svg.starts_with("HTTP/1.1 200") && svg.contains("image/svg+xml"),
        "{svg}"
    );
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

#[test]
fn serve_never_answers_with_a_file_outside_the_book() {
    let book_dir = small_book(&["good"]);
    let bins = bin_dir();
    testing::assert_success(&build(book_dir.path(), bins.path()));
    let d = book_dir.path();
    // Files beside the served folder (build/) and above the book, each with a marker.
    write(&d.join("secret.txt"), "SECRET-BESIDE-THE-BUILD\n");
    write(&d.join("src/secret.txt"), "SECRET-IN-THE-SOURCES\n");
    // A control: the same kind of file inside the served folder is served, marker and all.
    write(&d.join("build/inside.txt"), "MARKER-INSIDE\n");
    let server = common::Server::start(Some(d));
    let attempts = [
        "/../secret.txt",
        "/../book.toml",
        "/../../Cargo.toml",
        "/../src/secret.txt",
        "/generated/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/generated%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/.%2e/secret.txt",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/..;/secret.txt",
        "/%252e%252e/secret.txt",
        "/chapter.html/../../secret.txt",
        "/../../../../../../../../etc/passwd",
    ];
    let answers: Vec<(&str, String)> = attempts.iter().map(|p| (*p, server.get(p))).collect();
    let inside = server.get("/inside.txt");
    server.stop();
    assert!(
        inside.starts_with("HTTP/1.1 200") && inside.contains("MARKER-INSIDE"),
        "{inside}"
    );
    for (path, response) in answers {
        let status = response.lines().next().unwrap_or_default();
        assert!(
            status.starts_with("HTTP/1.1 400") || status.starts_with("HTTP/1.1 404"),
            "GET {path}: {status}"
        );
        for marker in ["SECRET-", "root:", "[book]", "[workspace]", "[[example]]"] {
            assert!(
                !response.contains(marker),
                "GET {path} answered with a file outside the book:\n{response}"
            );
        }
    }
}
