//! The cache: generated once, reused after, repaired when a file is missing or damaged.

use datasets::{Manifest, cached_xray_set_in, set_dir_name};
use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

const SEED: u64 = 11;

fn mtimes(paths: &[PathBuf]) -> Vec<SystemTime> {
    paths
        .iter()
        .map(|p| fs::metadata(p).unwrap().modified().unwrap())
        .collect()
}

#[test]
fn a_second_call_reuses_every_file() {
    let root = tempfile::tempdir().unwrap();
    let first = cached_xray_set_in(root.path(), 3, SEED, false).unwrap();
    assert_eq!(first.dir, root.path().join("xray-seed11-v1"));
    assert_eq!(first.dir, root.path().join(set_dir_name(SEED)));
    assert_eq!(first.generated, 3);
    assert_eq!(first.paths.len(), 3);
    assert_eq!(
        first.total_bytes,
        first
            .paths
            .iter()
            .map(|p| fs::metadata(p).unwrap().len())
            .sum::<u64>()
    );
    assert!(first.dir.join("manifest.json").is_file());
    let before = mtimes(&first.paths);
    let manifest_time = fs::metadata(first.dir.join("manifest.json"))
        .unwrap()
        .modified()
        .unwrap();

    let second = cached_xray_set_in(root.path(), 3, SEED, false).unwrap();
    assert_eq!(second.generated, 0);
    assert_eq!(second.paths, first.paths);
    assert_eq!(second.entries, first.entries);
    assert_eq!(mtimes(&second.paths), before);
    let manifest_after = fs::metadata(first.dir.join("manifest.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        manifest_after, manifest_time,
        "nothing changed: the manifest is not rewritten"
    );

    // A smaller set is a prefix and generates nothing.
    let one = cached_xray_set_in(root.path(), 1, SEED, false).unwrap();
    assert_eq!(one.generated, 0);
    assert_eq!(one.paths[..], first.paths[..1]);
}

#[test]
fn missing_or_damaged_files_are_regenerated_identically() {
    let root = tempfile::tempdir().unwrap();
    let set = cached_xray_set_in(root.path(), 3, SEED, false).unwrap();
    let original: Vec<Vec<u8>> = set.paths.iter().map(|p| fs::read(p).unwrap()).collect();
    fs::remove_file(&set.paths[0]).unwrap();
    fs::write(&set.paths[2], b"half a file").unwrap();
    let untouched = mtimes(&set.paths[1..2]);

    let again = cached_xray_set_in(root.path(), 3, SEED, false).unwrap();
    assert_eq!(again.generated, 2);
    assert_eq!(mtimes(&again.paths[1..2]), untouched);
    for (path, bytes) in again.paths.iter().zip(&original) {
        assert!(&fs::read(path).unwrap() == bytes, "{}", path.display());
    }
}

#[test]
fn a_same_size_damaged_file_is_caught_by_its_hash_and_regenerated() {
    let root = tempfile::tempdir().unwrap();
    let set = cached_xray_set_in(root.path(), 2, SEED, false).unwrap();
    let original = fs::read(&set.paths[1]).unwrap();
    // Flip one byte in the middle: same size, other bytes.
    let mut damaged = original.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0x55;
    fs::write(&set.paths[1], &damaged).unwrap();
    assert_eq!(
        fs::metadata(&set.paths[1]).unwrap().len(),
        set.entries[1].bytes
    );

    let again = cached_xray_set_in(root.path(), 2, SEED, false).unwrap();
    assert_eq!(again.generated, 1, "only the damaged file is made again");
    assert!(fs::read(&again.paths[1]).unwrap() == original);
}

#[test]
fn growing_the_set_keeps_the_old_files_and_lists_all_in_the_manifest() {
    let root = tempfile::tempdir().unwrap();
    let small = cached_xray_set_in(root.path(), 2, SEED, false).unwrap();
    let before = mtimes(&small.paths);
    let big = cached_xray_set_in(root.path(), 4, SEED, false).unwrap();
    assert_eq!(big.generated, 2);
    assert_eq!(mtimes(&big.paths[..2]), before);

    let manifest = Manifest::read(&big.dir).unwrap();
    assert_eq!(manifest.files.len(), 4);
    assert_eq!(manifest.files, big.entries);
    for (entry, path) in manifest.files.iter().zip(&big.paths) {
        assert_eq!(datasets::fnv1a64(&fs::read(path).unwrap()), entry.fnv1a64);
    }
    // No temporaries left behind.
    for e in fs::read_dir(&big.dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".tmp") && !name.starts_with(".datasets-tmp-"),
            "{name}"
        );
    }
}

#[test]
fn concurrent_callers_generate_each_image_once() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().to_path_buf();
    let sets: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| s.spawn(|| cached_xray_set_in(&path, 2, SEED + 1, false).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sets[0].entries, sets[1].entries);
    // The folder lock makes the second caller wait, then find everything there.
    assert_eq!(sets[0].generated + sets[1].generated, 2);
}

#[test]
fn a_manifest_of_another_seed_or_garbage_is_ignored() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(set_dir_name(SEED));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("manifest.json"), b"{ not json").unwrap();
    let set = cached_xray_set_in(root.path(), 1, SEED, false).unwrap();
    assert_eq!(set.generated, 1);
    assert_eq!(Manifest::read(&dir).unwrap().files.len(), 1);

    // write_xray_set into a folder that holds another seed's set regenerates.
    let seven = datasets::write_xray_set(&dir, 1, 7, false).unwrap();
    assert_eq!(seven.seed, 7);
    assert_ne!(seven.files[0].fnv1a64, set.entries[0].fnv1a64);
    assert_eq!(Manifest::read(&dir).unwrap().seed, 7);
}
