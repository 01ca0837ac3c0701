"""Orders and reviews: rows in, frozen records out; every state move is a conditional write.

Statements on the hot path are built once at import with bind parameters; those every
write use case runs (load, insert, move) are compiled once per dialect and run on the
driver's cursor (`storage.driver`), so a use case pays for executing SQL, not for
constructing it or for SQLAlchemy's per-statement result machinery.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from cosignatory.core.canonical import canonical_text
from cosignatory.core.lifecycle import OrderState, sources_of
from cosignatory.core.policy import ReviewDecision
from cosignatory.storage.driver import BoundSQL, compiled_sql, driver_cursor, pipeline
from cosignatory.storage.tables import events, orders, policy_versions, reviews
from cosignatory.storage.types import UTCDateTime, bind_timestamp, read_timestamp

__all__ = [
    "Guard",
    "OrderRecord",
    "ReviewRecord",
    "count_by_state",
    "due_for_expiry",
    "insert_order",
    "insert_review",
    "list_orders",
    "load_order",
    "lock_pending",
    "move_statement",
    "overdue_clause",
    "reviews_of_many",
    "state_clause",
    "update_order",
]


@dataclass(frozen=True, kw_only=True)
class OrderRecord:
    id: str
    action: str
    params: Mapping[str, Any]
    proposer: str
    justification: str
    state: OrderState
    created_at: datetime
    expires_at: datetime
    approved_at: datetime | None = None
    execute_by: datetime | None = None
    policy_version: int
    policy_digest: str
    digest: str
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    ticket_hash: str | None = None
    executed_at: datetime | None = None
    outcome: str | None = None
    outcome_detail: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    event_seqs: tuple[int, ...] = ()  # where its events sit in the log (not a column)

    def evolve(self, **changes: Any) -> OrderRecord:
        """`dataclasses.replace(self, **changes)` at half its cost on Python 3.11 (every
        write copies its record once or twice): all fields are `__init__` arguments, so
        the instance's `__dict__` holds exactly those, and `__init__` still checks them."""
        return OrderRecord(**{**self.__dict__, **changes})

    def deadline(self) -> datetime | None:
        """When this order expires if nothing happens: ttl while pending, window once approved."""
        if self.state is OrderState.PENDING:
            return self.expires_at
        if self.state is OrderState.APPROVED:
            return self.execute_by
        return None

    def overdue(self, now: datetime) -> bool:
        deadline = self.deadline()
        return deadline is not None and now >= deadline


@dataclass(frozen=True, kw_only=True)
class ReviewRecord:
    order_id: str
    reviewer: str
    decision: ReviewDecision
    comment: str
    at: datetime


class Guard(StrEnum):
    """An extra condition of a state move, beyond `state IN (sources of target)`."""

    NONE = "none"
    BEFORE_TTL = "before_ttl"  # expires_at > :now
    WINDOW_OPEN = "window_open"  # execute_by > :now
    OVERDUE = "overdue"  # the deadline of its current state has passed
    TICKET = "ticket"  # ticket_hash = :ticket_hash


def _states(states: Sequence[OrderState]) -> list[ColumnElement[Any]]:
    return [_state(s) for s in sorted(states)]


def _state(state: OrderState) -> ColumnElement[Any]:
    """A state as an SQL literal (our enum values only): the deadline indexes are partial
    on `state = 'pending'` / `'approved'`, and a planner uses such an index only for a
    query whose own condition says so in the same words, not through a parameter."""
    return literal_column(f"'{state.value}'")


def _in_state(state: OrderState) -> ColumnElement[bool]:
    return orders.c.state == _state(state)


def overdue_clause(now: Any) -> ColumnElement[bool]:
    """Orders whose deadline has passed but whose row still says pending or approved."""
    return or_(
        and_(_in_state(OrderState.PENDING), orders.c.expires_at <= now),
        and_(_in_state(OrderState.APPROVED), orders.c.execute_by <= now),
    )


_ID: BindParameter[str] = bindparam("b_id")
_NOW: BindParameter[datetime] = bindparam("b_now")
_INSERT_ORDER = insert(orders)
_INSERT_REVIEW = insert(reviews)
_GUARDS: Mapping[Guard, ColumnElement[bool] | None] = {
    Guard.NONE: None,
    Guard.BEFORE_TTL: orders.c.expires_at > _NOW,
    Guard.WINDOW_OPEN: orders.c.execute_by > _NOW,
    Guard.OVERDUE: overdue_clause(_NOW),
    Guard.TICKET: orders.c.ticket_hash == bindparam("b_ticket_hash"),
}


@functools.cache
def _move_statement(target: OrderState, guard: Guard) -> Update:
    statement = update(orders).where(
        orders.c.id == _ID, orders.c.state.in_(_states(list(sources_of(target))))
    )
    extra = _GUARDS[guard]
    return statement.where(extra) if extra is not None else statement


_COLUMNS = tuple(c.name for c in orders.c)


def _insert_if_policy_current() -> Insert:
    """`INSERT INTO orders (…) SELECT :values WHERE` the pinned policy version is stored
    with that digest and no newer version exists (one statement, no read of the head)."""
    pinned = select(policy_versions.c.version).where(
        policy_versions.c.version == bindparam("p_version", type_=Integer()),
        policy_versions.c.digest == bindparam("p_digest", type_=String()),
    )
    newer = select(policy_versions.c.version).where(
        policy_versions.c.version > bindparam("p_version", type_=Integer())
    )
    values = select(*[bindparam(c.name, type_=c.type) for c in orders.c])
    statement = insert(orders).from_select(_COLUMNS, values.where(pinned.exists(), ~newer.exists()))
    return statement.execution_options(preserve_rowcount=True)  # an INSERT's is not kept


_INSERT_ORDER_IF_CURRENT = _insert_if_policy_current()
_LOCK_ORDER = select(orders.c.id).where(orders.c.id == _ID).with_for_update()


def _load_statement(aggregate: str) -> Select[Any]:
    """Order + its reviews (one row each, in no particular order: `load_order` sorts them
    by id) + its event seqs (`group_concat` on SQLite, `string_agg` on PostgreSQL, with a
    literal separator so the SQL is compiled once).

    The seqs subquery names the order by the bound id, not by `orders.id`: uncorrelated,
    it runs once per statement instead of once per review row. And SQLite would sort the
    joined rows, every order column included, in a temporary B-tree, which cost more
    than the rest of the statement (24 µs of 80 with eleven reviews, half of a load with
    none); sorting a few review rows in Python costs next to nothing.
    """
    seqs = (
        select(getattr(func, aggregate)(cast(events.c.seq, String), literal_column("','")))
        .where(events.c.subject == _ID)
        .scalar_subquery()
        .label("o_event_seqs")
    )
    return (
        select(
            orders,
            seqs,
            reviews.c.id.label("r_id"),
            reviews.c.reviewer.label("r_reviewer"),
            reviews.c.decision.label("r_decision"),
            reviews.c.comment.label("r_comment"),
            reviews.c.at.label("r_at"),
        )
        .outerjoin(reviews, reviews.c.order_id == orders.c.id)
        .where(orders.c.id == _ID)
    )


_LOAD_ORDER = {
    "sqlite": _load_statement("group_concat"),
    "postgresql": _load_statement("string_agg"),
}


def _order(row: Any) -> OrderRecord:
    mapping = row._mapping
    values = {name: mapping[name] for name in _COLUMNS}
    values["params"] = json.loads(values["params"])
    values["state"] = OrderState(values["state"])
    return OrderRecord(**values)


# The hot path (every write use case loads, and most move, one order) runs on the
# driver's cursor: these positions let a raw row become a record without SQLAlchemy.
_TIMESTAMPS = tuple(i for i, c in enumerate(orders.c) if isinstance(c.type, UTCDateTime))
_PARAMS_AT = _COLUMNS.index("params")
_STATE_AT = _COLUMNS.index("state")
_REVIEW_COLUMNS = ("order_id", "reviewer", "decision", "comment", "at")
_SEQS_AT = len(_COLUMNS)  # in a row of `_LOAD_ORDER`: the seqs, then the review's id, …
_REVIEW_AT = _SEQS_AT + 1


def _driver_order(
    row: Sequence[Any], read: Callable[[Any], datetime | None], event_seqs: tuple[int, ...]
) -> OrderRecord:
    values = list(row[: len(_COLUMNS)])
    for i in _TIMESTAMPS:
        values[i] = read(values[i])
    values[_PARAMS_AT] = json.loads(values[_PARAMS_AT])
    values[_STATE_AT] = OrderState(values[_STATE_AT])
    return OrderRecord(**dict(zip(_COLUMNS, values, strict=True)), event_seqs=event_seqs)


def load_order(
    conn: Connection, order_id: str, *, for_update: bool = False
) -> tuple[OrderRecord, list[ReviewRecord]] | None:
    """The order with its reviews and event positions, in one read; None if unknown.

    With `for_update` on PostgreSQL the row lock is taken by a statement of its own
    *before* the read: under READ COMMITTED each statement sees the commits made before
    it started, so reading in the locking statement itself could miss a review that the
    previous lock holder committed while we waited. Both go out in one pipeline (one
    round trip). (SQLite's BEGIN IMMEDIATE already holds the write lock when the
    transaction starts.)
    """
    dialect = conn.dialect.name
    key = {"b_id": order_id}
    locking = for_update and dialect == "postgresql"
    with driver_cursor(conn) as cursor, pipeline(conn) if locking else nullcontext():
        if locking:
            # Sent with the read in one round trip; the read starts once the lock is held.
            # (No row to lock means no row to read: its result is not needed.)
            cursor.run(_LOCK_ORDER, key)
        rows = cursor.all(_LOAD_ORDER[dialect], key)
    if not rows:
        return None
    first = rows[0]
    seqs_text = first[_SEQS_AT]
    seqs = tuple(sorted(int(seq) for seq in seqs_text.split(","))) if seqs_text else ()
    read = read_timestamp(dialect)
    found = [
        ReviewRecord(
            order_id=order_id,
            reviewer=reviewer,
            decision=ReviewDecision(decision),
            comment=comment,
            at=_required(read(at)),
        )
        for _, reviewer, decision, comment, at in sorted(
            row[_REVIEW_AT:] for row in rows if row[_REVIEW_AT] is not None
        )  # by review id: the order they were made in
    ]
    return _driver_order(first, read, seqs), found


def _required(value: datetime | None) -> datetime:
    if value is None:
        raise RuntimeError("a NOT NULL timestamp column read as NULL")
    return value


def _bound(dialect: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` ready for the driver: timestamps as `UTCDateTime` binds them."""
    bind = bind_timestamp(dialect)
    return {k: bind(v) if isinstance(v, datetime) else v for k, v in values.items()}


def insert_order(
    conn: Connection,
    record: OrderRecord,
    *,
    params_json: str | None = None,
    if_policy_current: bool = False,
) -> bool:
    """Insert a new order; `params_json` is the canonical JSON of its params if the caller
    already has it. With `if_policy_current` the row is written only while the policy it
    pins (version and digest) is the newest one stored: False when it was not written."""
    values = {name: getattr(record, name) for name in _COLUMNS}
    values["params"] = (
        params_json if params_json is not None else canonical_text(dict(record.params))
    )
    values["state"] = record.state.value
    if if_policy_current:
        values["p_version"], values["p_digest"] = record.policy_version, record.policy_digest
    params = _bound(conn.dialect.name, values)
    with driver_cursor(conn) as cursor:
        if not if_policy_current:
            cursor.run(_INSERT_ORDER, params, column_keys=_COLUMNS)
            return True
        return cursor.run(_INSERT_ORDER_IF_CURRENT, params).rowcount == 1


def move_statement(
    conn: Connection,
    order_id: str,
    target: OrderState,
    *,
    values: Mapping[str, Any] | None = None,
    guard: Guard = Guard.NONE,
    now: datetime | None = None,
    ticket_hash: str | None = None,
) -> BoundSQL:
    """`UPDATE orders SET state = target … WHERE id = … AND state IN (sources of target)`
    (and its `guard`), bound and ready for the driver. `events.append_event_if` runs it
    with the move's event: the row moves only from a source state, and the event is
    written only if it moved (the caller turns "not moved" into a typed error)."""
    changes = {**(values or {}), "state": target.value}
    unknown = set(changes) - set(_COLUMNS)
    if unknown:
        raise RuntimeError(f"not columns of `orders`: {sorted(unknown)}")
    params: dict[str, Any] = {**changes, "b_id": order_id}
    if guard in (Guard.BEFORE_TTL, Guard.WINDOW_OPEN, Guard.OVERDUE):
        if now is None:
            raise RuntimeError(f"guard `{guard}` needs `now`")
        params["b_now"] = now
    elif guard is Guard.TICKET:
        params["b_ticket_hash"] = ticket_hash
    compiled = compiled_sql(conn.dialect, _move_statement(target, guard), list(changes))
    return BoundSQL(sql=compiled.sql, params=compiled.params(_bound(conn.dialect.name, params)))


def update_order(
    conn: Connection, order_id: str, *, state: OrderState, values: Mapping[str, Any]
) -> bool:
    """Change fields of an order that is still in `state` (no state move)."""
    query = update(orders).where(orders.c.id == order_id, orders.c.state == state.value)
    result = conn.execute(query.values(**values))
    return result.rowcount == 1


def insert_review(conn: Connection, review: ReviewRecord) -> None:
    values = {
        "order_id": review.order_id,
        "reviewer": review.reviewer,
        "decision": review.decision.value,
        "comment": review.comment,
        "at": review.at,
    }
    with driver_cursor(conn) as cursor:
        cursor.run(_INSERT_REVIEW, _bound(conn.dialect.name, values), column_keys=_REVIEW_COLUMNS)


def _review(row: Any) -> ReviewRecord:
    return ReviewRecord(
        order_id=row.order_id,
        reviewer=row.reviewer,
        decision=ReviewDecision(row.decision),
        comment=row.comment,
        at=row.at,
    )


def reviews_of_many(conn: Connection, order_ids: Sequence[str]) -> dict[str, list[ReviewRecord]]:
    out: dict[str, list[ReviewRecord]] = {i: [] for i in order_ids}
    if not order_ids:
        return out
    query = select(reviews).where(reviews.c.order_id.in_(list(order_ids))).order_by(reviews.c.id)
    for row in conn.execute(query):
        out[row.order_id].append(_review(row))
    return out


def state_clause(state: OrderState, now: datetime) -> ColumnElement[bool]:
    """Orders that *read* as `state` at `now`: overdue ones read as expired."""
    if state is OrderState.PENDING:
        return and_(_in_state(state), orders.c.expires_at > now)
    if state is OrderState.APPROVED:
        return and_(_in_state(state), orders.c.execute_by > now)
    if state is OrderState.EXPIRED:
        return or_(_in_state(state), overdue_clause(now))
    return _in_state(state)


def list_orders(
    conn: Connection,
    *,
    now: datetime,
    state: OrderState | None = None,
    proposer: str | None = None,
    action: str | None = None,
    not_reviewed_by: str | None = None,
    after_id: str | None = None,
    limit: int = 50,
) -> list[OrderRecord]:
    """Orders newest first (by id, descending), older than `after_id`, matching every filter."""
    query = select(orders).order_by(orders.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(state_clause(state, now))
    if proposer is not None:
        query = query.where(orders.c.proposer == proposer)
    if action is not None:
        query = query.where(orders.c.action == action)
    if not_reviewed_by is not None:
        mine = select(reviews.c.id).where(
            reviews.c.order_id == orders.c.id, reviews.c.reviewer == not_reviewed_by
        )
        query = query.where(~mine.exists())
    if after_id is not None:
        query = query.where(orders.c.id < after_id)
    return [_order(row) for row in conn.execute(query)]


def count_by_state(conn: Connection, now: datetime) -> dict[OrderState, int]:
    """How many orders *read* as each state at `now` (overdue ones count as expired)."""
    counts = dict.fromkeys(OrderState, 0)
    query = select(orders.c.state, func.count()).group_by(orders.c.state)
    for state, n in conn.execute(query):
        counts[OrderState(state)] += int(n)
    overdue = (
        select(orders.c.state, func.count()).where(overdue_clause(now)).group_by(orders.c.state)
    )
    for state, n in conn.execute(overdue):
        counts[OrderState(state)] -= int(n)
        counts[OrderState.EXPIRED] += int(n)
    return counts


def due_for_expiry(conn: Connection, now: datetime, *, limit: int) -> list[OrderRecord]:
    """Overdue orders, locked for this transaction; rows another writer holds are skipped."""
    query = select(orders).where(overdue_clause(now)).limit(limit)
    return _locked_in_id_order(conn, query, skip_locked=True)


def lock_pending(conn: Connection) -> list[OrderRecord]:
    """Every pending order, row-locked in id order (so two lockers never deadlock)."""
    query = select(orders).where(_in_state(OrderState.PENDING))
    return _locked_in_id_order(conn, query, skip_locked=False)


def _locked_in_id_order(
    conn: Connection, query: Select[Any], *, skip_locked: bool
) -> list[OrderRecord]:
    """`query`'s orders by id; on PostgreSQL row-locked in that order (`skip_locked`: but
    not those another writer holds). SQLite sorts them here instead: there the write
    transaction excludes every other writer, and an `ORDER BY id` would lead its planner
    (which has no statistics) to walk the whole table in key order rather than use the
    partial deadline indexes."""
    if conn.dialect.name != "postgresql":
        return sorted((_order(row) for row in conn.execute(query)), key=lambda r: r.id)
    locked = query.order_by(orders.c.id).with_for_update(skip_locked=skip_locked)
    return [_order(row) for row in conn.execute(locked)]
