"""Order lifecycle benchmark: full lifecycles per second against raw commits per second.

A lifecycle is propose, two approvals, claim and result: five use cases, five commits,
each one transaction with its conditional writes and events. The anchor is the rate of
single-row committed inserts through the same engine (same pragmas, same fsync) into
the same database, measured in the same run in alternating rounds so both see the same
disk. The ratio `orders/s × commits per order ÷ raw commits/s` says what fraction of
the database's commit rate the use cases keep (target ≥ 0.5).

    .venv/bin/python bench/lifecycle.py [--seconds 20] [--only sqlite|postgres]
    bash scripts/with-postgres.sh .venv/bin/python bench/lifecycle.py   # both databases
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, insert, text
from sqlalchemy.engine import make_url

from cosignatory.core.lifecycle import OrderState
from cosignatory.service import Outcome, ReviewDecision, Service
from cosignatory.storage import Store, open_store, upgrade

RATIO_TARGET = 0.5
COMMITS_PER_ORDER = 5  # propose, approve, approve, claim, result
ROUNDS = 8
POLICY = (Path(__file__).resolve().parents[1] / "examples/change-control/policy.yaml").read_text()
PARAMS = {"service": "api", "version": "2.4.1", "environment": "prod"}  # two release managers

raw_table = Table(
    "bench_raw_commits",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("payload", Text, nullable=False),
)


def lifecycle(service: Service) -> None:
    order = service.propose(action="deploy", params=PARAMS, proposer="ana", justification="bench")
    service.review(order_id=order.id, reviewer="cho", decision=ReviewDecision.APPROVE)
    service.review(order_id=order.id, reviewer="dev", decision=ReviewDecision.APPROVE)
    order, ticket = service.claim(order_id=order.id, by="ana")
    done = service.record_result(order_id=order.id, ticket=ticket, outcome=Outcome.SUCCEEDED)
    if done.state is not OrderState.EXECUTED:
        raise RuntimeError(f"lifecycle ended in `{done.state}`")


def raw_commit(store: Store) -> None:
    statement = insert(raw_table)
    with store.begin_write() as conn:  # the same transaction discipline, one row
        conn.execute(statement, {"payload": "x" * 64})


def timed(fn: Callable[[], None], seconds: float) -> tuple[int, float]:
    """Call `fn` repeatedly for about `seconds`; (calls, elapsed)."""
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count, elapsed


def prepared(url: str) -> tuple[Store, Service]:
    """A migrated database at `url` with the anchor's table and the policy, warmed up."""
    store = open_store(url, create=True, check_schema=False)
    try:
        upgrade(store)
        with store.begin_write() as conn:
            raw_table.create(conn, checkfirst=True)
        service = Service(store)
        service.publish_policy(yaml_text=POLICY, by="bench")
        for _ in range(20):  # warm caches, pools and the WAL
            lifecycle(service)
            raw_commit(store)
    except BaseException:
        store.close()
        raise
    return store, service


def run(name: str, url: str, seconds: float) -> float:
    store, service = prepared(url)
    try:
        raw_n = raw_t = life_n = life_t = 0.0
        share = seconds / ROUNDS
        for _ in range(ROUNDS):  # alternate, so both rates see the same disk weather
            n, t = timed(lambda: raw_commit(store), share * 0.3)
            raw_n, raw_t = raw_n + n, raw_t + t
            n, t = timed(lambda: lifecycle(service), share * 0.7)
            life_n, life_t = life_n + n, life_t + t
    finally:
        store.close()
    raw_rate, orders_rate = raw_n / raw_t, life_n / life_t
    ratio = orders_rate * COMMITS_PER_ORDER / raw_rate
    verdict = "ok" if ratio >= RATIO_TARGET else f"below the {RATIO_TARGET} target"
    print(f"{name}: {store.describe()}")
    print(f"  raw single-row commits/s       {raw_rate:9.1f}   ({int(raw_n)} commits)")
    print(f"  full lifecycles (orders)/s     {orders_rate:9.1f}   ({int(life_n)} orders)")
    print(
        f"  commits per order              {COMMITS_PER_ORDER:9d}   (propose, 2 approvals, claim, result)"
    )
    print(f"  use-case commits/s             {orders_rate * COMMITS_PER_ORDER:9.1f}")
    print(f"  ratio orders/s × commits ÷ raw {ratio:9.2f}   ({verdict}; target ≥ {RATIO_TARGET})")
    return ratio


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="cosignatory-bench-") as work:
        yield f"sqlite:///{Path(work) / 'bench.db'}"


@contextmanager
def postgres_database(base: str) -> Iterator[str]:
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"cosig_bench_{os.getpid()}_{secrets.token_hex(2)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per database")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    args = parser.parse_args()
    print(f"lifecycle benchmark: ~{args.seconds:.0f} s per database, {ROUNDS} alternating rounds")
    if args.only != "postgres":
        with sqlite_database() as url:
            run("sqlite (WAL, synchronous=FULL, BEGIN IMMEDIATE)", url, args.seconds)
    if args.only != "sqlite":
        pg = os.environ.get("COSIGNATORY_TEST_PG_URL")
        if not pg:
            print("postgresql: skipped (set COSIGNATORY_TEST_PG_URL, or run under "
                  "scripts/with-postgres.sh)")  # fmt: skip
        else:
            with postgres_database(pg) as url:
                run("postgresql (psycopg 3, READ COMMITTED + row locks)", url, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
