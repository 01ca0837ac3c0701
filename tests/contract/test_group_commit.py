"""Group commit on a real SQLite file: writes that queue behind a running one share the
next transaction, yet each keeps the outcome of a transaction of its own.

Batches are made deterministic by holding the first write open (an event) until the
others have queued: they then run together, each in its own savepoint, and commit once.
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cosignatory.core.lifecycle import OrderState
from cosignatory.service import ReviewDecision, Service
from cosignatory.storage import Store, memory_store, open_store, upgrade
from cosignatory.storage.group_commit import GroupCommit
from tests.contract.policies import OFFICERS, squad
from tests.contract.support import assert_log_consistent, launch

FOLLOWERS = 5


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'group.db'}", create=True, check_schema=False)
    with store.begin_write() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
        conn.execute(text("CREATE TABLE parents (id INTEGER PRIMARY KEY)"))
        conn.execute(
            text(
                "CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL "
                "REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    yield store
    store.close()


def insert(name: str) -> Callable[[Connection], int]:
    def fn(conn: Connection) -> int:
        row = conn.execute(
            text("INSERT INTO items (name) VALUES (:name) RETURNING id"), {"name": name}
        ).one()
        return int(row[0])

    return fn


def names(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT name FROM items ORDER BY id"))]


INSERT_FIRST = insert("first")


@contextmanager
def held_write(
    store: Store, first: Callable[[Connection], object] = INSERT_FIRST
) -> Iterator[Future[object]]:
    """A first write (`first`, from another thread) that holds the write transaction
    open until the block ends; the block gets its future."""
    held, release = threading.Event(), threading.Event()

    def hold(conn: Connection) -> object:
        held.set()
        release.wait(timeout=30)
        return first(conn)

    with ThreadPoolExecutor(1) as pool:
        leader = pool.submit(store.write, hold)
        assert held.wait(timeout=30)
        try:
            yield leader
        finally:
            release.set()


def behind_held_write(
    store: Store,
    calls: Sequence[Callable[[], object]],
    first: Callable[[Connection], object] = INSERT_FIRST,
) -> tuple[object, list[Future[object]]]:
    """Start `calls` (each makes one write) while a first write holds the transaction, and
    let it go once they have all queued, so they run as one batch; the first write's
    result and the calls' futures."""
    group = store.group_commit
    assert group is not None
    with ThreadPoolExecutor(len(calls)) as pool:
        with held_write(store, first) as leader:
            futures = [pool.submit(call) for call in calls]
            deadline = time.monotonic() + 30
            while len(group._queue) < len(calls):  # every call queued behind the first
                assert time.monotonic() < deadline, "the writes did not queue"
                time.sleep(0.001)
        return leader.result(timeout=30), futures


def batched(
    store: Store, followers: Sequence[Callable[[Connection], object]]
) -> tuple[object, list[Future[object]]]:
    """`followers` as one batch behind a first write (`behind_held_write`)."""
    return behind_held_write(store, [functools.partial(store.write, fn) for fn in followers])


def test_a_lone_write_is_a_batch_of_one(store: Store) -> None:
    group = store.group_commit
    assert group is not None
    assert store.write(insert("a")) == 1
    assert store.write(insert("b")) == 2
    assert (group.batches, group.functions) == (2, 2)
    assert names(store) == ["a", "b"]


def test_queued_writes_share_one_transaction_and_each_gets_its_own_result(
    store: Store,
) -> None:
    group = store.group_commit
    assert group is not None
    first, futures = batched(store, [insert(f"f{i}") for i in range(FOLLOWERS)])
    ids = [f.result(timeout=30) for f in futures]
    with store.engine.connect() as conn:
        by_id: dict[object, str] = {
            i: n for i, n in conn.execute(text("SELECT id, name FROM items"))
        }
    assert by_id[first] == "first"
    assert [by_id[i] for i in ids] == [f"f{i}" for i in range(FOLLOWERS)]  # each its own row
    assert (group.batches, group.functions) == (2, FOLLOWERS + 1)  # one batch for all five
    assert sorted(names(store)) == sorted(["first", *(f"f{i}" for i in range(FOLLOWERS))])


def test_a_failing_write_is_rolled_back_alone(store: Store) -> None:
    def fails(conn: Connection) -> int:
        insert("doomed")(conn)
        raise ValueError("refused after writing")

    followers = [insert("f0"), fails, insert("f2")]
    _, futures = batched(store, followers)
    assert isinstance(futures[0].result(timeout=30), int)
    with pytest.raises(ValueError, match="refused after writing"):
        futures[1].result(timeout=30)
    assert isinstance(futures[2].result(timeout=30), int)
    assert sorted(names(store)) == ["f0", "f2", "first"]  # no `doomed` row


def test_a_failed_commit_fails_every_write_of_its_batch(store: Store) -> None:
    # A deferred foreign key is checked at COMMIT: one orphan fails the whole batch,
    # so no caller may be told its write happened.
    def orphan(conn: Connection) -> None:
        conn.execute(text("INSERT INTO children (id, parent) VALUES (1, 42)"))

    _, futures = batched(store, [insert("f0"), orphan])
    for future in futures:
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            future.result(timeout=30)
    assert names(store) == ["first"]  # the batch before committed; `f0` was not kept


def test_reviews_batched_together_keep_the_log_consistent(tmp_path: Path) -> None:
    """Real use cases through the service: ten reviews of one order queue behind a held
    write and run as one batch; the state, the reviews and the event log agree."""
    store = open_store(f"sqlite:///{tmp_path / 'svc.db'}", create=True, check_schema=False)
    try:
        upgrade(store)
        service = Service(store)
        service.publish_policy(yaml_text=squad(launch_officers=len(OFFICERS)), by="admin")
        order = launch(service)
        group = store.group_commit
        assert group is not None
        before = (group.batches, group.functions)

        def review(person: str) -> OrderState:
            view = service.review(
                order_id=order.id, reviewer=person, decision=ReviewDecision.APPROVE
            )
            return view.state

        # `service.review` opens its own write: each call queues behind the held one.
        _, futures = behind_held_write(
            store, [functools.partial(review, p) for p in OFFICERS], first=lambda _conn: None
        )
        states = [f.result(timeout=30) for f in futures]
        assert (group.batches - before[0], group.functions - before[1]) == (2, len(OFFICERS) + 1)
        assert states.count(OrderState.APPROVED) == 1  # the last review approved it
        shown = service.get_order(order.id)
        assert shown.state is OrderState.APPROVED
        assert len(shown.reviews) == len(OFFICERS)
        assert_log_consistent(service)
    finally:
        store.close()


def test_other_stores_do_not_batch() -> None:
    store = memory_store()
    try:
        assert store.group_commit is None
    finally:
        store.close()
    assert GroupCommit.__doc__  # the class documents what a caller sees


class _Interrupted(Exception):
    pass


def test_a_write_interrupted_while_queued_is_withdrawn(store: Store) -> None:
    """Ctrl-C (here: a signal handler raising) in a thread waiting for its batch takes
    its function out of the queue: it never runs, so it never half-happens."""
    group = store.group_commit
    assert group is not None

    def interrupt(_signum: int, _frame: object) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with held_write(store):
            signal.setitimer(signal.ITIMER_REAL, 0.2)  # fires while the main thread waits
            with pytest.raises(_Interrupted):
                store.write(insert("withdrawn"))
            assert group._queue == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert names(store) == ["first"]
