"""Untrusted JSON → engine inputs, with errors that say where and what to fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cosignatory.core.errors import InputError
from cosignatory.core.policy.decision import OrderInput, ReviewDecision, ReviewInput

__all__ = ["EvaluateRequest", "parse_evaluate_request", "parse_timestamp"]

ORDER_KEYS = frozenset(
    {"action", "params", "proposer", "justification", "reviews", "at", "created_at"}
)
REVIEW_KEYS = frozenset({"reviewer", "decision", "at", "comment"})


@dataclass(frozen=True, kw_only=True)
class EvaluateRequest:
    order: OrderInput
    reviews: tuple[ReviewInput, ...]
    at: datetime | None


def parse_timestamp(value: Any, where: str) -> datetime:
    """RFC 3339 with an explicit offset (`2026-01-31T12:00:00Z`); naive times are refused."""
    if not isinstance(value, str):
        raise InputError(f"{where} must be an RFC 3339 timestamp string, got `{value!r}`")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as e:
        raise InputError(f"{where}: `{value}` is not an RFC 3339 timestamp") from e
    if parsed.tzinfo is None:
        raise InputError(f"{where}: `{value}` has no timezone; add `Z` or an offset like `+02:00`")
    return parsed


def parse_evaluate_request(unverified: Any) -> EvaluateRequest:
    if not isinstance(unverified, Mapping):
        raise InputError(
            "input must be a JSON object with `action`, `params`, `proposer` and `reviews`"
        )
    unknown = sorted(set(unverified) - ORDER_KEYS)
    if unknown:
        raise InputError(
            f"unknown key `{unknown[0]}` in input; allowed: {', '.join(sorted(ORDER_KEYS))}"
        )
    for key in ("action", "proposer"):
        if not isinstance(unverified.get(key), str) or not unverified[key]:
            raise InputError(f"`{key}` must be a non-empty string")
    params = unverified.get("params", {})
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise InputError("`params` must be a JSON object")
    justification = unverified.get("justification", "")
    if not isinstance(justification, str):
        raise InputError("`justification` must be a string")
    raw_reviews = unverified.get("reviews", [])
    if not isinstance(raw_reviews, list):
        raise InputError("`reviews` must be a list of {reviewer, decision} objects")
    reviews = []
    for i, raw in enumerate(raw_reviews):
        where = f"reviews[{i}]"
        if not isinstance(raw, Mapping):
            raise InputError(f"{where} must be an object with `reviewer` and `decision`")
        extra = sorted(set(raw) - REVIEW_KEYS)
        if extra:
            raise InputError(
                f"{where}: unknown key `{extra[0]}`; allowed: {', '.join(sorted(REVIEW_KEYS))}"
            )
        if not isinstance(raw.get("reviewer"), str) or not raw["reviewer"]:
            raise InputError(f"{where}.reviewer must be a non-empty string")
        decision = raw.get("decision")
        if decision not in ("approve", "deny"):
            raise InputError(f"{where}.decision must be `approve` or `deny`, got `{decision!r}`")
        comment = raw.get("comment", "")
        if not isinstance(comment, str):
            raise InputError(f"{where}.comment must be a string")
        at = parse_timestamp(raw["at"], f"{where}.at") if "at" in raw else None
        reviews.append(
            ReviewInput(
                reviewer=raw["reviewer"], decision=ReviewDecision(decision), at=at, comment=comment
            )
        )
    at = parse_timestamp(unverified["at"], "`at`") if "at" in unverified else None
    created = (
        parse_timestamp(unverified["created_at"], "`created_at`")
        if "created_at" in unverified
        else None
    )
    order = OrderInput(
        action=unverified["action"],
        params=dict(params),
        proposer=unverified["proposer"],
        justification=justification,
        created_at=created,
    )
    return EvaluateRequest(order=order, reviews=tuple(reviews), at=at)
