//! A submission's slot (where its outcome lands) and the [`Task`] handle that waits on it;
//! [`as_completed`].

use serde::de::DeserializeOwned;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, mpsc};

use crate::error::{ErrorKind, Failure, Outcome, TaskError, decode, settle};
use crate::sync::lock;

/// Where a submission's outcome lands; `Task::wait` sleeps on it.
#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) inner: Mutex<SlotInner>,
    pub(crate) ready: Condvar,
}

#[derive(Default)]
pub(crate) struct SlotInner {
    pub(crate) outcome: Option<Outcome>,
    pub(crate) taken: bool,
    /// `as_completed`'s channel and this task's index in it.
    pub(crate) notify: Option<(mpsc::Sender<usize>, usize)>,
}

impl Slot {
    pub(crate) fn complete(&self, outcome: Outcome) {
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

    pub(crate) fn is_done(&self) -> bool {
        let inner = lock(&self.inner);
        inner.outcome.is_some() || inner.taken
    }

    pub(crate) fn wait(&self) -> Outcome {
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

    pub(crate) fn on_done(&self, tx: mpsc::Sender<usize>, index: usize) {
        let mut inner = lock(&self.inner);
        if inner.outcome.is_some() {
            let _ = tx.send(index);
        } else {
            inner.notify = Some((tx, index));
        }
    }
}

/// A submitted task: wait for its value, or ask whether it is done.
pub struct Task<R> {
    pub(crate) id: u64,
    pub(crate) task: &'static str,
    pub(crate) slot: Arc<Slot>,
    pub(crate) _value: PhantomData<fn() -> R>,
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
