//! numba's `@njit`, done with Cranelift: compile the whole loop over the array, with the
//! user's expression inside it, to machine code for the running CPU, then call it.
//!
//! The compiled function is `extern "C" fn(xs: *const f64, out: *mut f64, len: usize)`. Its
//! main loop works on four `f64x2` vectors (eight elements) per iteration, the same width the
//! ahead-of-time compiler uses for the baseline x86-64 target; a scalar loop finishes the
//! last elements. Every lane does the same IEEE operations in the same order as the
//! interpreter's tree walk, so the results are bit for bit the same (NaN payloads aside).
//!
//! The unsafe code is in three small places, each with its reason: calling the compiled
//! code ([`Kernel::run`]), turning its address into a function pointer ([`compile`]) and
//! freeing its memory ([`Compiled`]'s `Drop`).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use cranelift_codegen::ir::{
    AbiParam, BlockArg, InstBuilder, MemFlagsData, Type, UserFuncName, Value, types,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};

use crate::expr::{BinOp, Expr, Func};

/// Elements per `f64x2` vector, and vectors per iteration of the main loop.
const LANES: i64 = 2;
const UNROLL: i64 = 4;

type RawFn = unsafe extern "C" fn(*const f64, *mut f64, usize);

/// Compiled functions alive right now (compiled and not yet dropped).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many compiled functions hold JIT memory right now.
pub fn live_functions() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Cranelift could not set up for this machine, or rejected the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitError(pub String);

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JitError {}

fn error(what: &str) -> impl Fn(&dyn fmt::Display) -> JitError + '_ {
    move |e| JitError(format!("{what}: {e}"))
}

/// An expression compiled to machine code. Dropping it frees the code's memory.
pub struct Compiled {
    module: Option<JITModule>,
    code: RawFn,
    machine_code: Vec<u8>,
}

/// The compiled loop as a plain function pointer: `Copy`, `Send` and `Sync`, so that rayon's
/// threads can share it, and borrowed from its [`Compiled`], so that it cannot outlive the
/// code it points at.
#[derive(Clone, Copy)]
pub struct Kernel<'a> {
    code: RawFn,
    _owner: std::marker::PhantomData<&'a ()>,
}

impl Compiled {
    /// The compiled loop, to call on slices.
    pub fn kernel(&self) -> Kernel<'_> {
        Kernel {
            code: self.code,
            _owner: std::marker::PhantomData,
        }
    }

    /// `out[i] = expr(xs[i])` for every element. Panics if the lengths differ.
    pub fn run(&self, xs: &[f64], out: &mut [f64]) {
        self.kernel().run(xs, out);
    }

    /// A copy of the machine code Cranelift generated (for a disassembler; the constants it
    /// loads follow the instructions).
    pub fn machine_code(&self) -> &[u8] {
        &self.machine_code
    }
}

// ANCHOR: call
impl Kernel<'_> {
    /// `out[i] = expr(xs[i])` for every element. Panics if the lengths differ.
    pub fn run(self, xs: &[f64], out: &mut [f64]) {
        assert_eq!(xs.len(), out.len(), "input and output lengths differ");
        // SAFETY: the code was compiled by `compile` from an `Expr` and does nothing but read
        // `len` f64s from `xs` and write `len` f64s to `out` (the loops stop at `len`); both
        // slices hold exactly `len` elements and cannot overlap (`&` and `&mut`). The code's
        // memory lives as long as the `Compiled` this kernel borrows from.
        unsafe { (self.code)(xs.as_ptr(), out.as_mut_ptr(), xs.len()) }
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: `&mut self` means no `Kernel` borrows this code any more, so nothing
            // can call it (or be running it) after this point.
            unsafe { module.free_memory() };
            LIVE.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
// ANCHOR_END: call

// ANCHOR: setup
/// Cranelift for the running CPU: its features detected (`cranelift_native`), optimised
/// for speed, and a JIT module to put the code in.
fn jit_module() -> Result<JITModule, JitError> {
    let mut flags = settings::builder();
    let set = error("cranelift setting");
    flags.set("opt_level", "speed").map_err(|e| set(&e))?;
    // cranelift-jit places code anywhere in memory: absolute addresses, no PIC.
    flags.set("is_pic", "false").map_err(|e| set(&e))?;
    flags
        .set("use_colocated_libcalls", "false")
        .map_err(|e| set(&e))?;
    let isa = cranelift_native::builder()
        .map_err(|e| JitError(format!("this CPU is not supported by Cranelift: {e}")))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| error("cranelift ISA")(&e))?;
    Ok(JITModule::new(JITBuilder::with_isa(
        isa,
        default_libcall_names(),
    )))
}
// ANCHOR_END: setup

/// Compile `expr` into a loop over arrays: JIT set-up, code generation and linking.
pub fn compile(expr: &Expr) -> Result<Compiled, JitError> {
    let mut module = jit_module()?;
    let ptr = module.target_config().pointer_type();
    let mut ctx = module.make_context();
    for _ in 0..3 {
        ctx.func.signature.params.push(AbiParam::new(ptr));
    }
    let id = module
        .declare_function("kernel", Linkage::Local, &ctx.func.signature)
        .map_err(|e| error("declare")(&e))?;
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    let mut fctx = FunctionBuilderContext::new();
    build_loop(
        FunctionBuilder::new(&mut ctx.func, &mut fctx),
        expr,
        ptr,
        module.target_config(),
    );
    module
        .define_function(id, &mut ctx)
        .map_err(|e| error("code generation")(&e))?;
    let machine_code = ctx
        .compiled_code()
        .map(|c| c.code_buffer().to_vec())
        .unwrap_or_default();
    module.clear_context(&mut ctx);
    module
        .finalize_definitions()
        .map_err(|e| error("linking")(&e))?;
    let address = module.get_finalized_function(id);
    // SAFETY: `address` is the entry of the function just defined with the signature
    // (pointer, pointer, pointer-sized integer) and the host's default calling convention,
    // which is `extern "C"`; `usize` is pointer-sized.
    let code = unsafe { std::mem::transmute::<*const u8, RawFn>(address) };
    LIVE.fetch_add(1, Ordering::Relaxed);
    Ok(Compiled {
        module: Some(module),
        code,
        machine_code,
    })
}

// ANCHOR: loop
/// The function body: a vector loop over eight elements at a time, then a scalar loop for
/// the last few. Both loops test at the bottom, so an iteration takes one branch.
///
/// ```text
/// entry(xs, out, len):  end = len & !7;  if 0 < end { vec(0) } else { tail(0) }
/// vec(i):               out[i..i+8] = expr(xs[i..i+8]);  i += 8;  if i < end { vec(i) } else { tail(i) }
/// tail(i):              if i < len { tail_body(i) } else { return }
/// tail_body(i):         out[i] = expr(xs[i]);  i += 1;  if i < len { tail_body(i) } else { return }
/// ```
fn build_loop(
    mut b: FunctionBuilder,
    expr: &Expr,
    ptr: Type,
    config: cranelift_codegen::isa::TargetFrontendConfig,
) {
    use cranelift_codegen::ir::condcodes::IntCC::UnsignedLessThan;
    let mem = MemFlagsData::new().with_notrap(); // in bounds by construction, maybe unaligned
    let step = LANES * UNROLL;
    let [entry, vec, tail, tail_body, exit] = [(); 5].map(|_| b.create_block());
    let arg = |v: Value| [BlockArg::Value(v)];

    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let (xs, out, len) = {
        let p = b.block_params(entry);
        (p[0], p[1], p[2])
    };
    let end = b.ins().band_imm_s(len, -step);
    let zero = b.ins().iconst(ptr, 0);
    let any = b.ins().icmp(UnsignedLessThan, zero, end);
    b.ins().brif(any, vec, &arg(zero), tail, &arg(zero));

    // The vector loop: UNROLL loads, UNROLL evaluations of the tree, UNROLL stores.
    let i = b.append_block_param(vec, ptr);
    b.switch_to_block(vec);
    let offset = b.ins().ishl_imm_u(i, 3);
    let src = b.ins().iadd(xs, offset);
    let dst = b.ins().iadd(out, offset);
    let bytes = (LANES * 8) as i32;
    let inputs: Vec<Value> = (0..UNROLL as i32)
        .map(|u| b.ins().load(types::F64X2, mem, src, u * bytes))
        .collect();
    let results: Vec<Value> = inputs
        .into_iter()
        .map(|x| emit(&mut b, expr, x, types::F64X2))
        .collect();
    for (u, r) in (0..).zip(results) {
        b.ins().store(mem, r, dst, u * bytes);
    }
    let next = b.ins().iadd_imm_u(i, step);
    let more = b.ins().icmp(UnsignedLessThan, next, end);
    b.ins().brif(more, vec, &arg(next), tail, &arg(next));

    // The scalar tail: the last len % 8 elements.
    let i = b.append_block_param(tail, ptr);
    b.switch_to_block(tail);
    let more = b.ins().icmp(UnsignedLessThan, i, len);
    b.ins().brif(more, tail_body, &arg(i), exit, &[]);

    let i = b.append_block_param(tail_body, ptr);
    b.switch_to_block(tail_body);
    let offset = b.ins().ishl_imm_u(i, 3);
    let src = b.ins().iadd(xs, offset);
    let dst = b.ins().iadd(out, offset);
    let x = b.ins().load(types::F64, mem, src, 0);
    let r = emit(&mut b, expr, x, types::F64);
    b.ins().store(mem, r, dst, 0);
    let next = b.ins().iadd_imm_u(i, 1);
    let more = b.ins().icmp(UnsignedLessThan, next, len);
    b.ins().brif(more, tail_body, &arg(next), exit, &[]);

    b.switch_to_block(exit);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(config);
}
// ANCHOR_END: loop

// ANCHOR: emit
/// The instructions computing `expr` from `x` (an `f64`, or an `f64x2` of two elements):
/// one Cranelift instruction per node of the tree, in the tree walk's order.
fn emit(b: &mut FunctionBuilder, expr: &Expr, x: Value, ty: Type) -> Value {
    match expr {
        Expr::Num(v) => {
            let c = b.ins().f64const(*v);
            if ty.is_vector() {
                b.ins().splat(ty, c)
            } else {
                c
            }
        }
        Expr::X => x,
        Expr::Neg(a) => {
            let a = emit(b, a, x, ty);
            b.ins().fneg(a)
        }
        Expr::Bin(op, l, r) => {
            let l = emit(b, l, x, ty);
            let r = emit(b, r, x, ty);
            match op {
                BinOp::Add => b.ins().fadd(l, r),
                BinOp::Sub => b.ins().fsub(l, r),
                BinOp::Mul => b.ins().fmul(l, r),
                BinOp::Div => b.ins().fdiv(l, r),
            }
        }
        Expr::Call(func, args) => {
            let args: Vec<Value> = args.iter().map(|a| emit(b, a, x, ty)).collect();
            match (func, args.as_slice()) {
                (Func::Sqrt, &[a]) => b.ins().sqrt(a),
                (Func::Abs, &[a]) => b.ins().fabs(a),
                (Func::Min, &[a, c]) => b.ins().fmin(a, c),
                (Func::Max, &[a, c]) => b.ins().fmax(a, c),
                // The parser checks every call's arity; NaN keeps the types right regardless.
                _ => {
                    let nan = b.ins().f64const(f64::NAN);
                    if ty.is_vector() {
                        b.ins().splat(ty, nan)
                    } else {
                        nan
                    }
                }
            }
        }
    }
}
// ANCHOR_END: emit

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp;

    fn jit(s: &str, xs: &[f64]) -> Vec<f64> {
        let c = compile(&Expr::parse(s).unwrap()).unwrap();
        let mut out = vec![0.0; xs.len()];
        c.run(xs, &mut out);
        out
    }

    #[test]
    fn computes_what_the_interpreter_computes_at_every_length() {
        let e = Expr::parse("x*x + 3*x - 1").unwrap();
        let c = compile(&e).unwrap();
        for len in 0..20 {
            let xs: Vec<f64> = (0..len).map(|i| i as f64 * 0.7 - 3.0).collect();
            let mut out = vec![f64::NAN; len];
            c.run(&xs, &mut out);
            let expected: Vec<f64> = xs.iter().map(|&x| interp::eval(&e, x)).collect();
            assert_eq!(
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "len {len}"
            );
        }
    }

    #[test]
    fn ieee_semantics() {
        let xs = [0.0, -0.0, -1.0, 2.0, f64::NAN, f64::INFINITY];
        let out = jit("1/x", &xs);
        assert_eq!(out[0], f64::INFINITY);
        assert_eq!(out[1], f64::NEG_INFINITY);
        assert!(jit("sqrt(x)", &xs)[2].is_nan());
        let min = jit("min(x, 0)", &xs);
        assert_eq!(min[0].to_bits(), 0.0f64.to_bits());
        assert_eq!(min[1].to_bits(), (-0.0f64).to_bits());
        assert!(min[4].is_nan());
        let max = jit("max(x, -0.0 * 1)", &xs);
        assert_eq!(max[1].to_bits(), (-0.0f64).to_bits());
        assert_eq!(max[0].to_bits(), 0.0f64.to_bits());
        assert_eq!(jit("abs(x) + -x", &[-2.0]), [4.0]);
        assert_eq!(jit("7", &[1.0, 2.0, 3.0, 4.0, 5.0]), [7.0; 5]);
    }

    #[test]
    fn dropping_frees_the_code() {
        let e = Expr::parse("sqrt(abs(x)) * 2").unwrap();
        let c = compile(&e).unwrap();
        assert!(live_functions() >= 1);
        drop(c);
    }
}
