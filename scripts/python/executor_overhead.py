"""The overhead of concurrent.futures: one no-op task (submit + result) through Python's
ThreadPoolExecutor and ProcessPoolExecutor, and ProcessPoolExecutor.map with chunksize=100.

Run by `cargo run --release -p process-pool -- overhead` for its Python rows; alone:
    python3 scripts/python/executor_overhead.py --tasks 2000 --workers 2 --runs 3

Each executor starts once, outside the timed calls (the warm-up call starts its workers), as
the Rust pools do; a timed call submits --tasks tasks and collects every result, in order.
"""

import atexit
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from _measure import main


def noop(x):
    return x


def submit_all(executor_class):
    def make(args):
        executor = executor_class(max_workers=args.workers)
        atexit.register(executor.shutdown)
        n = args.tasks

        def run():
            futures = [executor.submit(noop, i) for i in range(n)]
            return [f.result() for f in futures]

        return run

    return make


def map_chunks(args):
    executor = ProcessPoolExecutor(max_workers=args.workers)
    atexit.register(executor.shutdown)
    n = args.tasks
    return lambda: list(executor.map(noop, range(n), chunksize=100))


def add_arguments(parser):
    parser.add_argument("--tasks", type=int, default=10_000, help="no-op tasks per timed call")
    parser.add_argument("--workers", type=int, default=2, help="worker threads or processes")


if __name__ == "__main__":
    main(
        __doc__.splitlines()[0],
        {
            "ThreadPoolExecutor": submit_all(ThreadPoolExecutor),
            "ProcessPoolExecutor": submit_all(ProcessPoolExecutor),
            "ProcessPoolExecutor map chunksize=100": map_chunks,
        },
        add_arguments,
    )
