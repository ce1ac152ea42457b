//! Files named like images that are not good images: what a real folder of inputs contains.

use crate::error::DatasetError;
use crate::set::write_atomic;
use crate::xray::small_jpeg;
use image::ImageEncoder;
use image::codecs::png::PngEncoder;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One hostile input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hostile {
    /// File name inside the folder, e.g. `truncated.jpeg`.
    pub name: &'static str,
    pub path: PathBuf,
    /// One line: what is wrong with it.
    pub what: &'static str,
}

const SEED: u64 = 0xBAD_F11E;
/// The height and width the patched header of `huge-header.jpeg` declares.
pub const HUGE_SIDE: u16 = 60_000;

/// Writes the hostile files into `dir` (created if needed) and returns them in this order:
///
/// | name | what |
/// | --- | --- |
/// | `empty.jpeg` | zero bytes |
/// | `truncated.jpeg` | a valid (16x16) JPEG cut to half its length, inside its headers |
/// | `text.jpeg` | plain text |
/// | `png-named.jpeg` | a real PNG behind a `.jpeg` name |
/// | `huge-header.jpeg` | a small JPEG whose header declares 60000x60000 pixels |
/// | `unreadable.jpeg` | a valid JPEG with permissions `000` |
/// | `folder.jpeg/` | a directory |
///
/// Why so small a JPEG for `truncated.jpeg`: `image` 0.25 decodes JPEG with zune-jpeg in
/// non-strict mode, which decodes a file cut anywhere *inside its scan data* without an error
/// and fills the missing rows with gray (Pillow raises "image file is truncated" instead).
/// Only a cut inside the headers fails, and half of a 16x16 JPEG is inside them. A program that
/// must catch a cut in the scan data has to check for the end-of-image marker (`FF D9`) itself.
///
/// `unreadable.jpeg` is unreadable for ordinary users only: root (and CAP_DAC_OVERRIDE) still
/// reads it, so a program run as root decodes it fine. On non-Unix systems it stays readable.
/// Running this again rewrites the files (the permissions of an existing `unreadable.jpeg` are
/// no obstacle: files are replaced by rename).
pub fn write_hostile(dir: &Path) -> Result<Vec<Hostile>, DatasetError> {
    fs::create_dir_all(dir).map_err(|e| DatasetError::io("create folder", dir, e))?;
    let jpeg = small_jpeg(SEED, 320, 384)?;
    let mut out = Vec::new();
    let mut file = |name: &'static str, what: &'static str, bytes: &[u8]| {
        let path = dir.join(name);
        write_atomic(&path, bytes)?;
        out.push(Hostile { name, path, what });
        Ok::<PathBuf, DatasetError>(dir.join(name))
    };

    file("empty.jpeg", "zero bytes", &[])?;
    let tiny = small_jpeg(SEED, 16, 16)?;
    file(
        "truncated.jpeg",
        "a valid JPEG cut to half its length (inside its headers)",
        &tiny[..tiny.len() / 2],
    )?;
    file(
        "text.jpeg",
        "plain text, not an image",
        b"This is not a JPEG. It is a note that someone saved with the wrong name.\n",
    )?;
    file(
        "png-named.jpeg",
        "a real PNG behind a .jpeg name",
        &png(dir.join("png-named.jpeg").as_path())?,
    )?;
    let huge = patch_sof0(&jpeg, HUGE_SIDE, HUGE_SIDE)
        .ok_or_else(|| invalid(&dir.join("huge-header.jpeg"), "no SOF0 marker in the JPEG"))?;
    file(
        "huge-header.jpeg",
        "a small JPEG whose header declares 60000x60000 pixels",
        &huge,
    )?;
    let unreadable = file(
        "unreadable.jpeg",
        "a valid JPEG without read permission (root still reads it)",
        &jpeg,
    )?;
    make_unreadable(&unreadable)?;

    let folder = dir.join("folder.jpeg");
    if folder.is_file() {
        fs::remove_file(&folder).map_err(|e| DatasetError::io("remove", &folder, e))?;
    }
    fs::create_dir_all(&folder).map_err(|e| DatasetError::io("create folder", &folder, e))?;
    out.push(Hostile {
        name: "folder.jpeg",
        path: folder,
        what: "a directory named like an image",
    });
    Ok(out)
}

/// A small gray gradient as PNG bytes.
fn png(path: &Path) -> Result<Vec<u8>, DatasetError> {
    let (w, h) = (64u32, 48u32);
    let pixels: Vec<u8> = (0..w * h).map(|i| ((i % w) * 4) as u8).collect();
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(&pixels, w, h, image::ExtendedColorType::L8)
        .map_err(|source| DatasetError::Encode {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(out)
}

/// `jpeg` with its SOF0 (baseline frame header) declaring `height` x `width`; `None` when the
/// JPEG has no SOF0 before its scan. Walks the marker segments, so bytes inside tables that
/// happen to read `FF C0` are not mistaken for the marker.
fn patch_sof0(jpeg: &[u8], height: u16, width: u16) -> Option<Vec<u8>> {
    let mut out = jpeg.to_vec();
    if out.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    loop {
        if *out.get(pos)? != 0xFF {
            return None;
        }
        let marker = *out.get(pos + 1)?;
        match marker {
            // Fill bytes before a marker.
            0xFF => pos += 1,
            0xC0 => {
                // FF C0, length (2), precision (1), height (2), width (2).
                out.get_mut(pos + 5..pos + 7)?
                    .copy_from_slice(&height.to_be_bytes());
                out.get_mut(pos + 7..pos + 9)?
                    .copy_from_slice(&width.to_be_bytes());
                return Some(out);
            }
            // Start of scan or end of image: no SOF0 came first.
            0xDA | 0xD9 => return None,
            _ => {
                let len = u16::from_be_bytes([*out.get(pos + 2)?, *out.get(pos + 3)?]);
                pos += 2 + usize::from(len);
            }
        }
    }
}

fn invalid(path: &Path, why: &str) -> DatasetError {
    DatasetError::io(
        "patch",
        path,
        io::Error::new(io::ErrorKind::InvalidData, why),
    )
}

#[cfg(unix)]
fn make_unreadable(path: &Path) -> Result<(), DatasetError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o000))
        .map_err(|e| DatasetError::io("set permissions of", path, e))
}

#[cfg(not(unix))]
fn make_unreadable(_path: &Path) -> Result<(), DatasetError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sof0_patch_sets_the_declared_size() {
        let jpeg = small_jpeg(1, 40, 30).unwrap();
        let patched = patch_sof0(&jpeg, 60_000, 50_000).unwrap();
        assert_eq!(patched.len(), jpeg.len());
        let at = patched.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        assert_eq!(&patched[at + 5..at + 9], &[0xEA, 0x60, 0xC3, 0x50]);
        // Only those four bytes changed.
        let changed = jpeg.iter().zip(&patched).filter(|(a, b)| a != b).count();
        assert!(changed <= 4);
    }

    #[test]
    fn sof0_patch_refuses_non_jpeg() {
        assert_eq!(patch_sof0(b"hello", 1, 1), None);
        assert_eq!(patch_sof0(&[0xFF, 0xD8, 0xFF, 0xDA], 1, 1), None);
        assert_eq!(patch_sof0(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00], 1, 1), None);
    }

    #[test]
    fn a_cut_inside_the_scan_decodes_without_error() {
        // The reason truncated.jpeg is cut inside its headers (see write_hostile). If this test
        // starts failing, `image` has turned strict and any cut will do.
        let jpeg = small_jpeg(1, 64, 64).unwrap();
        let half = &jpeg[..jpeg.len() / 2];
        let decoded = image::load_from_memory_with_format(half, image::ImageFormat::Jpeg);
        assert!(decoded.is_ok());
    }
}
