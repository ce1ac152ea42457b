//! The one JPEG-folder lister every example uses for `--input DIR`: the `*.jpeg` / `*.jpg`
//! entries of a folder (any case), sorted by name.
//!
//! What it promises, because a folder of real inputs is messy:
//!
//! - An entry named like a JPEG is listed whatever it is (a directory `folder.jpeg/`, a file
//!   without read permission): it is an input, and it fails when it is processed, with its name.
//! - An entry the listing itself cannot read (the directory stream reports an error for it) is
//!   a [`Failure`]: one line, never silently dropped.
//! - A folder with no JPEG at all is an error that says so, not a run over nothing.
//! - A name that is not valid UTF-8 is still matched on its extension (lossily decoded).

use measure::Failure;
use std::fs;
use std::path::{Path, PathBuf};

/// The JPEGs of a folder, sorted by name, and the entries that could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JpegFolder {
    pub dir: PathBuf,
    pub paths: Vec<PathBuf>,
    /// Entries that could not be read (their name when known, else the folder's path).
    pub failures: Vec<Failure>,
}

impl JpegFolder {
    /// Every input of the folder: the listed JPEGs plus the entries that could not be read.
    pub fn total(&self) -> usize {
        self.paths.len() + self.failures.len()
    }
}

/// Whether `path` is named like a JPEG (`.jpeg` or `.jpg`, any case).
pub fn is_jpeg_name(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| e == "jpeg" || e == "jpg")
}

/// The `*.jpeg` / `*.jpg` entries of `dir`, sorted by name; at most `limit` of them.
///
/// Errors (one line each): `dir` cannot be listed, or holds no JPEG and no unreadable entry.
pub fn list_jpegs(dir: &Path, limit: Option<usize>) -> Result<JpegFolder, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut folder = JpegFolder {
        dir: dir.to_path_buf(),
        ..JpegFolder::default()
    };
    for entry in entries {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                if is_jpeg_name(&path) {
                    folder.paths.push(path);
                }
            }
            Err(e) => folder.failures.push(Failure {
                input: dir.display().to_string(),
                error: format!("cannot read an entry of {}: {e}", dir.display()),
            }),
        }
    }
    folder.paths.sort();
    if let Some(limit) = limit {
        folder.paths.truncate(limit);
    }
    if folder.paths.is_empty() && folder.failures.is_empty() {
        return Err(format!(
            "no *.jpeg or *.jpg files in {} (an empty folder, or only other files)",
            dir.display()
        ));
    }
    Ok(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpegs_of_any_case_are_listed_by_name_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.JPG", "a.jpeg", "c.Jpeg", "notes.txt", "jpeg", "d.png"] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        fs::create_dir(dir.path().join("folder.jpeg")).unwrap();
        let folder = list_jpegs(dir.path(), None).unwrap();
        let names: Vec<String> = folder
            .paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.jpeg", "b.JPG", "c.Jpeg", "folder.jpeg"]);
        assert!(folder.failures.is_empty());
        assert_eq!(folder.total(), 4);
        let two = list_jpegs(dir.path(), Some(2)).unwrap();
        assert_eq!(two.paths, folder.paths[..2]);
    }

    #[test]
    fn an_empty_folder_and_a_missing_one_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = list_jpegs(dir.path(), None).unwrap_err();
        assert!(e.starts_with("no *.jpeg or *.jpg files in "), "{e}");
        assert!(e.contains("empty folder"), "{e}");
        fs::write(dir.path().join("readme.txt"), b"x").unwrap();
        assert!(list_jpegs(dir.path(), None).is_err());
        let e = list_jpegs(&dir.path().join("nowhere"), None).unwrap_err();
        assert!(
            e.starts_with("cannot list ") && e.contains("nowhere"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }

    #[cfg(unix)]
    #[test]
    fn a_name_that_is_not_utf8_is_still_listed() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let name = std::ffi::OsStr::from_bytes(b"r\xF6ntgen.jpeg");
        fs::write(dir.path().join(name), b"x").unwrap();
        let folder = list_jpegs(dir.path(), None).unwrap();
        assert_eq!(folder.paths, [dir.path().join(name)]);
    }
}
