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

/// The same refill with ordinary stores: each line is read before it is overwritten. Not a
/// limit (streaming stores beat it on memory that is not in the cache); the benches show both.
pub fn refill_ordinary(buffer: &mut [u64]) {
    buffer.fill(1);
}

/// The chapter's lesson in this run's own numbers, printed under the table.
pub fn lessons(report: &Report) -> Vec<String> {
    let median = |name: &str| report.row(name).and_then(|r| r.median_s);
    let faults = |name: &str| report.row(name).and_then(|r| r.minor_faults);
    let fastest = |allocating: bool| {
        report
            .results
            .iter()
            .filter(|r| r.lang == Lang::Rust && r.kind != Kind::Limit && r.verified == Some(true))
            .filter(|r| !allocating || r.approach != "squares into a reused buffer")
            .filter_map(|r| Some((r.approach.as_str(), r.median_s?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let mut lines = Vec::new();
    if let (Some(python), Some((name, best))) = (median("Python for-loop"), fastest(false)) {
        lines.push(format!(
            "Python's for-loop took {}; the fastest Rust approach ({name}) {}: {} faster.",
            duration(python),
            duration(best),
            ratio(python / best)
        ));
    }
    if let (Some(a), Some(b), Some(fa), Some(fb)) = (
        median("fresh fill"),
        median("fresh fill, huge pages"),
        faults("fresh fill"),
        faults("fresh fill, huge pages"),
    ) {
        lines.push(format!(
            "Filling a fresh vector cost {} with {} page faults (4 KiB pages); with huge pages {} and {} faults.",
            duration(a),
            count(fa),
            duration(b),
            count(fb)
        ));
    }
    if let (Some((name, best)), Some(limit)) = (fastest(true), median("fresh fill, huge pages")) {
        lines.push(format!(
            "The fastest approach that allocates its result ({name}, {}) takes {} the time of a plain fresh fill into huge pages: the loop is not the problem, memory is.",
            duration(best),
            ratio(best / limit)
        ));
        if let Some(numpy) = median("Python numpy") {
            lines.push(format!(
                "numpy's arange(N)**2 took {}: {} of that Rust approach's time.",
                duration(numpy),
                ratio(numpy / best)
            ));
        }
    }
    lines
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
}
