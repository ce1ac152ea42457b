"""Case 1 in Python: fetch N days of air temperature, parse them, compute the daily statistics.

Run by `cargo run --release -p async-fetch` for the Python rows of its fetch table, against
the same server (its in-process airtemp-api); alone:
    python3 scripts/python/async_fetch.py --base-url http://127.0.0.1:8080 --end 2020-03-20 --days 10

Three approaches, as in the talk:

- "requests": one date after another with `requests.get` (the list comprehension).
- "ThreadPoolExecutor": `submit` one task per date, results taken `as_completed`.
- "asyncio + aiohttp": one coroutine per date, all in flight, `asyncio.gather`.

Each retries like the Rust clients (5 attempts, 50 ms doubling to 1 s with jitter, Retry-After
first; 5xx, 429, resets, timeouts and cut-short JSON are retried, 404 and HTML are not). The
statistics are summed in the same order as the Rust side (each station's readings in minute
order, then station after station), so the fingerprint (crates/async-fetch/src/clients.rs)
matches bit for bit (sums as bit patterns): every date with [count, missing, sum, min, max] for all stations and
per station, or "failed".
"""

import datetime
import json
import random
import struct
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from _measure import main, need

PATH = "/v1/environment/air-temperature"
ATTEMPTS = 5
TIMEOUT_S = 10.0


class Permanent(Exception):
    """An answer that another attempt would not change (404, an HTML page)."""


class Retry(Exception):
    """An answer another attempt may get past; `wait` is the server's Retry-After."""

    def __init__(self, message, wait=None):
        super().__init__(message)
        self.wait = wait


def dates_ending(end, days):
    last = datetime.date.fromisoformat(end)
    return [(last - datetime.timedelta(days=days - 1 - i)).isoformat() for i in range(days)]


def stats_of(body):
    """Per station of metadata.stations, and over all: [count, missing, sum, min, max]."""
    payload = json.loads(body)
    ids = [s["id"] for s in payload["metadata"]["stations"]]
    index = {sid: i for i, sid in enumerate(ids)}
    stats = [[0, 0, 0.0, None, None] for _ in ids]
    for item in payload["items"]:
        seen = [False] * len(ids)
        for r in item["readings"]:
            i = index[r["station_id"]]
            seen[i] = True
            s = stats[i]
            v = r["value"]
            if v is None:
                s[1] += 1
            else:
                s[0] += 1
                s[2] += v
                s[3] = v if s[3] is None else min(s[3], v)
                s[4] = v if s[4] is None else max(s[4], v)
        for i, was in enumerate(seen):
            if not was:
                stats[i][1] += 1
    total = [0, 0, 0.0, None, None]
    for s in stats:
        total[0] += s[0]
        total[1] += s[1]
        total[2] += s[2]
        for k, pick in ((3, min), (4, max)):
            if s[k] is not None:
                total[k] = s[k] if total[k] is None else pick(total[k], s[k])
    return {"all": total, "stations": [[sid, s] for sid, s in zip(ids, stats)]}


def classify(date, status, content_type, retry_after, body):
    if status in (408, 429) or 500 <= status <= 599:
        wait = float(retry_after) if retry_after and retry_after.strip().isdigit() else None
        raise Retry(f"HTTP {status}", wait)
    if status != 200:
        raise Permanent(f"HTTP {status}")
    if "html" in (content_type or "") or not body.lstrip()[:1] in (b"{", b"["):
        raise Permanent("a 200 that is not JSON")
    try:
        return stats_of(body)
    except json.JSONDecodeError as e:
        raise Retry(f"bad JSON: {e}") from None
    except (KeyError, TypeError) as e:
        raise Permanent(f"JSON that is not a day: {e}") from None


def delay(attempt, wait):
    if wait is not None:
        return wait
    full = min(0.05 * 2 ** (attempt - 1), 1.0)
    return full * (0.5 + 0.5 * random.random())


def fetch_with_retries(date, get):
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return get(date)
        except Permanent:
            return None
        except Retry as e:
            if attempt == ATTEMPTS:
                return None
            time.sleep(delay(attempt, e.wait))
    return None


def requests_getter(base_url, session):
    requests = need("requests")

    def get(date):
        try:
            r = session.get(f"{base_url}{PATH}", params={"date": date}, timeout=TIMEOUT_S)
            body = r.content
        except requests.RequestException as e:
            raise Retry(str(e)) from None
        return classify(date, r.status_code, r.headers.get("content-type"), r.headers.get("retry-after"), body)

    return get


def keyed(dates, results):
    return [dict(date=d, **s) if s is not None else {"date": d, "failed": True} for d, s in zip(dates, results)]


def sequential(args):
    requests = need("requests")
    dates = dates_ending(args.end, args.days)

    def run():
        with requests.Session() as session:
            get = requests_getter(args.base_url, session)
            return keyed(dates, [fetch_with_retries(d, get) for d in dates])

    return run


def thread_pool(args):
    requests = need("requests")
    dates = dates_ending(args.end, args.days)

    def run():
        with requests.Session() as session, ThreadPoolExecutor(max_workers=args.workers) as pool:
            get = requests_getter(args.base_url, session)
            futures = {pool.submit(fetch_with_retries, d, get): d for d in dates}
            done = {}
            for f in as_completed(futures):
                done[futures[f]] = f.result()
        return keyed(dates, [done[d] for d in dates])

    return run


def asyncio_aiohttp(args):
    aiohttp = need("aiohttp")
    import asyncio

    dates = dates_ending(args.end, args.days)

    async def get(session, date):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                try:
                    async with session.get(f"{args.base_url}{PATH}", params={"date": date}) as r:
                        body = await r.read()
                        status, ctype, ra = r.status, r.headers.get("content-type"), r.headers.get("retry-after")
                except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                    raise Retry(str(e)) from None
                return classify(date, status, ctype, ra, body)
            except Permanent:
                return None
            except Retry as e:
                if attempt == ATTEMPTS:
                    return None
                await asyncio.sleep(delay(attempt, e.wait))
        return None

    async def all_days():
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            return await asyncio.gather(*(get(session, d) for d in dates))

    return lambda: keyed(dates, asyncio.run(all_days()))


def bits(x):
    """A float's bit pattern as 16 hex digits, as the Rust side writes sums."""
    return "%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def fingerprint(days):
    """Each sum as its bit pattern (exact through any JSON reader), the rest as they are."""

    def exact(s):
        return [s[0], s[1], bits(s[2]), s[3], s[4]]

    return [
        d if d.get("failed") else {"date": d["date"], "all": exact(d["all"]), "stations": [[i, exact(s)] for i, s in d["stations"]]}
        for d in days
    ]


def add_arguments(parser):
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--end", default="2020-03-20")
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--workers", type=int, default=10)


if __name__ == "__main__":
    main(
        __doc__.splitlines()[0],
        {
            "requests": sequential,
            "ThreadPoolExecutor": thread_pool,
            "asyncio + aiohttp": asyncio_aiohttp,
        },
        add_arguments,
        fingerprint,
    )
