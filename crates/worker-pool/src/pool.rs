//! The parent side: [`ProcessPool`], its [`Task`]s and their [`TaskError`]s.
//!
//! ```text
//!   submit/map ──► queue ──dispatch──► outbox ─► writer thread ─► worker stdin
//!                    ▲                                              │ (a child process)
//!   Task::wait ◄── slot ◄── reader thread ◄─────────────────────── worker stdout
//!                                              forwarder thread ◄── worker stderr
//! ```
//!
//! Per worker the parent runs a reader (results in, deaths noticed, replacements started),
//! a writer (calls out, so a full pipe never blocks anyone holding a lock) and a forwarder
//! (stderr lines, prefixed with the worker's pid). Workers are started by one spawner
//! thread that lives as long as the pool: Linux's parent-death signal fires when the
//! *thread* that forked a child ends, so the forking thread must outlive every worker.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Borrow;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::error::{Failure, ItemOut, PoolError};
use crate::io::{Outbox, watchdog};
use crate::registry::TaskFn;
use crate::spawn::{SpawnConfig, Started, install, start_worker};
use crate::sync::lock;
use crate::task::{Slot, Task};
use crate::wire::{self, Bytes, ToWorker};
use crate::worker::{WORKER_FLAG, is_worker};

/// Where the workers' stderr lines go (each prefixed with `[pid N] `).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerOutput {
    /// The parent's stderr (the default).
    #[default]
    Stderr,
    /// The parent's stdout, e.g. for a demo that shows the workers' lines with its output.
    Stdout,
    /// Nowhere.
    Discard,
}

/// A submission on its way: its frame (kept for a resend when its worker dies before
/// starting it) and its slot.
pub(crate) struct Job {
    pub(crate) id: u64,
    pub(crate) frame: Arc<[u8]>,
    pub(crate) slot: Arc<Slot>,
}

/// One worker process as the pool's state sees it.
pub(crate) struct Worker {
    pub(crate) pid: u32,
    /// Calls written (or about to be) to this worker, oldest first: the front one is the
    /// call it is running, because a worker answers its calls in order.
    pub(crate) in_flight: VecDeque<Job>,
    /// When the front call started (as far as the parent can tell).
    pub(crate) head_since: Instant,
    pub(crate) outbox: Arc<Outbox>,
    /// No more calls: its stdin is being closed.
    pub(crate) closed: bool,
    /// Its reader saw it end and is reaping it: its pid must not be signalled any more.
    pub(crate) reaping: bool,
    /// The watchdog killed it for running this call too long.
    pub(crate) timed_out: Option<u64>,
}

pub(crate) struct State {
    pub(crate) queue: VecDeque<Job>,
    /// One entry per worker place; `None` while a replacement starts, or for good when it
    /// could not.
    pub(crate) workers: Vec<Option<Worker>>,
    pub(crate) accepting: bool,
    /// Killing everything (a drop while panicking): no replacements, queued work fails.
    pub(crate) stopping: bool,
    /// Submissions not yet completed.
    pub(crate) outstanding: usize,
    /// Worker processes not yet reaped.
    pub(crate) live: usize,
    pub(crate) started: Vec<u32>,
    pub(crate) replaced: usize,
    /// Replacements being started.
    pub(crate) starting: usize,
}

pub(crate) struct Config {
    pub(crate) program: PathBuf,
    pub(crate) timeout: Option<Duration>,
    pub(crate) output: WorkerOutput,
    pub(crate) start_timeout: Duration,
}

/// Where the spawner thread sends the worker it started (or why it could not).
pub(crate) type SpawnReply = mpsc::Sender<Result<Started, String>>;

pub(crate) struct PoolCore {
    pub(crate) state: Mutex<State>,
    /// Signalled when `outstanding` reaches 0 and when `live` changes.
    pub(crate) changed: Condvar,
    pub(crate) config: Config,
    pub(crate) next_id: AtomicU64,
    pub(crate) spawner: Mutex<Option<mpsc::Sender<SpawnReply>>>,
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Settings of a [`ProcessPool`]; `ProcessPool::builder()`.
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) workers: usize,
    pub(crate) program: Option<PathBuf>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) output: WorkerOutput,
    pub(crate) start_timeout: Duration,
}

impl Builder {
    /// How many worker processes (0 means 1).
    pub fn workers(mut self, n: usize) -> Builder {
        self.workers = n.max(1);
        self
    }

    /// Kill and replace a worker whose task (or chunk) runs longer than this; the task fails
    /// with "timed out after ...".
    pub fn timeout(mut self, timeout: Duration) -> Builder {
        self.timeout = Some(timeout);
        self
    }

    /// The executable to start as workers instead of this one (`std::env::current_exe()`).
    /// It must register the same tasks and call [`serve_if_worker`](crate::serve_if_worker)
    /// first in `main`. The tests use it to run the crate's own binary as the workers.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Builder {
        self.program = Some(program.into());
        self
    }

    /// Where the workers' stderr lines go.
    pub fn worker_output(mut self, output: WorkerOutput) -> Builder {
        self.output = output;
        self
    }

    /// How long a new worker may take to say hello.
    pub fn start_timeout(mut self, timeout: Duration) -> Builder {
        self.start_timeout = timeout;
        self
    }

    /// Starts the workers.
    pub fn build(self) -> Result<ProcessPool, PoolError> {
        if is_worker() {
            return Err(PoolError(format!(
                "this process was started as a pool worker ({WORKER_FLAG}) but its main did not \
                 call worker_pool::serve_if_worker first"
            )));
        }
        let program = match self.program {
            Some(p) => p,
            None => std::env::current_exe()
                .map_err(|e| PoolError(format!("cannot find this executable: {e}")))?,
        };
        let config = Config {
            program,
            timeout: self.timeout,
            output: self.output,
            start_timeout: self.start_timeout,
        };
        let (spawn_tx, spawn_rx) = mpsc::channel::<SpawnReply>();
        let spawner_config = SpawnConfig {
            program: config.program.clone(),
            start_timeout: config.start_timeout,
        };
        let spawner = thread::Builder::new()
            .name("process-pool-spawner".into())
            .spawn(move || {
                for reply in spawn_rx {
                    let _ = reply.send(start_worker(&spawner_config));
                }
            })
            .map_err(|e| PoolError(format!("cannot start the spawner thread: {e}")))?;
        let shared = Arc::new(PoolCore {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                workers: Vec::new(),
                accepting: true,
                stopping: false,
                outstanding: 0,
                live: 0,
                started: Vec::new(),
                replaced: 0,
                starting: 0,
            }),
            changed: Condvar::new(),
            config,
            next_id: AtomicU64::new(1),
            spawner: Mutex::new(Some(spawn_tx)),
            threads: Mutex::new(Vec::new()),
        });
        let pool = ProcessPool {
            shared: shared.clone(),
            workers: self.workers,
            spawner: Some(spawner),
        };
        for place in 0..self.workers {
            lock(&shared.state).workers.push(None);
            let started = shared.spawn().map_err(PoolError)?;
            let handle = install(&shared, place, started, false)
                .map_err(|e| PoolError(format!("cannot start a reader thread: {e}")))?;
            lock(&shared.threads).push(handle);
        }
        if let Some(timeout) = shared.config.timeout {
            let s = shared.clone();
            let handle = thread::Builder::new()
                .name("process-pool-watchdog".into())
                .spawn(move || watchdog(&s, timeout))
                .map_err(|e| PoolError(format!("cannot start the watchdog thread: {e}")))?;
            lock(&shared.threads).push(handle);
        }
        Ok(pool)
    }
}

/// A pool of worker processes: Python's `ProcessPoolExecutor`, with `submit`, `map` with a
/// `chunksize` and [`as_completed`](crate::as_completed), where a worker that dies fails only the task it held.
///
/// Dropping the pool waits for the submitted work, closes the workers' stdin and reaps
/// them (the `with` block). Dropped while the thread panics, it kills them instead.
pub struct ProcessPool {
    pub(crate) shared: Arc<PoolCore>,
    pub(crate) workers: usize,
    pub(crate) spawner: Option<JoinHandle<()>>,
}

impl ProcessPool {
    /// `workers` processes of this executable (0 means 1).
    pub fn new(workers: usize) -> Result<ProcessPool, PoolError> {
        ProcessPool::builder().workers(workers).build()
    }

    pub fn builder() -> Builder {
        Builder {
            workers: thread::available_parallelism().map_or(1, |n| n.get()),
            program: None,
            timeout: None,
            output: WorkerOutput::Stderr,
            start_timeout: Duration::from_secs(30),
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The pids of the running workers.
    pub fn worker_pids(&self) -> Vec<u32> {
        let state = lock(&self.shared.state);
        state
            .workers
            .iter()
            .flatten()
            .filter(|w| !w.reaping)
            .map(|w| w.pid)
            .collect()
    }

    /// Every worker pid this pool started, replacements included.
    pub fn started_pids(&self) -> Vec<u32> {
        lock(&self.shared.state).started.clone()
    }

    /// How many workers were replaced after dying.
    pub fn replacements(&self) -> usize {
        lock(&self.shared.state).replaced
    }

    /// Waits (at most `timeout`) until no replacement is still starting; whether none is.
    pub fn wait_for_replacements(&self, timeout: Duration) -> bool {
        let state = lock(&self.shared.state);
        let state = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| s.starting > 0)
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
        state.starting == 0
    }

    // ANCHOR: submit
    /// Runs `task(arg)` in a worker; the [`Task`] waits for its value.
    pub fn submit<A, R>(&self, task: &'static TaskFn<A, R>, arg: impl Borrow<A>) -> Task<R>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot::default());
        match wire::to_bytes(arg.borrow()) {
            Ok(bytes) => self.send(id, task.name(), &[bytes], slot.clone()),
            Err(e) => slot.complete(Ok(vec![ItemOut::Failed(format!(
                "cannot encode the arguments: {e}"
            ))])),
        }
        Task {
            id,
            task: task.name(),
            slot,
            _value: PhantomData,
        }
    }
    // ANCHOR_END: submit

    /// Queues one call and lets the workers have it.
    pub(crate) fn send(&self, id: u64, task: &'static str, args: &[Vec<u8>], slot: Arc<Slot>) {
        let call = ToWorker::Call {
            id,
            task,
            args: args.iter().map(|a| Bytes(a)).collect(),
        };
        let mut frame =
            Vec::with_capacity(16 + task.len() + args.iter().map(Vec::len).sum::<usize>());
        if let Err(e) = wire::encode_frame(&call, &mut frame) {
            slot.complete(Ok(args
                .iter()
                .map(|_| ItemOut::Failed(format!("cannot send the call: {e}")))
                .collect()));
            return;
        }
        let job = Job {
            id,
            frame: frame.into(),
            slot,
        };
        let mut state = lock(&self.shared.state);
        if !state.accepting {
            drop(state);
            job.slot.complete(Err(Failure::Cancelled));
            return;
        }
        state.outstanding += 1;
        state.queue.push_back(job);
        dispatch(&mut state, &self.shared);
    }

    /// Stops taking work. `cancel_pending`: queued calls that no worker started fail as
    /// cancelled. `wait`: returns once every started call is done and every worker has
    /// exited and been reaped; otherwise at once (the workers finish and exit by themselves,
    /// and the drop reaps them).
    pub fn shutdown(&mut self, wait: bool, cancel_pending: bool) {
        {
            let mut state = lock(&self.shared.state);
            state.accepting = false;
            if cancel_pending {
                let cancelled: Vec<Job> = state.queue.drain(..).collect();
                state.outstanding -= cancelled.len();
                for job in cancelled {
                    job.slot.complete(Err(Failure::Cancelled));
                }
            }
            dispatch(&mut state, &self.shared);
            self.shared.changed.notify_all();
            if wait {
                while state.live > 0 || state.starting > 0 {
                    state = self
                        .shared
                        .changed
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
            }
        }
        if wait {
            self.join_threads();
        }
    }

    /// Kills every worker now (SIGKILL), fails what they held and what was queued, reaps them.
    pub fn kill(&mut self) {
        {
            let mut state = lock(&self.shared.state);
            state.accepting = false;
            state.stopping = true;
            for w in state.workers.iter().flatten() {
                if !w.reaping {
                    kill(w.pid);
                }
            }
            dispatch(&mut state, &self.shared);
            // Wait (at most 10 s) for the reapers to see every worker gone.
            let _reaped =
                self.shared
                    .changed
                    .wait_timeout_while(state, Duration::from_secs(10), |s| s.live > 0);
        }
        self.join_threads();
    }

    pub(crate) fn join_threads(&mut self) {
        let handles: Vec<JoinHandle<()>> = lock(&self.shared.threads).drain(..).collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        if thread::panicking() {
            self.kill();
        } else {
            // Waits for the submitted work (after a shutdown(wait = false) too), then reaps.
            self.shutdown(true, false);
        }
        // The spawner ends when its channel closes; every worker is reaped by now.
        lock(&self.shared.spawner).take();
        if let Some(h) = self.spawner.take() {
            let _ = h.join();
        }
    }
}

impl fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPool")
            .field("workers", &self.workers)
            .field("pids", &self.worker_pids())
            .finish()
    }
}

/// Hands queued calls to the least busy workers. A worker gets a few calls ahead of the one
/// it runs, more when many wait (guided scheduling): deep pipes amortise the round trips of
/// tiny tasks, shallow ones keep the last big tasks from queueing behind one worker.
pub(crate) fn dispatch(state: &mut State, shared: &PoolCore) {
    if state.stopping {
        let failed: Vec<Job> = state.queue.drain(..).collect();
        state.outstanding -= failed.len();
        for job in failed {
            job.slot
                .complete(Err(Failure::NoWorker("the pool was killed".into())));
        }
        if state.outstanding == 0 {
            shared.changed.notify_all();
        }
        return;
    }
    let now = Instant::now();
    let ready: Vec<usize> = state
        .workers
        .iter()
        .enumerate()
        .filter(|(_, w)| w.as_ref().is_some_and(|w| !w.closed && !w.reaping))
        .map(|(i, _)| i)
        .collect();
    if !ready.is_empty() {
        let n = ready.len();
        while !state.queue.is_empty() {
            let depth = 2 + (state.queue.len() / (2 * n)).min(64);
            let Some((place, load)) = ready
                .iter()
                .filter_map(|&i| Some((i, state.workers[i].as_ref()?.in_flight.len())))
                .min_by_key(|&(_, load)| load)
            else {
                break;
            };
            if load >= depth {
                break;
            }
            let (Some(job), Some(w)) = (state.queue.pop_front(), state.workers[place].as_mut())
            else {
                break;
            };
            if w.in_flight.is_empty() {
                w.head_since = now;
            }
            w.outbox.push(job.frame.clone());
            w.in_flight.push_back(job);
        }
    }
    if !state.accepting && state.queue.is_empty() {
        for w in state.workers.iter_mut().flatten() {
            if w.in_flight.is_empty() && !w.closed {
                w.closed = true;
                w.outbox.close();
            }
        }
    }
}

pub(crate) fn kill(pid: u32) {
    // SAFETY: kill(2) with a pid the pool started and has not reaped yet (callers check
    // `reaping` under the state lock), so the pid cannot belong to another process.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}
