//! Writing memory at the machine's limit: non-temporal ("streaming") stores.
//!
//! An ordinary store into a cache line that is not in the cache first *reads* that line from
//! memory (the CPU must own the whole 64-byte line before it can change 8 bytes of it), so
//! overwriting a large buffer moves every byte twice: once in, once out. A streaming store
//! (`movntdq`: `_mm_stream_si128`, `_mm256_stream_si256`) writes whole lines straight to
//! memory, past the cache, without reading them. For a buffer much larger than the cache that
//! is the fastest way to write it, and so the honest limit for any approach that must write
//! it. For a buffer that fits in the cache it is the slowest: the data leaves the cache.
//!
//! The public functions are safe: they check the CPU (`is_x86_feature_detected!`) and use
//! 32-byte AVX stores where it has AVX, 16-byte SSE2 stores otherwise (every x86-64 CPU), and
//! an ordinary loop on other architectures. Elements before the first 32-byte boundary and
//! after the last one are written with ordinary stores; an `sfence` at the end orders the
//! streaming stores before anything the caller does next.

use std::mem::MaybeUninit;

/// What [`write`] and [`copy`] use on this CPU.
pub fn level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            "streaming stores, 32 bytes (AVX2)"
        } else if std::arch::is_x86_feature_detected!("avx") {
            "streaming stores, 32 bytes (AVX)"
        } else {
            "streaming stores, 16 bytes (SSE2)"
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        "ordinary stores (no streaming stores on this architecture)"
    }
}

/// A plain-old-data element of 4 or 8 bytes: what a streaming store can be filled with.
pub trait Word: Copy + Send + Sync + sealed::Sealed {}
impl Word for u64 {}
impl Word for i64 {}
impl Word for f64 {}
impl Word for u32 {}
impl Word for i32 {}
impl Word for f32 {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u64 {}
    impl Sealed for i64 {}
    impl Sealed for f64 {}
    impl Sealed for u32 {}
    impl Sealed for i32 {}
    impl Sealed for f32 {}
}

/// Bytes per block of the main loop (the head is aligned to this): one AVX store, two SSE2.
const BLOCK: usize = 32;

/// What the main loop writes: one element at a time (head and tail), or a whole 32-byte block
/// of `N` elements starting at `i` (the blocks are asked for in order, each once).
trait Source<T, const N: usize> {
    fn one(&mut self, i: usize) -> T;
    fn block(&mut self, i: usize) -> [T; N];
}

/// A source of single elements: blocks are gathered from `N` calls.
struct Each<F>(F);

impl<T, F: FnMut(usize) -> T, const N: usize> Source<T, N> for Each<F> {
    #[inline(always)]
    fn one(&mut self, i: usize) -> T {
        (self.0)(i)
    }
    #[inline(always)]
    fn block(&mut self, i: usize) -> [T; N] {
        std::array::from_fn(|k| (self.0)(i + k))
    }
}

/// A source with its own block function (running sums, a vector load...).
struct Blocks<B, F>(B, F);

impl<T, B: FnMut(usize) -> [T; N], F: FnMut(usize) -> T, const N: usize> Source<T, N>
    for Blocks<B, F>
{
    #[inline(always)]
    fn one(&mut self, i: usize) -> T {
        (self.1)(i)
    }
    #[inline(always)]
    fn block(&mut self, i: usize) -> [T; N] {
        (self.0)(i)
    }
}

/// `out[i] = f(i)` for every `i`, with streaming stores (see the module's notes).
pub fn write<T: Word>(out: &mut [T], f: impl FnMut(usize) -> T) {
    match size_of::<T>() {
        8 => run::<T, 4>(as_uninit(out), Each(f)),
        _ => run::<T, 8>(as_uninit(out), Each(f)),
    }
}

/// `out[i] = one(i)` for every `i`, where the whole 32-byte blocks (`N` elements each, `N` ·
/// the element's size = 32, checked when compiled) come from `block(i)`, the elements
/// `i..i + N` at once: a way to compute them with running sums or wide loads. `block` is
/// called for consecutive blocks in order, each once; `one` for the elements before the first
/// 32-byte boundary and after the last.
pub fn write_blocks<T: Word, const N: usize>(
    out: &mut [T],
    block: impl FnMut(usize) -> [T; N],
    one: impl FnMut(usize) -> T,
) {
    const { assert!(N * size_of::<T>() == BLOCK, "a block is 32 bytes") };
    run::<T, N>(as_uninit(out), Blocks(block, one));
}

/// [`write`] into memory not yet initialised (a vector's spare capacity): every element is
/// written, and the slice comes back initialised.
pub fn write_uninit<T: Word>(out: &mut [MaybeUninit<T>], f: impl FnMut(usize) -> T) -> &mut [T] {
    match size_of::<T>() {
        8 => run::<T, 4>(out, Each(f)),
        _ => run::<T, 8>(out, Each(f)),
    }
    // SAFETY: `run` wrote every element of `out` (head, blocks and tail cover it).
    unsafe { &mut *(std::ptr::from_mut(out) as *mut [T]) }
}

/// Every element of `out` set to `value`, with streaming stores.
pub fn fill<T: Word>(out: &mut [T], value: T) {
    write(out, |_| value);
}

/// `dst.copy_from_slice(src)` with streaming stores. Panics if the lengths differ.
pub fn copy<T: Word>(src: &[T], dst: &mut [T]) {
    assert_eq!(
        src.len(),
        dst.len(),
        "source and destination lengths differ"
    );
    write(dst, |i| src[i]);
}

/// The share of `len` elements of `size` bytes each of `threads` threads writes in an
/// all-core run: one share per thread, rounded up to whole 64-byte lines. Never zero.
pub fn share(len: usize, threads: usize, size: usize) -> usize {
    let per_line = (64 / size.max(1)).max(1);
    len.div_ceil(threads.max(1)).div_ceil(per_line).max(1) * per_line
}

fn as_uninit<T>(out: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has the layout of `T`; `run` stores only valid `T`s into it,
    // so `out` holds valid `T`s afterwards.
    unsafe { &mut *(std::ptr::from_mut(out) as *mut [MaybeUninit<T>]) }
}

/// The dispatch: AVX where the CPU has it, SSE2 (every x86-64 CPU) otherwise, plain stores
/// on other architectures. `N` elements of `T` are 32 bytes. `src` is moved in, so that its
/// state (running sums) can stay in registers: nothing the stores write can alias it.
fn run<T: Word, const N: usize>(out: &mut [MaybeUninit<T>], src: impl Source<T, N>) {
    debug_assert_eq!(N * size_of::<T>(), BLOCK);
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above), the only requirement.
            unsafe { x86::run_avx2(out, src) }
        } else if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX (checked just above), the only requirement.
            unsafe { x86::run_avx(out, src) }
        } else {
            x86::run_sse2(out, src)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut src = src;
        for (i, o) in out.iter_mut().enumerate() {
            o.write(src.one(i));
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    use super::{BLOCK, Source, Word};

    /// Elements before the first `BLOCK`-aligned address of `out`, and the whole blocks after.
    fn split<T>(out: &[T]) -> (usize, usize) {
        let size = size_of::<T>();
        let misalign = out.as_ptr() as usize % BLOCK;
        let head = if misalign == 0 {
            0
        } else {
            ((BLOCK - misalign) / size).min(out.len())
        };
        (head, (out.len() - head) * size / BLOCK)
    }

    /// The 32-byte loop, compiled once for AVX and once for AVX2 (whose integer instructions
    /// let the blocks themselves be computed 256 bits at a time).
    macro_rules! run_256 {
        ($name:ident, $features:literal) => {
            #[target_feature(enable = $features)]
            pub(super) fn $name<T: Word, const N: usize>(
                out: &mut [MaybeUninit<T>],
                src: impl Source<T, N>,
            ) {
                // A local copy: the streaming store is an `asm!` block, which the compiler
                // must assume reads and writes any memory it can reach, so the state of
                // `src` (running sums) stays in registers only if it lives here.
                let mut src = src;
                let (head, blocks) = split(out);
                for (i, o) in out[..head].iter_mut().enumerate() {
                    o.write(src.one(i));
                }
                let base = out[head..].as_mut_ptr().cast::<__m256i>();
                for b in 0..blocks {
                    let block = src.block(head + b * N);
                    // SAFETY: `base` is 32-byte aligned (`split`) and block `b < blocks` lies
                    // inside `out[head..]`, which holds `blocks` whole blocks; `block` is 32
                    // bytes (`N` elements of `T`), read as one vector.
                    unsafe { _mm256_stream_si256(base.add(b), std::mem::transmute_copy(&block)) };
                }
                for (i, o) in out.iter_mut().enumerate().skip(head + blocks * N) {
                    o.write(src.one(i));
                }
                _mm_sfence();
            }
        };
    }
    run_256!(run_avx, "avx");
    run_256!(run_avx2, "avx2");

    pub(super) fn run_sse2<T: Word, const N: usize>(
        out: &mut [MaybeUninit<T>],
        mut src: impl Source<T, N>,
    ) {
        let (head, blocks) = split(out);
        for (i, o) in out[..head].iter_mut().enumerate() {
            o.write(src.one(i));
        }
        let base = out[head..].as_mut_ptr().cast::<__m128i>();
        for b in 0..blocks {
            let block = src.block(head + b * N);
            // SAFETY: as in `run_avx`, each 32-byte block is two aligned 16-byte halves inside
            // `out[head..]`. SSE2 is part of every x86-64 CPU.
            unsafe {
                let p = block.as_ptr().cast::<__m128i>();
                _mm_stream_si128(base.add(2 * b), _mm_loadu_si128(p));
                _mm_stream_si128(base.add(2 * b + 1), _mm_loadu_si128(p.add(1)));
            }
        }
        for (i, o) in out.iter_mut().enumerate().skip(head + blocks * N) {
            o.write(src.one(i));
        }
        // SAFETY: SSE is part of every x86-64 CPU.
        unsafe { _mm_sfence() };
    }

    #[cfg(test)]
    pub(super) fn sse2_for_tests(out: &mut [u64], f: impl FnMut(usize) -> u64) {
        run_sse2::<u64, 4>(super::as_uninit(out), super::Each(f));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offset_and_length_is_written_exactly() {
        // Start the slice at every offset within a block, so the head, body and tail each get
        // every length; the elements outside the slice stay untouched.
        let mut backing = vec![0u64; 300];
        for start in 0..8 {
            for len in [0, 1, 3, 4, 5, 7, 8, 9, 31, 32, 33, 100, 250] {
                backing.fill(u64::MAX);
                let out = &mut backing[start..start + len];
                write(out, |i| (i * i) as u64 + 1);
                for (i, v) in backing.iter().enumerate() {
                    let want = if (start..start + len).contains(&i) {
                        ((i - start) * (i - start)) as u64 + 1
                    } else {
                        u64::MAX
                    };
                    assert_eq!(*v, want, "start {start}, len {len}, i {i}");
                }
            }
        }
    }

    #[test]
    fn four_byte_words_and_the_sse2_path() {
        let mut backing = vec![0.0f32; 101];
        for start in 0..8 {
            let src: Vec<f32> = (0..90).map(|i| i as f32 * 0.5 - 7.0).collect();
            let out = &mut backing[start..start + 90];
            copy(&src, out);
            assert_eq!(out, &src[..], "start {start}");
        }
        #[cfg(target_arch = "x86_64")]
        for start in 0..4 {
            let mut backing = vec![0u64; 80];
            x86::sse2_for_tests(&mut backing[start..start + 70], |i| i as u64 * 3);
            let want: Vec<u64> = (0..70).map(|i| i * 3).collect();
            assert_eq!(&backing[start..start + 70], &want[..]);
            assert!(backing[..start].iter().all(|&v| v == 0));
        }
        let mut out = vec![0u32; 77];
        fill(&mut out, 9);
        assert!(out.iter().all(|&v| v == 9));
    }

    #[test]
    fn blocks_come_in_order_and_single_elements_fill_the_rest() {
        let mut backing = vec![0u64; 120];
        for start in 0..4 {
            let mut asked = Vec::new();
            let out = &mut backing[start..start + 100];
            write_blocks(
                out,
                |i| {
                    asked.push(i);
                    [i as u64, i as u64 + 1, i as u64 + 2, i as u64 + 3]
                },
                |i| i as u64,
            );
            assert!(
                out.iter().enumerate().all(|(i, &v)| v == i as u64),
                "start {start}"
            );
            assert!(asked.windows(2).all(|w| w[1] == w[0] + 4), "{asked:?}");
            assert!(asked.len() >= 23, "{asked:?}");
        }
    }

    #[test]
    fn shares_cover_the_length_in_whole_lines() {
        assert_eq!(share(32_768, 2, 4), 16_384);
        assert_eq!(share(10, 4, 8), 8);
        assert_eq!(share(0, 4, 8), 8);
        assert_eq!(share(1_000_001, 3, 8), 333_336);
        assert!(share(1_000_001, 3, 8) * 3 >= 1_000_001);
    }
}
