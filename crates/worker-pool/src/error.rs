//! What can go wrong: a pool that cannot start ([`PoolError`]), a task that failed
//! ([`TaskError`], [`ErrorKind`]), and how a submission's raw outcome becomes per-item results.

use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;

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
    pub(crate) task: &'static str,
    pub(crate) id: u64,
    pub(crate) item: Option<u64>,
    pub(crate) kind: ErrorKind,
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
                duration(*after)
            ),
            ErrorKind::Cancelled => write!(f, " was cancelled: the pool shut down before it ran"),
            ErrorKind::NoWorker(why) => write!(f, " could not run: no worker is left ({why})"),
        }
    }
}

impl std::error::Error for TaskError {}

/// A pool-level failure of one submission (every item of a chunk shares it).
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    WorkerDied { pid: u32, status: String },
    TimedOut { after: Duration, pid: u32 },
    BadReply { pid: u32, why: String },
    Cancelled,
    NoWorker(String),
}

/// One item's reply, owned.
#[derive(Debug)]
pub(crate) enum ItemOut {
    Value(Vec<u8>),
    Panicked(String),
    Failed(String),
}

pub(crate) type Outcome = Result<Vec<ItemOut>, Failure>;

/// One outcome as per-item results (raw bytes of values).
pub(crate) fn settle(
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

pub(crate) fn decode<R: DeserializeOwned>(
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

/// A timeout in words, three significant digits: "500 ms", "2.50 s", "75.0 µs" (the same
/// words as `measure::units::duration`, which this library must not depend on).
fn duration(d: Duration) -> String {
    let seconds = d.as_secs_f64();
    let (value, unit) = [(1.0, "s"), (1e-3, "ms"), (1e-6, "µs")]
        .into_iter()
        .find(|&(scale, _)| seconds >= scale)
        .map_or((seconds * 1e9, "ns"), |(scale, unit)| {
            (seconds / scale, unit)
        });
    let decimals = match value {
        v if v >= 100.0 || v == 0.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format!("{value:.decimals$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_in_their_unit() {
        assert_eq!(duration(Duration::from_millis(500)), "500 ms");
        assert_eq!(duration(Duration::from_millis(2500)), "2.50 s");
        assert_eq!(duration(Duration::from_micros(75)), "75.0 µs");
    }
}
