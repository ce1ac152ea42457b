//! Criterion benches, one file per concept, beside this file:
//!
//! ```sh
//! cargo bench -p benches                      # all of them
//! cargo bench -p benches --bench for_loop     # one concept
//! ```
//!
//! The examples (`cargo run --release -p NAME`) compare approaches in one run with the Python
//! original; these benches track each approach over time with criterion's statistics.
