//! The JIT frees its code when a compiled expression is dropped. (Its own test binary: the
//! count of live functions and the resident memory are per process.)

use simd_jit::expr::Expr;
use simd_jit::jit;

/// Resident memory of this process, in bytes (Linux), or `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn compiling_and_dropping_thousands_of_times_does_not_grow() {
    let expr = Expr::parse("sqrt(abs(x)) * 3 - min(x, 1) / max(x, 2)").unwrap();
    let xs: Vec<f64> = (0..100).map(|i| i as f64 - 50.0).collect();
    let mut out = vec![0.0; xs.len()];
    let before = jit::live_functions();

    // Warm up the allocator and Cranelift's own caches first.
    for _ in 0..200 {
        jit::compile(&expr).unwrap().run(&xs, &mut out);
    }
    let start = resident_bytes();
    for _ in 0..3000 {
        let compiled = jit::compile(&expr).unwrap();
        assert_eq!(jit::live_functions(), before + 1);
        compiled.run(&xs, &mut out);
        drop(compiled);
        assert_eq!(jit::live_functions(), before);
    }
    if let (Some(start), Some(end)) = (start, resident_bytes()) {
        let grown = end.saturating_sub(start);
        // Without `free_memory` every compile keeps its code pages: 3,000 of them are
        // tens of megabytes. Freed, the resident size stays flat.
        assert!(grown < 4 << 20, "resident memory grew by {grown} bytes");
    }
}
