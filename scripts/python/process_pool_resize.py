"""Case 2 in the talk's own form: the X-ray JPEGs to 64x64 grey with Pillow, three ways:
a list comprehension, map, and ProcessPoolExecutor().map.

Run by `cargo run --release -p process-pool -- resize` for its Python rows, on the same files
in the same order; alone:
    python3 scripts/python/process_pool_resize.py --runs 1 --files a.jpeg b.jpeg ...

A file Pillow cannot read as a JPEG counts as failed (None), as on the Rust side. Pillow's
bicubic resize is not byte-identical to Rust's, so the Rust side compares the thumbnails
themselves, one by one and in order, within a stated bound (max abs difference and PSNR): the
fingerprint of each run names the images that failed and a raw file (in --pixels-dir) holding
every thumbnail's pixels one after the other. Without --pixels-dir the pixels go inline, as hex.
"""

import argparse
import itertools
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from _measure import Skip, main

SIDE = 64


def load(path):
    """One file's 64x64 grey pixels as bytes, or None when it is not a readable JPEG."""
    from PIL import Image

    try:
        with Image.open(path, formats=["JPEG"]) as image:
            return image.convert("L").resize((SIDE, SIDE)).tobytes()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


class Thumbnails(list):
    """The results in input order."""


PIXELS_DIR = None
_RUN = itertools.count()


def fingerprint(result):
    """What the Rust side's ThumbnailCheck reads (crates/datasets/src/thumbnail.rs): how many
    images, which failed (indices), and every thumbnail's pixels in order, in a file of their
    own per run (fingerprints are compared after the script ends)."""
    failed = [i for i, t in enumerate(result) if t is None]
    raw = b"".join(t for t in result if t is not None)
    fp = {"images": len(result), "failed": failed}
    if PIXELS_DIR is None:
        fp["pixels"] = raw.hex()
    else:
        path = os.path.join(PIXELS_DIR, f"run-{os.getpid()}-{next(_RUN)}.raw")
        with open(path, "wb") as f:
            f.write(raw)
        fp["pixels_file"] = path
    return fp


def need_pillow():
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise Skip("Pillow not installed") from None


def list_comprehension(args):
    need_pillow()
    return lambda: Thumbnails([load(p) for p in args.files])


def builtin_map(args):
    need_pillow()
    return lambda: Thumbnails(map(load, args.files))


def process_pool_map(args):
    need_pillow()

    def run():
        with ProcessPoolExecutor(max_workers=args.workers) as executor:
            return Thumbnails(executor.map(load, args.files))

    return run


def process_pool_started_before(args):
    """The executor started once, before the timed runs (its workers start on the warm-up's
    first task and stay), as the Rust pool's rows do."""
    need_pillow()
    executor = ProcessPoolExecutor(max_workers=args.workers)
    return lambda: Thumbnails(executor.map(load, args.files))


def add_arguments(parser):
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument("--files", nargs="*", default=[], help="the JPEG files, in order")
    parser.add_argument("--pixels-dir", default=None, help="write each run's thumbnails here")


if __name__ == "__main__":
    # The fingerprint needs --pixels-dir: read it before the harness parses the rest.
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--pixels-dir", default=None)
    PIXELS_DIR = early.parse_known_args(sys.argv[1:])[0].pixels_dir
    main(
        __doc__.splitlines()[0],
        {
            "list comprehension": list_comprehension,
            "map": builtin_map,
            "ProcessPoolExecutor().map": process_pool_map,
            "ProcessPoolExecutor map, started before": process_pool_started_before,
        },
        add_arguments,
        fingerprint,
    )
