//! `process-pool`: the chapter's example on the [`worker_pool`] crate (the pool itself, a
//! library with only serde, postcard and libc).
//!
//! Its modules keep the binary's `main` reading like the slide: [`parts`] (the command line
//! resolved, `--list`/`--approach`, the three parts), [`suites`] (the measured rows and their
//! lessons), [`resize`] and [`overhead`] (the work), [`demo`] (the crash demo's and the
//! overhead table's tasks). The pool's own tests are in `worker-pool`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod demo;
pub mod overhead;
pub mod parts;
pub mod resize;
pub mod suites;

/// The pool, for the benches (which depend on this crate only).
pub use worker_pool;
