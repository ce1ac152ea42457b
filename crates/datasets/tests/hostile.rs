//! The hostile files: each one is named like a JPEG and none of them decodes.

use std::fs;
use std::path::Path;

/// Root reads files without read permission: then `unreadable.jpeg` is just a JPEG.
fn readable(path: &Path) -> bool {
    fs::File::open(path).is_ok()
}

#[test]
fn every_hostile_file_fails_to_decode() {
    let dir = tempfile::tempdir().unwrap();
    let files = datasets::write_hostile(dir.path()).unwrap();
    let names: Vec<&str> = files.iter().map(|h| h.name).collect();
    assert_eq!(
        names,
        [
            "empty.jpeg",
            "truncated.jpeg",
            "text.jpeg",
            "png-named.jpeg",
            "huge-header.jpeg",
            "unreadable.jpeg",
            "folder.jpeg",
        ]
    );
    for h in &files {
        assert_eq!(h.path, dir.path().join(h.name));
        assert!(!h.what.is_empty() && !h.what.contains('\n'), "{}", h.name);
        assert!(fs::symlink_metadata(&h.path).is_ok(), "{} exists", h.name);
        if h.name == "unreadable.jpeg" && readable(&h.path) {
            // Running as root: permissions do not stop us, so it decodes. Skip.
            continue;
        }
        let result = image::open(&h.path);
        assert!(
            result.is_err(),
            "{} decoded: {:?}",
            h.name,
            result.map(|i| i.color())
        );
    }
    assert!(dir.path().join("folder.jpeg").is_dir());
    assert_eq!(
        fs::metadata(dir.path().join("empty.jpeg")).unwrap().len(),
        0
    );
}

#[test]
fn hostile_files_are_what_they_claim() {
    let dir = tempfile::tempdir().unwrap();
    datasets::write_hostile(dir.path()).unwrap();
    let read = |name: &str| fs::read(dir.path().join(name)).unwrap();

    // The PNG really is a PNG: sniffing the content instead of the name decodes it.
    let png = read("png-named.jpeg");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(image::load_from_memory(&png).is_ok());

    // The truncated file is the first half of a JPEG that starts right.
    let truncated = read("truncated.jpeg");
    assert_eq!(&truncated[..2], [0xFF, 0xD8]);
    assert_ne!(&truncated[truncated.len() - 2..], [0xFF, 0xD9]);

    // The huge header declares 60000x60000 in its SOF0 and is small on disk.
    let huge = read("huge-header.jpeg");
    assert!(huge.len() < 100_000);
    let at = huge.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    assert_eq!(&huge[at + 5..at + 9], [0xEA, 0x60, 0xEA, 0x60]);

    let text = read("text.jpeg");
    assert!(std::str::from_utf8(&text).is_ok());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("unreadable.jpeg"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0);
    }
}

#[test]
fn writing_twice_replaces_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let first = datasets::write_hostile(dir.path()).unwrap();
    // unreadable.jpeg (mode 000) and folder.jpeg/ already exist: no error.
    let second = datasets::write_hostile(dir.path()).unwrap();
    assert_eq!(first, second);
}
