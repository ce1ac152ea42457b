//! The pool with real worker processes. This test has no libtest harness (`harness = false`
//! in Cargo.toml): libtest's `main` could not call `serve_if_worker`, and this one does, so
//! the test binary is its own worker, as every program that uses the pool is. Its tasks are
//! the ones below; `--selftest MODE` is the hook for the tests of a parent that panics, is
//! SIGKILLed or gets Ctrl-C. Arguments that are not flags filter the tests by name.

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use worker_pool::{ErrorKind, ProcessPool, Registry, TaskFn, WorkerOutput, as_completed};

fn main() -> ExitCode {
    worker_pool::serve_if_worker(&register(Registry::new()));
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--selftest") {
        return run_selftest(args.get(i + 1).map_or("", String::as_str));
    }
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let chosen: Vec<&(&str, fn())> = TESTS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &chosen {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for (name, test) in &chosen {
        let ok = panic::catch_unwind(AssertUnwindSafe(test)).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        let _ = std::io::stdout().flush();
        if !ok {
            failed.push(*name);
        }
    }
    let passed = chosen.len() - failed.len();
    if failed.is_empty() {
        println!("\ntest result: ok. {passed} passed; 0 failed\n");
        ExitCode::SUCCESS
    } else {
        println!("\nfailures:\n    {}", failed.join("\n    "));
        println!(
            "\ntest result: FAILED. {passed} passed; {} failed\n",
            failed.len()
        );
        ExitCode::FAILURE
    }
}

const TESTS: &[(&str, fn())] = &[
    (
        "results_match_the_sequential_ones",
        results_match_the_sequential_ones,
    ),
    (
        "abort_sigkill_and_out_of_memory_fail_only_their_own_task",
        abort_sigkill_and_out_of_memory_fail_only_their_own_task,
    ),
    (
        "a_crash_in_a_chunk_fails_that_chunk_only",
        a_crash_in_a_chunk_fails_that_chunk_only,
    ),
    (
        "a_panic_fails_the_task_and_the_worker_lives_on",
        a_panic_fails_the_task_and_the_worker_lives_on,
    ),
    (
        "a_timeout_kills_the_worker_and_the_pool_carries_on",
        a_timeout_kills_the_worker_and_the_pool_carries_on,
    ),
    (
        "no_child_process_remains_after_the_pool_is_dropped",
        no_child_process_remains_after_the_pool_is_dropped,
    ),
    (
        "what_a_task_prints_cannot_break_the_protocol",
        what_a_task_prints_cannot_break_the_protocol,
    ),
    (
        "shutdown_cancels_what_has_not_started",
        shutdown_cancels_what_has_not_started,
    ),
    (
        "an_unregistered_task_is_an_error_not_a_crash",
        an_unregistered_task_is_an_error_not_a_crash,
    ),
    (
        "a_program_that_never_serves_is_refused_with_a_reason",
        a_program_that_never_serves_is_refused_with_a_reason,
    ),
    (
        "a_parent_that_panics_leaves_no_orphans",
        a_parent_that_panics_leaves_no_orphans,
    ),
    (
        "a_parent_killed_outright_takes_its_workers_along",
        a_parent_killed_outright_takes_its_workers_along,
    ),
    (
        "ctrl_c_ends_the_parent_and_its_workers",
        ctrl_c_ends_the_parent_and_its_workers,
    ),
];

fn noop(x: u64) -> u64 {
    x
}
fn square(x: u64) -> u64 {
    x * x
}
fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(std::time::Duration::from_millis(ms));
    ms
}
fn print(x: u64) -> u64 {
    println!("task print({x}) writes to stdout");
    eprintln!("task print({x}) writes to stderr");
    x
}
fn abort(_: u64) -> u64 {
    std::process::abort()
}
fn sigkill(_: u64) -> u64 {
    // SAFETY: kill(2) on our own pid.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    unreachable_after_kill()
}
fn out_of_memory(_: u64) -> u64 {
    // What Rust does when an allocation fails: a message on stderr, then abort.
    match std::alloc::Layout::from_size_align(1 << 46, 8) {
        Ok(layout) => std::alloc::handle_alloc_error(layout),
        Err(_) => std::process::abort(),
    }
}
fn panic(x: u64) -> u64 {
    panic!("task panic({x}) panics on purpose")
}
fn pid(_: u64) -> u64 {
    std::process::id() as u64
}

/// SIGKILL is delivered before kill(2) returns to a process that signals itself; should it
/// not be, leave anyway.
fn unreachable_after_kill() -> u64 {
    std::thread::sleep(std::time::Duration::from_secs(5));
    std::process::abort()
}

/// Returns its argument: the cost of a task that does nothing.
static NOOP: TaskFn<u64, u64> = TaskFn::new("noop", noop);
static SQUARE: TaskFn<u64, u64> = TaskFn::new("square", square);
/// Sleeps that many milliseconds.
static SLEEP_MS: TaskFn<u64, u64> = TaskFn::new("sleep_ms", sleep_ms);
/// Prints a line to stdout and one to stderr (both reach the parent as `[pid N] ...`).
static PRINT: TaskFn<u64, u64> = TaskFn::new("print", print);
/// `std::process::abort()`: the worker dies of SIGABRT.
static ABORT: TaskFn<u64, u64> = TaskFn::new("test.abort", abort);
/// The worker sends itself SIGKILL (what the OOM killer sends).
static SIGKILL: TaskFn<u64, u64> = TaskFn::new("test.sigkill", sigkill);
/// An allocation of 64 TiB fails: Rust prints "memory allocation ... failed" and aborts.
static OUT_OF_MEMORY: TaskFn<u64, u64> = TaskFn::new("test.out_of_memory", out_of_memory);
/// Panics: the task fails, the worker lives on.
static PANIC: TaskFn<u64, u64> = TaskFn::new("test.panic", panic);
/// The worker's pid.
static PID: TaskFn<u64, u64> = TaskFn::new("pid", pid);

/// Every task above: this binary's workers serve them.
fn register(registry: Registry) -> Registry {
    registry
        .register(&NOOP)
        .register(&SQUARE)
        .register(&SLEEP_MS)
        .register(&PRINT)
        .register(&ABORT)
        .register(&SIGKILL)
        .register(&OUT_OF_MEMORY)
        .register(&PANIC)
        .register(&PID)
}

/// Starts a pool of two workers, keeps both busy with long sleeps, prints
/// `workers PID PID` on one line, then ends as `what` says.
fn run_selftest(what: &str) -> ExitCode {
    // A shell without job control starts background commands with SIGINT ignored, and an
    // ignored signal stays ignored across exec; a terminal's foreground program has the default.
    // SAFETY: signal(2) with the default disposition, before any thread is started.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
    let pool = match ProcessPool::new(2) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let busy: Vec<_> = (0..4).map(|_| pool.submit(&SLEEP_MS, 60_000u64)).collect();
    let pids: Vec<String> = pool.worker_pids().iter().map(u32::to_string).collect();
    println!("workers {}", pids.join(" "));
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_millis(100));
    match what {
        "panic" => panic!("the parent panics on purpose, its pool still busy"),
        "orphan" => {
            // SAFETY: kill(2) on our own pid: the parent dies without running any drop.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            ExitCode::from(1)
        }
        _ => {
            for t in busy {
                let _ = t.wait();
            }
            ExitCode::SUCCESS
        }
    }
}

fn pool(workers: usize) -> ProcessPool {
    ProcessPool::builder()
        .workers(workers)
        .worker_output(WorkerOutput::Discard)
        .build()
        .unwrap()
}

/// `(state, ppid)` of a process from /proc, `None` when it does not exist.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses; the last ')' ends it.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Running (not a zombie, not gone).
fn running(pid: u32) -> bool {
    matches!(proc_stat(pid), Some((state, _)) if state != 'Z')
}

/// Waits until none of `pids` runs; the ones still running after `limit`.
fn wait_gone(pids: &[u32], limit: Duration) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|&p| running(p)).collect();
        if left.is_empty() || start.elapsed() > limit {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn results_match_the_sequential_ones() {
    let pool = pool(2);
    let expected: Vec<u64> = (0..500).map(|x| SQUARE.call(x)).collect();
    for chunksize in [1, 7, 100, 1000] {
        let got: Vec<u64> = pool
            .map(&SQUARE, 0..500u64, chunksize)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, expected, "chunksize {chunksize}");
    }
    let tasks: Vec<_> = (0..500u64).map(|x| pool.submit(&SQUARE, x)).collect();
    let ids: Vec<u64> = tasks.iter().map(|t| t.id()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids are unique and rising"
    );
    let mut done: Vec<u64> = as_completed(tasks).map(|r| r.unwrap()).collect();
    done.sort_unstable();
    let mut sorted = expected.clone();
    sorted.sort_unstable();
    assert_eq!(done, sorted, "as_completed yields every task once");
    let t = pool.submit(&NOOP, 7u64);
    assert_eq!(t.name(), "noop");
    assert_eq!(t.wait().unwrap(), 7);
    // Both workers took part.
    let pids: std::collections::BTreeSet<u64> = pool
        .map(&PID, std::iter::repeat_n(0u64, 200), 1)
        .map(|r| r.unwrap())
        .collect();
    // The pool hands queued calls to the least busy worker, so 200 calls queued at once are
    // shared out between both, however fast each runs: every worker, and only those.
    let workers: std::collections::BTreeSet<u64> =
        pool.worker_pids().iter().map(|&p| p as u64).collect();
    assert_eq!(workers.len(), 2);
    assert_eq!(pids, workers, "both workers took part");
}

fn abort_sigkill_and_out_of_memory_fail_only_their_own_task() {
    let pool = pool(2);
    let before = pool.worker_pids();
    let mut plan: Vec<(&'static TaskFn<u64, u64>, u64)> = (0..30).map(|x| (&SQUARE, x)).collect();
    plan[5] = (&ABORT, 5);
    plan[12] = (&SIGKILL, 12);
    plan[20] = (&OUT_OF_MEMORY, 20);
    let tasks: Vec<_> = plan.iter().map(|&(f, x)| pool.submit(f, x)).collect();
    for ((f, x), task) in plan.iter().zip(tasks) {
        let result = task.wait();
        match f.name() {
            "square" => assert_eq!(result.unwrap(), x * x),
            name => {
                let e = result.unwrap_err();
                let signal = if name == "test.sigkill" {
                    "SIGKILL"
                } else {
                    "SIGABRT"
                };
                let text = e.to_string();
                let pid = e.pid().unwrap();
                assert!(matches!(e.kind(), ErrorKind::WorkerDied { .. }), "{text}");
                assert!(text.contains(&format!("\"{name}\"")), "{text}");
                assert!(text.contains(&format!("pid {pid}")), "{text}");
                assert!(text.contains(signal), "{text}");
                assert_eq!(e.task(), name);
            }
        }
    }
    // Three workers died, three took their places, the pool carries on.
    assert!(pool.wait_for_replacements(Duration::from_secs(10)));
    assert_eq!(pool.replacements(), 3);
    let after = pool.worker_pids();
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|p| !before.contains(p)) || after != before);
    assert_eq!(pool.submit(&SQUARE, 9u64).wait().unwrap(), 81);
}

fn a_crash_in_a_chunk_fails_that_chunk_only() {
    let pool = pool(2);
    // Two chunks of 4 aborts: each chunk takes its worker down, every item says so.
    let results: Vec<_> = pool.map(&ABORT, 0..8u64, 4).collect();
    assert_eq!(results.len(), 8);
    for (i, r) in results.iter().enumerate() {
        let e = r.as_ref().unwrap_err();
        assert_eq!(e.item(), Some(i as u64));
        assert!(e.to_string().contains("its chunk of 4 items"), "{e}");
    }
    let ok: Vec<u64> = pool.map(&SQUARE, 0..8u64, 4).map(|r| r.unwrap()).collect();
    assert_eq!(ok, [0, 1, 4, 9, 16, 25, 36, 49]);
}

fn a_panic_fails_the_task_and_the_worker_lives_on() {
    let pool = pool(1);
    let pid = pool.worker_pids();
    let e = pool.submit(&PANIC, 3u64).wait().unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::Panicked("task panic(3) panics on purpose".into())
    );
    assert!(e.to_string().contains("\"test.panic\""), "{e}");
    assert_eq!(pool.submit(&SQUARE, 4u64).wait().unwrap(), 16);
    assert_eq!(pool.worker_pids(), pid, "same worker");
    assert_eq!(pool.replacements(), 0);
}

fn a_timeout_kills_the_worker_and_the_pool_carries_on() {
    let pool = ProcessPool::builder()
        .workers(2)
        .worker_output(WorkerOutput::Discard)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let stuck = pool.submit(&SLEEP_MS, 60_000u64);
    let quick: Vec<_> = (0..20u64).map(|x| pool.submit(&SQUARE, x)).collect();
    let e = stuck.wait().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TimedOut { .. }), "{e}");
    assert!(e.to_string().contains("timed out after 500 ms"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
    for (x, t) in quick.into_iter().enumerate() {
        assert_eq!(t.wait().unwrap(), (x * x) as u64);
    }
    assert!(pool.wait_for_replacements(Duration::from_secs(10)));
    assert_eq!(pool.replacements(), 1);
    assert_eq!(pool.submit(&SLEEP_MS, 10u64).wait().unwrap(), 10);
}

fn no_child_process_remains_after_the_pool_is_dropped() {
    let me = std::process::id();
    let started = {
        let pool = pool(2);
        let _ = pool.submit(&SIGKILL, 0u64).wait();
        assert_eq!(pool.submit(&SQUARE, 3u64).wait().unwrap(), 9);
        let _busy = pool.submit(&SLEEP_MS, 50u64);
        assert!(pool.wait_for_replacements(Duration::from_secs(10)));
        pool.started_pids()
    };
    assert_eq!(started.len(), 3, "two workers and one replacement");
    for pid in &started {
        // Reaped: gone from /proc (a zombie would still be there, with us as its parent).
        assert!(
            !matches!(proc_stat(*pid), Some((_, ppid)) if ppid == me),
            "worker {pid} is still our child: {:?}",
            proc_stat(*pid)
        );
    }
}

fn what_a_task_prints_cannot_break_the_protocol() {
    let pool = pool(1);
    let got: Vec<u64> = pool.map(&PRINT, 0..50u64, 3).map(|r| r.unwrap()).collect();
    assert_eq!(got, (0..50).collect::<Vec<u64>>());
}

fn shutdown_cancels_what_has_not_started() {
    let mut pool = pool(1);
    let slow = pool.submit(&SLEEP_MS, 300u64);
    let queued: Vec<_> = (0..20u64).map(|x| pool.submit(&SQUARE, x)).collect();
    pool.shutdown(true, true);
    assert_eq!(slow.wait().unwrap(), 300, "a started task finishes");
    // Calls already in a worker's pipe run; the ones still in the pool's queue are cancelled.
    let mut cancelled = 0;
    for (x, t) in queued.into_iter().enumerate() {
        match t.wait() {
            Ok(v) => assert_eq!(v, (x * x) as u64),
            Err(e) => {
                assert_eq!(e.kind(), &ErrorKind::Cancelled, "{e}");
                assert!(e.to_string().contains("cancelled"), "{e}");
                cancelled += 1;
            }
        }
    }
    assert!(cancelled > 0, "none of 20 queued tasks was cancelled");
    let late = pool.submit(&SQUARE, 2u64).wait().unwrap_err();
    assert_eq!(late.kind(), &ErrorKind::Cancelled);
    assert!(pool.worker_pids().is_empty());
}

fn an_unregistered_task_is_an_error_not_a_crash() {
    fn triple(x: u64) -> u64 {
        3 * x
    }
    static NOT_THERE: TaskFn<u64, u64> = TaskFn::new("not.registered", triple);
    let pool = pool(1);
    let e = pool.submit(&NOT_THERE, 1u64).wait().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Failed(_)), "{e}");
    assert!(
        e.to_string().contains("no task named \"not.registered\""),
        "{e}"
    );
    assert_eq!(pool.submit(&SQUARE, 5u64).wait().unwrap(), 25);
}

fn a_program_that_never_serves_is_refused_with_a_reason() {
    let e = ProcessPool::builder()
        .workers(1)
        .program("/bin/true")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("did not start"), "{e}");
    assert!(e.to_string().contains("serve_if_worker"), "{e}");
}

/// Runs the binary in a selftest mode; returns its worker pids and the child.
fn selftest(mode: &str, own_group: bool) -> (Vec<u32>, std::process::Child) {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--selftest", mode])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if own_group {
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pids: Vec<u32> = line
        .strip_prefix("workers ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "{line}");
    assert!(pids.iter().all(|&p| running(p)));
    (pids, child)
}

fn a_parent_that_panics_leaves_no_orphans() {
    let (pids, mut child) = selftest("panic", false);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(101), "a panic");
    // The drop ran during the unwinding: it killed and reaped the busy workers.
    assert_eq!(wait_gone(&pids, Duration::from_secs(5)), Vec::<u32>::new());
}

fn a_parent_killed_outright_takes_its_workers_along() {
    let (pids, mut child) = selftest("orphan", false);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    // No drop ran: the parent-death signal (and the end of their stdin) ends them.
    assert_eq!(wait_gone(&pids, Duration::from_secs(5)), Vec::<u32>::new());
}

fn ctrl_c_ends_the_parent_and_its_workers() {
    let (pids, mut child) = selftest("hold", true);
    // Ctrl-C in a terminal sends SIGINT to the whole foreground process group.
    let group = child.id() as i32;
    assert_eq!(unsafe { libc::kill(-group, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT));
    assert_eq!(wait_gone(&pids, Duration::from_secs(5)), Vec::<u32>::new());
}
