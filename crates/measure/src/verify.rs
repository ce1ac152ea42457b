//! Verifying results: every approach's output is reduced to a [`Fingerprint`] and compared
//! with the baseline's before its time is shown. Python scripts compute the same fingerprint
//! (`scripts/python/_measure.py`), so their rows are verified the same way.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::report::Failure;

/// A small JSON summary of a result that two equal results share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub Value);

/// Results that can be checked against the baseline's.
pub trait Verify {
    fn fingerprint(&self) -> Fingerprint;

    /// The inputs this result lost (a file that did not decode, a worker killed mid-task),
    /// each with a one-line error. The suite copies them into the row and the report's
    /// summary; a row that lost inputs the baseline processed is ✗.
    fn failures(&self) -> Vec<Failure> {
        Vec::new()
    }
}

impl Verify for Fingerprint {
    fn fingerprint(&self) -> Fingerprint {
        self.clone()
    }
}

impl<T: Verify + ?Sized> Verify for &T {
    fn fingerprint(&self) -> Fingerprint {
        (**self).fingerprint()
    }

    fn failures(&self) -> Vec<Failure> {
        (**self).failures()
    }
}

impl<T> Verify for Vec<T>
where
    [T]: Verify,
{
    fn fingerprint(&self) -> Fingerprint {
        self.as_slice().fingerprint()
    }
}

/// Integers: the length, the wrapping sum, and a position-weighted wrapping sum
/// `Σ (i + 1)·x[i] mod 2^64`, so a reordered or shifted result does not pass.
macro_rules! verify_integers {
    ($($t:ty),*) => {$(
        impl Verify for [$t] {
            fn fingerprint(&self) -> Fingerprint {
                let (mut sum, mut weighted) = (0u64, 0u64);
                for (i, &x) in self.iter().enumerate() {
                    let x = x as u64;
                    sum = sum.wrapping_add(x);
                    weighted = weighted.wrapping_add(x.wrapping_mul(i as u64 + 1));
                }
                Fingerprint(json!({ "len": self.len(), "sum": sum, "weighted": weighted }))
            }
        }
    )*};
}
verify_integers!(u8, u16, u32, u64, usize, i32, i64);

/// The sign of position `i` in a float array's `signed` sum: `+1` or `-1`, the top bit of
/// SplitMix64's output for `i` (a well-mixed hash of the position, so the signs of
/// neighbouring, mirrored or shifted positions are unrelated). `scripts/python/_measure.py`
/// computes the same signs.
pub fn position_sign(i: u64) -> f64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    if z >> 63 == 0 { 1.0 } else { -1.0 }
}

/// Floating-point arrays: the length, the sum, the sum of absolute values `l1` and the
/// `signed` sum `Σ s(i)·x[i]` with a pseudo-random sign `s(i) = ±1` per position
/// ([`position_sign`]), all in f64, in index order.
///
/// The signed sum is what makes the fingerprint order-sensitive: moving values to other
/// positions (a reversed, shifted or shuffled output) changes it by about `√n` times the
/// spread of the values, while an output whose every element is within `rel_tol` of the
/// baseline's can change it by at most `rel_tol · l1`, the same bound as the sum. So
/// [`within`] compares `sum` and `signed` against `rel_tol · l1` and tells the two apart up
/// to `n ≈ 1 / rel_tol²` elements (10^12 at 1e-6). A position-weighted sum `Σ (i+1)·x[i]`
/// would not: its legitimate error grows as `n²` while a shift of positive values changes it
/// by only about `n`, below any float tolerance at ten million elements. (Swapping just two
/// elements changes the signed sum only when their signs differ: half the pairs.)
macro_rules! verify_floats {
    ($($t:ty),*) => {$(
        impl Verify for [$t] {
            fn fingerprint(&self) -> Fingerprint {
                let (mut sum, mut l1, mut signed) = (0f64, 0f64, 0f64);
                for (i, &x) in self.iter().enumerate() {
                    let x = x as f64;
                    sum += x;
                    l1 += x.abs();
                    signed += position_sign(i as u64) * x;
                }
                Fingerprint(json!({ "len": self.len(), "sum": sum, "l1": l1, "signed": signed }))
            }
        }

        impl Verify for $t {
            fn fingerprint(&self) -> Fingerprint {
                Fingerprint(json!({ "value": *self as f64 }))
            }
        }
    )*};
}
verify_floats!(f32, f64);

/// State that an approach overwrites in place ([`crate::Suite::approach_in`]): before every
/// run the suite poisons it, so that what is verified afterwards is what that run wrote, not
/// what an earlier run left behind. Floats become NaN; integers a sentinel pattern (every
/// byte `0xA5`) that no approach of ours writes everywhere.
pub trait Poison {
    fn poison(&mut self);
}

/// The sentinel every integer element is poisoned with: all bytes `0xA5`.
pub const SENTINEL_BYTE: u8 = 0xA5;

macro_rules! poison_with {
    ($value:expr => $($t:ty),*) => {$(
        impl Poison for [$t] {
            fn poison(&mut self) {
                self.fill($value);
            }
        }
    )*};
}
poison_with!(f32::NAN => f32);
poison_with!(f64::NAN => f64);
macro_rules! poison_integers {
    ($($t:ty),*) => {$(
        impl Poison for [$t] {
            fn poison(&mut self) {
                self.fill(<$t>::from_ne_bytes([SENTINEL_BYTE; std::mem::size_of::<$t>()]));
            }
        }
    )*};
}
poison_integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64);

impl<T> Poison for Vec<T>
where
    [T]: Poison,
{
    fn poison(&mut self) {
        self.as_mut_slice().poison();
    }
}

impl<T: Poison + ?Sized> Poison for &mut T {
    fn poison(&mut self) {
        (**self).poison();
    }
}

impl<A: Poison, B: Poison> Poison for (A, B) {
    fn poison(&mut self) {
        self.0.poison();
        self.1.poison();
    }
}

macro_rules! verify_scalars {
    ($($t:ty),*) => {$(
        impl Verify for $t {
            fn fingerprint(&self) -> Fingerprint {
                Fingerprint(json!({ "value": *self }))
            }
        }
    )*};
}
verify_scalars!(u32, u64, usize, i32, i64, bool);

/// A check that accepts numbers within `rel_tol` of the baseline's (relative to the larger
/// magnitude; NaN equals NaN, infinities must match); everything else must be equal.
///
/// A float array's fingerprint (`len`, `sum`, `l1`, `signed`) is compared as the arrays
/// themselves would be element by element within `rel_tol`: `l1` within `rel_tol` relative,
/// `sum` and `signed` within `rel_tol · l1` (the most that elements each within `rel_tol` can
/// move them), the length exactly. See [`position_sign`] for why a reordered array fails.
pub fn within(rel_tol: f64) -> impl Fn(&Fingerprint, &Fingerprint) -> Result<(), String> {
    move |baseline, other| {
        if close(&baseline.0, &other.0, rel_tol) {
            Ok(())
        } else {
            Err(format!(
                "result differs from the baseline's by more than {rel_tol:e} (relative): expected {}, got {}",
                baseline.0, other.0
            ))
        }
    }
}

/// The `l1` of a float array's fingerprint, if `v` is one.
fn float_array_l1(v: &Value) -> Option<f64> {
    let o = v.as_object()?;
    let keys = ["len", "sum", "l1", "signed"];
    if o.len() == keys.len() && keys.iter().all(|k| o.contains_key(*k)) {
        o["l1"].as_f64()
    } else {
        None
    }
}

fn close(a: &Value, b: &Value, rel_tol: f64) -> bool {
    if let (Some(l1_a), Some(l1_b)) = (float_array_l1(a), float_array_l1(b)) {
        let scale = rel_tol * l1_a.max(l1_b);
        let near = |k: &str| match (a[k].as_f64(), b[k].as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= scale,
            _ => a[k] == b[k],
        };
        return a["len"] == b["len"]
            && close(&a["l1"], &b["l1"], rel_tol)
            && near("sum")
            && near("signed");
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                (x - y).abs() <= rel_tol * x.abs().max(y.abs()) || x == y
            }
            (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y, rel_tol))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| close(v, w, rel_tol)))
        }
        _ => a == b,
    }
}

/// The default check: fingerprints are equal.
pub fn exact(baseline: &Fingerprint, other: &Fingerprint) -> Result<(), String> {
    if baseline == other {
        Ok(())
    } else {
        Err(format!(
            "result differs from the baseline's: expected {}, got {}",
            baseline.0, other.0
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_length_matter() {
        let a = vec![1u64, 2, 3].fingerprint();
        assert_eq!(a, vec![1u64, 2, 3].fingerprint());
        assert_ne!(a, vec![3u64, 2, 1].fingerprint());
        assert_ne!(a, vec![1u64, 2, 3, 0].fingerprint());
        assert!(
            exact(&a, &vec![3u64, 2, 1].fingerprint())
                .unwrap_err()
                .contains("expected")
        );
    }

    #[test]
    fn floats_compare_within_a_tolerance() {
        let a = vec![1.0f32, 2.0, 3.0].fingerprint();
        let b = vec![1.0f32, 2.0, 3.000_001].fingerprint();
        assert!(exact(&a, &b).is_err());
        assert!(within(1e-6)(&a, &b).is_ok());
        assert!(within(1e-9)(&a, &b).is_err());
        assert!(within(1e-6)(&1.5f64.fingerprint(), &1.500_000_1f64.fingerprint()).is_ok());
        assert!(within(1e-6)(&2.0f64.fingerprint(), &2.1f64.fingerprint()).is_err());
        // JSON has no NaN: serde_json writes null, and null equals null.
        assert!(within(1e-6)(&f64::NAN.fingerprint(), &f64::NAN.fingerprint()).is_ok());
        assert!(
            within(1e-6)(
                &vec![1.0f64].fingerprint(),
                &vec![1.0f64, 0.0].fingerprint()
            )
            .is_err()
        );
    }

    /// `a*x + y` on 10,000 values, as simd-jit computes it.
    fn axpy(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let x = ((i * 7919) % 1000) as f32 / 50.0 - 10.0;
                let y = ((i * 104_729) % 997) as f32 / 50.0 - 10.0;
                2.5 * x + y
            })
            .collect()
    }

    #[test]
    fn a_reordered_or_shifted_float_output_fails() {
        let good = axpy(10_000);
        let check = within(1e-6);
        let base = good.fingerprint();
        // The same values rounded differently (FMA against a*x + y): each element within
        // one rounding, so the fingerprint passes.
        let fused: Vec<f32> = good
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if i % 3 == 0 {
                    v * (1.0 + f32::EPSILON)
                } else {
                    v
                }
            })
            .collect();
        assert!(check(&base, &fused.fingerprint()).is_ok());
        // Same values, other positions: sum and l1 agree, the signed sum does not.
        let mut reversed = good.clone();
        reversed.reverse();
        let e = check(&base, &reversed.fingerprint()).unwrap_err();
        assert!(e.contains("differs"), "{e}");
        let mut shifted = good.clone();
        shifted.rotate_right(1);
        assert!(check(&base, &shifted.fingerprint()).is_err());
        // A value missing (a NaN where the kernel did not write) fails too.
        let mut unwritten = good.clone();
        unwritten[9_999] = f32::NAN;
        assert!(check(&base, &unwritten.fingerprint()).is_err());
    }

    #[test]
    fn poison_overwrites_every_element() {
        let mut f = vec![1.0f32; 5];
        f.poison();
        assert!(f.iter().all(|x| x.is_nan()));
        let mut d = vec![1.0f64; 3];
        d.as_mut_slice().poison();
        assert!(d.iter().all(|x| x.is_nan()));
        let mut u = vec![7u64; 4];
        u.poison();
        assert_eq!(u, [0xA5A5_A5A5_A5A5_A5A5; 4]);
        let mut pair = (vec![0u8; 2], vec![0i32; 1]);
        pair.poison();
        assert_eq!(pair, (vec![0xA5, 0xA5], vec![0xA5A5_A5A5u32 as i32]));
    }

    #[test]
    fn matches_the_python_formula() {
        // scripts/python/_measure.py computes the same numbers (crates/measure/tests/python_rows.rs
        // runs it); the signs of positions 0..4 are -1, -1, -1, +1.
        let signs: Vec<f64> = (0..4).map(position_sign).collect();
        assert_eq!(signs, [-1.0, -1.0, -1.0, 1.0]);
        let f = vec![1.5f64, -2.0, 0.25, 4.0].fingerprint();
        assert_eq!(
            f.0,
            json!({ "len": 4, "sum": 3.75, "l1": 7.75, "signed": 4.25 })
        );
        // scripts/python/_measure.py computes the same numbers; squares of 0..5:
        let f = (0..5u64).map(|i| i * i).collect::<Vec<_>>().fingerprint();
        assert_eq!(f.0, json!({ "len": 5, "sum": 30, "weighted": 130 }));
    }
}
