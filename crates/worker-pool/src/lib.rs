//! `worker-pool`: Python's `ProcessPoolExecutor` for Rust, built from plain parts.
//!
//! - **Workers** are child processes of the same executable, started with a hidden flag; the
//!   binary's `main` calls [`serve_if_worker`] first, which in a worker serves tasks and exits.
//! - **Tasks** are named functions ([`TaskFn`]) registered in a [`Registry`]: processes can't
//!   share closures, just as Python pickles a function by its name.
//! - **Arguments and results** are serde values in postcard, in length-prefixed frames over the
//!   worker's stdin and stdout ([`wire`]). Many small calls ride in one write.
//! - **Crash isolation:** a worker that dies mid-task (abort, SIGKILL, out of memory) fails
//!   only the task it held, with the task, the pid and the signal in the error; a new worker
//!   takes its place and the pool carries on (Python raises `BrokenProcessPool` and loses
//!   everything). An optional per-task timeout kills and replaces a stuck worker.
//! - **No zombies, no orphans:** dropping the pool reaps every worker (kills them when the
//!   drop comes from a panic); on Linux a worker dies with its parent (`PR_SET_PDEATHSIG`), and
//!   every worker exits when its stdin ends.
//!
//! Where things are, one job per file:
//!
//! | file | what it does |
//! |---|---|
//! | `pool.rs` | [`ProcessPool`], its [`Builder`], `submit`, `shutdown`/`kill`/drop, dispatching calls to workers |
//! | `map.rs` | [`ProcessPool::map`]: chunks, a bounded look-ahead, results in input order |
//! | `task.rs` | a submission's slot, the [`Task`] handle, [`as_completed`] |
//! | `error.rs` | [`PoolError`], [`TaskError`] / [`ErrorKind`], raw outcomes into per-item results |
//! | `spawn.rs` | starting a worker (the spawner thread, the hello) and installing it in a place |
//! | `io.rs` | each worker's writer, stderr forwarder and reader threads; reaping and replacing; the watchdog |
//! | `worker.rs` | the worker side: [`serve_if_worker`] |
//! | `registry.rs`, `wire.rs`, `status.rs` | named tasks, the frames on the pipes, exit statuses in words |
//! | `sync.rs` | [`lock`] and [`panic_message`], shared with the `threads` crate's pool |
//!
//! ```no_run
//! use worker_pool::{ProcessPool, Registry, TaskFn, as_completed};
//!
//! fn square(x: u64) -> u64 { x * x }
//! static SQUARE: TaskFn<u64, u64> = TaskFn::new("square", square);
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     worker_pool::serve_if_worker(&Registry::new().register(&SQUARE));
//!
//!     let pool = ProcessPool::new(2)?;
//!     let squares: Vec<u64> = pool.map(&SQUARE, 0..100u64, 16).collect::<Result<_, _>>()?;
//!     let tasks: Vec<_> = (0..4u64).map(|x| pool.submit(&SQUARE, x)).collect();
//!     for result in as_completed(tasks) {
//!         println!("{}", result?);
//!     }
//!     Ok(())
//! }
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod io;
mod map;
mod pool;
mod registry;
mod spawn;
pub mod status;
mod sync;
mod task;
pub mod wire;
mod worker;

pub use error::{ErrorKind, PoolError, TaskError};
pub use pool::{Builder, ProcessPool, WorkerOutput};
pub use registry::{Registry, TaskFn};
pub use sync::{lock, panic_message};
pub use task::{Task, as_completed};
pub use worker::{WORKER_FLAG, is_worker, serve_if_worker};
