"""Data types of the decision engine: what goes in (orders, reviews), what comes out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cosignatory.core.errors import ErrorCode
from cosignatory.core.policy.model import Requirement

__all__ = [
    "CountedReview",
    "Decision",
    "DecisionStatus",
    "OrderInput",
    "Refusal",
    "ReviewDecision",
    "ReviewInput",
    "SeatState",
]


# The engine's output types are frozen dataclasses, and it builds several per decision.
# Their generated `__init__` calls `object.__setattr__` once per field: about 3x the cost
# of creating the object and filling its `__dict__` at once, which is what each type's
# `of` constructor does. The object is the same and as immutable afterwards; each `of`
# passes every field (a test compares each `of` with the regular constructor).
_new = object.__new__


class DecisionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REFUSED = "refused"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"`{name}` must be timezone-aware")


@dataclass(frozen=True, kw_only=True)
class OrderInput:
    """An order as the engine sees it; `created_at` enables the ttl check."""

    action: str
    params: Mapping[str, Any] = field(default_factory=dict)
    proposer: str
    justification: str = ""
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.created_at, "created_at")


@dataclass(frozen=True, kw_only=True)
class ReviewInput:
    reviewer: str
    decision: ReviewDecision
    at: datetime | None = None
    comment: str = ""

    def __post_init__(self) -> None:
        _aware(self.at, "at")


@dataclass(frozen=True, kw_only=True)
class SeatState:
    role: str
    count: int
    filled_by: tuple[str, ...]
    eligible: tuple[str, ...]  # could still fill it: eligible and not yet reviewed

    @classmethod
    def of(
        cls, role: str, count: int, filled_by: tuple[str, ...], eligible: tuple[str, ...]
    ) -> SeatState:
        """The engine's fast constructor (see `_new`)."""
        obj = _new(cls)
        fields = obj.__dict__
        fields["role"] = role
        fields["count"] = count
        fields["filled_by"] = filled_by
        fields["eligible"] = eligible
        return obj

    @property
    def missing(self) -> int:
        return max(0, self.count - len(self.filled_by))

    def to_json(self) -> dict[str, Any]:
        """One seat as every JSON contract shows it (`policy evaluate`, the Order JSON)."""
        return {
            "role": self.role,
            "count": self.count,
            "filled_by": list(self.filled_by),
            "eligible": list(self.eligible),
        }


@dataclass(frozen=True, kw_only=True)
class CountedReview:
    """What the engine made of one review: counted for a seat, a veto, or ignored (why)."""

    reviewer: str
    decision: ReviewDecision
    at: datetime | None
    counted: bool
    seat: str | None = None
    note: str = ""

    @classmethod
    def of(
        cls,
        review: ReviewInput,
        counted: bool,
        seat: str | None = None,
        note: str = "",
        decision: ReviewDecision | None = None,
    ) -> CountedReview:
        """What the engine made of `review` (fast constructor, see `_new`)."""
        obj = _new(cls)
        fields = obj.__dict__
        fields["reviewer"] = review.reviewer
        fields["decision"] = review.decision if decision is None else decision
        fields["at"] = review.at
        fields["counted"] = counted
        fields["seat"] = seat
        fields["note"] = note
        return obj


@dataclass(frozen=True, kw_only=True)
class Refusal:
    code: ErrorCode
    message: str


@dataclass(frozen=True, kw_only=True)
class Decision:
    status: DecisionStatus
    matched_rules: tuple[str, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    seats: tuple[SeatState, ...] = ()
    vetoers: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    reviews: tuple[CountedReview, ...] = ()
    error: Refusal | None = None
    expires_at: datetime | None = None
    approved_at: datetime | None = None
    rejected_at: datetime | None = None
    rejected_by: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        status: DecisionStatus,
        matched_rules: tuple[str, ...],
        requirements: tuple[Requirement, ...],
        seats: tuple[SeatState, ...],
        vetoers: tuple[str, ...],
        reasons: tuple[str, ...],
        reviews: tuple[CountedReview, ...],
        expires_at: datetime | None,
        approved_at: datetime | None,
        rejected_at: datetime | None,
        rejected_by: tuple[str, ...],
    ) -> Decision:
        """The engine's fast constructor for a decision that is not a refusal."""
        obj = _new(cls)
        fields = obj.__dict__
        fields["status"] = status
        fields["matched_rules"] = matched_rules
        fields["requirements"] = requirements
        fields["seats"] = seats
        fields["vetoers"] = vetoers
        fields["reasons"] = reasons
        fields["reviews"] = reviews
        fields["error"] = None
        fields["expires_at"] = expires_at
        fields["approved_at"] = approved_at
        fields["rejected_at"] = rejected_at
        fields["rejected_by"] = rejected_by
        return obj

    @property
    def missing(self) -> tuple[Requirement, ...]:
        return tuple(Requirement(role=s.role, count=s.missing) for s in self.seats if s.missing > 0)

    def to_json(self) -> dict[str, Any]:
        """The `policy evaluate --json` contract (ARCHITECTURE.md)."""
        out: dict[str, Any] = {
            "status": self.status.value,
            "matched_rules": list(self.matched_rules),
            "seats": [s.to_json() for s in self.seats],
            "missing": [{"role": m.role, "count": m.count} for m in self.missing],
            "vetoers": list(self.vetoers),
            "reasons": list(self.reasons),
        }
        if self.approved_at is not None:
            out["approved_at"] = self.approved_at.isoformat()
        if self.expires_at is not None:
            out["expires_at"] = self.expires_at.isoformat()
        if self.error is not None:
            out["error"] = {"code": self.error.code.value, "message": self.error.message}
        return out
