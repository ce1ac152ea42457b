"""The harness every script in this folder shares: the Python side of `measure`.

A script calls `main(description, approaches, add_arguments)`. For each approach asked for
(`--approach NAME`, repeatable; all when none is given) it makes one untimed warm-up call,
then times `--runs` calls with the garbage collector off during each call, as `timeit` does,
and fingerprints every call's result (outside the timed region) exactly like the Rust side
(crates/measure/src/verify.rs), so that every timed run is verified. It prints one
JSON document on stdout: {"python": VERSION, "rows": [...]}. An approach whose package is
missing raises Skip("numpy not installed") and becomes a skipped row, not a failure.
"""

import argparse
import gc
import json
import sys
import time

MASK = (1 << 64) - 1


class Skip(Exception):
    """This approach cannot run here; the message says why."""


def need(module):
    """Import a third-party module or skip the approach that needs it."""
    try:
        return __import__(module)
    except ImportError:
        raise Skip(f"{module} not installed") from None


def position_sign(i):
    """+1 or -1 for position i: the top bit of SplitMix64's output for i.

    The same as `position_sign` in crates/measure/src/verify.rs."""
    z = (i + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    z ^= z >> 31
    return 1.0 if z >> 63 == 0 else -1.0


_SIGNS = {}


def position_signs(n):
    """position_sign(0..n) as a float64 numpy array (kept per length: every run reuses it)."""
    import numpy as np

    if n not in _SIGNS:
        z = np.arange(n, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        _SIGNS.clear()  # one length at a time: an array of 10**7 signs is 80 MB
        _SIGNS[n] = np.where(z >> np.uint64(63) == 0, 1.0, -1.0)
    return _SIGNS[n]


def _finite(v):
    """JSON has no NaN or infinity: serde_json writes null for them, so do we."""
    return v if v == v and v not in (float("inf"), float("-inf")) else None


def fingerprint(result):
    """The same summary as crates/measure/src/verify.rs.

    A float scalar: {"value"}. A float array: len, sum, sum of absolute values (l1) and the
    signed sum sum(position_sign(i) * x[i]), in float64. A sequence of integers: len,
    wrapping sum and position-weighted wrapping sum (mod 2**64).
    """
    if isinstance(result, (float, int)) and not isinstance(result, bool):
        return {"value": result}
    if hasattr(result, "dtype") and result.dtype.kind == "f":
        import numpy as np

        a = np.asarray(result, dtype=np.float64).ravel()
        if a.ndim == 0 or a.shape == ():
            return {"value": float(a)}
        with np.errstate(invalid="ignore"):
            signed = float(np.dot(position_signs(len(a)), a))
        return {
            "len": int(len(a)),
            "sum": _finite(float(a.sum())),
            "l1": _finite(float(np.abs(a).sum())),
            "signed": _finite(signed),
        }
    if isinstance(result, list) and result and isinstance(result[0], float):
        return {
            "len": len(result),
            "sum": _finite(float(sum(result))),
            "l1": _finite(float(sum(abs(x) for x in result))),
            "signed": _finite(float(sum(position_sign(i) * x for i, x in enumerate(result)))),
        }
    if hasattr(result, "dtype") and result.shape == ():
        return {"value": result.item()}
    try:
        import numpy as np

        a = np.asarray(result).astype(np.uint64, copy=False).ravel()
        weights = np.arange(1, len(a) + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            total = int(a.sum(dtype=np.uint64))
            weighted = int((a * weights).sum(dtype=np.uint64))
        return {"len": int(len(a)), "sum": total, "weighted": weighted}
    except ImportError:
        total = sum(result) & MASK
        weighted = sum((i + 1) * x for i, x in enumerate(result)) & MASK
        return {"len": len(result), "sum": total, "weighted": weighted}


def measure(fn, runs, fingerprint=None):
    """One untimed warm-up call, then `runs` timed calls; returns (times, fingerprint of the
    warm-up, fingerprints of the timed runs).

    Every run's result is fingerprinted (outside the timed region), so each timed run is
    verified, as on the Rust side. `fingerprint` replaces the default summary where the Rust
    side compares another one (bit patterns of floats, thumbnails compared with a tolerance...).
    """
    fingerprint = fingerprint or globals()["fingerprint"]
    result = fn()  # warm-up, never counted
    fp = fingerprint(result)
    del result
    times, fps = [], []
    for _ in range(runs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        finally:
            if enabled:
                gc.enable()
        fps.append(fingerprint(result))
        del result  # freeing happens outside the timed region, as on the Rust side
    return times, fp, fps


def row(name, run):
    """The JSON row of one approach: `run()` returns (times, fingerprint of the warm-up,
    fingerprints of the timed runs), as `measure` does, or raises Skip."""
    try:
        times, fp, fps = run()
    except Skip as why:
        return {"approach": name, "skipped": str(why)}
    except MemoryError:
        return {"approach": name, "skipped": "out of memory"}
    return {"approach": name, "times_s": times, "fingerprint": fp, "fingerprints": fps}


def main(description, approaches, add_arguments=None, fingerprint=None):
    """`approaches` maps a name to `make(args) -> callable`; `make` may raise Skip.
    `fingerprint`: see `measure`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=5, help="timed runs after one warm-up")
    parser.add_argument("--approach", action="append", default=[], help="run only this (repeatable)")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args()
    rows = []
    for name in args.approach or list(approaches):
        make = approaches.get(name)
        if make is None:
            rows.append({"approach": name, "skipped": f"no approach named {name!r}"})
            continue
        rows.append(row(name, lambda: measure(make(args), args.runs, fingerprint)))
    json.dump({"python": sys.version.split()[0], "rows": rows}, sys.stdout)
    print()
