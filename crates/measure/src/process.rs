//! Other programs the harness runs (Python scripts, the book's examples, a browser): where the
//! workspace and Cargo's target folder are, and a child run to completion or killed, with
//! everything it started, after a timeout.
//!
//! Nothing is left behind. Every child is the leader of a process group of its own, so the
//! processes it forks (a Python pool's workers, a shell's background job) are in that group
//! too. When the child exits, times out or cannot be waited for, the whole group gets SIGKILL,
//! and only then are the threads that read its stdout and stderr joined: with every writer
//! gone the pipes close, so the joins cannot hang. On Linux the child also gets SIGKILL if
//! this process dies first (parent-death signal), so a harness killed mid-run (the book's
//! runner timing out an example that is running a Python script) leaves no orphan either.
//! A program that moves its children out of its group on purpose (`setsid`) is on its own.

use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use wait_timeout::ChildExt;

/// The workspace's root folder (where `scripts/`, `book/` and `target/` live).
/// `TALK_ROOT` overrides it for a binary moved elsewhere.
pub fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os("TALK_ROOT") {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Cargo's target folder: `CARGO_TARGET_DIR` when set, else `target/` in the workspace.
/// For Cargo's own output (binaries, caches); the Python venv is always in the workspace's
/// `target/` (see [`crate::python::venv_python`]).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                // Cargo reads a relative CARGO_TARGET_DIR from the folder it was started in,
                // which for `cargo run`/`cargo test` is the workspace (or below it).
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// The last non-blank line a program printed: usually its error message.
pub fn last_line(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}

/// Runs `cmd` to completion (stdin empty, stdout and stderr captured) in a process group of
/// its own; after `timeout` the whole group is killed and the error is `TimedOut`
/// ("timed out after 600 s"). Whatever the child left running in its group when it exited
/// is killed too.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> io::Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    die_with_parent(cmd);
    let mut child = cmd.spawn()?;
    // The child's pid is its group's id (`process_group(0)`).
    let group = child.id() as libc::pid_t;
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());

    let waited = child.wait_timeout(timeout);
    // On a timeout (or a failed wait) the leader is not reaped yet, so its pid, the group's
    // id, cannot have been reused. After a normal exit the leader is reaped, but the id stays
    // taken while anything of the group lives; once the group is empty this finds nothing
    // (ESRCH), unless the kernel handed the same number to a new group leader within these
    // microseconds, which sequential pid allocation makes practically impossible.
    kill_group(group);
    let status = match waited {
        Ok(Some(status)) => Ok(status),
        Ok(None) => {
            let _ = child.wait();
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {}", seconds(timeout)),
            ))
        }
        Err(e) => {
            let _ = child.wait();
            Err(e)
        }
    };
    let stdout = join(stdout);
    let stderr = join(stderr);
    status.map(|status| Output {
        status,
        stdout,
        stderr,
    })
}

/// SIGKILL to every process of group `group`; an empty group is fine.
fn kill_group(group: libc::pid_t) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// The child gets SIGKILL when the thread that started it ends (Linux's parent-death signal):
/// `run_with_timeout` waits on the thread that spawned, so that is when this process dies.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: getpid(2) has no preconditions. The closure runs between fork and exec and
    // makes only async-signal-safe system calls (prctl, getppid) and allocates nothing.
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent died between fork and prctl: the signal would never come.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut Command) {}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

fn join(reader: JoinHandle<Vec<u8>>) -> Vec<u8> {
    reader.join().unwrap_or_default()
}

/// `600 s`, `1.5 s`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Whether `pid` is a live process (a zombie waiting for its reaper counts as gone).
    fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // `pid (comm) S ...`: the state follows the last ')'.
            Ok(stat) => stat
                .rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
                .unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Waits up to 10 s for `pid` to be gone (SIGKILL is asynchronous); true if it went.
    fn gone(pid: u32) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if !alive(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn pid_in(path: &Path) -> u32 {
        let text = std::fs::read_to_string(path).unwrap();
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("no pid in {text:?}"))
    }

    #[test]
    fn a_hanging_child_and_its_grandchild_are_killed_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // A shell that forks a grandchild (holding our pipes) and then hangs itself.
        let script = format!(
            "sleep 60 & echo $! > {p}.grandchild; echo $$ > {p}.child; echo started; sleep 60",
            p = pids.display()
        );
        let start = Instant::now();
        let err = run_with_timeout(
            Command::new("sh").arg("-c").arg(&script),
            Duration::from_millis(1500),
        )
        .unwrap_err();
        // Generous bound: the grandchild's 60 s would show if its pipes kept the readers.
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(err.to_string(), "timed out after 1.5 s");
        let child = pid_in(&pids.with_extension("child"));
        let grandchild = pid_in(&pids.with_extension("grandchild"));
        assert!(gone(child), "the child {child} is still running");
        assert!(
            gone(grandchild),
            "the grandchild {grandchild} is still running"
        );
    }

    #[test]
    fn what_a_child_leaves_running_when_it_exits_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pid = dir.path().join("grandchild");
        let script = format!(
            "sleep 60 & echo $! > {}; echo done; echo oops >&2; exit 3",
            pid.display()
        );
        let start = Instant::now();
        let out = run_with_timeout(
            Command::new("sh").arg("-c").arg(&script),
            Duration::from_secs(120),
        )
        .unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"done\n");
        assert_eq!(last_line(&out.stderr).as_deref(), Some("oops"));
        let grandchild = pid_in(&pid);
        assert!(
            gone(grandchild),
            "the grandchild {grandchild} is still running"
        );
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_hang() {
        let err = run_with_timeout(
            &mut Command::new("/nonexistent/program"),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn seconds_read_well() {
        assert_eq!(seconds(Duration::from_secs(600)), "600 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn last_line_skips_blank_lines() {
        assert_eq!(last_line(b"a\nerror: b  \n\n").as_deref(), Some("error: b"));
        assert_eq!(last_line(b" \n"), None);
    }
}
