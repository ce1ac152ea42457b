//! `datasets`: the inputs every example runs on, generated, deterministic and cached.
//!
//! - An **X-ray-like JPEG set** shaped like the Kaggle chest X-ray pneumonia training set
//!   (`train/NORMAL` holds 1,341 files): grayscale baseline JPEGs 1000-2500 px wide, a little
//!   taller than wide, about one in forty stored as RGB, with a body, lungs, ribs, a spine and
//!   noise, so that they compress (and decode) like the real photographs.
//!   Image `i` depends only on `(seed, i)`: the first 100 images of the full set *are* the
//!   `--quick` set.
//! - **Hostile files**: empty, truncated, text, a PNG behind a `.jpeg` name, a header declaring
//!   60000x60000 pixels, an unreadable file and a directory, for the examples that must account
//!   for every input.
//!
//! ```no_run
//! let set = datasets::cached_xray_set(datasets::QUICK_COUNT, datasets::DEFAULT_SEED, false)?;
//! for path in &set.paths {
//!     // decode, resize, ...
//! }
//! # Ok::<(), datasets::DatasetError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod folder;
mod hostile;
mod rng;
mod set;
mod thumbnail;
mod xray;

pub use error::DatasetError;
pub use folder::{JpegFolder, is_jpeg_name, list_jpegs};
pub use hostile::{Hostile, write_hostile};
pub use rng::{SplitMix64, fnv1a64};
pub use set::{
    MANIFEST_NAME, Manifest, ManifestEntry, XraySet, cache_root, cached_xray_set,
    cached_xray_set_in, set_dir_name, write_xray_set,
};
pub use thumbnail::{
    Difference, MAX_SIDE, ThumbnailCheck, Thumbnails, file_name, thumbnail, thumbnail_from_bytes,
};
pub use xray::{XrayImage, is_rgb, xray_file_name, xray_image, xray_jpeg};

/// Images in the Kaggle set's `train/NORMAL` folder: the full run.
pub const FULL_COUNT: usize = 1341;
/// Images in the `--quick` subset (the first of the full set).
pub const QUICK_COUNT: usize = 100;
/// The seed every example uses unless told otherwise (the talk's year).
pub const DEFAULT_SEED: u64 = 2020;
/// JPEG quality of the generated set.
pub const JPEG_QUALITY: u8 = 90;
