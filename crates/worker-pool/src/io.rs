//! The threads each worker has in the parent: a writer (its outbox to its stdin), a stderr
//! forwarder, and a reader (replies in; at the worker's end it reaps it, blames the call it
//! held, requeues the rest and starts a replacement); and the pool's watchdog for timeouts.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Write};
use std::process::{ChildStderr, ChildStdin};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Failure, ItemOut};
use crate::pool::{Job, PoolCore, WorkerOutput, dispatch, kill};
use crate::spawn::{Incarnation, Pipe, start_incarnation};
use crate::status;
use crate::sync::lock;
use crate::wire::{Bytes, FrameReader, FromWorker, Reply};

/// Frames waiting for a worker's writer thread.
#[derive(Default)]
pub(crate) struct Outbox {
    pub(crate) inner: Mutex<OutboxInner>,
    pub(crate) wake: Condvar,
}

#[derive(Default)]
pub(crate) struct OutboxInner {
    pub(crate) frames: Vec<Arc<[u8]>>,
    pub(crate) closed: bool,
    pub(crate) waiting: bool,
}

impl Outbox {
    pub(crate) fn push(&self, frame: Arc<[u8]>) {
        let mut inner = lock(&self.inner);
        inner.frames.push(frame);
        if inner.waiting {
            inner.waiting = false;
            drop(inner);
            self.wake.notify_one();
        }
    }

    pub(crate) fn close(&self) {
        lock(&self.inner).closed = true;
        self.wake.notify_one();
    }
}

pub(crate) fn write_loop(outbox: &Outbox, mut stdin: ChildStdin) {
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
pub(crate) fn forward(stderr: ChildStderr, pid: u32, output: WorkerOutput) {
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
pub(crate) fn read_loop(
    shared: Arc<PoolCore>,
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
pub(crate) fn read_replies(
    shared: &PoolCore,
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
pub(crate) fn deliver(
    shared: &PoolCore,
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
pub(crate) fn bury(
    shared: &PoolCore,
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
pub(crate) fn abandon(shared: &PoolCore, place: usize, why: String) {
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
pub(crate) fn watchdog(shared: &PoolCore, timeout: Duration) {
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
