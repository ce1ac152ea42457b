//! One error type that always names the path and the cause.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong, on which path.
#[derive(Debug)]
pub enum DatasetError {
    /// A file system operation failed: `action` is what we tried ("create folder", "write", ...).
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// The JPEG or PNG encoder refused an image.
    Encode {
        path: PathBuf,
        source: image::ImageError,
    },
    /// The manifest could not be serialised.
    Manifest {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// An input image could not be decoded: `reason` says why in a few words.
    Decode { path: PathBuf, reason: String },
}

impl DatasetError {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> DatasetError {
        DatasetError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DatasetError::Io { path, .. }
            | DatasetError::Encode { path, .. }
            | DatasetError::Manifest { path, .. }
            | DatasetError::Decode { path, .. } => path,
        }
    }
}

impl fmt::Display for DatasetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatasetError::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            DatasetError::Encode { path, source } => {
                write!(f, "cannot encode {}: {source}", path.display())
            }
            DatasetError::Manifest { path, source } => {
                write!(f, "cannot write manifest {}: {source}", path.display())
            }
            DatasetError::Decode { path, reason } => {
                write!(f, "cannot decode {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for DatasetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DatasetError::Io { source, .. } => Some(source),
            DatasetError::Encode { source, .. } => Some(source),
            DatasetError::Manifest { source, .. } => Some(source),
            DatasetError::Decode { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_action_path_and_cause() {
        let e = DatasetError::io(
            "write",
            Path::new("/nowhere/a.jpeg"),
            io::Error::new(io::ErrorKind::PermissionDenied, "Permission denied"),
        );
        assert_eq!(
            e.to_string(),
            "cannot write /nowhere/a.jpeg: Permission denied"
        );
        assert_eq!(e.path(), Path::new("/nowhere/a.jpeg"));
        assert!(std::error::Error::source(&e).is_some());
    }
}
