//! The inputs, and how results are checked.
//!
//! The arrays come from a formula that numpy computes to the same bits
//! (`scripts/python/simd_jit.py` repeats it): `k = (i · M) mod 1,000,003`, then
//! `k / 50,000 - 10` in the array's float type, so values spread over [-10, 10.00004] in a
//! scrambled order, and exactly one in about a million is 0.

use std::cell::RefCell;
use std::rc::Rc;

use measure::verify::Poison;
use measure::{Fingerprint, Verify};
use serde_json::json;

/// The multipliers of the formula: `x` (and the JIT's input) and `y`.
pub const MUL_X: u64 = 2_654_435_761;
pub const MUL_Y: u64 = 40_503;
/// The `a` of `a*x + y`.
pub const A: f32 = 2.5;

fn k(i: usize, mul: u64) -> u64 {
    (i as u64).wrapping_mul(mul) % 1_000_003
}

/// `n` f32 values in [-10, 10.00004].
pub fn f32_values(n: usize, mul: u64) -> Vec<f32> {
    (0..n).map(|i| k(i, mul) as f32 / 50_000.0 - 10.0).collect()
}

/// `n` f64 values in [-10, 10.00004]: the JIT's input.
pub fn f64_values(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| k(i, MUL_X) as f64 / 50_000.0 - 10.0)
        .collect()
}

/// An array of f64 results, checked bit for bit: its fingerprint holds the length, the sum
/// (for people to read) and a position-weighted wrapping sum of the values' bit patterns
/// (`Σ (i+1)·bits(v[i]) mod 2^64`, every NaN counted as the same NaN) that two arrays share
/// only when they are equal bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct Bits(pub Vec<f64>);

/// The one NaN that [`Bits`] counts every NaN as: NaN payloads are not part of the result.
pub const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

impl Verify for Bits {
    fn fingerprint(&self) -> Fingerprint {
        let mut weighted = 0u64;
        let mut sum = 0.0f64;
        for (i, &v) in self.0.iter().enumerate() {
            let bits = if v.is_nan() {
                CANONICAL_NAN
            } else {
                v.to_bits()
            };
            weighted = weighted.wrapping_add(bits.wrapping_mul(i as u64 + 1));
            sum += v;
        }
        Fingerprint(json!({ "len": self.0.len(), "sum": sum, "bits": weighted }))
    }
}

/// Poisoned (every value NaN) before each run of an in-place approach, so that each run is
/// checked on what it wrote.
impl Poison for Bits {
    fn poison(&mut self) {
        self.0.poison();
    }
}

/// The check for [`Bits`]: equal length and bit patterns. (The sums may differ in the last
/// digits: numpy adds pairwise, Rust in order.)
pub fn same_bits(baseline: &Fingerprint, other: &Fingerprint) -> Result<(), String> {
    let key = |f: &Fingerprint, k: &str| f.0.get(k).cloned();
    if key(baseline, "len") == key(other, "len") && key(baseline, "bits") == key(other, "bits") {
        Ok(())
    } else {
        Err(format!(
            "result differs from the baseline's bit for bit: expected {}, got {}",
            baseline.0, other.0
        ))
    }
}

/// A check for the sum of squares: within `rel_tol` of the exact sum (computed in f64),
/// whatever order the approach adds in.
pub fn near_exact(
    exact: f64,
    rel_tol: f64,
) -> impl Fn(&Fingerprint, &Fingerprint) -> Result<(), String> {
    move |_, other| {
        let got = other.0.get("value").and_then(|v| v.as_f64());
        match got {
            Some(v) if (v - exact).abs() <= rel_tol * exact.abs() => Ok(()),
            _ => Err(format!(
                "sum {} is not within {rel_tol:e} (relative) of the exact {exact}",
                other.0
            )),
        }
    }
}

/// A result the timed closure writes into and returns a handle to, so that a baseline (which
/// must return its result) can reuse one buffer instead of allocating a fresh one per run.
pub struct Shared<T>(pub Rc<RefCell<T>>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Shared<T> {
        Shared(Rc::new(RefCell::new(value)))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T: Verify> Verify for Shared<T> {
    fn fingerprint(&self) -> Fingerprint {
        self.0.borrow().fingerprint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_spreads_over_the_range() {
        let xs = f64_values(1_000_003);
        assert_eq!(xs[0], -10.0);
        assert!(xs.iter().all(|&x| (-10.0..=10.00004).contains(&x)));
        assert_eq!(xs.iter().filter(|&&x| x == 0.0).count(), 1);
        let f = f32_values(10, MUL_Y);
        assert_eq!(f[1], 40_503.0 / 50_000.0 - 10.0);
    }

    #[test]
    fn bits_tell_apart_what_sums_do_not() {
        let a = Bits(vec![1.0, 2.0, f64::NAN]);
        let b = Bits(vec![2.0, 1.0, -f64::NAN]);
        assert_eq!(a.fingerprint().0["sum"], b.fingerprint().0["sum"]);
        assert!(same_bits(&a.fingerprint(), &b.fingerprint()).is_err());
        let c = Bits(vec![1.0, 2.0, f64::from_bits(0xfff8_0000_0000_0001)]);
        assert!(same_bits(&a.fingerprint(), &c.fingerprint()).is_ok());
        let d = Bits(vec![1.0, 2.0 + f64::EPSILON * 2.0, f64::NAN]);
        assert!(same_bits(&a.fingerprint(), &d.fingerprint()).is_err());
        // The Python script computes the same number: 1·bits(1.0) + 2·bits(2.0) + 3·NaN.
        let expected = 1.0f64
            .to_bits()
            .wrapping_add(2u64.wrapping_mul(2.0f64.to_bits()))
            .wrapping_add(3u64.wrapping_mul(CANONICAL_NAN));
        assert_eq!(a.fingerprint().0["bits"], expected);
    }

    #[test]
    fn near_exact_states_its_tolerance() {
        let check = near_exact(100.0, 1e-3);
        let fp = |v: f64| Fingerprint(json!({ "value": v }));
        assert!(check(&fp(0.0), &fp(100.05)).is_ok());
        let e = check(&fp(0.0), &fp(101.0)).unwrap_err();
        assert!(e.contains("1e-3"), "{e}");
    }
}
