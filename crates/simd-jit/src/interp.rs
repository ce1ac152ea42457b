//! The CPython analogue: walk the tree once per element.
//!
//! Every element pays for the `match` on each node, the recursion and the pointer chasing
//! through boxed nodes: the work an interpreter does instead of the arithmetic.
//!
//! `min` and `max` follow Cranelift's `fmin`/`fmax` (WebAssembly's rules), so that the
//! interpreter, the JIT and the ahead-of-time code give the same bits: a NaN operand gives
//! NaN, and `-0.0` counts as smaller than `+0.0`. Rust's `f64::min` differs on both (it
//! returns the other operand when one is NaN). Division by zero is IEEE: `±inf` or NaN.

use crate::expr::{BinOp, Expr, Func};

// ANCHOR: eval
/// The value of `expr` at `x`.
pub fn eval(expr: &Expr, x: f64) -> f64 {
    match expr {
        Expr::Num(v) => *v,
        Expr::X => x,
        Expr::Neg(a) => -eval(a, x),
        Expr::Bin(op, a, b) => {
            let (a, b) = (eval(a, x), eval(b, x));
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
            }
        }
        Expr::Call(func, args) => match (func, args.as_slice()) {
            (Func::Sqrt, [a]) => eval(a, x).sqrt(),
            (Func::Abs, [a]) => eval(a, x).abs(),
            (Func::Min, [a, b]) => fmin(eval(a, x), eval(b, x)),
            (Func::Max, [a, b]) => fmax(eval(a, x), eval(b, x)),
            // The parser checks every call's arity.
            _ => f64::NAN,
        },
    }
}

/// The interpreter over an array: one tree walk per element.
pub fn interpret(expr: &Expr, xs: &[f64], out: &mut [f64]) {
    for (o, &x) in out.iter_mut().zip(xs) {
        *o = eval(expr, x);
    }
}
// ANCHOR_END: eval

// ANCHOR: fmin
/// Cranelift's `fmin`: NaN if either operand is NaN; `-0.0 < +0.0`.
pub fn fmin(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        a + b // a NaN, as the x86 code Cranelift emits produces
    } else if a == b {
        f64::from_bits(a.to_bits() | b.to_bits()) // min(-0.0, +0.0) = -0.0
    } else if a < b {
        a
    } else {
        b
    }
}

/// Cranelift's `fmax`: NaN if either operand is NaN; `+0.0 > -0.0`.
pub fn fmax(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        a + b
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits()) // max(-0.0, +0.0) = +0.0
    } else if a > b {
        a
    } else {
        b
    }
}
// ANCHOR_END: fmin

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str, x: f64) -> f64 {
        eval(&Expr::parse(s).unwrap(), x)
    }

    #[test]
    fn evaluates_like_rust() {
        assert_eq!(at("x*x + 3*x - 1", 2.0), 9.0);
        assert_eq!(at("-x / 4", 2.0), -0.5);
        assert_eq!(
            at("sqrt(abs(x)) + max(x, 1) - min(x, 1)", -4.0),
            2.0 + 1.0 + 4.0
        );
    }

    #[test]
    fn ieee_division_like_numpy() {
        assert_eq!(at("1/x", 0.0), f64::INFINITY);
        assert_eq!(at("-1/x", 0.0), f64::NEG_INFINITY);
        assert!(at("x/x", 0.0).is_nan());
        assert!(at("sqrt(x)", -1.0).is_nan());
    }

    #[test]
    fn min_max_propagate_nan_and_order_zeros() {
        assert!(fmin(f64::NAN, 1.0).is_nan() && fmin(1.0, f64::NAN).is_nan());
        assert!(fmax(f64::NAN, 1.0).is_nan() && fmax(1.0, f64::NAN).is_nan());
        assert_eq!(fmin(-0.0, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(fmin(0.0, -0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(fmax(-0.0, 0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(fmax(0.0, -0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(fmin(2.0, -3.0), -3.0);
        assert_eq!(fmax(2.0, -3.0), 2.0);
        assert_eq!(fmin(f64::NEG_INFINITY, 1.0), f64::NEG_INFINITY);
    }
}
