"""`Service`: the use cases. Each call is one database transaction.

Writes run through `Store.write` (retried whole on transient conflicts); their state
moves are conditional writes with an event in the same transaction. Reads run in one
snapshot and recompute each order's decision from its stored reviews. The clock is
read once per call, inside the transaction, and passed down as `now`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cosignatory.core.errors import DomainError, ErrorCode, InputError
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.policy import Policy, ReviewDecision
from cosignatory.service import orders as order_cases
from cosignatory.service import publishing
from cosignatory.service import tokens as token_cases
from cosignatory.service.audit import AuditLog
from cosignatory.service.build import event_view, order_view, policy_version, token_info
from cosignatory.service.checks import MAX_DETAIL, check_person, check_text
from cosignatory.service.orders import Refuse
from cosignatory.service.policy_cache import PolicyCache, parse_policy
from cosignatory.service.views import (
    EventView,
    InFlight,
    OrderView,
    Outcome,
    PolicyVersion,
    Principal,
    TokenInfo,
)
from cosignatory.storage import orders as order_rows
from cosignatory.storage import policies as policy_rows
from cosignatory.storage import tokens as token_rows
from cosignatory.storage.events import list_events, seqs_by_subject
from cosignatory.storage.store import Store

__all__ = ["MAX_PAGE", "Service", "utc_now"]

T = TypeVar("T")
MAX_PAGE = 500
MAX_EVENTS_PAGE = 10_000
EXPIRY_BATCH = 500


def utc_now() -> datetime:
    return datetime.now(UTC)


def _encode_cursor(order_id: str) -> str:
    return base64.urlsafe_b64encode(order_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = ""
    if not value.startswith("ord_"):
        raise InputError(f"`{cursor}` is not a cursor from a previous page; start without one")
    return value


def _check_secret(secret: str) -> None:
    if not isinstance(secret, str) or not secret or len(secret) > 200:
        raise DomainError("missing or malformed token", code=ErrorCode.UNAUTHENTICATED)


class Service:
    """The system of record for orders, reviews, policy versions and tokens."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        audit_signer: str | None = None,
    ) -> None:
        self.store = store
        self._clock = clock
        self._policies = PolicyCache()
        # The tamper-evident log over this store's events; signs with `audit_signer`.
        self.audit = AuditLog(store, signer=audit_signer, clock=self.now)

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise RuntimeError("the service clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def _write(self, fn: Callable[[Connection, datetime], T | Refuse]) -> T:
        result = self.store.write(lambda conn: fn(conn, self.now()))
        if isinstance(result, Refuse):
            raise result.error
        return result

    def _read(self, fn: Callable[[Connection, datetime], T]) -> T:
        return self.store.read(lambda conn: fn(conn, self.now()))

    # ---- policy -----------------------------------------------------------------------

    def publish_policy(
        self,
        *,
        yaml_text: str,
        by: str,
        in_flight: InFlight = InFlight.KEEP,
        filename: str = "<policy>",
    ) -> PolicyVersion:
        """Publish a new version (a no-op returning the current one if the text is unchanged)."""
        check_person(by, "publisher")
        policy = parse_policy(yaml_text, filename=filename)  # PolicyError lists every problem
        mode = InFlight(in_flight)
        record = self._write(
            lambda conn, now: publishing.publish(
                conn,
                policy=policy,
                yaml_text=yaml_text,
                by=by,
                in_flight=mode,
                now=now,
            )
        )
        return policy_version(record)

    def current_policy(self) -> PolicyVersion:
        def fn(conn: Connection, _now: datetime) -> PolicyVersion:
            record = policy_rows.latest_policy(conn)
            if record is None:
                raise DomainError(
                    "no policy has been published yet; publish one with "
                    "`cosignatory policy publish FILE`",
                    code=ErrorCode.NO_POLICY,
                )
            return policy_version(record)

        return self._read(fn)

    def policy_versions(self) -> list[PolicyVersion]:
        return self._read(
            lambda conn, _now: [policy_version(r) for r in policy_rows.list_policies(conn)]
        )

    def policy(self, version: int | None = None) -> Policy:
        """The parsed policy of `version` (default: the current one)."""

        def fn(conn: Connection, _now: datetime) -> Policy:
            if version is None:
                return self._policies.current(conn)[1]
            record = policy_rows.get_policy(conn, version)
            if record is None:
                raise DomainError(f"no policy version {version}", code=ErrorCode.NOT_FOUND)
            return self._policies.get(conn, record.version, record.digest)

        return self._read(fn)

    # ---- orders -----------------------------------------------------------------------

    def propose(
        self,
        *,
        action: str,
        params: Mapping[str, Any],
        proposer: str,
        justification: str = "",
    ) -> OrderView:
        check_person(proposer, "proposer")
        check_text(justification, "justification")
        if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
            raise InputError("params must be a mapping of parameter names to values")
        return self._write(
            lambda conn, now: order_cases.propose(
                conn,
                policies=self._policies,
                now=now,
                action=action,
                params=params,
                proposer=proposer,
                justification=justification,
            )
        )

    def review(
        self, *, order_id: str, reviewer: str, decision: ReviewDecision, comment: str = ""
    ) -> OrderView:
        check_person(reviewer, "reviewer")
        check_text(comment, "comment")
        choice = ReviewDecision(decision)
        try:
            return self._write(
                lambda conn, now: order_cases.review(
                    conn,
                    policies=self._policies,
                    now=now,
                    order_id=order_id,
                    reviewer=reviewer,
                    decision=choice,
                    comment=comment,
                )
            )
        except IntegrityError as e:  # the unique (order_id, reviewer) backstop
            raise DomainError(
                f"`{reviewer}` already reviewed order `{order_id}`; a review cannot be changed",
                code=ErrorCode.ALREADY_REVIEWED,
            ) from e

    def cancel(
        self, *, order_id: str, by: str, reason: str = "", as_admin: bool = False
    ) -> OrderView:
        check_person(by, "canceller")
        check_text(reason, "reason")
        return self._write(
            lambda conn, now: order_cases.cancel(
                conn,
                policies=self._policies,
                now=now,
                order_id=order_id,
                by=by,
                reason=reason,
                as_admin=as_admin,
            )
        )

    def claim(self, *, order_id: str, by: str) -> tuple[OrderView, str]:
        """Claim the single-use ticket of an approved order; `(order, ticket secret)`."""
        check_person(by, "executor")
        return self._write(
            lambda conn, now: order_cases.claim(
                conn, policies=self._policies, now=now, order_id=order_id, by=by
            )
        )

    def record_result(
        self, *, order_id: str, ticket: str, outcome: Outcome, detail: str = ""
    ) -> OrderView:
        check_text(ticket, "ticket", limit=200)
        check_text(detail, "detail", limit=MAX_DETAIL)
        result = Outcome(outcome)
        return self._write(
            lambda conn, now: order_cases.record_result(
                conn,
                policies=self._policies,
                now=now,
                order_id=order_id,
                ticket=ticket,
                outcome=result,
                detail=detail,
            )
        )

    def expire_due(self) -> list[str]:
        """Expire every overdue order, in batches of one transaction each; returns their ids."""
        expired: list[str] = []
        while True:
            ids, examined = self._write(
                lambda conn, now: order_cases.expire_batch(conn, now=now, limit=EXPIRY_BATCH)
            )
            expired.extend(ids)
            if examined < EXPIRY_BATCH:
                return expired

    def count_orders_by_state(self) -> dict[str, int]:
        """How many orders read as each state now (for metrics and dashboards)."""
        counts = self._read(order_rows.count_by_state)
        return {state.value: n for state, n in counts.items()}

    def ping(self) -> None:
        """Raise if the database does not answer."""
        self.store.ping()

    def get_order(self, order_id: str) -> OrderView:
        return self._read(
            lambda conn, now: order_cases.load_view(conn, order_id, self._policies, now)
        )

    def get_order_as(self, secret: str, order_id: str) -> tuple[Principal, OrderView]:
        """`authenticate(secret)` then `get_order(order_id)`, in one read transaction: the
        token is checked first, in the same snapshot (a revoked token is refused as ever)."""
        _check_secret(secret)

        def fn(conn: Connection, now: datetime) -> tuple[Principal, OrderView]:
            principal = token_cases.authenticate(conn, secret=secret, now=now)
            return principal, order_cases.load_view(conn, order_id, self._policies, now)

        return self._read(fn)

    def list_orders(
        self,
        *,
        state: OrderState | None = None,
        proposer: str | None = None,
        action: str | None = None,
        awaiting: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[OrderView], str | None]:
        """A page of orders, newest first, and the cursor of the next page (None at the end).

        `state` matches what orders read as (an overdue order is `expired`). `awaiting`
        keeps pending orders where that person could still fill a missing seat or could
        veto, has not reviewed, and is not the proposer.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InputError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
        wanted = OrderState(state) if state is not None else None
        after = _decode_cursor(cursor) if cursor else None
        if awaiting is not None:
            check_person(awaiting, "awaiting")
            if wanted not in (None, OrderState.PENDING):
                return [], None
        return self._read(
            lambda conn, now: self._page(
                conn,
                now,
                state=wanted,
                proposer=proposer,
                action=action,
                awaiting=awaiting,
                limit=limit,
                after=after,
            )
        )

    def _page(
        self,
        conn: Connection,
        now: datetime,
        *,
        state: OrderState | None,
        proposer: str | None,
        action: str | None,
        awaiting: str | None,
        limit: int,
        after: str | None,
    ) -> tuple[list[OrderView], str | None]:
        views: list[OrderView] = []
        batch = limit + 1 if awaiting is None else max(4 * limit, 100)
        while True:
            records = order_rows.list_orders(
                conn,
                now=now,
                state=OrderState.PENDING if awaiting is not None else state,
                proposer=proposer,
                action=action,
                not_reviewed_by=awaiting,
                after_id=after,
                limit=batch,
            )
            ids = [r.id for r in records]
            reviews = order_rows.reviews_of_many(conn, ids)
            seqs = seqs_by_subject(conn, ids)
            for record in records:
                policy = self._policies.get(conn, record.policy_version, record.policy_digest)
                located = dataclasses.replace(record, event_seqs=tuple(seqs[record.id]))
                view = order_view(located, reviews[record.id], policy, now)
                if awaiting is None or _awaits(view, awaiting):
                    views.append(view)
                if len(views) > limit:
                    return views[:limit], _encode_cursor(views[limit - 1].id)
            if len(records) < batch:
                return views, None
            after = records[-1].id

    def events(
        self,
        *,
        order_id: str | None = None,
        start: int = 0,
        limit: int = 1000,
        subject: str | None = None,
    ) -> list[EventView]:
        """Events in `seq` order from `start`: all, those of one order, or of any `subject`
        (`policy/3`, a token id)."""
        if order_id is not None and subject is not None:
            raise InputError("give `order_id` or `subject`, not both")
        subject = subject if subject is not None else order_id
        if start < 0:
            raise InputError(f"start must be 0 or more, got {start}")
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise InputError(f"limit must be between 1 and {MAX_EVENTS_PAGE}, got {limit}")
        return self._read(
            lambda conn, _now: [
                event_view(e) for e in list_events(conn, subject=subject, start=start, limit=limit)
            ]
        )

    # ---- tokens -----------------------------------------------------------------------

    def create_token(
        self,
        *,
        person: str,
        by: str,
        admin: bool = False,
        expires_in: timedelta | None = None,
        label: str = "",
    ) -> tuple[TokenInfo, str]:
        """A new bearer token for `person`; the secret is returned once and stored hashed."""
        check_person(person, "person")
        check_person(by, "creator")
        check_text(label, "label", limit=200)
        if expires_in is not None and expires_in <= timedelta(0):
            raise InputError("a token's lifetime must be longer than zero")
        record, secret = self._write(
            lambda conn, now: token_cases.create(
                conn, now=now, person=person, by=by, admin=admin, expires_in=expires_in, label=label
            )
        )
        return token_info(record), secret

    def authenticate(self, secret: str) -> Principal:
        _check_secret(secret)
        return self._read(lambda conn, now: token_cases.authenticate(conn, secret=secret, now=now))

    def list_tokens(self) -> list[TokenInfo]:
        return self._read(lambda conn, _now: [token_info(r) for r in token_rows.list_tokens(conn)])

    def revoke_token(self, *, token_id: str, by: str) -> None:
        check_person(by, "revoker")
        self._write(lambda conn, now: token_cases.revoke(conn, token_id=token_id, by=by, now=now))


def _awaits(view: OrderView, person: str) -> bool:
    if view.state is not OrderState.PENDING or view.proposer == person:
        return False
    if any(r.reviewer == person for r in view.reviews):
        return False
    could_fill = any(person in seat.eligible for seat in view.seats if seat.missing > 0)
    return could_fill or person in view.vetoers
