//! `simd-jit`: what numba does for a numeric Python function, done in Rust.
//!
//! - [`simd`]: kernels on `f32` arrays, from the plain loop to AVX2 intrinsics picked at run
//!   time by CPU feature detection (safe public functions, a portable fallback elsewhere);
//! - [`expr`], [`interp`], [`jit`]: a small expression language typed at run time, a
//!   tree-walking interpreter for it (the CPython analogue) and a Cranelift JIT that compiles
//!   the whole loop over an array (the `@njit` analogue); [`aot`] is the default expression
//!   written in Rust;
//! - [`suites`] the table of each part (what is measured, how results are checked),
//!   [`parts`] the binary's machinery (which parts run, on which arrays, `--list` and
//!   `--approach` across them), [`lessons`] the lines under each table, [`data`] the inputs
//!   and the checks, [`sweep`] GB/s against array size, [`cache`] the CPU's cache sizes.

pub mod aot;
pub mod cache;
pub mod data;
pub mod expr;
pub mod interp;
pub mod jit;
pub mod lessons;
pub mod parts;
pub mod simd;
pub mod suites;
pub mod sweep;
