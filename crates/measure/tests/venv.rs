//! The Python venv is found under the workspace root, whatever `CARGO_TARGET_DIR` says: a
//! build into `target/native` must not fall back to the system's python3 without a word.
//! One test function: it sets process-wide variables.

use measure::python;
use std::os::unix::fs::PermissionsExt;

#[test]
fn the_venv_is_found_under_the_workspace_root_with_any_target_dir() {
    let root = tempfile::tempdir().unwrap();
    let venv = root.path().join("target/python-venv/bin/python3");
    std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
    // A stand-in interpreter that says who it is: enough to tell it from the system's python3.
    std::fs::write(&venv, "#!/bin/sh\necho venv\n").unwrap();
    std::fs::set_permissions(&venv, std::fs::Permissions::from_mode(0o755)).unwrap();
    // SAFETY (edition 2024): this is the only test in this binary, so no thread reads the
    // environment while we change it.
    unsafe {
        std::env::set_var("TALK_ROOT", root.path());
        std::env::remove_var("TALK_PYTHON");
    }
    for target in [
        "target/native".to_string(),
        root.path().join("elsewhere").display().to_string(),
    ] {
        unsafe {
            std::env::set_var("CARGO_TARGET_DIR", &target);
        }
        assert_eq!(python::venv_python(), venv, "CARGO_TARGET_DIR={target}");
        assert_eq!(
            python::find_python().as_deref(),
            Some(venv.as_path()),
            "CARGO_TARGET_DIR={target}"
        );
    }
    // Cargo's own output still follows CARGO_TARGET_DIR, relative ones from the workspace root.
    unsafe {
        std::env::set_var("CARGO_TARGET_DIR", "target/native");
    }
    assert_eq!(
        measure::process::target_dir(),
        root.path().join("target/native")
    );
    // TALK_PYTHON still wins over the venv.
    unsafe {
        std::env::set_var("TALK_PYTHON", "/bin/sh");
    }
    assert_eq!(
        python::find_python().as_deref(),
        Some(std::path::Path::new("/bin/sh"))
    );
}
