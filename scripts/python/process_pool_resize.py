"""Case 2 in the talk's own form: the X-ray JPEGs to 64x64 grey with Pillow, three ways:
a list comprehension, map, and ProcessPoolExecutor().map.

Run by `cargo run --release -p process-pool -- resize` for its Python rows, on the same files
in the same order; alone:
    python3 scripts/python/process_pool_resize.py --runs 1 --files a.jpeg b.jpeg ...

A file Pillow cannot read as a JPEG counts as failed (None), as on the Rust side. Pillow's
bicubic resize is not byte-identical to Rust's, so the result is fingerprinted by what the
Rust side can compare within a tolerance: how many images decoded, how many failed, and each
image's mean grey level (to two decimals).
"""

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
    """The results in input order; fingerprinted for a comparison with a tolerance."""


def fingerprint(result):
    """What the Rust side compares within a tolerance, instead of a byte-exact summary."""
    ok = [t for t in result if t is not None]
    return {
        "images": len(result),
        "ok": len(ok),
        "failed": len(result) - len(ok),
        "means": [round(sum(t) / len(t), 2) if t else 0.0 for t in ok],
    }


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


def add_arguments(parser):
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument("--files", nargs="*", default=[], help="the JPEG files, in order")


if __name__ == "__main__":
    main(
        __doc__.splitlines()[0],
        {
            "list comprehension": list_comprehension,
            "map": builtin_map,
            "ProcessPoolExecutor().map": process_pool_map,
        },
        add_arguments,
        fingerprint,
    )
