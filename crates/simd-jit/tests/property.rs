//! The interpreter, the JIT and (for the default expression) the ahead-of-time code agree
//! bit for bit on thousands of random expressions, over inputs full of edge cases.
//!
//! The generator is a few lines over a deterministic PRNG (splitmix64): every run tests the
//! same expressions, and a failure names the seed and the expression to reproduce it.

use simd_jit::expr::{BinOp, DEFAULT_EXPR, Expr, Func, MAX_DEPTH};
use simd_jit::{aot, interp, jit};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Literals the parser can read back exactly (non-negative: minus is a node of its own).
const LITERALS: [f64; 10] = [0.0, 1.0, 2.0, 3.0, 0.5, 0.1, 10.0, 1e300, 1e-300, 7.25];

fn random_expr(rng: &mut Rng, depth: u32) -> Expr {
    if depth == 0 || rng.below(4) == 0 {
        return if rng.below(3) == 0 {
            Expr::Num(LITERALS[rng.below(LITERALS.len() as u64) as usize])
        } else {
            Expr::X
        };
    }
    let sub = |rng: &mut Rng| Box::new(random_expr(rng, depth - 1));
    match rng.below(10) {
        0 => Expr::Neg(sub(rng)),
        1..=5 => {
            let op = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div][rng.below(4) as usize];
            Expr::Bin(op, sub(rng), sub(rng))
        }
        _ => {
            let func = Func::ALL[rng.below(4) as usize];
            let args = (0..func.arity())
                .map(|_| random_expr(rng, depth - 1))
                .collect();
            Expr::Call(func, args)
        }
    }
}

/// Edge cases first (zeros of both signs, infinities, NaN, the tiniest and largest values),
/// then ordinary values; 37 of them, so both the vector loop and the scalar tail run.
fn inputs() -> Vec<f64> {
    let mut xs = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE / 4.0, // subnormal
        f64::MAX,
        f64::MIN,
        0.1,
        -2.5,
    ];
    let mut rng = Rng(7);
    while xs.len() < 37 {
        xs.push((rng.below(2_000_001) as f64 - 1_000_000.0) / 1000.0);
    }
    xs
}

fn bits(v: f64) -> u64 {
    if v.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        v.to_bits()
    }
}

#[test]
fn interpreter_and_jit_agree_bit_for_bit_on_random_expressions() {
    let xs = inputs();
    let mut rng = Rng(0x5eed);
    for case in 0..2000 {
        let expr = random_expr(&mut rng, 1 + (case % 7) as u32);
        // The printed form parses back to the same tree.
        let text = expr.to_string();
        assert_eq!(
            Expr::parse(&text).as_ref(),
            Ok(&expr),
            "case {case}: {text}"
        );

        let compiled = jit::compile(&expr).unwrap_or_else(|e| panic!("case {case}: {text}: {e}"));
        let mut out = vec![0.0; xs.len()];
        compiled.run(&xs, &mut out);
        for (i, (&x, &got)) in xs.iter().zip(&out).enumerate() {
            let want = interp::eval(&expr, x);
            assert_eq!(
                bits(got),
                bits(want),
                "case {case}: {text} at x = {x:?} (element {i}): JIT {got:?}, interpreter {want:?}"
            );
        }
    }
}

#[test]
fn the_default_expression_agrees_three_ways() {
    let expr = Expr::parse(DEFAULT_EXPR).unwrap();
    let mut xs = inputs();
    xs.extend(simd_jit::data::f64_values(10_003));
    let compiled = jit::compile(&expr).unwrap();
    let (mut by_jit, mut by_aot, mut by_interp) = (
        vec![0.0; xs.len()],
        vec![0.0; xs.len()],
        vec![0.0; xs.len()],
    );
    compiled.run(&xs, &mut by_jit);
    aot::default_expr(&xs, &mut by_aot);
    interp::interpret(&expr, &xs, &mut by_interp);
    for i in 0..xs.len() {
        assert_eq!(bits(by_jit[i]), bits(by_interp[i]), "x = {:?}", xs[i]);
        assert_eq!(bits(by_aot[i]), bits(by_interp[i]), "x = {:?}", xs[i]);
    }
}

#[test]
fn the_deepest_allowed_expressions_compile_and_run() {
    let chain = vec!["x"; MAX_DEPTH + 1].join(" + ");
    let nested = format!(
        "{}x{}",
        "sqrt(abs(".repeat(MAX_DEPTH / 2),
        "))".repeat(MAX_DEPTH / 2)
    );
    let minus = format!("{}x", "-".repeat(MAX_DEPTH));
    for text in [chain, nested, minus] {
        let expr = Expr::parse(&text).unwrap();
        let compiled = jit::compile(&expr).unwrap();
        let xs = inputs();
        let mut out = vec![0.0; xs.len()];
        compiled.run(&xs, &mut out);
        for (&x, &got) in xs.iter().zip(&out) {
            assert_eq!(bits(got), bits(interp::eval(&expr, x)));
        }
    }
}
