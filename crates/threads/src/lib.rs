//! `threads`: Python's `concurrent.futures.ThreadPoolExecutor`, in Rust, and what it shows.
//!
//! - [`pool`]: the executor. [`ThreadPool::submit`] returns a [`Task`] (a future),
//!   [`ThreadPool::map`] yields results in input order, [`as_completed`] in the order the tasks
//!   finish, [`ThreadPool::shutdown`] stops it (and dropping it waits for the work, like leaving
//!   a `with` block). A panicking task becomes a [`TaskError`]; the pool carries on.
//! - [`toaster`]: the talk's toaster analogy, one toaster against k, with a timeline.
//! - [`cpu`]: CPU-bound work on the X-ray set on 1..=cores threads: real speed-up, because Rust
//!   has no GIL, beside the same work in Python's `ThreadPoolExecutor`.
//! - [`demo`]: `submit` + `as_completed` printing "worker-N: running X" like the talk.
//! - [`parts`]: the binary's three parts, printed through `measure::Document`.
//!
//! ```
//! use threads::{ThreadPool, as_completed};
//! let pool = ThreadPool::new(4);
//! let squares: Vec<u64> = pool.map(|i: u64| i * i, 0..10).collect::<Result<_, _>>()?;
//! assert_eq!(squares[3], 9);
//! let tasks = (0..4).map(|i| pool.submit(move || i * 10)).collect();
//! let mut done: Vec<i32> = as_completed(tasks).collect::<Result<_, _>>()?;
//! done.sort();
//! assert_eq!(done, [0, 10, 20, 30]);
//! # Ok::<(), threads::TaskError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cpu;
pub mod demo;
pub mod parts;
pub mod pool;
pub mod toaster;

pub use pool::{Reason, Task, TaskError, ThreadPool, as_completed};

use measure::{Fingerprint, Verify};

/// The results of a run through the pool, checked like the baseline's plain `Vec`: equal when
/// every task succeeded with the same values; a task error shows in the fingerprint (and so
/// fails verification) with its message.
#[derive(Debug)]
pub struct TaskResults<T>(pub Result<Vec<T>, TaskError>);

impl<T> FromIterator<Result<T, TaskError>> for TaskResults<T> {
    fn from_iter<I: IntoIterator<Item = Result<T, TaskError>>>(iter: I) -> Self {
        TaskResults(iter.into_iter().collect())
    }
}

impl<T> Verify for TaskResults<T>
where
    [T]: Verify,
{
    fn fingerprint(&self) -> Fingerprint {
        match &self.0 {
            Ok(values) => values.fingerprint(),
            Err(e) => Fingerprint(serde_json::json!({ "task error": e.to_string() })),
        }
    }
}

/// The number of cores the program may use (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// "1 thread", "2 threads".
pub fn threads_label(n: usize) -> String {
    if n == 1 {
        "1 thread".into()
    } else {
        format!("{n} threads")
    }
}
