//! [`ProcessPool::map`]: items in chunks, a bounded number of chunks ahead, results in
//! input order.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Borrow;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::error::{ErrorKind, TaskError, decode, settle};
use crate::pool::ProcessPool;
use crate::registry::TaskFn;
use crate::task::Slot;
use crate::wire;

impl ProcessPool {
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
}

/// What `map` has sent: a chunk on its way, or items that could not even be sent.
pub(crate) enum Ahead {
    Chunk {
        id: u64,
        slot: Arc<Slot>,
        first: u64,
        items: usize,
    },
    Unsent(Vec<TaskError>),
}

pub(crate) struct MapIter<'p, A: 'static, R: 'static, I> {
    pub(crate) pool: &'p ProcessPool,
    pub(crate) task: &'static TaskFn<A, R>,
    pub(crate) items: I,
    pub(crate) chunksize: usize,
    pub(crate) ahead: VecDeque<Ahead>,
    pub(crate) current: VecDeque<Result<R, TaskError>>,
    pub(crate) next_item: u64,
    pub(crate) max_ahead: usize,
    pub(crate) _value: PhantomData<fn() -> R>,
}

impl<A, R, I> MapIter<'_, A, R, I>
where
    A: Serialize,
    R: DeserializeOwned,
    I: Iterator,
    I::Item: Borrow<A>,
{
    /// Sends chunks until `max_ahead` are on their way or the input ends.
    pub(crate) fn fill(&mut self) {
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
