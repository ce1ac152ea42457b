//! The talk's case-2 work on one file: decode a chest X-ray JPEG, make it 8-bit grey, and
//! shrink it to `side`×`side` pixels. Every way a file can be bad becomes a
//! [`DatasetError::Decode`] that names the file and says why in a few words.

use std::io::Cursor;
use std::path::Path;

use image::imageops::FilterType;
use image::{ImageFormat, ImageReader, Limits};

use crate::DatasetError;

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

    #[test]
    fn a_real_jpeg_cut_in_its_scan_data_is_caught() {
        let bytes = xray_jpeg(DEFAULT_SEED, 3).unwrap();
        let cut = &bytes[..bytes.len() * 2 / 3];
        let err = thumbnail_from_bytes(Path::new("cut.jpeg"), cut, 64).unwrap_err();
        assert!(err.to_string().contains("truncated JPEG"), "{err}");
    }
}
