"""Offline replay: does a logged history obey the rules it claims to have followed?

A correctly hashed and signed log proves that nobody rewrote history; the replay proves
that the history itself is lawful. It folds the entries in order, keeping only what the
entries say (policies as published, orders as proposed, reviews as logged), and re-runs
the decision engine (`core.policy.evaluate`) wherever the service ran it:

- policies are published as versions 1, 2, … with the full YAML, each followed by its
  `policy:in_flight` entry naming every pending order and what became of it;
- every order is proposed under the version current at that moment, its digest matches
  its fields, and the engine does not refuse it;
- every order event follows the lifecycle table (`core.lifecycle`) from the state the
  replay holds, and says so in `from_state`;
- every review comes from a person in the roster of the order's pinned policy version
  who may fill one of its seats (or veto it, by denying), at most once, never the
  proposer unless the policy allows it, and before the order expired;
- `order:approved` / `order:rejected` appear exactly when the engine, given the logged
  reviews, says approved / rejected, in the same transaction as the entry that decided
  it; expiries happen only after the deadline; a claim follows an approval, within the
  execution window; a result follows a claim, reported by whoever claimed it.

The first entry that breaks a rule is reported with its index and what is wrong.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cosignatory.core.audit.entry import AuditEntry, is_order_event
from cosignatory.core.audit.errors import EntryError
from cosignatory.core.audit.replay_orders import check_moved, check_proposed, check_reviewed
from cosignatory.core.audit.replay_policies import check_in_flight, check_published
from cosignatory.core.audit.replay_state import (
    LoggedOrder,
    LoggedPolicy,
    Owed,
    Violation,
    field_of,
)
from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState

__all__ = ["ReplayProblem", "ReplaySummary", "Replayer", "replay"]


@dataclass(frozen=True, kw_only=True)
class ReplayProblem:
    """The first entry that breaks a rule: its index, kind, subject, and what is wrong."""

    index: int
    kind: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"entry {self.index} ({self.kind} {self.subject}): {self.message}"


@dataclass(frozen=True, kw_only=True)
class ReplaySummary:
    """What the replay saw, and the first problem if there is one."""

    entries: int
    policies: int
    orders: Mapping[OrderState, int]
    reviews: int
    problem: ReplayProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "policies": self.policies,
            "orders": {state.value: n for state, n in self.orders.items() if n},
            "reviews": self.reviews,
            "problem": None
            if self.problem is None
            else {
                "index": self.problem.index,
                "kind": self.problem.kind,
                "subject": self.problem.subject,
                "message": self.problem.message,
            },
        }


class Replayer:
    """Folds entries one at a time (`feed`), then `finish` gives the summary.

    Entries must start at index 0: a history cannot be judged without its beginning.
    After the first problem, further entries are counted but not judged.
    """

    def __init__(self) -> None:
        self._next = 0
        self._policies: list[LoggedPolicy] = []
        self._orders: dict[str, LoggedOrder] = {}
        self._tokens: dict[str, bool] = {}  # token id → revoked
        self._reviews = 0
        # Events the last transaction still owes, in order: (subject, kind, why).
        self._owed: deque[Owed] = deque()
        self._problem: ReplayProblem | None = None

    @property
    def problem(self) -> ReplayProblem | None:
        return self._problem

    def feed(self, entry: AuditEntry) -> ReplayProblem | None:
        index = self._next
        self._next += 1
        if self._problem is not None:
            return self._problem
        try:
            if entry.seq != index:
                raise Violation(f"expected entry {index}, found seq `{entry.seq}`")
            self._settle_owed(entry)
            self._apply(index, entry)
        except (Violation, EntryError) as e:
            self._problem = ReplayProblem(
                index=index, kind=entry.kind.value, subject=entry.subject, message=str(e)
            )
        return self._problem

    def finish(self) -> ReplaySummary:
        if self._problem is None and self._owed:
            subject, kind, why = self._owed[0]
            self._problem = ReplayProblem(
                index=max(self._next - 1, 0),
                kind="end of log",
                subject=subject,
                message=f"the log ends before the `{kind}` of `{subject}`, although {why}",
            )
        states = Counter(o.state for o in self._orders.values())
        return ReplaySummary(
            entries=self._next,
            policies=len(self._policies),
            orders={s: states.get(s, 0) for s in OrderState},
            reviews=self._reviews,
            problem=self._problem,
        )

    # --- dispatch ---------------------------------------------------------------------

    def _settle_owed(self, entry: AuditEntry) -> None:
        if not self._owed:
            return
        subject, kind, why = self._owed[0]
        if entry.subject != subject or entry.kind is not kind:
            raise Violation(
                f"expected the `{kind}` of `{subject}` here, because {why}; "
                f"found `{entry.kind}` of `{entry.subject}`"
            )
        self._owed.popleft()

    def _current(self) -> LoggedPolicy | None:
        return self._policies[-1] if self._policies else None

    def _apply(self, index: int, entry: AuditEntry) -> None:
        kind, payload = entry.kind, entry.payload
        if kind is EventKind.POLICY_PUBLISHED:
            policy, owed = check_published(self._policies, index, entry)
            self._policies.append(policy)
            self._owed.extend(owed)
        elif kind is EventKind.POLICY_IN_FLIGHT:
            self._owed.extend(check_in_flight(self._current(), self._orders, index, entry))
        elif kind is EventKind.TOKEN_CREATED:
            token = field_of(payload, "token_id", str)
            if token != entry.subject or token in self._tokens:
                raise Violation(
                    f"token `{token}` created twice, or under subject `{entry.subject}`"
                )
            self._tokens[token] = False
        elif kind is EventKind.TOKEN_REVOKED:
            token = field_of(payload, "token_id", str)
            if token != entry.subject or self._tokens.get(token) is not False:
                raise Violation(f"token `{token}` revoked but never created, or revoked twice")
            self._tokens[token] = True
        elif kind is EventKind.ORDER_PROPOSED:
            order, owed = check_proposed(self._current(), self._orders, index, entry)
            self._orders[order.id] = order
            self._owed.extend(owed)
        elif is_order_event(kind):
            known = self._orders.get(entry.subject)
            if known is None:
                raise Violation(f"`{kind}` for order `{entry.subject}`, which was never proposed")
            if entry.order_digest != known.digest:
                raise Violation(
                    f"order digest `{entry.order_digest}` differs from the order's `{known.digest}`"
                )
            if kind is EventKind.ORDER_REVIEWED:
                self._owed.extend(check_reviewed(known, entry))
                self._reviews += 1
            else:
                check_moved(known, entry)
        else:  # pragma: no cover - every kind is handled above
            raise RuntimeError(f"unhandled event kind `{kind}`")


def replay(entries: Iterable[AuditEntry]) -> ReplaySummary:
    """Replay a whole log from entry 0."""
    replayer = Replayer()
    for entry in entries:
        replayer.feed(entry)
    return replayer.finish()
