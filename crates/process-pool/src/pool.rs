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
use std::io::{self, BufRead, BufReader, Read, Write};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::registry::TaskFn;
use crate::status;
use crate::wire::{self, Bytes, FrameReader, FromWorker, PROTOCOL, Reply, ToWorker};
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

/// Why a pool could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolError(pub String);

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PoolError {}

/// What went wrong with a task.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The task panicked in its worker; the worker carries on.
    Panicked(String),
    /// The worker could not run it: unknown task name, arguments or result that do not
    /// (de)serialise.
    Failed(String),
    /// The worker process died while it held this task (abort, SIGKILL, out of memory...).
    /// `items` is the size of the chunk it held (1 for `submit`).
    WorkerDied {
        pid: u32,
        status: String,
        items: usize,
    },
    /// The task ran longer than the pool's timeout; its worker was killed and replaced.
    TimedOut { after: Duration, pid: u32 },
    /// The pool shut down before the task started.
    Cancelled,
    /// No worker was left to run it (a replacement could not start).
    NoWorker(String),
}

/// A task that did not produce its value: which task, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    task: &'static str,
    id: u64,
    item: Option<u64>,
    kind: ErrorKind,
}

impl TaskError {
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The task's registered name.
    pub fn task(&self) -> &'static str {
        self.task
    }

    /// The id of the submission (a whole chunk shares one).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// For `map`: the item's position in the input.
    pub fn item(&self) -> Option<u64> {
        self.item
    }

    /// The worker's pid when the worker died or timed out.
    pub fn pid(&self) -> Option<u32> {
        match self.kind {
            ErrorKind::WorkerDied { pid, .. } | ErrorKind::TimedOut { pid, .. } => Some(pid),
            _ => None,
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task \"{}\" #{}", self.task, self.id)?;
        if let Some(item) = self.item {
            write!(f, " (item {item})")?;
        }
        match &self.kind {
            ErrorKind::Panicked(msg) => write!(f, " panicked: {msg}"),
            ErrorKind::Failed(msg) => write!(f, " failed: {msg}"),
            ErrorKind::WorkerDied { pid, status, items } => {
                write!(f, ": worker pid {pid} died while running it: {status}")?;
                if *items > 1 {
                    write!(f, "; its chunk of {items} items failed with it")?;
                }
                Ok(())
            }
            ErrorKind::TimedOut { after, pid } => write!(
                f,
                " timed out after {}: worker pid {pid} was killed",
                measure::units::duration(after.as_secs_f64())
            ),
            ErrorKind::Cancelled => write!(f, " was cancelled: the pool shut down before it ran"),
            ErrorKind::NoWorker(why) => write!(f, " could not run: no worker is left ({why})"),
        }
    }
}

impl std::error::Error for TaskError {}

/// A pool-level failure of one submission (every item of a chunk shares it).
#[derive(Debug, Clone)]
enum Failure {
    WorkerDied { pid: u32, status: String },
    TimedOut { after: Duration, pid: u32 },
    BadReply { pid: u32, why: String },
    Cancelled,
    NoWorker(String),
}

/// One item's reply, owned.
#[derive(Debug)]
enum ItemOut {
    Value(Vec<u8>),
    Panicked(String),
    Failed(String),
}

type Outcome = Result<Vec<ItemOut>, Failure>;

/// Where a submission's outcome lands; `Task::wait` sleeps on it.
#[derive(Default)]
struct Slot {
    inner: Mutex<SlotInner>,
    ready: Condvar,
}

#[derive(Default)]
struct SlotInner {
    outcome: Option<Outcome>,
    taken: bool,
    /// `as_completed`'s channel and this task's index in it.
    notify: Option<(mpsc::Sender<usize>, usize)>,
}

impl Slot {
    fn complete(&self, outcome: Outcome) {
        let mut inner = lock(&self.inner);
        if inner.outcome.is_some() || inner.taken {
            return;
        }
        inner.outcome = Some(outcome);
        if let Some((tx, index)) = inner.notify.take() {
            let _ = tx.send(index);
        }
        drop(inner);
        self.ready.notify_all();
    }

    fn is_done(&self) -> bool {
        let inner = lock(&self.inner);
        inner.outcome.is_some() || inner.taken
    }

    fn wait(&self) -> Outcome {
        let mut inner = lock(&self.inner);
        loop {
            if let Some(outcome) = inner.outcome.take() {
                inner.taken = true;
                return outcome;
            }
            if inner.taken {
                return Err(Failure::NoWorker("the outcome was already taken".into()));
            }
            inner = self.ready.wait(inner).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn on_done(&self, tx: mpsc::Sender<usize>, index: usize) {
        let mut inner = lock(&self.inner);
        if inner.outcome.is_some() {
            let _ = tx.send(index);
        } else {
            inner.notify = Some((tx, index));
        }
    }
}

/// A submission on its way: its frame (kept for a resend when its worker dies before
/// starting it) and its slot.
struct Job {
    id: u64,
    frame: Arc<[u8]>,
    slot: Arc<Slot>,
}

/// Frames waiting for a worker's writer thread.
#[derive(Default)]
struct Outbox {
    inner: Mutex<OutboxInner>,
    wake: Condvar,
}

#[derive(Default)]
struct OutboxInner {
    frames: Vec<Arc<[u8]>>,
    closed: bool,
    waiting: bool,
}

impl Outbox {
    fn push(&self, frame: Arc<[u8]>) {
        let mut inner = lock(&self.inner);
        inner.frames.push(frame);
        if inner.waiting {
            inner.waiting = false;
            drop(inner);
            self.wake.notify_one();
        }
    }

    fn close(&self) {
        lock(&self.inner).closed = true;
        self.wake.notify_one();
    }
}

/// One worker process as the pool's state sees it.
struct Worker {
    pid: u32,
    /// Calls written (or about to be) to this worker, oldest first: the front one is the
    /// call it is running, because a worker answers its calls in order.
    in_flight: VecDeque<Job>,
    /// When the front call started (as far as the parent can tell).
    head_since: Instant,
    outbox: Arc<Outbox>,
    /// No more calls: its stdin is being closed.
    closed: bool,
    /// Its reader saw it end and is reaping it: its pid must not be signalled any more.
    reaping: bool,
    /// The watchdog killed it for running this call too long.
    timed_out: Option<u64>,
}

struct State {
    queue: VecDeque<Job>,
    /// One entry per worker place; `None` while a replacement starts, or for good when it
    /// could not.
    workers: Vec<Option<Worker>>,
    accepting: bool,
    /// Killing everything (a drop while panicking): no replacements, queued work fails.
    stopping: bool,
    /// Submissions not yet completed.
    outstanding: usize,
    /// Worker processes not yet reaped.
    live: usize,
    started: Vec<u32>,
    replaced: usize,
    /// Replacements being started.
    starting: usize,
}

struct Config {
    program: PathBuf,
    timeout: Option<Duration>,
    output: WorkerOutput,
    start_timeout: Duration,
}

/// Where the spawner thread sends the worker it started (or why it could not).
type SpawnReply = mpsc::Sender<Result<Started, String>>;

struct Shared {
    state: Mutex<State>,
    /// Signalled when `outstanding` reaches 0 and when `live` changes.
    changed: Condvar,
    config: Config,
    next_id: AtomicU64,
    spawner: Mutex<Option<mpsc::Sender<SpawnReply>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Settings of a [`ProcessPool`]; `ProcessPool::builder()`.
#[derive(Debug, Clone)]
pub struct Builder {
    workers: usize,
    program: Option<PathBuf>,
    timeout: Option<Duration>,
    output: WorkerOutput,
    start_timeout: Duration,
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
                 call process_pool::serve_if_worker first"
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
        let shared = Arc::new(Shared {
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
/// `chunksize` and [`as_completed`], where a worker that dies fails only the task it held.
///
/// Dropping the pool waits for the submitted work, closes the workers' stdin and reaps
/// them (the `with` block). Dropped while the thread panics, it kills them instead.
pub struct ProcessPool {
    shared: Arc<Shared>,
    workers: usize,
    spawner: Option<JoinHandle<()>>,
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

    // ANCHOR: map
    /// `task` over `items`, results in input order. Items travel `chunksize` to a call
    /// (one frame, one reply): fewer round trips, but a worker that dies fails its whole
    /// chunk. At most two chunks per worker are submitted ahead of the one being read.
    pub fn map<A, R, I>(
        &self,
        task: &'static TaskFn<A, R>,
        items: I,
        chunksize: usize,
    ) -> impl Iterator<Item = Result<R, TaskError>> + use<'_, A, R, I>
    where
        A: Serialize,
        R: DeserializeOwned,
        I: IntoIterator,
        I::Item: Borrow<A>,
    {
        MapIter {
            pool: self,
            task,
            items: items.into_iter(),
            chunksize: chunksize.max(1),
            ahead: VecDeque::new(),
            current: VecDeque::new(),
            next_item: 0,
            max_ahead: 2 * self.workers + 1,
            _value: PhantomData,
        }
    }
    // ANCHOR_END: map

    /// Queues one call and lets the workers have it.
    fn send(&self, id: u64, task: &'static str, args: &[Vec<u8>], slot: Arc<Slot>) {
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

    fn join_threads(&mut self) {
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
fn dispatch(state: &mut State, shared: &Shared) {
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

fn kill(pid: u32) {
    // SAFETY: kill(2) with a pid the pool started and has not reaped yet (callers check
    // `reaping` under the state lock), so the pid cannot belong to another process.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// A worker that said hello, with its pipes.
struct Started {
    child: Child,
    pid: u32,
    reader: FrameReader<Pipe>,
    stdin: ChildStdin,
    stderr: ChildStderr,
}

struct SpawnConfig {
    program: PathBuf,
    start_timeout: Duration,
}

impl Shared {
    /// Starts a worker on the spawner thread.
    fn spawn(&self) -> Result<Started, String> {
        let (tx, rx) = mpsc::channel();
        {
            let spawner = lock(&self.spawner);
            let Some(s) = spawner.as_ref() else {
                return Err("the pool is closing".into());
            };
            s.send(tx)
                .map_err(|_| "the spawner thread is gone".to_string())?;
        }
        rx.recv()
            .map_err(|_| "the spawner thread is gone".to_string())?
    }
}

/// The child's stdout, with an optional deadline for the hello.
struct Pipe {
    out: ChildStdout,
    deadline: Option<Instant>,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(deadline) = self.deadline {
            use std::os::fd::AsRawFd;
            let left = deadline.saturating_duration_since(Instant::now());
            let mut fds = libc::pollfd {
                fd: self.out.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd for the duration of the call.
            let n = unsafe { libc::poll(&mut fds, 1, ms) };
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no hello in time"));
            }
        }
        self.out.read(buf)
    }
}

/// Runs on the spawner thread: start `program` as a worker and wait for its hello.
fn start_worker(config: &SpawnConfig) -> Result<Started, String> {
    let mut child = Command::new(&config.program)
        .arg(WORKER_FLAG)
        .arg(std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start worker {}: {e}", config.program.display()))?;
    let pid = child.id();
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("a worker came without its pipes".into());
    };
    let mut reader = FrameReader::new(Pipe {
        out: stdout,
        deadline: Some(Instant::now() + config.start_timeout),
    });
    let hello = match reader.next_frame() {
        Ok(Some(frame)) => match postcard::from_bytes::<FromWorker>(frame) {
            Ok(FromWorker::Hello { protocol, .. }) if protocol == PROTOCOL => Ok(()),
            Ok(FromWorker::Hello { protocol, .. }) => Err(format!(
                "it speaks protocol {protocol}, this pool {PROTOCOL}"
            )),
            Ok(_) | Err(_) => Err("its first frame was not a hello".to_string()),
        },
        Ok(None) => Err("it closed its stdout without a hello".to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(why) = hello {
        let _ = child.kill();
        let status = child
            .wait()
            .map(status::describe)
            .unwrap_or_else(|e| e.to_string());
        let mut text = Vec::new();
        let _ = stderr.take(64 * 1024).read_to_end(&mut text);
        let text = String::from_utf8_lossy(&text);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!(": \"{}\"", l.trim()))
            .unwrap_or_default();
        return Err(format!(
            "worker {} (pid {pid}) did not start: {why}; it {status}{last}. Does its main call \
             process_pool::serve_if_worker first?",
            config.program.display()
        ));
    }
    reader.inner_mut().deadline = None;
    Ok(Started {
        child,
        pid,
        reader,
        stdin,
        stderr,
    })
}

/// Puts a started worker in `place`, with its writer and forwarder threads; returns the
/// reader thread (which also starts the worker's replacements).
fn install(
    shared: &Arc<Shared>,
    place: usize,
    started: Started,
    replacement: bool,
) -> io::Result<JoinHandle<()>> {
    let (incarnation, reader) = start_incarnation(shared, place, started, replacement)?;
    let s = shared.clone();
    thread::Builder::new()
        .name(format!("process-pool-reader-{}", place + 1))
        .spawn(move || read_loop(s, place, incarnation, reader))
}

/// What the reader keeps of the worker it reads from.
struct Incarnation {
    child: Child,
    pid: u32,
    forwarder: Option<(JoinHandle<()>, mpsc::Receiver<()>)>,
    writer: Option<JoinHandle<()>>,
}

fn start_incarnation(
    shared: &Arc<Shared>,
    place: usize,
    started: Started,
    replacement: bool,
) -> io::Result<(Incarnation, FrameReader<Pipe>)> {
    let Started {
        mut child,
        pid,
        reader,
        stdin,
        stderr,
    } = started;
    let outbox = Arc::new(Outbox::default());
    let (done_tx, done_rx) = mpsc::channel();
    let output = shared.config.output;
    let threads = (|| {
        let outbox = outbox.clone();
        let writer = thread::Builder::new()
            .name(format!("process-pool-writer-{pid}"))
            .spawn(move || write_loop(&outbox, stdin))?;
        let forwarder = thread::Builder::new()
            .name(format!("process-pool-stderr-{pid}"))
            .spawn(move || {
                forward(stderr, pid, output);
                let _ = done_tx.send(());
            })?;
        Ok::<_, io::Error>((writer, forwarder))
    })();
    let (writer, forwarder) = match threads {
        Ok(t) => t,
        Err(e) => {
            outbox.close();
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    let mut state = lock(&shared.state);
    state.workers[place] = Some(Worker {
        pid,
        in_flight: VecDeque::new(),
        head_since: Instant::now(),
        outbox,
        closed: false,
        reaping: false,
        timed_out: None,
    });
    state.live += 1;
    state.started.push(pid);
    if replacement {
        state.replaced += 1;
        state.starting -= 1;
        shared.changed.notify_all();
    }
    dispatch(&mut state, shared);
    Ok((
        Incarnation {
            child,
            pid,
            forwarder: Some((forwarder, done_rx)),
            writer: Some(writer),
        },
        reader,
    ))
}

fn write_loop(outbox: &Outbox, mut stdin: ChildStdin) {
    let mut batch: Vec<Arc<[u8]>> = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        {
            let mut inner = lock(&outbox.inner);
            while inner.frames.is_empty() && !inner.closed {
                inner.waiting = true;
                inner = outbox.wake.wait(inner).unwrap_or_else(|e| e.into_inner());
            }
            if inner.frames.is_empty() {
                break; // closed, and everything written
            }
            std::mem::swap(&mut batch, &mut inner.frames);
        }
        bytes.clear();
        for f in batch.drain(..) {
            bytes.extend_from_slice(&f);
        }
        if stdin.write_all(&bytes).is_err() {
            break; // the worker is gone; its reader handles that
        }
    }
    // Dropping stdin closes it: the worker reads the end and exits.
}

/// Copies the worker's stderr to the chosen output, a line at a time, `[pid N] ` in front.
fn forward(stderr: ChildStderr, pid: u32, output: WorkerOutput) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let prefix = format!("[pid {pid}] ");
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        let _ = match output {
            WorkerOutput::Stderr => {
                let mut err = io::stderr().lock();
                err.write_all(prefix.as_bytes())
                    .and_then(|_| err.write_all(&line))
            }
            WorkerOutput::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(prefix.as_bytes())
                    .and_then(|_| out.write_all(&line))
                    .and_then(|_| out.flush())
            }
            WorkerOutput::Discard => Ok(()),
        };
    }
}

/// Reads one worker's replies; when it ends, reaps it, fails the call it held, puts the
/// calls it had not started back in the queue and starts a replacement (then reads that one).
fn read_loop(
    shared: Arc<Shared>,
    place: usize,
    mut incarnation: Incarnation,
    mut reader: FrameReader<Pipe>,
) {
    loop {
        let bad_reply = read_replies(&shared, place, incarnation.pid, &mut reader);
        let replacement = bury(&shared, place, &mut incarnation, bad_reply);
        if !replacement {
            return;
        }
        match shared.spawn() {
            Ok(started) => match start_incarnation(&shared, place, started, true) {
                Ok((next, next_reader)) => {
                    incarnation = next;
                    reader = next_reader;
                }
                Err(e) => {
                    abandon(&shared, place, format!("cannot start its threads: {e}"));
                    return;
                }
            },
            Err(e) => {
                abandon(&shared, place, e);
                return;
            }
        }
    }
}

/// Delivers replies until the worker's stdout ends. Returns why it stopped early when the
/// worker sent something that is not a valid reply.
fn read_replies(
    shared: &Shared,
    place: usize,
    pid: u32,
    reader: &mut FrameReader<Pipe>,
) -> Option<String> {
    let mut batch: Vec<(u64, Vec<ItemOut>)> = Vec::new();
    loop {
        // Everything already buffered goes in under one lock.
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return deliver(shared, place, &mut batch).err(),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // Died in the middle of a reply.
                    return deliver(shared, place, &mut batch).err();
                }
                Err(e) => {
                    let _ = deliver(shared, place, &mut batch);
                    return Some(e.to_string());
                }
            };
            match postcard::from_bytes::<FromWorker>(frame) {
                Ok(FromWorker::Done { id, replies }) => {
                    let items = replies
                        .into_iter()
                        .map(|r| match r {
                            Reply::Value(Bytes(b)) => ItemOut::Value(b.to_vec()),
                            Reply::Panicked(m) => ItemOut::Panicked(m),
                            Reply::Failed(m) => ItemOut::Failed(m),
                        })
                        .collect();
                    batch.push((id, items));
                }
                Ok(FromWorker::Hello { .. }) => {
                    let _ = deliver(shared, place, &mut batch);
                    return Some(format!("worker pid {pid} said hello twice"));
                }
                Err(e) => {
                    let _ = deliver(shared, place, &mut batch);
                    return Some(format!("undecodable reply: {e}"));
                }
            }
            if !reader.has_frame() {
                break;
            }
        }
        if let Err(why) = deliver(shared, place, &mut batch) {
            return Some(why);
        }
    }
}

/// Completes the calls of `batch` (which must be the worker's oldest calls, in order) and
/// hands the worker more.
fn deliver(
    shared: &Shared,
    place: usize,
    batch: &mut Vec<(u64, Vec<ItemOut>)>,
) -> Result<(), String> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut state = lock(&shared.state);
    let now = Instant::now();
    let mut result = Ok(());
    for (id, items) in batch.drain(..) {
        let Some(w) = state.workers[place].as_mut() else {
            break;
        };
        let Some(front) = w.in_flight.front() else {
            result = Err(format!("a reply to call #{id}, which it was not running"));
            break;
        };
        if front.id != id {
            result = Err(format!(
                "a reply to call #{id} while it was running call #{}",
                front.id
            ));
            break;
        }
        let Some(job) = w.in_flight.pop_front() else {
            break;
        };
        w.head_since = now;
        job.slot.complete(Ok(items));
        state.outstanding -= 1;
    }
    if state.outstanding == 0 {
        shared.changed.notify_all();
    }
    dispatch(&mut state, shared);
    result
}

/// The worker's stdout ended (or it misbehaved): reap it, settle its calls. Returns whether
/// to start a replacement.
fn bury(
    shared: &Shared,
    place: usize,
    incarnation: &mut Incarnation,
    bad_reply: Option<String>,
) -> bool {
    let pid = incarnation.pid;
    let (in_flight, timed_out) = {
        let mut state = lock(&shared.state);
        match state.workers[place].as_mut() {
            Some(w) => {
                if bad_reply.is_some() && !w.reaping {
                    kill(pid);
                }
                w.reaping = true;
                w.closed = true;
                w.outbox.close();
                (std::mem::take(&mut w.in_flight), w.timed_out)
            }
            None => (VecDeque::new(), None),
        }
    };
    // Reap outside the lock: a worker told to exit may take a moment.
    let status = match incarnation.child.wait() {
        Ok(s) => status::describe(s),
        Err(e) => format!("could not be reaped: {e}"),
    };
    if let Some(w) = incarnation.writer.take() {
        let _ = w.join();
    }
    if let Some((f, done)) = incarnation.forwarder.take() {
        // The forwarder ends at its stderr's end; a grandchild holding that pipe open must
        // not hang the pool.
        if done.recv_timeout(Duration::from_secs(1)).is_ok() {
            let _ = f.join();
        }
    }

    let mut state = lock(&shared.state);
    state.live -= 1;
    state.workers[place] = None;
    // ANCHOR: blame
    let mut in_flight = in_flight;
    if let Some(job) = in_flight.pop_front() {
        let failure = match (timed_out, &bad_reply, shared.config.timeout) {
            (Some(id), _, Some(after)) if id == job.id => Failure::TimedOut { after, pid },
            (_, Some(why), _) => Failure::BadReply {
                pid,
                why: why.clone(),
            },
            _ => Failure::WorkerDied {
                pid,
                status: status.clone(),
            },
        };
        state.outstanding -= 1;
        job.slot.complete(Err(failure));
    }
    // Calls it had not started go back to the front of the queue, in order.
    while let Some(job) = in_flight.pop_back() {
        state.queue.push_front(job);
    }
    // ANCHOR_END: blame
    let replace = !state.stopping && (state.accepting || state.outstanding > 0);
    if replace {
        state.starting += 1;
    }
    if state.outstanding == 0 {
        shared.changed.notify_all();
    }
    shared.changed.notify_all();
    dispatch(&mut state, shared);
    replace
}

/// A replacement could not start: this place stays empty. With no worker left, the queued
/// calls fail.
fn abandon(shared: &Shared, place: usize, why: String) {
    let mut state = lock(&shared.state);
    state.workers[place] = None;
    state.starting -= 1;
    shared.changed.notify_all();
    eprintln!("process-pool: cannot replace a worker: {why}");
    let any_left = state.workers.iter().any(|w| w.is_some()) || state.starting > 0;
    if !any_left {
        let failed: Vec<Job> = state.queue.drain(..).collect();
        state.outstanding -= failed.len();
        for job in failed {
            job.slot.complete(Err(Failure::NoWorker(why.clone())));
        }
        shared.changed.notify_all();
    }
}

/// Kills the worker whose current call has run longer than `timeout`.
fn watchdog(shared: &Shared, timeout: Duration) {
    let mut state = lock(&shared.state);
    loop {
        if state.live == 0 && (!state.accepting || state.stopping) {
            return;
        }
        let now = Instant::now();
        let mut wake = now + timeout;
        for w in state.workers.iter_mut().flatten() {
            if w.reaping || w.timed_out.is_some() {
                continue;
            }
            if let Some(head) = w.in_flight.front() {
                let deadline = w.head_since + timeout;
                if deadline <= now {
                    w.timed_out = Some(head.id);
                    kill(w.pid);
                } else {
                    wake = wake.min(deadline);
                }
            }
        }
        let sleep = wake
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        state = shared
            .changed
            .wait_timeout(state, sleep)
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}

/// A submitted task: wait for its value, or ask whether it is done.
pub struct Task<R> {
    id: u64,
    task: &'static str,
    slot: Arc<Slot>,
    _value: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Task<R> {
    /// Blocks until the task is done; its value, or why there is none.
    pub fn wait(self) -> Result<R, TaskError> {
        let outcome = self.slot.wait();
        settle(self.task, self.id, None, outcome, 1)
            .into_iter()
            .next()
            .unwrap_or_else(|| {
                Err(TaskError {
                    task: self.task,
                    id: self.id,
                    item: None,
                    kind: ErrorKind::Failed("the worker sent no reply for it".into()),
                })
            })
            .and_then(|bytes| decode(self.task, self.id, None, &bytes))
    }
}

impl<R> Task<R> {
    pub fn is_done(&self) -> bool {
        self.slot.is_done()
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The task's registered name.
    pub fn name(&self) -> &'static str {
        self.task
    }
}

impl<R> fmt::Debug for Task<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Task(\"{}\" #{}, done: {})",
            self.task,
            self.id,
            self.is_done()
        )
    }
}

// ANCHOR: as_completed
/// The tasks' results in the order they finish.
pub fn as_completed<R: DeserializeOwned>(
    tasks: Vec<Task<R>>,
) -> impl Iterator<Item = Result<R, TaskError>> {
    let (tx, rx) = mpsc::channel();
    for (i, t) in tasks.iter().enumerate() {
        t.slot.on_done(tx.clone(), i);
    }
    drop(tx);
    let mut tasks: Vec<Option<Task<R>>> = tasks.into_iter().map(Some).collect();
    std::iter::from_fn(move || {
        let i = rx.recv().ok()?;
        tasks.get_mut(i)?.take().map(Task::wait)
    })
}
// ANCHOR_END: as_completed

/// One outcome as per-item results (raw bytes of values).
fn settle(
    task: &'static str,
    id: u64,
    first_item: Option<u64>,
    outcome: Outcome,
    items: usize,
) -> Vec<Result<Vec<u8>, TaskError>> {
    let err = |i: usize, kind: ErrorKind| TaskError {
        task,
        id,
        item: first_item.map(|f| f + i as u64),
        kind,
    };
    match outcome {
        Ok(replies) => replies
            .into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                ItemOut::Value(bytes) => Ok(bytes),
                ItemOut::Panicked(m) => Err(err(i, ErrorKind::Panicked(m))),
                ItemOut::Failed(m) => Err(err(i, ErrorKind::Failed(m))),
            })
            .collect(),
        Err(failure) => {
            let kind = match failure {
                Failure::WorkerDied { pid, status } => ErrorKind::WorkerDied { pid, status, items },
                Failure::TimedOut { after, pid } => ErrorKind::TimedOut { after, pid },
                Failure::BadReply { pid, why } => ErrorKind::Failed(format!(
                    "worker pid {pid} sent a bad reply ({why}) and was replaced"
                )),
                Failure::Cancelled => ErrorKind::Cancelled,
                Failure::NoWorker(why) => ErrorKind::NoWorker(why),
            };
            (0..items).map(|i| Err(err(i, kind.clone()))).collect()
        }
    }
}

fn decode<R: DeserializeOwned>(
    task: &'static str,
    id: u64,
    item: Option<u64>,
    bytes: &[u8],
) -> Result<R, TaskError> {
    postcard::from_bytes(bytes).map_err(|e| TaskError {
        task,
        id,
        item,
        kind: ErrorKind::Failed(format!("cannot decode the result: {e}")),
    })
}

/// What `map` has sent: a chunk on its way, or items that could not even be sent.
enum Ahead {
    Chunk {
        id: u64,
        slot: Arc<Slot>,
        first: u64,
        items: usize,
    },
    Unsent(Vec<TaskError>),
}

struct MapIter<'p, A: 'static, R: 'static, I> {
    pool: &'p ProcessPool,
    task: &'static TaskFn<A, R>,
    items: I,
    chunksize: usize,
    ahead: VecDeque<Ahead>,
    current: VecDeque<Result<R, TaskError>>,
    next_item: u64,
    max_ahead: usize,
    _value: PhantomData<fn() -> R>,
}

impl<A, R, I> MapIter<'_, A, R, I>
where
    A: Serialize,
    R: DeserializeOwned,
    I: Iterator,
    I::Item: Borrow<A>,
{
    /// Sends chunks until `max_ahead` are on their way or the input ends.
    fn fill(&mut self) {
        while self.ahead.len() < self.max_ahead {
            let first = self.next_item;
            let mut args = Vec::with_capacity(self.chunksize);
            let mut errors = Vec::new();
            for item in self.items.by_ref().take(self.chunksize) {
                match wire::to_bytes(item.borrow()) {
                    Ok(b) => args.push(b),
                    Err(e) => errors.push(e),
                }
            }
            let n = args.len() + errors.len();
            if n == 0 {
                return;
            }
            self.next_item += n as u64;
            let id = self.pool.shared.next_id.fetch_add(1, Ordering::Relaxed);
            if !errors.is_empty() {
                let why = errors.join("; ");
                self.ahead.push_back(Ahead::Unsent(
                    (0..n as u64)
                        .map(|i| TaskError {
                            task: self.task.name(),
                            id,
                            item: Some(first + i),
                            kind: ErrorKind::Failed(format!(
                                "cannot encode the arguments of its chunk: {why}"
                            )),
                        })
                        .collect(),
                ));
                continue;
            }
            let slot = Arc::new(Slot::default());
            self.pool.send(id, self.task.name(), &args, slot.clone());
            self.ahead.push_back(Ahead::Chunk {
                id,
                slot,
                first,
                items: n,
            });
        }
    }
}

impl<A, R, I> Iterator for MapIter<'_, A, R, I>
where
    A: Serialize,
    R: DeserializeOwned,
    I: Iterator,
    I::Item: Borrow<A>,
{
    type Item = Result<R, TaskError>;

    fn next(&mut self) -> Option<Result<R, TaskError>> {
        loop {
            if let Some(r) = self.current.pop_front() {
                return Some(r);
            }
            self.fill();
            match self.ahead.pop_front()? {
                Ahead::Unsent(errors) => self.current.extend(errors.into_iter().map(Err)),
                Ahead::Chunk {
                    id,
                    slot,
                    first,
                    items,
                } => {
                    let task = self.task.name();
                    let outcome = slot.wait();
                    self.fill();
                    let mut results = settle(task, id, Some(first), outcome, items);
                    while results.len() < items {
                        results.push(Err(TaskError {
                            task,
                            id,
                            item: Some(first + results.len() as u64),
                            kind: ErrorKind::Failed("the worker sent no reply for it".into()),
                        }));
                    }
                    self.current
                        .extend(results.into_iter().enumerate().map(|(i, r)| {
                            r.and_then(|b| decode(task, id, Some(first + i as u64), &b))
                        }));
                }
            }
        }
    }
}
