//! Starting a worker: the spawner thread's `start_worker` (fork, exec, wait for the hello),
//! then `install` / `start_incarnation`, which give it a place in the pool with its writer,
//! stderr forwarder and reader threads.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::io::{Outbox, forward, read_loop, write_loop};
use crate::pool::{PoolCore, Worker, dispatch};
use crate::status;
use crate::sync::lock;
use crate::wire::{FrameReader, FromWorker, PROTOCOL};
use crate::worker::WORKER_FLAG;

/// A worker that said hello, with its pipes.
pub(crate) struct Started {
    pub(crate) child: Child,
    pub(crate) pid: u32,
    pub(crate) reader: FrameReader<Pipe>,
    pub(crate) stdin: ChildStdin,
    pub(crate) stderr: ChildStderr,
}

pub(crate) struct SpawnConfig {
    pub(crate) program: PathBuf,
    pub(crate) start_timeout: Duration,
}

impl PoolCore {
    /// Starts a worker on the spawner thread.
    pub(crate) fn spawn(&self) -> Result<Started, String> {
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
pub(crate) struct Pipe {
    pub(crate) out: ChildStdout,
    pub(crate) deadline: Option<Instant>,
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
pub(crate) fn start_worker(config: &SpawnConfig) -> Result<Started, String> {
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
             worker_pool::serve_if_worker first?",
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
pub(crate) fn install(
    shared: &Arc<PoolCore>,
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
pub(crate) struct Incarnation {
    pub(crate) child: Child,
    pub(crate) pid: u32,
    pub(crate) forwarder: Option<(JoinHandle<()>, mpsc::Receiver<()>)>,
    pub(crate) writer: Option<JoinHandle<()>>,
}

pub(crate) fn start_incarnation(
    shared: &Arc<PoolCore>,
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
