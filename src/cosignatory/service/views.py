"""What the service hands out: frozen views with a `to_json()` in the documented shapes."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import format_timestamp
from cosignatory.core.policy import Requirement, ReviewDecision, SeatState

__all__ = [
    "EventView",
    "InFlight",
    "OrderView",
    "Outcome",
    "PolicyVersion",
    "Principal",
    "ReviewView",
    "TokenInfo",
]


class InFlight(StrEnum):
    """What publishing a new policy version does to pending orders."""

    KEEP = "keep"  # they stay on the version they pinned
    REEVALUATE = "reevaluate"  # they move to the new version and are decided again
    VOID = "void"  # they are cancelled


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _ts(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


@dataclass(frozen=True, kw_only=True)
class ReviewView:
    reviewer: str
    decision: ReviewDecision
    comment: str
    at: datetime
    seat: str | None  # the seat this approval fills now, if it counts for one
    counted: bool  # False: recorded but not counted (see `note`)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "reviewer": self.reviewer,
            "decision": self.decision.value,
            "comment": self.comment,
            "at": _ts(self.at),
            "seat": self.seat,
            "counted": self.counted,
            "note": self.note,
        }


@dataclass(frozen=True, kw_only=True)
class OrderView:
    """One order as of a moment: stored facts plus the decision recomputed from its reviews.

    `state` is what the order *is* at that moment: an order past its deadline reads as
    `expired` even before the sweeper (`expire_due`) has written it.
    """

    id: str
    action: str
    params: Mapping[str, Any]
    proposer: str
    justification: str
    state: OrderState
    created_at: datetime
    expires_at: datetime
    approved_at: datetime | None
    execute_by: datetime | None
    policy_version: int
    policy_digest: str
    digest: str
    matched_rules: tuple[str, ...]
    seats: tuple[SeatState, ...]
    missing: tuple[Requirement, ...]
    vetoers: tuple[str, ...]
    reviews: tuple[ReviewView, ...]
    reasons: tuple[str, ...]
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    executed_at: datetime | None = None
    outcome: Outcome | None = None
    outcome_detail: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    event_seqs: tuple[int, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state in (OrderState.PENDING, OrderState.APPROVED, OrderState.EXECUTING)

    def to_json(self) -> dict[str, Any]:
        """The Order JSON of ARCHITECTURE.md (times RFC 3339 UTC), plus lifecycle details."""
        return {
            "id": self.id,
            "action": self.action,
            "params": dict(self.params),
            "proposer": self.proposer,
            "justification": self.justification,
            "state": self.state.value,
            "created_at": _ts(self.created_at),
            "expires_at": _ts(self.expires_at),
            "approved_at": _ts(self.approved_at),
            "execute_by": _ts(self.execute_by),
            "policy_version": self.policy_version,
            "policy_digest": self.policy_digest,
            "digest": self.digest,
            "matched_rules": list(self.matched_rules),
            "seats": [s.to_json() for s in self.seats],
            "missing": [{"role": m.role, "count": m.count} for m in self.missing],
            "vetoers": list(self.vetoers),
            "reviews": [r.to_json() for r in self.reviews],
            "reasons": list(self.reasons),
            "claimed_by": self.claimed_by,
            "claimed_at": _ts(self.claimed_at),
            "executed_at": _ts(self.executed_at),
            "outcome": self.outcome.value if self.outcome is not None else None,
            "outcome_detail": self.outcome_detail,
            "closed_at": _ts(self.closed_at),
            "closed_by": self.closed_by,
            "close_reason": self.close_reason,
            "event_seqs": list(self.event_seqs),
        }

    @functools.cached_property
    def json_bytes(self) -> bytes:
        """`to_json()` as compact UTF-8 JSON (what the HTTP API sends), encoded once per
        view: views are immutable, and reads hand one view to every request until the
        order changes."""
        return json.dumps(
            self.to_json(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


@dataclass(frozen=True, kw_only=True)
class EventView:
    seq: int
    kind: EventKind
    actor: str
    subject: str  # an order id, `policy/<version>` or a token id
    at: datetime
    payload_json: str = field(repr=False)  # canonical JSON, exactly as stored and hashed

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.payload_json)
        return value

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind.value,
            "actor": self.actor,
            "subject": self.subject,
            "at": _ts(self.at),
            "payload": self.payload,
        }


@dataclass(frozen=True, kw_only=True)
class PolicyVersion:
    version: int
    name: str
    digest: str
    yaml_text: str = field(repr=False)
    published_by: str
    published_at: datetime
    in_flight: InFlight

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "digest": self.digest,
            "published_by": self.published_by,
            "published_at": _ts(self.published_at),
            "in_flight": self.in_flight.value,
            "yaml": self.yaml_text,
        }


@dataclass(frozen=True, kw_only=True)
class TokenInfo:
    """A token's metadata; its secret is shown once at creation and never stored."""

    id: str
    person: str
    is_admin: bool
    label: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person": self.person,
            "is_admin": self.is_admin,
            "label": self.label,
            "created_at": _ts(self.created_at),
            "created_by": self.created_by,
            "expires_at": _ts(self.expires_at),
            "revoked_at": _ts(self.revoked_at),
            "revoked_by": self.revoked_by,
        }


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who a request acts for, once its bearer token checked out."""

    person: str
    is_admin: bool
    token_id: str
