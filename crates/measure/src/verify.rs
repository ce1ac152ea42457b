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
    fn matches_the_python_formula() {
        // scripts/python/_measure.py computes the same numbers; squares of 0..5:
        let f = (0..5u64).map(|i| i * i).collect::<Vec<_>>().fingerprint();
        assert_eq!(
            f.0,
            json!({ "len": 5, "sum": 30, "weighted": 1*0 + 2*1 + 3*4 + 4*9 + 5*16 })
        );
    }
}
