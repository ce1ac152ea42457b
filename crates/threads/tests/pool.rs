//! The executor's promises, checked without timing assertions: orders are forced with
//! channels (a task waits until the test lets it finish), never with sleeps that could race.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use threads::{Reason, Task, TaskError, ThreadPool, as_completed};

/// A task that blocks until the test opens its gate; returns `value`.
fn gated(pool: &ThreadPool, value: usize) -> (Task<usize>, mpsc::Sender<()>) {
    let (open, gate) = mpsc::channel::<()>();
    let task = pool.submit(move || {
        let _ = gate.recv();
        value
    });
    (task, open)
}

#[test]
fn map_yields_in_input_order_even_when_later_items_finish_first() {
    let pool = ThreadPool::new(4);
    // Item i sleeps longer the smaller i is: completion order is roughly reversed.
    let out: Vec<u64> = pool
        .map(
            |i: u64| {
                thread::sleep(Duration::from_millis(2 * (8 - i)));
                i * i
            },
            0..8u64,
        )
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, [0, 1, 4, 9, 16, 25, 36, 49]);
    // Empty input, and an input with failures in the middle.
    assert_eq!(pool.map(|i: u8| i, Vec::new()).count(), 0);
    let mixed: Vec<Result<u32, TaskError>> = pool
        .map(
            |i: u32| {
                if i == 2 {
                    panic!("no two");
                }
                i
            },
            0..4u32,
        )
        .collect();
    assert_eq!(mixed.len(), 4);
    assert_eq!(mixed[3].as_ref().unwrap(), &3);
    assert_eq!(
        mixed[2].as_ref().unwrap_err().panic_message(),
        Some("no two")
    );
}

#[test]
fn map_keeps_at_most_two_tasks_per_worker_in_flight() {
    let pool = ThreadPool::new(3);
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    // An endless input: only a bounded map can work on it.
    let items = (0u64..).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let mut results = pool.map(|i| i + 1, items);
    assert_eq!(results.next().unwrap().unwrap(), 1);
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        6,
        "2 × 3 workers submitted ahead"
    );
    let next: Vec<u64> = results.take(10).map(Result::unwrap).collect();
    assert_eq!(next, (2..12).collect::<Vec<_>>());
    assert!(pulled.load(Ordering::SeqCst) <= 11 + 6);
}

#[test]
fn as_completed_yields_in_completion_order() {
    let pool = ThreadPool::new(3);
    let (a, open_a) = gated(&pool, 0);
    let (b, open_b) = gated(&pool, 1);
    let (c, open_c) = gated(&pool, 2);
    let mut done = as_completed(vec![a, b, c]);
    // Each gate opens only once the previous result has come out of the iterator, so the
    // completion order is c, a, b whatever the scheduler does.
    open_c.send(()).unwrap();
    assert_eq!(done.next().unwrap().unwrap(), 2);
    open_a.send(()).unwrap();
    assert_eq!(done.next().unwrap().unwrap(), 0);
    open_b.send(()).unwrap();
    assert_eq!(done.next().unwrap().unwrap(), 1);
    assert!(done.next().is_none());
}

#[test]
fn as_completed_takes_tasks_that_are_already_done_and_errors_too() {
    let pool = ThreadPool::new(2);
    let first = pool.submit(|| 7);
    let (second, open) = gated(&pool, 8);
    let boom = pool.submit_named("boom", || -> usize { panic!("kaboom") });
    // Wait until `first` and `boom` are done before asking.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(first.is_done() && boom.is_done()) {
        assert!(Instant::now() < deadline, "tasks never finished");
        thread::sleep(Duration::from_millis(1));
    }
    assert!(!second.is_done());
    let mut done = as_completed(vec![first, second, boom]);
    let mut early = [done.next().unwrap(), done.next().unwrap()];
    early.sort_by_key(|r| r.is_err());
    assert_eq!(early[0].as_ref().unwrap(), &7);
    assert_eq!(early[1].as_ref().unwrap_err().label(), Some("boom"));
    open.send(()).unwrap();
    assert_eq!(done.next().unwrap().unwrap(), 8);
    assert!(done.next().is_none());
}

#[test]
fn a_panicking_task_is_an_error_that_names_it_and_the_pool_carries_on() {
    let pool = ThreadPool::new(2);
    let tasks: Vec<Task<u32>> = (0..10u32)
        .map(|i| {
            pool.submit_named(format!("slice {i}"), move || {
                if i == 3 {
                    panic!("burnt slice {i}");
                }
                i * 2
            })
        })
        .collect();
    let ids: Vec<u64> = tasks.iter().map(Task::id).collect();
    let results: Vec<Result<u32, TaskError>> = tasks.into_iter().map(Task::wait).collect();
    for (i, r) in results.iter().enumerate() {
        if i == 3 {
            let e = r.as_ref().unwrap_err();
            assert_eq!(e.task_id(), ids[3]);
            assert_eq!(e.label(), Some("slice 3"));
            assert_eq!(e.reason(), &Reason::Panicked("burnt slice 3".into()));
            let text = e.to_string();
            assert!(text.contains(&format!("task {}", ids[3])), "{text}");
            assert!(
                text.contains("slice 3") && text.contains("burnt slice 3"),
                "{text}"
            );
        } else {
            assert_eq!(r.as_ref().unwrap(), &(i as u32 * 2));
        }
    }
    // Both workers are alive: two tasks that each wait for the other to start can only
    // finish if they run at the same time.
    let (tx1, rx1) = mpsc::channel();
    let (tx2, rx2) = mpsc::channel();
    let a = pool.submit(move || {
        tx1.send(()).unwrap();
        rx2.recv().unwrap();
    });
    let b = pool.submit(move || {
        tx2.send(()).unwrap();
        rx1.recv().unwrap();
    });
    a.wait().unwrap();
    b.wait().unwrap();
}

#[test]
fn shutdown_with_cancel_resolves_pending_tasks_and_runs_none_of_them() {
    let mut pool = ThreadPool::new(1);
    let (started_tx, started) = mpsc::channel();
    let (open, gate) = mpsc::channel::<()>();
    let running = pool.submit(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
        "finished"
    });
    started.recv().unwrap(); // the only worker is busy now
    let ran = Arc::new(AtomicUsize::new(0));
    let pending: Vec<Task<&str>> = (0..5)
        .map(|i| {
            let ran = Arc::clone(&ran);
            pool.submit_named(format!("pending {i}"), move || {
                ran.fetch_add(1, Ordering::SeqCst);
                "ran"
            })
        })
        .collect();

    pool.shutdown(false, true);
    // Cancelled at once, while the running task still runs.
    for (i, task) in pending.into_iter().enumerate() {
        assert!(task.is_done());
        let e = task.wait().unwrap_err();
        assert!(e.is_cancelled(), "{e}");
        assert_eq!(e.label(), Some(format!("pending {i}").as_str()));
        assert!(e.to_string().contains("cancelled"), "{e}");
    }
    assert!(!running.is_done());
    open.send(()).unwrap();
    assert_eq!(
        running.wait().unwrap(),
        "finished",
        "a running task finishes"
    );

    let late = pool.submit(|| "late");
    assert_eq!(late.wait().unwrap_err().reason(), &Reason::ShutDown);
    drop(pool);
    assert_eq!(ran.load(Ordering::SeqCst), 0, "no cancelled task ran");
}

#[test]
fn shutdown_without_cancel_runs_everything_queued() {
    let mut pool = ThreadPool::new(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<Task<()>> = (0..50)
        .map(|_| {
            let ran = Arc::clone(&ran);
            pool.submit(move || {
                thread::sleep(Duration::from_micros(200));
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 50);
    assert!(tasks.into_iter().all(|t| t.wait().is_ok()));
}

#[test]
fn no_task_is_lost_or_run_twice_under_ten_thousand_small_tasks() {
    const N: usize = 10_000;
    let pool = ThreadPool::new(4);
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect());

    // N tasks, each counting its own runs and returning its index.
    let submit_all = || -> Vec<Task<usize>> {
        (0..N)
            .map(|i| {
                let runs = Arc::clone(&runs);
                pool.submit(move || {
                    runs[i].fetch_add(1, Ordering::SeqCst);
                    i
                })
            })
            .collect()
    };

    // submit + wait
    let tasks = submit_all();
    let ids: HashSet<u64> = tasks.iter().map(Task::id).collect();
    assert_eq!(ids.len(), N, "every task has its own id");
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.wait().unwrap(), i);
    }
    assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 1));

    // as_completed: every result exactly once
    let tasks = submit_all();
    let mut seen = vec![false; N];
    let mut count = 0;
    for r in as_completed(tasks) {
        let i = r.unwrap();
        assert!(!seen[i], "{i} came back twice");
        seen[i] = true;
        count += 1;
    }
    assert_eq!(count, N);

    // map
    let counter = Arc::clone(&runs);
    let total: usize = pool
        .map(
            move |i: usize| {
                counter[i].fetch_add(1, Ordering::SeqCst);
                i
            },
            0..N,
        )
        .map(Result::unwrap)
        .sum();
    assert_eq!(total, N * (N - 1) / 2);
    assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 3));
}

#[test]
fn dropping_the_pool_waits_for_all_work() {
    let done = Arc::new(Mutex::new(Vec::new()));
    {
        let pool = ThreadPool::new(2);
        for i in 0..20 {
            let done = Arc::clone(&done);
            // The tasks are never waited for: only the drop at the end of the block waits.
            drop(pool.submit(move || {
                thread::sleep(Duration::from_millis(1));
                done.lock().unwrap().push(i);
            }));
        }
    }
    let mut done = done.lock().unwrap().clone();
    done.sort();
    assert_eq!(done, (0..20).collect::<Vec<_>>());
}

#[test]
fn tasks_run_on_named_workers_and_types_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TaskError>();
    send_sync::<ThreadPool>();
    fn send<T: Send>() {}
    send::<Task<Vec<u8>>>();

    let pool = ThreadPool::new(3);
    let names: HashSet<String> = (0..30)
        .map(|_| pool.submit(|| thread::current().name().unwrap_or("").to_string()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.wait().unwrap())
        .collect();
    assert!(!names.is_empty());
    for n in &names {
        assert!(
            ["worker-1", "worker-2", "worker-3"].contains(&n.as_str()),
            "{n}"
        );
    }
    // A task waited for from another thread.
    let task = pool.submit(|| 42);
    assert_eq!(
        thread::spawn(move || task.wait().unwrap()).join().unwrap(),
        42
    );
}
