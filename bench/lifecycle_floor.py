"""What the SQL of a lifecycle costs by itself: the floor under `bench/lifecycle.py`.

`bench/lifecycle.py` compares full lifecycles (propose, two approvals, claim, result:
five transactions) with single-row commits. This splits a lifecycle's time in two:
the statements it sends to SQLite, and everything else (the decision, views, JSON,
hashes, Python). It records every statement of N lifecycles as SQLite ran them
(`set_trace_callback`: the expanded SQL, with the transactions' BEGIN and COMMIT),
then replays them, in order and with the same transaction boundaries, on a copy of
the database as it was before, through the bare driver (no SQLAlchemy, no Python
logic), with their literals bound as parameters again, so that SQLite's statement
cache serves them as it serves the service. Raw single-row commits are measured both ways too.

It prints, per lifecycle, the service's time and the replay's, and the ratio that the
lifecycle benchmark would report if the service cost only its statements plus the
transaction ceremony that the anchor pays as well: an upper bound for this schema and
this statement count, and the time left for everything else at the 0.5 target.

    .venv/bin/python bench/lifecycle_floor.py [--lifecycles 400]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cosignatory.service import Service
from cosignatory.storage import open_store
from lifecycle import COMMITS_PER_ORDER, RATIO_TARGET, lifecycle, prepared, raw_commit

# A recorded statement carries its values as literals; replayed so, SQLite would compile
# each one afresh, which the service never pays (its statements are bound and cached).
# So literals become parameters again: strings, blobs and numbers outside identifiers.
_LITERAL = re.compile(
    r"(?P<blob>[xX]'(?P<hex>[0-9a-fA-F]*)')"
    r"|(?P<text>'(?P<body>(?:[^']|'')*)')"
    r"|(?<![\w.])(?P<number>\d+(?:\.\d+)?)(?![\w.])"
)


def parameterized(sql: str) -> tuple[str, list[Any]]:
    """`sql` with its literals replaced by `?`, and their values in order."""
    values: list[Any] = []

    def bind(match: re.Match[str]) -> str:
        if match["blob"] is not None:
            values.append(bytes.fromhex(match["hex"]))
        elif match["text"] is not None:
            values.append(match["body"].replace("''", "'"))
        else:
            number = match["number"]
            values.append(float(number) if "." in number else int(number))
        return "?"

    return _LITERAL.sub(bind, sql), values


def per_call(fn: Callable[[], None], n: int) -> float:
    """Seconds per call of `fn`, over `n` calls."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def bare_connection(path: Path) -> sqlite3.Connection:
    """The driver alone, configured as `storage.engine` configures SQLite."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=400)
    args = parser.parse_args()
    n = args.lifecycles
    with tempfile.TemporaryDirectory(prefix="cosignatory-floor-") as work:
        db, start = Path(work) / "bench.db", Path(work) / "start.db"
        store, service = prepared(f"sqlite:///{db}")
        # Timed without recording (the trace callback costs a little per statement).
        service_s = per_call(lambda: lifecycle(service), n)
        store_raw_s = per_call(lambda: raw_commit(store), n * 2)
        store.close()  # the last connection folds the WAL into the file
        shutil.copyfile(db, start)

        # Record: the same database, every statement SQLite runs, on every connection.
        statements: list[str] = []
        recording = [True]

        def record(sql: str) -> None:
            if recording[0]:
                statements.append(sql)

        store = open_store(f"sqlite:///{db}", check_schema=False)
        event.listen(
            store.engine,
            "connect",
            lambda dbapi_conn, _record: dbapi_conn.set_trace_callback(record),
        )
        service = Service(store)
        lifecycle(service)  # the policy cache and the pool refill: not recorded below
        statements.clear()
        for _ in range(n):
            lifecycle(service)
        recording[0] = False
        store.close()
        recorded = [s for s in statements if not s.startswith("PRAGMA")]
        commits = sum(1 for s in recorded if s.strip().upper() == "COMMIT")

        # Replay on the copy, through the bare driver, with the recorded boundaries.
        bound = [parameterized(sql) for sql in recorded]
        bare = bare_connection(start)
        cursor: Any = bare.cursor()
        replay_start = time.perf_counter()
        for sql, values in bound:
            cursor.execute(sql, values)
        replay_s = (time.perf_counter() - replay_start) / n

        def bare_raw_commit() -> None:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("INSERT INTO bench_raw_commits (payload) VALUES (?)", ("x" * 64,))
            cursor.execute("COMMIT")

        bare_raw_s = per_call(bare_raw_commit, n * 2)
        bare.close()

    ceremony_s = max(store_raw_s - bare_raw_s, 0.0)  # the anchor's own cost above the driver
    floor_s = replay_s + COMMITS_PER_ORDER * ceremony_s
    bench_ratio = COMMITS_PER_ORDER * store_raw_s / service_s
    floor_ratio = COMMITS_PER_ORDER * store_raw_s / floor_s
    budget_s = COMMITS_PER_ORDER * store_raw_s / RATIO_TARGET - floor_s
    ms = 1000
    print(f"lifecycle floor: {n} lifecycles recorded, {len(recorded) / n:.1f} statements and "
          f"{commits / n:.1f} commits each (transaction statements included)")  # fmt: skip
    print(f"  raw single-row commit, bare driver      {bare_raw_s * ms:7.3f} ms")
    print(f"  raw single-row commit, Store (anchor)   {store_raw_s * ms:7.3f} ms")
    print(f"  lifecycle through the service           {service_s * ms:7.3f} ms   "
          f"(ratio {bench_ratio:.2f}, as bench/lifecycle.py computes it)")  # fmt: skip
    print(f"  its statements replayed, bare driver    {replay_s * ms:7.3f} ms")
    print(f"  + the anchor's ceremony x {COMMITS_PER_ORDER}             {floor_s * ms:7.3f} ms   "
          f"(ratio {floor_ratio:.2f}: the bound for these statements)")  # fmt: skip
    print(f"  left for everything else at {RATIO_TARGET}        {budget_s * ms:7.3f} ms per "
          f"lifecycle (now {(service_s - floor_s) * ms:.3f} ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
