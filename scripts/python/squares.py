"""The talk's first example: the squares of 0..N as a list (or a numpy array).

Run by `cargo run --release -p for-loop` for its Python rows; alone:
    python3 scripts/python/squares.py --n 1000000 --runs 3
"""

from _measure import main, need


def for_loop(n):
    squares = []
    for i in range(n):
        squares.append(i * i)
    return squares


def list_comprehension(n):
    return [i * i for i in range(n)]


def map_lambda(n):
    return list(map(lambda i: i * i, range(n)))


def numpy_arange(n):
    np = need("numpy")
    return lambda: np.arange(n, dtype=np.int64) ** 2


if __name__ == "__main__":
    main(
        __doc__.splitlines()[0],
        {
            "for-loop": lambda a: lambda: for_loop(a.n),
            "list comprehension": lambda a: lambda: list_comprehension(a.n),
            "map": lambda a: lambda: map_lambda(a.n),
            "numpy": lambda a: numpy_arange(a.n),
        },
        lambda p: p.add_argument("--n", type=int, default=10_000_000, help="how many squares"),
    )
