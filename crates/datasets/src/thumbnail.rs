//! The talk's case-2 work on one file: decode a chest X-ray JPEG, make it 8-bit grey, and
//! shrink it to `side`×`side` pixels. Every way a file can be bad becomes a
//! [`DatasetError::Decode`] that names the file and says why in a few words.

use std::cell::Cell;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{ImageFormat, ImageReader, Limits};

use measure::{Failure, Fingerprint, Verify};
use serde_json::{Value, json};

use crate::{DatasetError, fnv1a64};

/// Widest or tallest image accepted (a header can declare 60000x60000 pixels; decoding it
/// would ask for 3.6 GB before finding out the data is missing).
pub const MAX_SIDE: u32 = 16_384;

/// Reads `path` and returns its `side * side` grey pixels, row by row.
pub fn thumbnail(path: &Path, side: u32) -> Result<Vec<u8>, DatasetError> {
    if path.is_dir() {
        return Err(decode_error(path, "is a directory, not a file"));
    }
    let bytes = std::fs::read(path).map_err(|e| DatasetError::io("read", path, e))?;
    thumbnail_from_bytes(path, &bytes, side)
}

/// [`thumbnail`] for bytes already in memory; `path` only names them in errors.
pub fn thumbnail_from_bytes(path: &Path, bytes: &[u8], side: u32) -> Result<Vec<u8>, DatasetError> {
    check_jpeg(bytes).map_err(|why| decode_error(path, why))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| decode_error(path, &e.to_string()))?;
    let grey = image.into_luma8();
    let small = image::imageops::resize(&grey, side, side, FilterType::Triangle);
    Ok(small.into_raw())
}

/// What the decoder would let through or report obscurely: an empty file, something that is
/// not a JPEG, and a truncated JPEG (which the decoder fills with grey without complaint).
fn check_jpeg(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.is_empty() {
        return Err("empty file");
    }
    if bytes.starts_with(b"\x89PNG") {
        return Err("a PNG file, not a JPEG");
    }
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG file (no start-of-image marker)");
    }
    // Inside JPEG scan data 0xFF is always followed by 0x00 or a restart marker, so FF D9 near
    // the end can only be the end-of-image marker (some writers add padding after it).
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    if !tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err("truncated JPEG (no end-of-image marker)");
    }
    Ok(())
}

fn decode_error(path: &Path, reason: &str) -> DatasetError {
    DatasetError::Decode {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// A file's name for messages (its path when it has none).
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Every input's thumbnail, or why it has none, in input order: the one result type of every
/// example that makes thumbnails (threads, process-pool), checked the same way everywhere.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Thumbnails {
    /// Each input's `side * side` grey pixels, or the one-line reason it has none.
    pub items: Vec<Result<Vec<u8>, String>>,
    /// The inputs the executor lost (its worker died, the task timed out or panicked): their
    /// items are errors too, but the input is not to blame, so the row that lost them says so
    /// ([`Verify::failures`]).
    pub lost: Vec<Failure>,
    /// Each input's name ([`file_name`]), in the same order, for [`Verify::failures`]; empty
    /// when unknown (then an input is named by its position, `#i`).
    pub names: Vec<String>,
}

impl Thumbnails {
    /// Results where nothing was lost.
    pub fn new(items: Vec<Result<Vec<u8>, String>>) -> Thumbnails {
        Thumbnails {
            items,
            ..Thumbnails::default()
        }
    }

    /// The results of the inputs `paths` (in the same order), with `lost` the inputs the
    /// executor lost (their items are errors too).
    pub fn of(
        paths: &[PathBuf],
        items: Vec<Result<Vec<u8>, String>>,
        lost: Vec<Failure>,
    ) -> Thumbnails {
        Thumbnails {
            items,
            lost,
            names: paths.iter().map(|p| file_name(p)).collect(),
        }
    }

    fn name(&self, i: usize) -> String {
        self.names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("#{i}"))
    }

    /// The inputs that failed, one line each (`paths` are the inputs, in the same order).
    pub fn input_failures(&self, paths: &[PathBuf]) -> Vec<Failure> {
        self.items
            .iter()
            .zip(paths)
            .filter_map(|(r, p)| {
                r.as_ref().err().map(|e| Failure {
                    input: file_name(p),
                    error: e.clone(),
                })
            })
            .collect()
    }
}

impl Verify for Thumbnails {
    /// Every input without a thumbnail, one line each: the inputs the executor lost first
    /// (their error names the worker, its pid and the signal), then the inputs that failed on
    /// their own (a file that does not decode). A row that lost an input the baseline
    /// processed is ✗, and the report's summary counts it.
    fn failures(&self) -> Vec<Failure> {
        let mut out = self.lost.clone();
        for (i, item) in self.items.iter().enumerate() {
            if let Err(e) = item {
                let input = self.name(i);
                if !out.iter().any(|f| f.input == input) {
                    out.push(Failure {
                        input,
                        error: e.clone(),
                    });
                }
            }
        }
        out
    }

    /// How many inputs, which failed, a digest per thumbnail in input order (what two Rust
    /// results must share exactly) and every pixel of the thumbnails in order, as hex, for
    /// the comparison with Python's within a tolerance ([`ThumbnailCheck`]).
    fn fingerprint(&self) -> Fingerprint {
        let failed: Vec<usize> = (0..self.items.len())
            .filter(|&i| self.items[i].is_err())
            .collect();
        let digests: Vec<u64> = self
            .items
            .iter()
            .map(|r| r.as_ref().map_or(0, |t| fnv1a64(t)))
            .collect();
        let mut pixels = String::new();
        for t in self.items.iter().flatten() {
            push_hex(&mut pixels, t);
        }
        Fingerprint(json!({
            "images": self.items.len(),
            "failed": failed,
            "first_error": self.items.iter().find_map(|r| r.as_ref().err()),
            "digests": digests,
            "pixels": pixels,
        }))
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
}

fn from_hex(hex: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("'{}' is not a hex digit", c as char)),
    };
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return Err("an odd number of hex digits".into());
    }
    bytes
        .chunks_exact(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// How one thumbnail differs from another of the same size: the largest difference of one
/// pixel (in grey levels of 255) and the peak signal-to-noise ratio in dB (infinite when equal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    pub max_abs: u8,
    pub psnr_db: f64,
}

impl Difference {
    pub fn between(a: &[u8], b: &[u8]) -> Difference {
        let mut max_abs = 0u8;
        let mut squares = 0u64;
        for (&x, &y) in a.iter().zip(b) {
            let d = x.abs_diff(y);
            max_abs = max_abs.max(d);
            squares += d as u64 * d as u64;
        }
        let mse = squares as f64 / a.len().max(1) as f64;
        let psnr_db = match mse {
            0.0 => f64::INFINITY,
            _ => 10.0 * (255.0f64 * 255.0 / mse).log10(),
        };
        Difference { max_abs, psnr_db }
    }
}

/// How far a Pillow thumbnail (`Image.open(p).convert("L").resize((64, 64))`: libjpeg's
/// decoder, Pillow's bicubic filter) may be from ours (zune-jpeg, a triangle filter) and still
/// count as the same image. Measured on the 1,341 generated X-rays (2026-12, Pillow 13): at
/// most 11 grey levels at any pixel (median over images 7), PSNR at least 43.5 dB (median 45.1).
/// The wrong results the check exists for are far away: the same set transposed differs by at
/// least 149 levels (PSNR at most 13.3 dB), flipped left-right by 64 (28.2 dB), two
/// neighbouring images swapped by 72 (25.0 dB), any two different images by 60 (27.7 dB).
/// The bounds sit between, with room on both sides: about twice the largest measured
/// difference, and 7 dB under the lowest measured PSNR.
pub const PILLOW_MAX_ABS: u8 = 24;
/// See [`PILLOW_MAX_ABS`].
pub const PILLOW_MIN_PSNR_DB: f64 = 36.0;

/// The check of one result's thumbnails against the baseline's ([`Suite::compare_with`]
/// (measure::Suite::compare_with)).
///
/// - A result whose fingerprint has `digests` (every Rust row) must match the baseline
///   exactly: the same inputs failed, and every thumbnail byte for byte, in order.
/// - A result without them (a Python row: Pillow decodes with libjpeg and resizes with its
///   own bicubic filter, so its pixels are close, not equal) must have the same inputs failed
///   and each thumbnail, in order, within `max_abs` grey levels at every pixel and at least
///   `min_psnr_db` dB of PSNR against the baseline's. Its pixels come as hex (`pixels`) or in
///   a raw file (`pixels_file`: the thumbnails one after the other).
///
/// `worst` records the largest difference that passed, for the report's note.
#[derive(Debug)]
pub struct ThumbnailCheck {
    pub side: u32,
    pub max_abs: u8,
    pub min_psnr_db: f64,
    pub worst: Cell<Option<Difference>>,
}

impl ThumbnailCheck {
    pub fn new(side: u32, max_abs: u8, min_psnr_db: f64) -> ThumbnailCheck {
        ThumbnailCheck {
            side,
            max_abs,
            min_psnr_db,
            worst: Cell::new(None),
        }
    }

    /// The bounds for Pillow's thumbnails ([`PILLOW_MAX_ABS`], [`PILLOW_MIN_PSNR_DB`]).
    pub fn pillow(side: u32) -> ThumbnailCheck {
        ThumbnailCheck::new(side, PILLOW_MAX_ABS, PILLOW_MIN_PSNR_DB)
    }

    /// What the check allows, for a row's note.
    pub fn describe(&self) -> String {
        format!(
            "each thumbnail, in order, within {} grey levels of the baseline's at every pixel and \
             at least {:.0} dB PSNR",
            self.max_abs, self.min_psnr_db
        )
    }

    /// The verdict on `other` against `base`.
    pub fn compare(&self, base: &Fingerprint, other: &Fingerprint) -> Result<(), String> {
        let (base, other) = (&base.0, &other.0);
        if base["images"] != other["images"] {
            return Err(format!(
                "{} images, expected {}",
                other["images"], base["images"]
            ));
        }
        if base["failed"] != other["failed"] {
            let count = |v: &Value| v.as_array().map_or(0, Vec::len);
            return Err(format!(
                "{} of {} images failed where the baseline had {} failures (first: {})",
                count(&other["failed"]),
                other["images"],
                count(&base["failed"]),
                other["first_error"].as_str().unwrap_or("none")
            ));
        }
        if let Some(digests) = other.get("digests") {
            if let (Some(a), Some(b)) = (base["digests"].as_array(), digests.as_array())
                && let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i])
            {
                return Err(format!(
                    "image {i}: thumbnail differs from the baseline's (byte-exact check)"
                ));
            }
            return match base["digests"] == *digests {
                true => Ok(()),
                false => Err("thumbnails differ from the baseline's (byte-exact check)".into()),
            };
        }
        let ours = pixels(base)?;
        let theirs = pixels(other)?;
        let area = (self.side * self.side) as usize;
        if ours.len() != theirs.len() || ours.len() % area != 0 {
            return Err(format!(
                "{} bytes of thumbnails, expected {} ({} of {}x{})",
                theirs.len(),
                ours.len(),
                ours.len() / area,
                self.side,
                self.side
            ));
        }
        let ok: Vec<usize> = {
            let failed: Vec<u64> = base["failed"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let images = base["images"].as_u64().unwrap_or(0);
            (0..images)
                .filter(|i| !failed.contains(i))
                .map(|i| i as usize)
                .collect()
        };
        let mut worst: Option<Difference> = None;
        for (k, (a, b)) in ours.chunks(area).zip(theirs.chunks(area)).enumerate() {
            let d = Difference::between(a, b);
            let image = ok.get(k).copied().unwrap_or(k);
            if d.max_abs > self.max_abs || d.psnr_db < self.min_psnr_db {
                return Err(format!(
                    "image {image}: thumbnail differs from the baseline's by up to {} grey                      levels, PSNR {:.1} dB (allowed: at most {} levels, at least {:.0} dB)",
                    d.max_abs, d.psnr_db, self.max_abs, self.min_psnr_db
                ));
            }
            worst = Some(match worst {
                None => d,
                Some(w) => Difference {
                    max_abs: w.max_abs.max(d.max_abs),
                    psnr_db: w.psnr_db.min(d.psnr_db),
                },
            });
        }
        if let Some(d) = worst {
            let w = self.worst.get().unwrap_or(d);
            self.worst.set(Some(Difference {
                max_abs: w.max_abs.max(d.max_abs),
                psnr_db: w.psnr_db.min(d.psnr_db),
            }));
        }
        Ok(())
    }
}

/// The thumbnails' bytes of a fingerprint: inline hex, or a raw file the script wrote.
fn pixels(fp: &Value) -> Result<Vec<u8>, String> {
    if let Some(hex) = fp.get("pixels").and_then(Value::as_str) {
        return from_hex(hex).map_err(|e| format!("bad pixels in the fingerprint: {e}"));
    }
    match fp.get("pixels_file").and_then(Value::as_str) {
        Some(path) => std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}")),
        None => Err("the fingerprint carries no thumbnails (no pixels, no pixels_file)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_SEED, write_hostile, xray_jpeg};

    #[test]
    fn a_generated_xray_becomes_64_by_64_grey() {
        let dir = tempfile::tempdir().unwrap();
        for index in [0, 17] {
            // index 17 is stored as RGB
            let path = dir.path().join(format!("{index}.jpeg"));
            std::fs::write(&path, xray_jpeg(DEFAULT_SEED, index).unwrap()).unwrap();
            let pixels = thumbnail(&path, 64).unwrap();
            assert_eq!(pixels.len(), 64 * 64);
            let mean = pixels.iter().map(|&p| p as u64).sum::<u64>() / pixels.len() as u64;
            assert!(
                (20..235).contains(&mean),
                "an X-ray is neither black nor white: {mean}"
            );
            assert_eq!(pixels, thumbnail(&path, 64).unwrap(), "deterministic");
        }
    }

    #[test]
    fn every_hostile_file_is_one_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let hostile = write_hostile(dir.path()).unwrap();
        let reason = |name: &str| {
            let h = hostile.iter().find(|h| h.name == name).unwrap();
            thumbnail(&h.path, 64).map(|_| ()).unwrap_err().to_string()
        };
        assert!(reason("empty.jpeg").ends_with("empty.jpeg: empty file"));
        assert!(reason("truncated.jpeg").contains("truncated JPEG"));
        assert!(reason("text.jpeg").contains("not a JPEG file"));
        assert!(reason("png-named.jpeg").contains("a PNG file, not a JPEG"));
        assert!(
            reason("huge-header.jpeg").contains("cannot decode"),
            "{}",
            reason("huge-header.jpeg")
        );
        assert!(reason("folder.jpeg").contains("is a directory"));
        for h in &hostile {
            if h.name == "unreadable.jpeg" {
                continue; // root reads it anyway; others get a permission error
            }
            assert!(
                !reason(h.name).contains('\n'),
                "one line: {}",
                reason(h.name)
            );
        }
    }

    /// Real thumbnails of generated X-rays, and a fingerprint shaped like the Python script's.
    fn real_thumbnails(count: usize) -> Thumbnails {
        let dir = tempfile::tempdir().unwrap();
        let mut items = Vec::new();
        for index in 0..count {
            let path = dir.path().join(format!("{index}.jpeg"));
            std::fs::write(&path, xray_jpeg(DEFAULT_SEED, index).unwrap()).unwrap();
            items.push(thumbnail(&path, 64).map_err(|e| e.to_string()));
        }
        items.push(Err("cannot decode bad.jpeg: empty file".into()));
        Thumbnails::new(items)
    }

    fn python_like(t: &Thumbnails, file: Option<&Path>) -> Fingerprint {
        let failed: Vec<usize> = (0..t.items.len())
            .filter(|&i| t.items[i].is_err())
            .collect();
        let raw: Vec<u8> = t.items.iter().flatten().flatten().copied().collect();
        let mut fp = json!({"images": t.items.len(), "failed": failed});
        match file {
            Some(path) => {
                std::fs::write(path, &raw).unwrap();
                fp["pixels_file"] = json!(path.display().to_string());
            }
            None => {
                let mut hex = String::new();
                push_hex(&mut hex, &raw);
                fp["pixels"] = json!(hex);
            }
        }
        Fingerprint(fp)
    }

    fn transpose(t: &[u8], side: usize) -> Vec<u8> {
        (0..side * side)
            .map(|i| t[(i % side) * side + i / side])
            .collect()
    }

    #[test]
    fn python_thumbnails_pass_only_when_each_image_is_close_and_in_order() {
        let base = real_thumbnails(3);
        let reference = base.fingerprint();
        let check = ThumbnailCheck::pillow(64);
        assert_eq!(check.compare(&reference, &python_like(&base, None)), Ok(()));
        assert_eq!(check.worst.get().unwrap().max_abs, 0);

        // Pillow-sized differences pass: a few levels everywhere, 20 at one pixel.
        let mut near = base.clone();
        for t in near.items.iter_mut().flatten() {
            for (i, p) in t.iter_mut().enumerate() {
                *p = p.saturating_add((i % 5) as u8);
            }
            t[100] = t[100].saturating_sub(20);
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("near.raw");
        assert_eq!(
            check.compare(&reference, &python_like(&near, Some(&file))),
            Ok(())
        );
        let worst = check.worst.get().unwrap();
        assert!(worst.max_abs >= 20 && worst.psnr_db > 36.0, "{worst:?}");

        // A transposed thumbnail gets ✗.
        let mut transposed = base.clone();
        let t = transposed.items[1].as_mut().unwrap();
        *t = transpose(t, 64);
        let e = check
            .compare(&reference, &python_like(&transposed, None))
            .unwrap_err();
        assert!(e.starts_with("image 1: thumbnail differs"), "{e}");

        // A swapped pair gets ✗, though every image is a good thumbnail of some input.
        let mut swapped = base.clone();
        swapped.items.swap(0, 2);
        let e = check
            .compare(&reference, &python_like(&swapped, Some(&file)))
            .unwrap_err();
        assert!(e.starts_with("image 0: thumbnail differs"), "{e}");

        // Other failures, a missing thumbnail, a missing file: ✗, each with its reason.
        let mut lost = base.clone();
        lost.items[2] = Err("worker died".into());
        let e = check
            .compare(&reference, &python_like(&lost, None))
            .unwrap_err();
        assert!(
            e.starts_with("2 of 4 images failed where the baseline had 1"),
            "{e}"
        );
        let mut short = python_like(&base, None);
        short.0["pixels"] = json!(short.0["pixels"].as_str().unwrap()[2..].to_string());
        assert!(check.compare(&reference, &short).is_err());
        let mut gone = python_like(&base, Some(&file));
        gone.0["pixels_file"] = json!(dir.path().join("nowhere.raw").display().to_string());
        let e = check.compare(&reference, &gone).unwrap_err();
        assert!(
            e.starts_with("cannot read ") && e.contains("nowhere.raw"),
            "{e}"
        );
    }

    #[test]
    fn rust_thumbnails_must_match_byte_for_byte_in_order() {
        let base = real_thumbnails(3);
        let check = ThumbnailCheck::pillow(64);
        let reference = base.fingerprint();
        assert_eq!(
            check.compare(&reference, &base.clone().fingerprint()),
            Ok(())
        );
        let mut one_level = base.clone();
        one_level.items[1].as_mut().unwrap()[7] ^= 1;
        let e = check
            .compare(&reference, &one_level.fingerprint())
            .unwrap_err();
        assert!(e.starts_with("image 1: thumbnail differs"), "{e}");
        let mut transposed = base.clone();
        let t = transposed.items[0].as_mut().unwrap();
        *t = transpose(t, 64);
        assert!(
            check
                .compare(&reference, &transposed.fingerprint())
                .is_err()
        );
        let mut swapped = base.clone();
        swapped.items.swap(0, 1);
        assert!(check.compare(&reference, &swapped.fingerprint()).is_err());
        let mut timed_out = base.clone();
        timed_out.items[0] = Err("task \"resize\" #1 timed out".into());
        let e = check
            .compare(&reference, &timed_out.fingerprint())
            .unwrap_err();
        assert!(e.contains("(first: task \"resize\" #1 timed out)"), "{e}");
    }

    #[test]
    fn failures_name_lost_inputs_first_then_bad_ones() {
        let paths: Vec<PathBuf> = ["a.jpeg", "b.jpeg", "c.jpeg"]
            .iter()
            .map(|n| Path::new("/in").join(n))
            .collect();
        let lost = Failure {
            input: "b.jpeg".into(),
            error: "worker pid 7 died while running it: killed by signal 9 (SIGKILL)".into(),
        };
        let t = Thumbnails::of(
            &paths,
            vec![Err("empty file".into()), Err("died".into()), Ok(vec![1])],
            vec![lost.clone()],
        );
        let f = t.failures();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0], lost);
        assert_eq!(
            (f[1].input.as_str(), f[1].error.as_str()),
            ("a.jpeg", "empty file")
        );
        let unnamed = Thumbnails::new(vec![Ok(vec![1]), Err("bad".into())]).failures();
        assert_eq!(unnamed[0].input, "#1");
    }

    #[test]
    fn differences_are_max_abs_and_psnr() {
        assert_eq!(
            Difference::between(&[1, 2, 3], &[1, 2, 3]),
            Difference {
                max_abs: 0,
                psnr_db: f64::INFINITY
            }
        );
        let d = Difference::between(&[0, 0, 0, 0], &[10, 0, 0, 0]);
        assert_eq!(d.max_abs, 10);
        // MSE 25: 10 log10(255² / 25) = 34.15 dB.
        assert!((d.psnr_db - 34.151).abs() < 1e-3, "{}", d.psnr_db);
        assert_eq!(from_hex("00ff7A").unwrap(), [0, 255, 122]);
        assert!(from_hex("0").is_err() && from_hex("zz").is_err());
    }

    #[test]
    fn a_real_jpeg_cut_in_its_scan_data_is_caught() {
        let bytes = xray_jpeg(DEFAULT_SEED, 3).unwrap();
        let cut = &bytes[..bytes.len() * 2 / 3];
        let err = thumbnail_from_bytes(Path::new("cut.jpeg"), cut, 64).unwrap_err();
        assert!(err.to_string().contains("truncated JPEG"), "{err}");
    }
}
