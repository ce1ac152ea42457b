//! The squares of `0..n` as a `Vec<u64>`, written the ways the talk writes them in Python.
//!
//! In Python the for-loop is slow because every step runs in the interpreter. In Rust the
//! for-loop compiles to the same machine code as the iterator, so what is left to see is
//! what every version pays whatever its style: asking the kernel for fresh memory (a page
//! fault per 4 KiB page, unless it is asked for huge pages) and writing it at memory speed.

use measure::report::{Kind, Lang, Report};
use measure::stream;
use measure::units::{count, duration, ratio};

// ANCHOR: push
/// The talk's first slide: an empty list, one `append` per number.
pub fn for_loop_push(n: u64) -> Vec<u64> {
    let mut squares = Vec::new();
    for i in 0..n {
        squares.push(i * i); // grows by doubling: log2(n) reallocations
    }
    squares
}
// ANCHOR_END: push

// ANCHOR: with_capacity
/// The same loop, told the final size up front: one allocation.
pub fn for_loop_with_capacity(n: u64) -> Vec<u64> {
    let mut squares = Vec::with_capacity(n as usize);
    for i in 0..n {
        squares.push(i * i);
    }
    squares
}
// ANCHOR_END: with_capacity

// ANCHOR: collect
/// The list comprehension: `[i * i for i in range(n)]`.
pub fn iter_map_collect(n: u64) -> Vec<u64> {
    (0..n).map(|i| i * i).collect()
}
// ANCHOR_END: collect

// ANCHOR: fill
/// numpy's style: allocate the whole (zeroed) array,
/// then one pass writes every element.
pub fn fill_zeroed(n: u64) -> Vec<u64> {
    let mut squares = vec![0u64; n as usize];
    for (i, square) in squares.iter_mut().enumerate() {
        let i = i as u64;
        *square = i * i;
    }
    squares
}
// ANCHOR_END: fill

// ANCHOR: huge_pages
/// What numpy does for large arrays: ask the kernel for 2 MiB pages
/// before touching the memory, so 80 MB arrive in a few hundred page faults
/// instead of ~19,500.
pub fn collect_huge_pages(n: u64) -> Vec<u64> {
    let mut squares = Vec::with_capacity(n as usize);
    advise_huge_pages(&mut squares);
    squares.extend((0..n).map(|i| i * i));
    squares
}
// ANCHOR_END: huge_pages

// ANCHOR: running_sums
/// The loop rewritten for the machine: `(i + 8)² = i² + 16·i + 64`,
/// so eight running sums replace every multiply with an add,
/// and each block of eight squares is stored at once. Huge pages as above;
/// the result is written straight into the vector's spare capacity.
pub fn running_sums_huge_pages(n: u64) -> Vec<u64> {
    let len = n as usize;
    let mut squares = Vec::with_capacity(len);
    advise_huge_pages(&mut squares);
    let out = &mut squares.spare_capacity_mut()[..len];
    const LANES: usize = 8;
    let mut square: [u64; LANES] = std::array::from_fn(|k| (k * k) as u64);
    let mut step: [u64; LANES] = std::array::from_fn(|k| (2 * LANES * k + LANES * LANES) as u64);
    let mut blocks = out.chunks_exact_mut(LANES);
    for block in &mut blocks {
        for k in 0..LANES {
            block[k].write(square[k]);
            square[k] += step[k];
            step[k] += (2 * LANES * LANES) as u64;
        }
    }
    let done = len - blocks.into_remainder().len();
    for (i, slot) in out.iter_mut().enumerate().skip(done) {
        slot.write(i as u64 * i as u64);
    }
    // SAFETY: the blocks and the remainder above wrote all `len` elements.
    unsafe { squares.set_len(len) };
    squares
}
// ANCHOR_END: running_sums

// ANCHOR: in_place
/// No allocation at all: write the squares into a buffer that is already mapped.
pub fn squares_into(buffer: &mut [u64]) {
    for (i, square) in buffer.iter_mut().enumerate() {
        let i = i as u64;
        *square = i * i;
    }
}
// ANCHOR_END: in_place

// ANCHOR: streaming
/// The same squares written with streaming (non-temporal) stores: each 64-byte line goes
/// straight to memory, without the read an ordinary store first makes of a line it is about
/// to overwrite. `measure::stream` checks the CPU and holds the `unsafe`; the squares come in
/// blocks of four from running sums, `(i + 4)² = i² + 8·i + 16`, adds instead of multiplies.
pub fn squares_streaming(buffer: &mut [u64]) {
    let (mut next, mut square, mut step) = (usize::MAX, [0u64; 4], [0u64; 4]);
    let block = move |i: usize| {
        if i != next {
            // The first block: start the sums at i (the blocks come in order after it).
            let at = |k: usize| (i + k) as u64;
            square = std::array::from_fn(|k| at(k) * at(k));
            step = std::array::from_fn(|k| 8 * at(k) + 16);
        }
        next = i + 4;
        let squares = square;
        for k in 0..4 {
            square[k] += step[k];
            step[k] += 32;
        }
        squares
    };
    stream::write_blocks(buffer, block, |i| i as u64 * i as u64);
}
// ANCHOR_END: streaming

// ANCHOR: limits
/// The limit for an approach that allocates its result:
/// a fresh vector, filled with a constant.
pub fn fresh_fill(n: u64) -> Vec<u64> {
    vec![1u64; n as usize]
}

/// The same fill into memory advised to come in huge pages.
pub fn fresh_fill_huge_pages(n: u64) -> Vec<u64> {
    let mut filled = Vec::with_capacity(n as usize);
    advise_huge_pages(&mut filled);
    filled.resize(n as usize, 1u64);
    filled
}

/// No allocation at all: rewrite a buffer whose pages are already mapped, with streaming
/// stores, which do not read a line before overwriting it (one core's write bandwidth).
pub fn refill(buffer: &mut [u64]) {
    stream::fill(buffer, 1);
}
// ANCHOR_END: limits

// ANCHOR: refill_ordinary
/// The same refill with ordinary stores: each line is read before it is overwritten. Not a
/// limit (streaming stores beat it on memory that is not in the cache); the benches show both.
pub fn refill_ordinary(buffer: &mut [u64]) {
    buffer.fill(1);
}
// ANCHOR_END: refill_ordinary

/// The rows' names, shared by `main.rs`, the lessons and the tests.
pub mod names {
    pub const PUSH: &str = "for-loop + push";
    pub const WITH_CAPACITY: &str = "for-loop + with_capacity";
    pub const COLLECT: &str = "iter().map().collect()";
    pub const FILL_ZEROED: &str = "fill a zeroed Vec (numpy style)";
    pub const HUGE_PAGES: &str = "collect into huge pages";
    pub const RUNNING_SUMS: &str = "running sums into huge pages";
    pub const IN_PLACE: &str = "squares into a reused buffer";
    pub const STREAMING: &str = "squares into a reused buffer, streaming stores";
    pub const FRESH_FILL: &str = "fresh fill";
    pub const FRESH_FILL_HUGE: &str = "fresh fill, huge pages";
    pub const REFILL: &str = "refill a reused buffer";
    pub const PYTHON_FOR_LOOP: &str = "Python for-loop";
    pub const PYTHON_NUMPY: &str = "Python numpy";
    /// The approaches that allocate the vector they return.
    pub const ALLOCATING: [&str; 6] = [
        PUSH,
        WITH_CAPACITY,
        COLLECT,
        FILL_ZEROED,
        HUGE_PAGES,
        RUNNING_SUMS,
    ];
    /// The approaches that write into a buffer that is already mapped.
    pub const IN_PLACE_ROWS: [&str; 2] = [IN_PLACE, STREAMING];
}

/// How close to a limit row counts as "at the limit" in the lessons: within 20 %, about the
/// spread between runs of one row on a busy machine. Only the wording depends on it; the
/// numbers are always printed.
const AT_LIMIT: f64 = 1.2;

/// The chapter's lessons in this run's own numbers, printed under the table. Every line
/// quotes the medians it is drawn from and says what they showed, whichever way they came out.
pub fn lessons(report: &Report) -> Vec<String> {
    use names::*;
    let row = |name: &str| {
        report
            .row(name)
            .filter(|r| r.skipped.is_none() && r.verified != Some(false))
    };
    let median = |name: &str| row(name).and_then(|r| r.median_s);
    let faults = |name: &str| row(name).and_then(|r| r.minor_faults);
    // The fastest verified row among `names`.
    let fastest = |names: &[&str]| {
        names
            .iter()
            .filter_map(|&name: &&str| {
                let r = row(name)?;
                (r.kind == Kind::Limit || r.verified == Some(true)).then_some(())?;
                Some((r.approach.as_str(), r.median_s?))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let rust_rows: Vec<&str> = report
        .results
        .iter()
        .filter(|r| r.lang == Lang::Rust && r.kind != Kind::Limit)
        .map(|r| r.approach.as_str())
        .collect();
    let mut lines = Vec::new();

    // Python's for-loop against the fastest Rust approach of the same run.
    if let (Some(python), Some((name, best))) = (median(PYTHON_FOR_LOOP), fastest(&rust_rows)) {
        let speed = if python >= best {
            format!("{} faster", ratio(python / best))
        } else {
            format!("{} slower", ratio(best / python))
        };
        lines.push(format!(
            "Python's for-loop took {}; the fastest Rust approach ({name}) took {}: {speed} in this run.",
            duration(python),
            duration(best),
        ));
    }

    // Is the for-loop's time the loop, or the fresh memory it writes?
    if let (Some(looped), Some(fill), Some(f)) =
        (median(PUSH), median(FRESH_FILL), faults(FRESH_FILL))
    {
        let share = fill / looped;
        let verdict = if share >= 0.5 {
            "most of the for-loop's time is the fresh memory, not the loop"
        } else {
            "here the loop itself costs more than the fresh memory it writes"
        };
        lines.push(format!(
            "A plain fresh fill of the same bytes ({} page faults) took {}, {:.0}% of the for-loop's {}: {verdict}.",
            count(f),
            duration(fill),
            100.0 * share,
            duration(looped),
        ));
    }

    // What huge pages did to the faults and to the time.
    if let (Some(a), Some(b), Some(fa), Some(fb)) = (
        median(FRESH_FILL),
        median(FRESH_FILL_HUGE),
        faults(FRESH_FILL),
        faults(FRESH_FILL_HUGE),
    ) {
        let (ta, tb) = (duration(a), duration(b));
        lines.push(if fa == 0 && fb == 0 {
            format!(
                "The fresh fills had no page faults at all ({ta}, and {tb} with huge pages): the allocator handed back memory that was already mapped."
            )
        } else if fb >= fa {
            format!(
                "Huge pages did not cut the page faults here ({} with, {} without; see /sys/kernel/mm/transparent_hugepage/enabled): the fresh fill took {tb} with them, {ta} without.",
                count(fb),
                count(fa)
            )
        } else if b < a {
            format!(
                "Huge pages cut the fresh fill's page faults from {} to {} and its time from {ta} to {tb}: {} faster.",
                count(fa),
                count(fb),
                ratio(a / b)
            )
        } else {
            format!(
                "Huge pages cut the page faults from {} to {}, but the fresh fill took {tb} with them and {ta} without: the faults were not where its time went.",
                count(fa),
                count(fb)
            )
        });
    }

    // The fastest approach that allocates, against the fastest fresh fill of the same bytes.
    let best_allocating = fastest(&ALLOCATING);
    if let (Some((name, best)), Some((limit_name, limit))) =
        (best_allocating, fastest(&[FRESH_FILL, FRESH_FILL_HUGE]))
    {
        let r = best / limit;
        let verdict = if r <= AT_LIMIT {
            "it is at the limit, so what is left is the memory, not the loop".to_string()
        } else {
            format!(
                "it is far from the limit, {:.0}% of its time is the loop and not the memory",
                100.0 * (1.0 - 1.0 / r)
            )
        };
        lines.push(format!(
            "The fastest approach that allocates its result ({name}, {}) took {} the time of the limit \"{limit_name}\" ({}): {verdict}.",
            duration(best),
            ratio(r),
            duration(limit)
        ));
    }

    // Ordinary against streaming stores, and the fastest approach against the write limit.
    if let (Some(ordinary), Some(streaming)) = (median(IN_PLACE), median(STREAMING)) {
        let verdict = if streaming < ordinary {
            format!(
                "{} faster, because an ordinary store first reads each cache line it overwrites",
                ratio(ordinary / streaming)
            )
        } else {
            format!(
                "{} slower: here ordinary stores won (a buffer that fits in the cache is better written through it)",
                ratio(streaming / ordinary)
            )
        };
        lines.push(format!(
            "Into a reused buffer the squares took {} with ordinary stores and {} with streaming stores: {verdict}.",
            duration(ordinary),
            duration(streaming)
        ));
    }
    if let (Some((name, best)), Some(limit)) = (fastest(&rust_rows), median(REFILL)) {
        let r = best / limit;
        let verdict = if r < 1.0 / AT_LIMIT {
            "faster than that limit row, so on this machine it is not a limit"
        } else if r <= AT_LIMIT {
            "at the machine's write limit, so nothing that writes these bytes can be much faster"
        } else {
            "far from the machine's write limit"
        };
        lines.push(format!(
            "The fastest approach ({name}, {}) took {} the time of the limit \"{REFILL}\" with streaming stores ({}): {verdict}.",
            duration(best),
            ratio(r),
            duration(limit)
        ));
    }

    // numpy allocates its result too: compare it with the Rust approaches that do.
    if let (Some(numpy), Some((name, best))) = (median(PYTHON_NUMPY), best_allocating) {
        let verdict = if numpy > best {
            format!("{} the time of {name}", ratio(numpy / best))
        } else {
            format!(
                "faster than every Rust approach that allocates ({name}: {})",
                duration(best)
            )
        };
        lines.push(format!(
            "numpy's arange(N)**2 took {}: {verdict}.",
            duration(numpy)
        ));
    }
    lines
}

/// Bytes a run of `n` squares needs at its peak, for the Rust rows alone and with the Python
/// rows, so that a size the machine cannot hold is refused before anything is allocated.
///
/// Rust: the three reused buffers (8·n bytes each, mapped by their first run and alive to the
/// end), plus the largest result of an approach: `for-loop + push` grows by doubling, so while
/// it moves to its last capacity (`n` rounded up to a power of two) it holds that and half of
/// it. Python (a separate process, while the Rust buffers are still alive): a list of `n`
/// pointers (8 bytes, ~12 % spare from its growth), an int object per square (32 bytes above
/// 2^30) and the fingerprint's two 8-byte numpy arrays.
pub fn memory_needed(n: u64) -> MemoryNeed {
    let n = n as f64;
    let buffers = 3.0 * 8.0 * n;
    let largest = 1.5 * 8.0 * (n as u64).max(1).next_power_of_two() as f64;
    let python = (8.0 * 1.125 + 32.0 + 16.0) * n;
    MemoryNeed {
        rust: buffers + largest,
        with_python: (buffers + largest).max(buffers + python),
    }
}

/// What [`memory_needed`] found, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryNeed {
    pub rust: f64,
    pub with_python: f64,
}

/// `MemAvailable` of `/proc/meminfo` in bytes: what can be allocated without swapping.
/// `None` where there is no such file (then nothing is refused).
pub fn memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_available(&text)
}

fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        None => Some(value),
        Some(_) => None,
    }
}

/// The one line that refuses `--n`, or `None` when the run fits in `available` bytes.
pub fn refuse_n(n: u64, python: bool, available: u64) -> Option<String> {
    let need = memory_needed(n);
    let total = if python { need.with_python } else { need.rust };
    if total <= available as f64 {
        return None;
    }
    let python_part = if python {
        format!(
            "{} with the Python rows beside the Rust buffers",
            bytes(need.with_python)
        )
    } else {
        format!(
            "{} more if the Python rows ran",
            bytes((need.with_python - need.rust).max(0.0))
        )
    };
    Some(format!(
        "error: --n {} needs about {} of memory ({} for the Rust rows, {python_part}), and this machine has {} available (MemAvailable in /proc/meminfo)",
        count(n),
        bytes(total),
        bytes(need.rust),
        bytes(available as f64)
    ))
}

/// Bytes with an SI prefix: `40.0 GB`.
fn bytes(b: f64) -> String {
    let (value, prefix) = measure::units::si(b);
    format!("{} {prefix}B", measure::units::sig3(value))
}

/// Asks Linux to back a vector's spare capacity with transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`). Only advice: where the kernel declines, nothing changes.
pub fn advise_huge_pages<T>(v: &mut Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as usize,
            _ => return,
        };
        let start = v.as_mut_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<T>();
        let first_page = start.div_ceil(page) * page;
        if end > first_page {
            // SAFETY: the range lies inside this vector's own allocation; MADV_HUGEPAGE changes
            // how the kernel backs those pages, never their contents.
            unsafe {
                libc::madvise(
                    first_page as *mut libc::c_void,
                    end - first_page,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_approach_computes_the_same_squares() {
        let expected: Vec<u64> = vec![0, 1, 4, 9, 16, 25, 36];
        for f in [
            for_loop_push,
            for_loop_with_capacity,
            iter_map_collect,
            fill_zeroed,
            collect_huge_pages,
            running_sums_huge_pages,
        ] {
            assert_eq!(f(7), expected);
            assert!(f(0).is_empty());
        }
        for len in [1, 8, 9, 15, 16, 17, 1_000_003] {
            assert_eq!(
                running_sums_huge_pages(len),
                iter_map_collect(len),
                "n = {len}"
            );
        }
        let big = collect_huge_pages(3_000_000);
        assert_eq!(big.len(), 3_000_000);
        assert_eq!(big[2_999_999], 2_999_999u64 * 2_999_999);
    }

    #[test]
    fn in_place_matches() {
        let mut buffer = vec![7u64; 1000];
        squares_into(&mut buffer);
        assert_eq!(buffer, iter_map_collect(1000));
        // Streaming stores at every alignment and length: the head, the blocks and the tail.
        let mut backing = vec![7u64; 1100];
        for start in 0..4 {
            for len in [0, 1, 3, 4, 5, 9, 1000] {
                let out = &mut backing[start..start + len];
                out.fill(u64::MAX);
                squares_streaming(out);
                assert_eq!(out, &iter_map_collect(len as u64)[..], "{start} {len}");
            }
        }
    }

    #[test]
    fn limits_write_the_same_number_of_bytes() {
        assert_eq!(fresh_fill(5), vec![1; 5]);
        assert_eq!(fresh_fill_huge_pages(5), vec![1; 5]);
        let mut buffer = vec![0u64; 5];
        refill(&mut buffer);
        assert_eq!(buffer, vec![1; 5]);
        let mut buffer = vec![0u64; 5];
        refill_ordinary(&mut buffer);
        assert_eq!(buffer, vec![1; 5]);
    }

    use measure::report::{Row, RunSummary, Workload};

    /// A report with these rows: (name, median seconds, page faults); "Python ..." rows are
    /// Python's, the names of `names::` limits are limits, the rest verified Rust approaches.
    fn report(rows: &[(&str, f64, u64)]) -> Report {
        let limits = [names::FRESH_FILL, names::FRESH_FILL_HUGE, names::REFILL];
        let results = rows
            .iter()
            .map(|&(name, median, faults)| {
                let python = name.starts_with("Python");
                let limit = limits.contains(&name);
                let mut row = Row::skipped(
                    name,
                    if python { Lang::Python } else { Lang::Rust },
                    if limit { Kind::Limit } else { Kind::Approach },
                    "",
                );
                row.skipped = None;
                row.runs = 3;
                row.median_s = Some(median);
                row.minor_faults = (!python).then_some(faults);
                row.verified = (!limit).then_some(true);
                row
            })
            .collect();
        Report {
            example: "for-loop".into(),
            machine: measure::machine::Machine::detect(),
            workload: Workload::new("squares", 10, "numbers"),
            baseline: names::PUSH.into(),
            runs: 3,
            results,
            summary: RunSummary {
                total: 10,
                done: 10,
                failed: 0,
            },
            failures: Vec::new(),
            notes: Vec::new(),
            columns: Default::default(),
        }
    }

    /// This machine's usual story (80 MB, transparent huge pages on madvise).
    const USUAL: [(&str, f64, u64); 15] = [
        (names::PUSH, 0.0507, 19_532),
        (names::WITH_CAPACITY, 0.0505, 19_532),
        (names::COLLECT, 0.0459, 19_532),
        (names::FILL_ZEROED, 0.0487, 19_532),
        (names::HUGE_PAGES, 0.0144, 625),
        (names::RUNNING_SUMS, 0.0117, 625),
        (names::IN_PLACE, 0.00684, 0),
        (names::STREAMING, 0.00376, 0),
        (names::FRESH_FILL, 0.0427, 19_532),
        (names::FRESH_FILL_HUGE, 0.0101, 625),
        (names::REFILL, 0.00363, 0),
        ("Python for-loop", 0.597, 0),
        ("Python list comprehension", 0.563, 0),
        ("Python map", 0.9, 0),
        ("Python numpy", 0.0207, 0),
    ];

    fn line<'a>(lines: &'a [String], starts: &str) -> &'a str {
        lines
            .iter()
            .find(|l| l.starts_with(starts))
            .unwrap_or_else(|| panic!("no line starting {starts:?} in {lines:#?}"))
    }

    #[test]
    fn lessons_quote_the_usual_numbers() {
        let lines = lessons(&report(&USUAL));
        assert_eq!(lines.len(), 7, "{lines:#?}");
        let python = line(&lines, "Python's for-loop took 597 ms");
        assert!(
            python.contains(&format!("({})", names::STREAMING)),
            "{python}"
        );
        assert!(python.contains("3.76 ms: 159x faster"), "{python}");
        let fill = line(&lines, "A plain fresh fill");
        assert!(fill.contains("19,532 page faults) took 42.7 ms, 84% of the for-loop's 50.7 ms"));
        assert!(fill.ends_with("the fresh memory, not the loop."), "{fill}");
        let huge = line(
            &lines,
            "Huge pages cut the fresh fill's page faults from 19,532 to 625",
        );
        assert!(huge.contains("42.7 ms to 10.1 ms: 4.23x faster"), "{huge}");
        let alloc = line(&lines, "The fastest approach that allocates");
        assert!(
            alloc.contains("(running sums into huge pages, 11.7 ms) took 1.16x"),
            "{alloc}"
        );
        assert!(
            alloc.ends_with("it is at the limit, so what is left is the memory, not the loop.")
        );
        let stores = line(&lines, "Into a reused buffer");
        assert!(stores.contains(
            "6.84 ms with ordinary stores and 3.76 ms with streaming stores: 1.82x faster"
        ));
        let limit = line(&lines, "The fastest approach (");
        assert!(
            limit.contains("took 1.04x the time")
                && limit.ends_with(
                    "write limit, so nothing that writes these bytes can be much faster."
                ),
            "{limit}"
        );
        let numpy = line(&lines, "numpy's arange(N)**2 took 20.7 ms");
        assert!(
            numpy.contains("1.77x the time of running sums into huge pages"),
            "{numpy}"
        );
        for l in &lines {
            assert!(!l.to_lowercase().contains("target"), "{l}");
        }
    }

    #[test]
    fn lessons_follow_numbers_that_contradict_the_usual_story() {
        // A machine where the loop is slow and memory cheap, huge pages are off, streaming
        // stores lose, the best approach is far from every limit, and Python wins.
        let rows = [
            (names::PUSH, 0.5, 19_532),
            (names::WITH_CAPACITY, 0.45, 19_532),
            (names::COLLECT, 0.4, 19_532),
            (names::FILL_ZEROED, 0.42, 19_532),
            (names::HUGE_PAGES, 0.41, 19_532),
            (names::RUNNING_SUMS, 0.3, 19_532),
            (names::IN_PLACE, 0.2, 0),
            (names::STREAMING, 0.25, 0),
            (names::FRESH_FILL, 0.05, 19_532),
            (names::FRESH_FILL_HUGE, 0.06, 19_532),
            (names::REFILL, 0.01, 0),
            ("Python for-loop", 0.1, 0),
            ("Python numpy", 0.02, 0),
        ];
        let lines = lessons(&report(&rows));
        assert_eq!(lines.len(), 7, "{lines:#?}");
        let python = line(&lines, "Python's for-loop took 100 ms");
        assert!(
            python.contains("(squares into a reused buffer) took 200 ms: 2.00x slower"),
            "{python}"
        );
        let fill = line(&lines, "A plain fresh fill");
        assert!(
            fill.contains("50.0 ms, 10% of the for-loop's 500 ms"),
            "{fill}"
        );
        assert!(
            fill.ends_with("the loop itself costs more than the fresh memory it writes."),
            "{fill}"
        );
        assert!(
            !lines.iter().any(|l| l.contains("not the loop")),
            "{lines:#?}"
        );
        let huge = line(
            &lines,
            "Huge pages did not cut the page faults here (19,532 with, 19,532 without",
        );
        assert!(
            huge.contains("took 60.0 ms with them, 50.0 ms without"),
            "{huge}"
        );
        let alloc = line(&lines, "The fastest approach that allocates");
        assert!(
            alloc.contains("took 6.00x the time of the limit \"fresh fill\" (50.0 ms)"),
            "{alloc}"
        );
        assert!(
            alloc.ends_with("far from the limit, 83% of its time is the loop and not the memory."),
            "{alloc}"
        );
        let stores = line(&lines, "Into a reused buffer");
        assert!(
            stores.contains("1.25x slower: here ordinary stores won"),
            "{stores}"
        );
        let limit = line(&lines, "The fastest approach (");
        assert!(
            limit.contains("took 20.0x the time")
                && limit.ends_with("far from the machine's write limit."),
            "{limit}"
        );
        let numpy = line(&lines, "numpy's arange(N)**2 took 20.0 ms");
        assert!(numpy.contains("faster than every Rust approach that allocates (running sums into huge pages: 300 ms)"), "{numpy}");
    }

    #[test]
    fn lessons_say_when_a_limit_is_beaten_or_no_fault_happened() {
        let mut rows = USUAL.to_vec();
        for r in &mut rows {
            match r.0 {
                names::REFILL => r.1 = 0.01,
                names::FRESH_FILL | names::FRESH_FILL_HUGE => r.2 = 0,
                _ => {}
            }
        }
        let lines = lessons(&report(&rows));
        let limit = line(&lines, "The fastest approach (");
        assert!(
            limit.ends_with("faster than that limit row, so on this machine it is not a limit."),
            "{limit}"
        );
        line(
            &lines,
            "The fresh fills had no page faults at all (42.7 ms, and 10.1 ms with huge pages)",
        );
        // Without the Python rows (--no-python) their lines are left out, not invented.
        let rust_only: Vec<_> = USUAL
            .iter()
            .copied()
            .filter(|r| !r.0.starts_with("Python"))
            .collect();
        let lines = lessons(&report(&rust_only));
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("Python") || l.contains("numpy"))
        );
    }

    #[test]
    fn memory_need_and_refusal() {
        let need = memory_needed(10_000_000);
        // 3 buffers of 80 MB, and push's 2^24 and 2^23 elements while it grows.
        assert_eq!(need.rust, 240e6 + 1.5 * 8.0 * 16_777_216.0);
        assert_eq!(need.with_python, 240e6 + 57.0 * 10e6);
        assert_eq!(refuse_n(10_000_000, true, 1 << 30), None);
        let line = refuse_n(500_000_000, true, 24_000_000_000).unwrap();
        assert!(
            line.starts_with("error: --n 500,000,000 needs about 40.5 GB of memory ("),
            "{line}"
        );
        assert!(
            line.contains("with the Python rows")
                && line.ends_with(
                    "this machine has 24.0 GB available (MemAvailable in /proc/meminfo)"
                ),
            "{line}"
        );
        let line = refuse_n(500_000_000, false, 1_000_000_000).unwrap();
        assert!(line.contains("more if the Python rows ran"), "{line}");
        assert_eq!(
            parse_mem_available("MemTotal: 8 kB\nMemAvailable:   24198880 kB\n"),
            Some(24_198_880 * 1024)
        );
        assert_eq!(parse_mem_available("MemTotal: 8 kB\n"), None);
    }
}
