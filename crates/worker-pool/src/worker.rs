//! The worker side: what a pool's child process does.
//!
//! A worker is the pool's own executable started again as
//! `EXE --process-pool-worker PARENT_PID`. Its `main` calls [`serve_if_worker`] first; in a
//! worker that call never returns: it answers calls on stdin/stdout until stdin ends (the
//! pool closed it, or the parent died), then exits.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};

use crate::registry::Registry;
use crate::sync::panic_message;
use crate::wire::{self, Bytes, FrameReader, FromWorker, PROTOCOL, Reply, ToWorker};

/// The argument that marks a worker process. Hidden from people: a binary whose `main`
/// forgot [`serve_if_worker`] rejects it as an unknown flag and exits at once, instead of
/// running its whole program again (and starting pools of its own).
pub const WORKER_FLAG: &str = "--process-pool-worker";

/// Whether this process was started as a pool worker.
pub fn is_worker() -> bool {
    std::env::args_os().nth(1).as_deref() == Some(OsStr::new(WORKER_FLAG))
}

// ANCHOR: serve_if_worker
/// Call this first thing in `main` of every binary that starts a
/// [`ProcessPool`](crate::ProcessPool). In the parent it returns at once. In a worker it serves the tasks
/// of `registry` on stdin/stdout and exits the process when stdin ends.
///
/// ```no_run
/// # use worker_pool::{Registry, TaskFn};
/// # fn square(x: u64) -> u64 { x * x }
/// static SQUARE: TaskFn<u64, u64> = TaskFn::new("square", square);
///
/// fn main() {
///     worker_pool::serve_if_worker(&Registry::new().register(&SQUARE));
///     // ... the program; it may start a ProcessPool and submit &SQUARE.
/// }
/// ```
pub fn serve_if_worker(registry: &Registry) {
    if !is_worker() {
        return;
    }
    let parent = std::env::args_os()
        .nth(2)
        .and_then(|s| s.to_str()?.parse::<u32>().ok());
    let code = match serve(registry, parent) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("process-pool worker: {e}");
            1
        }
    };
    std::process::exit(code);
}
// ANCHOR_END: serve_if_worker

fn serve(registry: &Registry, parent: Option<u32>) -> io::Result<()> {
    die_with_parent(parent)?;
    let (input, mut output) = take_protocol_fds()?;
    let mut reader = FrameReader::new(input);
    let mut out = Vec::with_capacity(64 * 1024);
    wire::encode_frame(
        &FromWorker::Hello {
            pid: std::process::id(),
            protocol: PROTOCOL,
        },
        &mut out,
    )
    .map_err(io::Error::other)?;
    output.write_all(&out)?;
    out.clear();

    let mut values: Vec<Vec<u8>> = Vec::new();
    while let Some(frame) = reader.next_frame()? {
        let ToWorker::Call { id, task, args } = postcard::from_bytes(frame).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("undecodable call: {e}"))
        })?;
        // Run every item, keeping the encoded values until the reply is written.
        values.clear();
        let mut outcomes: Vec<Result<usize, Reply>> = Vec::with_capacity(args.len());
        match registry.get(task) {
            None => {
                let known = registry.names().join(", ");
                for _ in &args {
                    outcomes.push(Err(Reply::Failed(format!(
                        "no task named \"{task}\" is registered in this binary (it has: {known})"
                    ))));
                }
            }
            Some(f) => {
                for Bytes(arg) in &args {
                    match panic::catch_unwind(AssertUnwindSafe(|| f(arg))) {
                        Ok(Ok(bytes)) => {
                            values.push(bytes);
                            outcomes.push(Ok(values.len() - 1));
                        }
                        Ok(Err(e)) => outcomes.push(Err(Reply::Failed(e))),
                        Err(payload) => {
                            outcomes.push(Err(Reply::Panicked(panic_message(payload.as_ref()))))
                        }
                    }
                }
            }
        }
        let replies: Vec<Reply> = outcomes
            .into_iter()
            .map(|o| match o {
                Ok(i) => Reply::Value(Bytes(&values[i])),
                Err(r) => r,
            })
            .collect();
        wire::encode_frame(&FromWorker::Done { id, replies }, &mut out)
            .map_err(io::Error::other)?;
        // ANCHOR: reply_first
        // The reply leaves before the next call starts: should that call kill this process,
        // the pipe still holds this reply, and the parent blames the right call. (Holding
        // replies back to send several in one write would lose them with the process.)
        output.write_all(&out)?;
        out.clear();
        // ANCHOR_END: reply_first
    }
    Ok(())
}

/// On Linux the kernel sends SIGKILL to this worker when the parent dies, even while a
/// task runs (stdin's end only shows between tasks). If the parent died before this line,
/// we are already an orphan: leave.
#[cfg(target_os = "linux")]
fn die_with_parent(parent: Option<u32>) -> io::Result<()> {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and touches no memory.
    let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getppid has no preconditions.
    let ppid = unsafe { libc::getppid() } as u32;
    match parent {
        Some(p) if p != ppid => Err(io::Error::other(format!(
            "the pool's process {p} is gone (parent is now {ppid})"
        ))),
        _ => Ok(()),
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_parent: Option<u32>) -> io::Result<()> {
    Ok(())
}

/// Moves the protocol off the standard streams: calls come in on a copy of stdin, replies
/// go out on a copy of stdout; then stdin reads /dev/null and stdout writes to stderr, so a
/// task that prints (or reads) cannot corrupt the frames, and what it prints reaches the
/// parent's forwarder with the worker's pid in front.
#[cfg(unix)]
fn take_protocol_fds() -> io::Result<(File, File)> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain fd syscalls on the standard descriptors; each new descriptor is owned
    // by exactly one File below, and fds 0 and 1 stay open (redirected) for std's handles.
    unsafe {
        let input = libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3);
        let output = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
        if input < 0 || output < 0 {
            return Err(io::Error::last_os_error());
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if null < 0 || libc::dup2(null, 0) < 0 || libc::dup2(2, 1) < 0 {
            return Err(io::Error::last_os_error());
        }
        libc::close(null);
        Ok((File::from_raw_fd(input), File::from_raw_fd(output)))
    }
}
