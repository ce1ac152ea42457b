//! Verifying results: every approach's output is reduced to a [`Fingerprint`] and compared
//! with the baseline's before its time is shown. Python scripts compute the same fingerprint
//! (`scripts/python/_measure.py`), so their rows are verified the same way.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A small JSON summary of a result that two equal results share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub Value);

/// Results that can be checked against the baseline's.
pub trait Verify {
    fn fingerprint(&self) -> Fingerprint;
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

/// Floating-point arrays: the length, the sum and the sum of absolute values (in f64).
/// Compare them with [`within`]: a different summation order changes the last bits.
macro_rules! verify_floats {
    ($($t:ty),*) => {$(
        impl Verify for [$t] {
            fn fingerprint(&self) -> Fingerprint {
                let (mut sum, mut l1) = (0f64, 0f64);
                for &x in self {
                    sum += x as f64;
                    l1 += (x as f64).abs();
                }
                Fingerprint(json!({ "len": self.len(), "sum": sum, "l1": l1 }))
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

fn close(a: &Value, b: &Value, rel_tol: f64) -> bool {
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

    #[test]
    fn matches_the_python_formula() {
        // scripts/python/_measure.py computes the same numbers; squares of 0..5:
        let f = (0..5u64).map(|i| i * i).collect::<Vec<_>>().fingerprint();
        assert_eq!(f.0, json!({ "len": 5, "sum": 30, "weighted": 130 }));
    }
}
