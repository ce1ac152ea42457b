//! Small tasks for the overhead table, the crash-safety demo and the tests: a no-op, a square,
//! a sleep, and tasks that die on purpose (abort, SIGKILL, an allocation that fails, a panic).
//! The `process-pool` binary and the benches register them with [`register`].

use worker_pool::{ProcessPool, Registry, TaskFn};

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
pub static NOOP: TaskFn<u64, u64> = TaskFn::new("noop", noop);
pub static SQUARE: TaskFn<u64, u64> = TaskFn::new("square", square);
/// Sleeps that many milliseconds.
pub static SLEEP_MS: TaskFn<u64, u64> = TaskFn::new("sleep_ms", sleep_ms);
/// Prints a line to stdout and one to stderr (both reach the parent as `[pid N] ...`).
pub static PRINT: TaskFn<u64, u64> = TaskFn::new("print", print);
/// `std::process::abort()`: the worker dies of SIGABRT.
pub static ABORT: TaskFn<u64, u64> = TaskFn::new("test.abort", abort);
/// The worker sends itself SIGKILL (what the OOM killer sends).
pub static SIGKILL: TaskFn<u64, u64> = TaskFn::new("test.sigkill", sigkill);
/// An allocation of 64 TiB fails: Rust prints "memory allocation ... failed" and aborts.
pub static OUT_OF_MEMORY: TaskFn<u64, u64> = TaskFn::new("test.out_of_memory", out_of_memory);
/// Panics: the task fails, the worker lives on.
pub static PANIC: TaskFn<u64, u64> = TaskFn::new("test.panic", panic);
/// The worker's pid.
pub static PID: TaskFn<u64, u64> = TaskFn::new("pid", pid);

/// Adds every task of this module.
pub fn register(registry: Registry) -> Registry {
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

// ANCHOR: crash_demo
/// Ten tasks, four of which take their worker down or panic, on `pool`; one line per task in
/// submission order, then what the pool looks like afterwards.
pub fn crash_demo(pool: &ProcessPool) -> Vec<String> {
    let before = pool.worker_pids();
    let plan: [(&'static TaskFn<u64, u64>, u64); 10] = [
        (&SQUARE, 1),
        (&SQUARE, 2),
        (&ABORT, 3),
        (&SQUARE, 4),
        (&SIGKILL, 5),
        (&SQUARE, 6),
        (&OUT_OF_MEMORY, 7),
        (&SQUARE, 8),
        (&PANIC, 9),
        (&SQUARE, 10),
    ];
    let tasks: Vec<_> = plan
        .iter()
        .map(|&(f, x)| (f, x, pool.submit(f, x)))
        .collect();
    let mut lines = Vec::new();
    let mut ok = 0;
    for (f, x, task) in tasks {
        let call = format!("{}({x})", f.name());
        match task.wait() {
            Ok(v) => {
                ok += 1;
                lines.push(format!("{call:<24} = {v}"));
            }
            Err(e) => lines.push(format!("{call:<24} ✗ {e}")),
        }
    }
    let after = pool.submit(&SQUARE, 12u64).wait();
    pool.wait_for_replacements(std::time::Duration::from_secs(5));
    lines.push(String::new());
    lines.push(format!(
        "{ok} of {} tasks returned their value; the {} others failed alone.",
        plan.len(),
        plan.len() - ok
    ));
    lines.push(format!(
        "workers before: pids {}; after: pids {} ({} replaced); square(12) afterwards = {}",
        join(&before),
        join(&pool.worker_pids()),
        pool.replacements(),
        after.map_or_else(|e| e.to_string(), |v| v.to_string())
    ));
    lines
}
// ANCHOR_END: crash_demo

fn join(pids: &[u32]) -> String {
    pids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
