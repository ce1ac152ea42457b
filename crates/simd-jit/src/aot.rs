//! The default expression written in Rust, compiled ahead of time with everything else:
//! what the JIT's code is measured against.

// ANCHOR: aot
/// `x*x + 3*x - 1` for every element: the same operations in the same order as the parsed
/// default expression, so the same bits as the interpreter and the JIT.
pub fn default_expr(xs: &[f64], out: &mut [f64]) {
    for (o, &x) in out.iter_mut().zip(xs) {
        *o = x * x + 3.0 * x - 1.0;
    }
}
// ANCHOR_END: aot

#[cfg(test)]
mod tests {
    use crate::expr::{DEFAULT_EXPR, Expr};
    use crate::interp;

    #[test]
    fn same_bits_as_the_interpreter() {
        let e = Expr::parse(DEFAULT_EXPR).unwrap();
        let xs = crate::data::f64_values(1001);
        let mut out = vec![0.0; xs.len()];
        super::default_expr(&xs, &mut out);
        for (x, o) in xs.iter().zip(&out) {
            assert_eq!(interp::eval(&e, *x).to_bits(), o.to_bits());
        }
    }
}
