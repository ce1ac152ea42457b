//! A set of X-ray-like images on disk, with its manifest: generated once, reused after.
//!
//! Layout of a set folder (the cache's is `target/talk-data/xray-seed{seed}-v1/`):
//!
//! ```text
//! manifest.json            { generator, version, seed, jpeg_quality, files: [ {index, name,
//!                            width, height, channels, bytes, fnv1a64}, ... ] } in index order
//! IM-0001-0001.jpeg        image 0
//! IM-0002-0001.jpeg        image 1
//! NORMAL2-IM-0003-0001.jpeg
//! ...
//! .datasets.lock           held while a process fills the folder
//! ```
//!
//! Every file (images and manifest) is written under a temporary name and renamed into place,
//! so a reader never sees half a file. A process filling the folder holds an exclusive lock on
//! `.datasets.lock`, so two processes asking for the same set at once generate it once; where
//! the file system has no locks, the renames and a merge of the manifest keep it correct anyway.

use crate::JPEG_QUALITY;
use crate::error::DatasetError;
use crate::rng::fnv1a64;
use crate::xray::{encode_jpeg, xray_file_name, xray_image};
use measure::progress::Progress;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The manifest's file name inside a set folder.
pub const MANIFEST_NAME: &str = "manifest.json";
/// Bump when the generator's output changes: old caches then stay as they are, unused.
const SET_VERSION: u32 = 1;
const GENERATOR: &str = "datasets: X-ray-like chest images";
const LOCK_NAME: &str = ".datasets.lock";

/// One image of a set, as recorded in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub index: usize,
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// 1 for grayscale, 3 for RGB.
    pub channels: u8,
    /// File size in bytes.
    pub bytes: u64,
    /// [`fnv1a64`](crate::fnv1a64) of the file's bytes, as 16 hex digits in the JSON.
    #[serde(with = "hex64")]
    pub fnv1a64: u64,
}

/// What `manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub version: u32,
    pub seed: u64,
    pub jpeg_quality: u8,
    /// In index order.
    pub files: Vec<ManifestEntry>,
}

impl Manifest {
    fn new(seed: u64, files: Vec<ManifestEntry>) -> Manifest {
        Manifest {
            generator: GENERATOR.into(),
            version: SET_VERSION,
            seed,
            jpeg_quality: JPEG_QUALITY,
            files,
        }
    }

    /// Reads `dir/manifest.json`; `None` when it is missing or unreadable.
    pub fn read(dir: &Path) -> Option<Manifest> {
        let text = fs::read(dir.join(MANIFEST_NAME)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// The sum of the files' sizes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// The files' paths inside `dir`, in index order.
    pub fn paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.files.iter().map(|f| dir.join(&f.name)).collect()
    }

    /// Whether this manifest describes a set made by this generator with `seed`.
    fn matches(&self, seed: u64) -> bool {
        self.version == SET_VERSION && self.seed == seed && self.jpeg_quality == JPEG_QUALITY
    }
}

/// The first `count` images of a cached set.
#[derive(Debug, Clone)]
pub struct XraySet {
    /// The set's folder.
    pub dir: PathBuf,
    /// The images in index order.
    pub paths: Vec<PathBuf>,
    /// The manifest entries of `paths`, same order.
    pub entries: Vec<ManifestEntry>,
    /// The sum of the files' sizes.
    pub total_bytes: u64,
    /// How many of them this call generated (0 when the cache had them all).
    pub generated: usize,
}

/// Where sets are cached: `target/talk-data/` (`CARGO_TARGET_DIR` is honoured).
pub fn cache_root() -> PathBuf {
    measure::process::target_dir().join("talk-data")
}

/// The folder name of the set made with `seed` inside a cache root: `xray-seed2020-v1`.
pub fn set_dir_name(seed: u64) -> String {
    format!("xray-seed{seed}-v{SET_VERSION}")
}

/// The first `count` images of the set made with `seed`, from the cache under
/// `target/talk-data/`, generating only those that are missing (in parallel).
/// `progress` draws a bar on stderr while generating.
pub fn cached_xray_set(count: usize, seed: u64, progress: bool) -> Result<XraySet, DatasetError> {
    cached_xray_set_in(&cache_root(), count, seed, progress)
}

/// [`cached_xray_set`] with the cache root given: the set lives in `root/xray-seed{seed}-v1/`.
pub fn cached_xray_set_in(
    root: &Path,
    count: usize,
    seed: u64,
    progress: bool,
) -> Result<XraySet, DatasetError> {
    let dir = root.join(set_dir_name(seed));
    let (manifest, generated) = fill(&dir, count, seed, progress)?;
    Ok(XraySet {
        paths: manifest.paths(&dir),
        total_bytes: manifest.total_bytes(),
        entries: manifest.files,
        dir,
        generated,
    })
}

/// Writes the first `count` images of the set made with `seed` into `dir` (created if needed),
/// with a `manifest.json`. Files already there with the manifest's size are kept.
/// Returns the manifest of these `count` images; the one on disk lists every image in `dir`
/// (more, when `dir` already held a larger set of the same seed).
pub fn write_xray_set(
    dir: &Path,
    count: usize,
    seed: u64,
    progress: bool,
) -> Result<Manifest, DatasetError> {
    fill(dir, count, seed, progress).map(|(manifest, _)| manifest)
}

/// Makes sure `dir` holds images `0..count`; returns their manifest and how many were made.
fn fill(
    dir: &Path,
    count: usize,
    seed: u64,
    progress: bool,
) -> Result<(Manifest, usize), DatasetError> {
    fs::create_dir_all(dir).map_err(|e| DatasetError::io("create folder", dir, e))?;
    let lock = DirLock::acquire(dir)?;
    if lock.is_held() {
        remove_stale_temporaries(dir);
    }

    let on_disk = known_entries(dir, seed);
    // Reading every cached file back to hash it is I/O-bound and parallel, like generating.
    let missing: Vec<usize> = (0..count)
        .into_par_iter()
        .filter(|&i| !is_present(dir, i, on_disk.get(&i)))
        .collect();

    let bar = Progress::bar(
        progress && !missing.is_empty(),
        missing.len() as u64,
        "generating X-ray-like images",
    );
    let results: Vec<Result<ManifestEntry, DatasetError>> = missing
        .par_iter()
        .map(|&i| {
            let entry = generate_one(dir, seed, i);
            bar.inc();
            entry
        })
        .collect();
    bar.finish();

    // Merge with what is on disk *now* (another process may have added images meanwhile).
    let mut entries = known_entries(dir, seed);
    let before = entries.clone();
    entries.extend(on_disk);
    let mut first_error = None;
    let mut generated = 0;
    for result in results {
        match result {
            Ok(entry) => {
                generated += 1;
                entries.insert(entry.index, entry);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if entries != before || Manifest::read(dir).is_none() {
        let manifest = Manifest::new(seed, entries.values().cloned().collect());
        write_manifest(dir, &manifest)?;
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    drop(lock);
    let files = (0..count).filter_map(|i| entries.remove(&i)).collect();
    Ok((Manifest::new(seed, files), generated))
}

/// The manifest's entries by index, when it describes this seed's set.
fn known_entries(dir: &Path, seed: u64) -> BTreeMap<usize, ManifestEntry> {
    match Manifest::read(dir) {
        Some(m) if m.matches(seed) => m.files.into_iter().map(|f| (f.index, f)).collect(),
        _ => BTreeMap::new(),
    }
}

/// Image `index` is on disk under its name with the size and the hash its manifest entry
/// records: a file damaged in place (same size, other bytes) is regenerated, not reused.
fn is_present(dir: &Path, index: usize, entry: Option<&ManifestEntry>) -> bool {
    let Some(entry) = entry else { return false };
    if entry.name != xray_file_name(index) {
        return false;
    }
    let path = dir.join(&entry.name);
    match fs::metadata(&path) {
        Ok(meta) if meta.is_file() && meta.len() == entry.bytes => {}
        _ => return false,
    }
    match fs::read(&path) {
        Ok(bytes) => bytes.len() as u64 == entry.bytes && fnv1a64(&bytes) == entry.fnv1a64,
        Err(_) => false,
    }
}

fn generate_one(dir: &Path, seed: u64, index: usize) -> Result<ManifestEntry, DatasetError> {
    let image = xray_image(seed, index);
    let bytes = encode_jpeg(&image).map_err(|e| match e {
        DatasetError::Encode { source, .. } => DatasetError::Encode {
            path: dir.join(&image.name),
            source,
        },
        other => other,
    })?;
    write_atomic(&dir.join(&image.name), &bytes)?;
    Ok(ManifestEntry {
        index,
        name: image.name,
        width: image.width,
        height: image.height,
        channels: image.channels,
        bytes: bytes.len() as u64,
        fnv1a64: fnv1a64(&bytes),
    })
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), DatasetError> {
    let path = dir.join(MANIFEST_NAME);
    let mut json =
        serde_json::to_vec_pretty(manifest).map_err(|source| DatasetError::Manifest {
            path: path.clone(),
            source,
        })?;
    json.push(b'\n');
    write_atomic(&path, &json)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The start of every temporary this crate writes: `.datasets-tmp-PID-N.NAME`. Only names of
/// exactly that shape are ever deleted, so a user's own `.notes.tmp` in `--out DIR` is safe.
const TEMP_PREFIX: &str = ".datasets-tmp-";

/// The temporary name for `name`: `.datasets-tmp-PID-N.NAME`.
fn temp_name(name: &str, pid: u32, unique: u64) -> String {
    format!("{TEMP_PREFIX}{pid}-{unique}.{name}")
}

/// Whether `name` is one of ours ([`temp_name`]'s shape), left by a process that died.
fn is_our_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
        return false;
    };
    let Some((pid, rest)) = rest.split_once('-') else {
        return false;
    };
    let Some((unique, target)) = rest.split_once('.') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(pid) && digits(unique) && !target.is_empty()
}

/// Writes `bytes` to a temporary name beside `path`, then renames it into place.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = path.with_file_name(temp_name(&name, std::process::id(), unique));
    if let Err(e) = fs::write(&temp, bytes) {
        let _ = fs::remove_file(&temp);
        return Err(DatasetError::io("write", &temp, e));
    }
    fs::rename(&temp, path).map_err(|e| {
        let _ = fs::remove_file(&temp);
        DatasetError::io("rename into place", path, e)
    })
}

/// Temporaries left by a process that died mid-write (only called while holding the lock).
fn remove_stale_temporaries(dir: &Path) {
    let Ok(read) = fs::read_dir(dir) else { return };
    for entry in read.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_our_temporary(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// An exclusive lock on `dir/.datasets.lock`, released on drop (and by the OS if we die).
struct DirLock {
    file: Option<fs::File>,
}

impl DirLock {
    fn acquire(dir: &Path) -> Result<DirLock, DatasetError> {
        let path = dir.join(LOCK_NAME);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| DatasetError::io("open lock file", &path, e))?;
        match file.lock() {
            Ok(()) => Ok(DirLock { file: Some(file) }),
            // No locks on this file system: go on without (renames keep files whole).
            Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(DirLock { file: None }),
            Err(e) => Err(DatasetError::io("lock", &path, e)),
        }
    }

    fn is_held(&self) -> bool {
        self.file.is_some()
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            let _ = f.unlock();
        }
    }
}

/// A u64 as 16 lowercase hex digits (JSON numbers above 2^53 lose digits in many readers).
mod hex64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{value:016x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_with_hex_hash() {
        let m = Manifest::new(
            5,
            vec![ManifestEntry {
                index: 0,
                name: "IM-0001-0001.jpeg".into(),
                width: 1000,
                height: 1200,
                channels: 1,
                bytes: 123,
                fnv1a64: 0xE220_A839_7B1D_CDAF,
            }],
        );
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"fnv1a64\":\"e220a8397b1dcdaf\""), "{json}");
        let back: Manifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.total_bytes(), 123);
    }

    #[test]
    fn set_folder_name() {
        assert_eq!(set_dir_name(2020), "xray-seed2020-v1");
    }

    #[test]
    fn atomic_write_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn stale_temporaries_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let ours = temp_name("IM-0001-0001.jpeg", 99, 0);
        fs::write(dir.path().join(&ours), b"half").unwrap();
        // A user's files that merely look temporary, and near misses of our own shape.
        let theirs = [
            "keep.jpeg",
            ".notes.tmp",
            ".IM-0001-0001.jpeg.99-0.tmp",
            ".datasets-tmp-notes",
            ".datasets-tmp-12-x.jpeg",
            ".datasets-tmp-12-3.",
        ];
        for name in theirs {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_stale_temporaries(dir.path());
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected: Vec<_> = theirs.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected, "only {ours} goes");
    }
}
