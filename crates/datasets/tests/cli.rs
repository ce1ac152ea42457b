//! The real `datasets` binary: same bytes every time, images like the Kaggle set, readable
//! errors and exit codes.

use datasets::Manifest;
use image::ColorType;
use measure_testing::{self as testing, Bin};
use std::fs;
use std::path::Path;

const DATASETS: Bin = Bin::new(env!("CARGO_BIN_EXE_datasets"));

/// `datasets xray --count COUNT --out DIR`, which must succeed; what it printed.
fn xray(count: usize, dir: &Path) -> String {
    DATASETS.stdout(&[
        "xray",
        "--count",
        &count.to_string(),
        "--out",
        dir.to_str().unwrap(),
    ])
}

/// Every file of `dir` (name, bytes), sorted by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn twenty_images_twice_are_byte_identical_and_look_like_the_kaggle_set() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let stdout = xray(20, a.path());
    xray(20, b.path());

    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("20 files, "), "{stdout}");
    assert!(stdout.contains(" MB in "), "{stdout}");

    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(fa.len(), 20 + 2, "20 images, manifest.json, the lock file");
    assert!(fa == fb, "the two runs differ");

    let manifest = Manifest::read(a.path()).unwrap();
    assert_eq!(manifest.seed, datasets::DEFAULT_SEED);
    assert_eq!(manifest.files.len(), 20);
    for (i, entry) in manifest.files.iter().enumerate() {
        assert_eq!(entry.index, i);
        assert_eq!(entry.name, datasets::xray_file_name(i));
        let path = a.path().join(&entry.name);
        let bytes = fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, entry.bytes);
        assert_eq!(datasets::fnv1a64(&bytes), entry.fnv1a64);
        assert!(
            bytes.len() > 50_000,
            "{} is {} bytes",
            entry.name,
            bytes.len()
        );

        let image = image::open(&path).unwrap();
        assert_eq!((image.width(), image.height()), (entry.width, entry.height));
        assert!((1000..=2500).contains(&image.width()), "{}", entry.name);
        assert!(image.height() >= image.width(), "{}", entry.name);
        assert!(f64::from(image.height()) <= f64::from(image.width()) * 1.35 + 1.0);
        let expected = if datasets::is_rgb(i) {
            ColorType::Rgb8
        } else {
            ColorType::L8
        };
        assert_eq!(image.color(), expected, "{}", entry.name);
        assert_eq!(entry.channels, expected.channel_count());
    }
    // Index 17 is the first RGB image, so a 20-image set has one.
    assert!(manifest.files.iter().any(|f| f.channels == 3));
}

#[test]
fn the_first_ten_of_twenty_are_the_ten_set() {
    let ten = tempfile::tempdir().unwrap();
    let twenty = tempfile::tempdir().unwrap();
    xray(10, ten.path());
    xray(20, twenty.path());
    let m10 = Manifest::read(ten.path()).unwrap();
    let m20 = Manifest::read(twenty.path()).unwrap();
    assert_eq!(m10.files[..], m20.files[..10]);
    for entry in &m10.files {
        let x = fs::read(ten.path().join(&entry.name)).unwrap();
        let y = fs::read(twenty.path().join(&entry.name)).unwrap();
        assert!(x == y, "{} differs", entry.name);
    }
}

#[test]
fn a_second_run_reuses_the_files() {
    let dir = tempfile::tempdir().unwrap();
    xray(3, dir.path());
    let before: Vec<_> = files(dir.path());
    let mtime = |name: &str| {
        fs::metadata(dir.path().join(name))
            .unwrap()
            .modified()
            .unwrap()
    };
    let first = datasets::xray_file_name(0);
    let t0 = mtime(&first);
    xray(3, dir.path());
    assert_eq!(mtime(&first), t0);
    assert!(files(dir.path()) == before);
}

#[test]
fn a_users_dot_tmp_files_in_out_survive_and_only_our_stale_temporaries_go() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join(".notes.tmp");
    fs::write(&notes, b"my notes").unwrap();
    let lookalike = dir.path().join(".IM-0001-0001.jpeg.1-0.tmp");
    fs::write(&lookalike, b"also mine").unwrap();
    // What a run killed mid-write leaves: our prefix, a pid, a counter, the target's name.
    let stale = dir.path().join(".datasets-tmp-1-0.IM-0001-0001.jpeg");
    fs::write(&stale, b"half a jpeg").unwrap();
    xray(1, dir.path());
    assert_eq!(fs::read(&notes).unwrap(), b"my notes");
    assert_eq!(fs::read(&lookalike).unwrap(), b"also mine");
    assert!(!stale.exists(), "our own stale temporary is removed");
}

#[test]
fn a_different_seed_gives_different_images() {
    let a = tempfile::tempdir().unwrap();
    DATASETS.stdout(&[
        "xray",
        "--count",
        "1",
        "--seed",
        "7",
        "--out",
        a.path().to_str().unwrap(),
    ]);
    let seven = fs::read(a.path().join(datasets::xray_file_name(0))).unwrap();
    let default = datasets::xray_jpeg(datasets::DEFAULT_SEED, 0).unwrap();
    assert!(seven != default);
    assert!(
        seven == datasets::xray_jpeg(7, 0).unwrap(),
        "the binary and the library agree"
    );
}

#[test]
fn hostile_writes_seven_entries() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = DATASETS.stdout(&["hostile", "--out", dir.path().to_str().unwrap()]);
    assert!(stdout.starts_with("7 files, "), "{stdout}");
    assert!(dir.path().join("folder.jpeg").is_dir());
    assert!(dir.path().join("huge-header.jpeg").is_file());
}

#[test]
fn bad_arguments_exit_2() {
    DATASETS.assert_usage_errors(&[
        &["xray", "--count", "0"],
        &["xray", "--count", "many"],
        &["xray", "--quick", "--count", "5"],
        &["xray", "--seed", "-1"],
        &["hostile"],
        &["nonsense"],
        &[],
    ]);
}

#[test]
fn io_failures_are_one_error_line_and_exit_1() {
    // A folder inside a file cannot be created, whoever runs the test (root included).
    let file = tempfile::NamedTempFile::new().unwrap();
    let inside = file.path().join("set");
    for args in [
        vec!["xray", "--count", "1", "--out", inside.to_str().unwrap()],
        vec!["hostile", "--out", inside.to_str().unwrap()],
    ] {
        let out = DATASETS.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        let stderr = testing::text(out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: cannot create folder "),
            "{stderr}"
        );
        assert!(stderr.contains(inside.to_str().unwrap()), "{stderr}");
    }
}

#[test]
fn help_explains_every_flag() {
    let help = DATASETS.stdout(&["xray", "--help"]);
    for flag in ["--count", "--quick", "--seed", "--out"] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap();
        assert!(
            line.len() > flag.len() + 12,
            "{flag} has no explanation: {line}"
        );
    }
    assert!(DATASETS.stdout(&["hostile", "--help"]).contains("--out"));
    DATASETS.assert_help_mentions(&["xray", "hostile"]);
}
