"""simd-jit's Python rows: numpy and numba on the same arrays as the Rust kernels.

Run by `cargo run --release -p simd-jit` (one call per table); alone:
    python3 scripts/python/simd_jit.py --kernel sum-of-squares --n 1000000 --runs 3
    python3 scripts/python/simd_jit.py --kernel expr --expr-py "(((x * x) + (F(3.0) * x)) - F(1.0))"
    python3 scripts/python/simd_jit.py --kernel compile --expr-py "..." --n 16

The arrays repeat crates/simd-jit/src/data.rs bit for bit: k = (i * M) mod 1,000,003, then
k / 50,000 - 10 in the array's float type. The expression arrives as Python source written by
the Rust parser (`Expr::to_python`): fully parenthesised, numbers as F(...), functions as SQRT,
ABS, MIN, MAX, which this script binds to numpy (or numba) so that division by zero gives inf
as in IEEE, never Python's ZeroDivisionError. MIN and MAX follow Cranelift's fmin/fmax: NaN
if either operand is NaN, and -0.0 below +0.0.
"""

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import time

from _measure import Skip, measure, need, row

MUL_X = 2_654_435_761
MUL_Y = 40_503
A = 2.5
CANONICAL_NAN = 0x7FF8_0000_0000_0000
MASK = (1 << 64) - 1


def values(n, mul, dtype):
    np = need("numpy")
    k = (np.arange(n, dtype=np.uint64) * np.uint64(mul)) % np.uint64(1_000_003)
    return k.astype(dtype) / dtype(50_000.0) - dtype(10.0)


def bits_fingerprint(out):
    """crates/simd-jit/src/data.rs `Bits`: len, sum, and sum((i+1) * bits(v[i])) mod 2**64."""
    np = need("numpy")
    out = np.ascontiguousarray(out, dtype=np.float64)
    bits = out.view(np.uint64).copy()
    bits[np.isnan(out)] = np.uint64(CANONICAL_NAN)
    weights = np.arange(1, len(out) + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        weighted = int((bits * weights).sum(dtype=np.uint64))
    total = float(out.sum())
    return {"len": int(len(out)), "sum": total if math.isfinite(total) else None, "bits": weighted}


def repeat(reps, fn):
    def run():
        result = None
        for _ in range(reps):
            result = fn()
        return result

    return run


# --- sum of squares and a*x + y --------------------------------------------------------


def numba_jit(**options):
    numba = need("numba")
    return numba.njit(**options)


def sum_of_squares(args):
    np = need("numpy")
    a = values(args.n, MUL_X, np.float32)

    def loop(xs):
        s = 0.0  # float64, like the Rust kernels' total
        for v in xs:
            s += v * v
        return s

    def numpy_dot():
        return repeat(args.reps, lambda: float(np.dot(a, a)))

    def numba_with(**options):
        def make():
            f = numba_jit(**options)(loop)
            f(a[:16])  # compile outside the timed runs
            return repeat(args.reps, lambda: float(f(a)))

        return make

    return {
        "numpy dot": numpy_dot,
        "numba loop": numba_with(),
        "numba fastmath": numba_with(fastmath=True),
    }


def axpy(args):
    np = need("numpy")
    x = values(args.n, MUL_X, np.float32)
    y = values(args.n, MUL_Y, np.float32)
    a = np.float32(A)

    def loop(a, x, y, out):
        for i in range(x.shape[0]):
            out[i] = a * x[i] + y[i]

    def numpy_axpy():
        return repeat(args.reps, lambda: a * x + y)

    def numba_loop():
        f = numba_jit()(loop)
        out = np.empty_like(x)
        f(a, x[:16], y[:16], out[:16])

        def run():
            f(a, x, y, out)
            return out

        return repeat(args.reps, run)

    return {"numpy a*x + y": numpy_axpy, "numba loop": numba_loop}


# --- the expression --------------------------------------------------------------------

NUMBA_HELPERS = """
@njit(error_model="numpy")
def MIN(a, b):
    if a != a or b != b:
        return a + b
    if a == b:
        return a if math.copysign(1.0, a) < 0 else b
    return a if a < b else b

@njit(error_model="numpy")
def MAX(a, b):
    if a != a or b != b:
        return a + b
    if a == b:
        return b if math.copysign(1.0, a) < 0 else a
    return a if a > b else b
"""

KERNEL = """
def kernel(xs, out):
    for i in range(xs.shape[0]):
        x = xs[i]
        out[i] = {expr}
"""


def numba_kernel(expr_py):
    """A fresh @njit dispatcher for the expression (compiled at its first call)."""
    np = need("numpy")
    numba = need("numba")
    env = {"np": np, "math": math, "njit": numba.njit, "F": np.float64, "SQRT": np.sqrt, "ABS": abs}
    exec(NUMBA_HELPERS, env)
    exec(KERNEL.format(expr=expr_py), env)
    return numba.njit(error_model="numpy")(env["kernel"])


def py_min(a, b):
    if a != a or b != b:
        return a + b
    if a == b:
        return a if math.copysign(1.0, a) < 0 else b
    return a if a < b else b


def py_max(a, b):
    if a != a or b != b:
        return a + b
    if a == b:
        return b if math.copysign(1.0, a) < 0 else a
    return a if a > b else b


def py_sqrt(v):
    return math.sqrt(v) if v >= 0 else math.nan


def python_function(expr_py):
    """The expression as a plain Python function of one float (CPython's bytecode)."""
    env = {"F": float, "SQRT": py_sqrt, "ABS": abs, "MIN": py_min, "MAX": py_max}
    return eval(compile("lambda x: " + expr_py, "<expr>", "eval"), env)


def numpy_min(a, b):
    np = need("numpy")
    return np.where(np.isnan(a) | np.isnan(b), a + b, np.minimum(a, b))


def numpy_max(a, b):
    np = need("numpy")
    return np.where(np.isnan(a) | np.isnan(b), a + b, np.maximum(a, b))


def expression(args):
    np = need("numpy")
    xs = values(args.n, MUL_X, np.float64)
    expr_py = args.expr_py

    def numpy_eval():
        code = compile(expr_py, "<expr>", "eval")
        env = {"x": xs, "F": np.float64, "SQRT": np.sqrt, "ABS": np.abs, "MIN": numpy_min, "MAX": numpy_max}

        def run():
            with np.errstate(all="ignore"):
                r = eval(code, env)
            return np.broadcast_to(r, xs.shape)

        return repeat(args.reps, run)

    def numba_warm():
        f = numba_kernel(expr_py)
        out = np.empty_like(xs)
        f(xs[:16], out[:16])  # the first call compiles

        def run():
            f(xs, out)
            return out

        return repeat(args.reps, run)

    def for_loop():
        f = python_function(expr_py)
        data = xs.tolist()

        def run():
            try:
                return [f(v) for v in data]
            except ZeroDivisionError:
                raise Skip("Python floats raise ZeroDivisionError where IEEE (and numpy) give inf") from None

        return repeat(args.reps, run)

    return {"numpy": numpy_eval, "numba warm call": numba_warm, "for-loop": for_loop}


# --- compiling it ----------------------------------------------------------------------


def compiling(args):
    np = need("numpy")
    probe = values(args.n, MUL_X, np.float64)
    expr_py = args.expr_py

    def bytecode():
        def run():
            f = python_function(expr_py)
            try:
                return [f(v) for v in probe.tolist()]
            except ZeroDivisionError:
                raise Skip("Python floats raise ZeroDivisionError where IEEE (and numpy) give inf") from None

        return run

    def numba_warm_process():
        need("numba")

        def run():
            out = np.empty_like(probe)
            numba_kernel(expr_py)(probe, out)
            return out

        return run

    return {"compile() to bytecode": bytecode, "numba compile, warm process": numba_warm_process}


def first_call_in_fresh_process(args, runs):
    """numba's real first call: a new interpreter per run, `import numba` untimed, then the
    time of building the dispatcher and its first call, as the child measured it."""
    need("numba")
    times, fp, fps = [], None, []
    for run in range(runs + 1):  # the first one is the warm-up (disk caches)
        child = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--child-first-call", "--expr-py", args.expr_py, "--n", str(args.n)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if child.returncode != 0:
            last = (child.stderr.strip().splitlines() or ["no message"])[-1]
            raise Skip(f"the child process failed: {last}")
        report = json.loads(child.stdout)
        if run == 0:
            fp = report["fingerprint"]
        else:
            times.append(report["seconds"])
            fps.append(report["fingerprint"])  # every timed run is verified
    return times, fp, fps


def child_first_call(args):
    np = need("numpy")
    need("numba")
    probe = values(args.n, MUL_X, np.float64)
    out = np.empty_like(probe)
    gc.disable()
    start = time.perf_counter()
    numba_kernel(args.expr_py)(probe, out)
    seconds = time.perf_counter() - start
    json.dump({"seconds": seconds, "fingerprint": bits_fingerprint(out)}, sys.stdout)


# --- the harness -----------------------------------------------------------------------

KERNELS = {
    "sum-of-squares": sum_of_squares,
    "axpy": axpy,
    "expr": expression,
    "compile": compiling,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", choices=sorted(KERNELS), default="sum-of-squares", help="which table's rows")
    parser.add_argument("--n", type=int, default=1_000_000, help="elements per array")
    parser.add_argument("--reps", type=int, default=1, help="kernel calls per timed run (in-cache runs repeat)")
    parser.add_argument("--expr-py", default="(((x * x) + (F(3.0) * x)) - F(1.0))", help="the expression, as Expr::to_python writes it")
    parser.add_argument("--runs", type=int, default=5, help="timed runs after one warm-up")
    parser.add_argument("--approach", action="append", default=[], help="run only this (repeatable)")
    parser.add_argument("--child-first-call", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_first_call:
        child_first_call(args)
        return

    rows = []
    try:
        approaches = KERNELS[args.kernel](args)
    except Skip as why:  # numpy missing: every row says so
        approaches = {}
        for name in args.approach:
            rows.append({"approach": name, "skipped": str(why)})
    bits = args.kernel in ("expr", "compile")
    for name in args.approach or list(approaches) + (["numba first call, fresh process"] if args.kernel == "compile" else []):
        if any(r["approach"] == name for r in rows):
            continue
        if name == "numba first call, fresh process" and args.kernel == "compile":
            rows.append(row(name, lambda: first_call_in_fresh_process(args, args.runs)))
        elif name in approaches:
            check = bits_fingerprint if bits else None
            rows.append(row(name, lambda: measure(approaches[name](), args.runs, check)))
        else:
            rows.append({"approach": name, "skipped": f"no approach named {name!r}"})
    json.dump({"python": sys.version.split()[0], "rows": rows}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
