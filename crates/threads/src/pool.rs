//! A thread-pool executor with the shape of Python's `concurrent.futures.ThreadPoolExecutor`:
//! [`ThreadPool::submit`] hands back a [`Task`] (Python's `Future`), [`ThreadPool::map`] yields
//! results in input order, [`as_completed`] in the order the tasks finish, and
//! [`ThreadPool::shutdown`] (or dropping the pool, the `with` block's exit) waits for the work.
//!
//! It is built from the standard library (and two small helpers of `worker-pool`): worker threads named `worker-1`..`worker-N`
//! take jobs from one `std::sync::mpsc` channel, and each task's result comes back through its
//! own slot (a mutex and a condition variable). A task that panics becomes a [`TaskError`] that
//! names the task and carries the panic message; the worker, the pool and the other tasks carry
//! on.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Instant;
// A mutex whose holder panicked is still consistent here (no user code runs under a lock), so
// `lock` takes it anyway; one copy of both helpers for this pool and the process pool.
use worker_pool::{lock, panic_message};

// ANCHOR: pool
/// A fixed set of worker threads and the queue they take jobs from.
pub struct ThreadPool {
    /// The sending end of the job queue; `None` once the pool is shut down.
    queue: Option<mpsc::Sender<Job>>,
    shared: Arc<PoolCore>,
    handles: Vec<JoinHandle<()>>,
    workers: usize,
}

/// What the workers share: the receiving end of the queue (one receiver, so behind a mutex),
/// the cancel flag of `shutdown(.., cancel_pending = true)`, and the timeline, if recorded.
struct PoolCore {
    receiver: Mutex<mpsc::Receiver<Job>>,
    cancel: AtomicBool,
    next_id: AtomicU64,
    recorder: Option<Recorder>,
}
// ANCHOR_END: pool

impl ThreadPool {
    /// A pool of `workers` threads named `worker-1`..`worker-N` (0 means 1).
    ///
    /// # Panics
    /// When the operating system cannot start a thread, like `std::thread::spawn`;
    /// [`ThreadPool::try_new`] returns that error instead.
    pub fn new(workers: usize) -> ThreadPool {
        match ThreadPool::build(workers, false) {
            Ok(pool) => pool,
            Err(e) => panic!("cannot start the pool's worker threads: {e}"),
        }
    }

    /// [`ThreadPool::new`], returning the error when a worker thread cannot be started.
    pub fn try_new(workers: usize) -> std::io::Result<ThreadPool> {
        ThreadPool::build(workers, false)
    }

    /// A pool that records when each task started and ended on which worker, for
    /// [`ThreadPool::spans`] (the timeline figure). Recording costs two clock reads per task.
    ///
    /// # Panics
    /// Like [`ThreadPool::new`].
    pub fn with_timeline(workers: usize) -> ThreadPool {
        match ThreadPool::build(workers, true) {
            Ok(pool) => pool,
            Err(e) => panic!("cannot start the pool's worker threads: {e}"),
        }
    }

    fn build(workers: usize, record: bool) -> std::io::Result<ThreadPool> {
        let workers = workers.max(1);
        let (sender, receiver) = mpsc::channel();
        let shared = Arc::new(PoolCore {
            receiver: Mutex::new(receiver),
            cancel: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            recorder: record.then(|| Recorder {
                origin: Instant::now(),
                spans: Mutex::new(Vec::new()),
            }),
        });
        let mut pool = ThreadPool {
            queue: Some(sender),
            shared,
            handles: Vec::with_capacity(workers),
            workers,
        };
        for n in 1..=workers {
            let shared = Arc::clone(&pool.shared);
            let handle = thread::Builder::new()
                .name(format!("worker-{n}"))
                .spawn(move || worker_loop(n, &shared))?; // on error, Drop stops the others
            pool.handles.push(handle);
        }
        Ok(pool)
    }

    /// How many worker threads the pool has.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Schedules `f` on a worker and returns its [`Task`] at once (Python's `executor.submit`).
    pub fn submit<T, F>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.enqueue(None, f)
    }

    /// [`ThreadPool::submit`] with a label: errors and the timeline name the task by it.
    pub fn submit_named<T, F>(&self, label: impl Into<String>, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.enqueue(Some(Arc::from(label.into())), f)
    }

    // ANCHOR: submit
    fn enqueue<T, F>(&self, label: Option<Arc<str>>, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let name = TaskName {
            id: self.shared.next_id.fetch_add(1, Ordering::Relaxed),
            label,
        };
        let slot = Arc::new(Slot::new());
        let task = Task {
            slot: Arc::clone(&slot),
            name: name.clone(),
        };
        let work = Box::new(Work {
            f: Some(f),
            slot,
            name,
        });
        match &self.queue {
            // If the workers are gone, the job comes back and is dropped: its task resolves.
            Some(queue) => drop(queue.send(work)),
            None => work.refuse(Reason::ShutDown),
        }
        task
    }
    // ANCHOR_END: submit

    // ANCHOR: map
    /// `f` over `items` on the workers, the results in input order (Python's `executor.map`).
    /// At most two tasks per worker are submitted ahead of the one being waited for, so a long
    /// (or endless) input never sits in the queue all at once.
    pub fn map<I, T, F>(&self, f: F, items: I) -> impl Iterator<Item = Result<T, TaskError>>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        let in_flight = 2 * self.workers;
        let mut items = items.into_iter();
        let mut pending: VecDeque<Task<T>> = VecDeque::with_capacity(in_flight);
        std::iter::from_fn(move || {
            while pending.len() < in_flight {
                let Some(item) = items.next() else { break };
                let f = Arc::clone(&f);
                pending.push_back(self.submit(move || f(item)));
            }
            pending.pop_front().map(Task::wait)
        })
    }
    // ANCHOR_END: map

    // ANCHOR: shutdown
    /// Stops taking work (Python's `executor.shutdown(wait, cancel_futures)`). Tasks submitted
    /// afterwards resolve at once to a "shut down" error. With `cancel_pending`, tasks that have
    /// not started resolve to a "cancelled" error instead of running; running tasks finish.
    /// With `wait`, returns when every worker has finished; dropping the pool always waits.
    pub fn shutdown(&mut self, wait: bool, cancel_pending: bool) {
        if cancel_pending {
            self.shared.cancel.store(true, Ordering::SeqCst);
        }
        // Closing the queue: each worker drains what is left, then its `recv` fails and it exits.
        self.queue = None;
        if cancel_pending {
            // Resolve the queued tasks now rather than when a worker gets to them.
            let receiver = lock(&self.shared.receiver);
            while let Ok(job) = receiver.try_recv() {
                job.refuse(Reason::Cancelled);
            }
        }
        if wait {
            for handle in self.handles.drain(..) {
                let _ = handle.join(); // workers catch task panics, so join cannot fail
            }
        }
    }
    // ANCHOR_END: shutdown

    /// When each task ran on which worker (in order of start, seconds since the pool was made),
    /// for `measure::Timeline`. Empty unless the pool was made with [`ThreadPool::with_timeline`].
    pub fn spans(&self) -> Vec<measure::Span> {
        let Some(recorder) = &self.shared.recorder else {
            return Vec::new();
        };
        let mut spans = lock(&recorder.spans).clone();
        spans.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        spans
    }
}

impl Drop for ThreadPool {
    /// The end of Python's `with ThreadPoolExecutor() as executor:` block: every task already
    /// submitted runs to the end before the pool is gone.
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers)
            .field("open", &self.queue.is_some())
            .finish()
    }
}

// ANCHOR: worker
/// One worker thread: take a job, run it (or cancel it), until the queue is closed and empty.
fn worker_loop(n: usize, shared: &PoolCore) {
    loop {
        // Only the waiting for a job happens under the lock, never the job itself.
        let job = lock(&shared.receiver).recv();
        let Ok(job) = job else { return };
        if shared.cancel.load(Ordering::SeqCst) {
            job.refuse(Reason::Cancelled);
            continue;
        }
        match &shared.recorder {
            None => job.run(&mut || {}),
            Some(recorder) => {
                let start = recorder.origin.elapsed().as_secs_f64();
                let label = job.name().short();
                // Recorded before the task counts as done: whoever waits for it sees its span.
                job.run(&mut || {
                    lock(&recorder.spans).push(measure::Span {
                        worker: format!("worker-{n}"),
                        label: label.clone(),
                        start_s: start,
                        end_s: recorder.origin.elapsed().as_secs_f64(),
                    });
                });
            }
        }
    }
}
// ANCHOR_END: worker

struct Recorder {
    origin: Instant,
    spans: Mutex<Vec<measure::Span>>,
}

/// A queued job: the closure and the slot its result goes to, behind one trait object so that
/// one queue carries tasks of every result type.
type Job = Box<dyn Runnable>;

trait Runnable: Send {
    fn name(&self) -> &TaskName;
    /// Runs the closure, catching a panic, calls `finished`, then completes the task.
    fn run(self: Box<Self>, finished: &mut dyn FnMut());
    /// Completes the task with an error instead of running it.
    fn refuse(self: Box<Self>, reason: Reason);
}

struct Work<T, F> {
    f: Option<F>,
    slot: Arc<Slot<T>>,
    name: TaskName,
}

// ANCHOR: run
impl<T: Send, F: FnOnce() -> T + Send> Runnable for Work<T, F> {
    fn name(&self) -> &TaskName {
        &self.name
    }

    fn run(mut self: Box<Self>, finished: &mut dyn FnMut()) {
        if let Some(f) = self.f.take() {
            let result = panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
                TaskError::new(
                    self.name.clone(),
                    Reason::Panicked(panic_message(&*payload)),
                )
            });
            finished();
            self.slot.complete(result);
        }
    }

    fn refuse(mut self: Box<Self>, reason: Reason) {
        self.f = None;
        self.slot
            .complete(Err(TaskError::new(self.name.clone(), reason)));
    }
}
// ANCHOR_END: run

impl<T, F> Drop for Work<T, F> {
    /// A job dropped without running (its queue vanished) still resolves its task: nobody
    /// waits forever.
    fn drop(&mut self) {
        if self.f.take().is_some() {
            self.slot
                .complete(Err(TaskError::new(self.name.clone(), Reason::Cancelled)));
        }
    }
}

/// Where a task's result lands, and who to tell: a thread blocked in `wait`, or the
/// channel of an `as_completed` iterator.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
    ready: Condvar,
}

struct SlotState<T> {
    result: Option<Result<T, TaskError>>,
    done: bool,
    /// A thread waits on `ready`: only then is it worth a wake-up call.
    waiting: bool,
    /// `as_completed` wants the task's index sent when it is done.
    notify: Option<(mpsc::Sender<usize>, usize)>,
}

impl<T> Slot<T> {
    fn new() -> Slot<T> {
        Slot {
            state: Mutex::new(SlotState {
                result: None,
                done: false,
                waiting: false,
                notify: None,
            }),
            ready: Condvar::new(),
        }
    }

    fn complete(&self, result: Result<T, TaskError>) {
        let mut state = lock(&self.state);
        if state.done {
            return;
        }
        state.result = Some(result);
        state.done = true;
        let waiting = state.waiting;
        let notify = state.notify.take();
        drop(state);
        if waiting {
            self.ready.notify_all();
        }
        if let Some((sender, index)) = notify {
            let _ = sender.send(index); // the iterator may be gone: nobody to tell
        }
    }
}

/// A task's id (unique within its pool, from 1) and optional label.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TaskName {
    id: u64,
    label: Option<Arc<str>>,
}

impl TaskName {
    /// The label, or `#id` when there is none: what a timeline bar shows.
    fn short(&self) -> String {
        match &self.label {
            Some(label) => label.to_string(),
            None => format!("#{}", self.id),
        }
    }
}

impl fmt::Display for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.label {
            Some(label) => write!(f, "task {} ({label})", self.id),
            None => write!(f, "task {}", self.id),
        }
    }
}

// ANCHOR: task
/// A submitted task (Python's `Future`): wait for its result, or ask whether it is done.
pub struct Task<T> {
    slot: Arc<Slot<T>>,
    name: TaskName,
}

impl<T> Task<T> {
    /// Blocks until the task has finished; its value, or why there is none (Python's
    /// `future.result()`).
    pub fn wait(self) -> Result<T, TaskError> {
        let mut state = lock(&self.slot.state);
        while !state.done {
            state.waiting = true;
            state = self
                .slot
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.result.take().unwrap_or_else(|| {
            Err(TaskError::new(self.name.clone(), Reason::Lost)) // taken twice: cannot happen
        })
    }

    /// Whether the task has finished, one way or another (Python's `future.done()`).
    pub fn is_done(&self) -> bool {
        lock(&self.slot.state).done
    }

    /// The task's id, unique within its pool (from 1, in order of submission).
    pub fn id(&self) -> u64 {
        self.name.id
    }

    /// The label given to [`ThreadPool::submit_named`].
    pub fn label(&self) -> Option<&str> {
        self.name.label.as_deref()
    }
}
// ANCHOR_END: task

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.name.id)
            .field("label", &self.name.label)
            .field("done", &self.is_done())
            .finish()
    }
}

// ANCHOR: as_completed
/// The tasks' results in the order they finish (Python's `as_completed`): each task tells a
/// channel its index when it completes, and the iterator takes the results in that order.
pub fn as_completed<T>(tasks: Vec<Task<T>>) -> impl Iterator<Item = Result<T, TaskError>> {
    let (sender, finished) = mpsc::channel();
    for (index, task) in tasks.iter().enumerate() {
        let mut state = lock(&task.slot.state);
        if state.done {
            let _ = sender.send(index);
        } else {
            state.notify = Some((sender.clone(), index));
        }
    }
    drop(sender); // when every task has reported, `recv` ends
    let mut tasks: Vec<Option<Task<T>>> = tasks.into_iter().map(Some).collect();
    std::iter::from_fn(move || {
        let index = finished.recv().ok()?;
        tasks.get_mut(index)?.take().map(Task::wait)
    })
}
// ANCHOR_END: as_completed

/// Why a task has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The task panicked; the panic's message.
    Panicked(String),
    /// `shutdown(.., cancel_pending = true)` came before the task started.
    Cancelled,
    /// The task was submitted after the pool was shut down.
    ShutDown,
    /// The task's result was taken before (cannot happen through this API).
    Lost,
}

/// A task that produced no value: which task, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    name: TaskName,
    reason: Reason,
}

impl TaskError {
    fn new(name: TaskName, reason: Reason) -> TaskError {
        TaskError { name, reason }
    }

    /// The id of the task (as [`Task::id`]).
    pub fn task_id(&self) -> u64 {
        self.name.id
    }

    /// The task's label, if it was submitted with one.
    pub fn label(&self) -> Option<&str> {
        self.name.label.as_deref()
    }

    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    pub fn is_cancelled(&self) -> bool {
        self.reason == Reason::Cancelled
    }

    /// The panic message, when the task panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.reason {
            Reason::Panicked(message) => Some(message),
            _ => None,
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Panicked(message) => write!(f, "{} panicked: {message}", self.name),
            Reason::Cancelled => write!(
                f,
                "{} cancelled: the pool was shut down before it started",
                self.name
            ),
            Reason::ShutDown => write!(
                f,
                "{} not run: it was submitted after the pool was shut down",
                self.name
            ),
            Reason::Lost => write!(f, "{} has no result left to take", self.name),
        }
    }
}

impl std::error::Error for TaskError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_workers_means_one_and_threads_are_named() {
        let pool = ThreadPool::new(0);
        assert_eq!(pool.workers(), 1);
        let name = pool
            .submit(|| thread::current().name().map(str::to_string))
            .wait()
            .unwrap();
        assert_eq!(name.as_deref(), Some("worker-1"));
    }

    #[test]
    fn ids_count_up_and_labels_stick() {
        let pool = ThreadPool::new(2);
        let a = pool.submit(|| 1);
        let b = pool.submit_named("second", || 2);
        assert_eq!((a.id(), b.id()), (1, 2));
        assert_eq!((a.label(), b.label()), (None, Some("second")));
        assert!(format!("{b:?}").contains("second"));
        assert_eq!(a.wait().unwrap() + b.wait().unwrap(), 3);
    }

    #[test]
    fn panic_messages_of_both_kinds() {
        let pool = ThreadPool::new(1);
        let owned = pool.submit(|| -> u8 { panic!("{} apples", 3) });
        let fixed = pool.submit_named("fixed", || -> u8 { panic!("fixed text") });
        let e = owned.wait().unwrap_err();
        assert_eq!(e.panic_message(), Some("3 apples"));
        assert_eq!(e.to_string(), "task 1 panicked: 3 apples");
        let e = fixed.wait().unwrap_err();
        assert_eq!(e.to_string(), "task 2 (fixed) panicked: fixed text");
        assert_eq!(e.label(), Some("fixed"));
    }

    #[test]
    fn submit_after_shutdown_resolves_at_once() {
        let mut pool = ThreadPool::new(1);
        pool.shutdown(true, false);
        let e = pool.submit(|| 5).wait().unwrap_err();
        assert_eq!(e.reason(), &Reason::ShutDown);
        assert!(
            e.to_string().contains("after the pool was shut down"),
            "{e}"
        );
    }

    #[test]
    fn timeline_records_every_task_on_a_named_worker() {
        let pool = ThreadPool::with_timeline(2);
        let tasks: Vec<_> = (0..6)
            .map(|i| pool.submit_named(format!("t{i}"), move || i))
            .collect();
        for t in tasks {
            t.wait().unwrap();
        }
        let spans = pool.spans();
        assert_eq!(spans.len(), 6);
        for s in &spans {
            assert!(s.worker == "worker-1" || s.worker == "worker-2", "{s:?}");
            assert!(s.label.starts_with('t'), "{s:?}");
            assert!(s.start_s <= s.end_s);
        }
        assert!(ThreadPool::new(1).spans().is_empty());
    }
}
