"""The HTTP API's JSON shapes (pydantic v2): the only place pydantic models live.

Request bodies forbid unknown fields, so a typo is a 422 rather than silently ignored.
Response models document what the server sends and let the Python client parse it;
they ignore unknown fields so an older client keeps working against a newer server.
This module imports pydantic only (no FastAPI), so the client can use it too.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "CancelRequest",
    "ExecuteRequest",
    "Execution",
    "FieldProblem",
    "Health",
    "InFlightChoice",
    "MissingSeat",
    "Order",
    "OrderPage",
    "OrderStateName",
    "OutcomeChoice",
    "PolicyOut",
    "Problem",
    "ProposeRequest",
    "PublishPolicyRequest",
    "ResultRequest",
    "ReviewChoice",
    "ReviewOut",
    "ReviewRequest",
    "Seat",
]

MAX_TEXT = 4000
MAX_DETAIL = 16_000
MAX_POLICY = 1_000_000
PersonId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]


class ReviewChoice(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


class OutcomeChoice(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class InFlightChoice(StrEnum):
    KEEP = "keep"
    REEVALUATE = "reevaluate"
    VOID = "void"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# ---- requests ---------------------------------------------------------------------


class ProposeRequest(_Request):
    action: str = Field(min_length=1, max_length=100, examples=["move"])
    params: dict[str, JsonValue] = Field(
        default_factory=dict, examples=[{"unit": "3rd-battalion", "destination": "hill-412"}]
    )
    justification: str = Field(default="", max_length=MAX_TEXT)


class ReviewRequest(_Request):
    decision: ReviewChoice
    comment: str = Field(default="", max_length=MAX_TEXT)


class CancelRequest(_Request):
    reason: str = Field(default="", max_length=MAX_TEXT)


class ExecuteRequest(_Request):
    """Empty on purpose: claiming the ticket needs nothing but the caller's identity."""


class ResultRequest(_Request):
    ticket: str = Field(min_length=1, max_length=200)
    outcome: OutcomeChoice
    detail: str = Field(default="", max_length=MAX_DETAIL)


class PublishPolicyRequest(_Request):
    yaml: str = Field(min_length=1, max_length=MAX_POLICY)
    in_flight: InFlightChoice = InFlightChoice.KEEP


# ---- responses --------------------------------------------------------------------


class Seat(_Response):
    role: str
    count: int
    filled_by: list[str]
    eligible: list[str] = Field(description="people who could still fill this seat")


class MissingSeat(_Response):
    role: str
    count: int


class ReviewOut(_Response):
    reviewer: str
    decision: ReviewChoice
    comment: str
    at: datetime
    seat: str | None = Field(description="the seat this approval fills, if it counts for one")
    counted: bool = Field(description="false: recorded but not counted (see `note`)")
    note: str


OrderStateName = Literal[
    "pending", "approved", "rejected", "expired", "cancelled", "executing", "executed", "failed"
]


class Order(_Response):
    """An order and its decision, recomputed from its reviews under its pinned policy."""

    id: str
    action: str
    params: dict[str, JsonValue]
    proposer: str
    justification: str
    state: OrderStateName
    created_at: datetime
    expires_at: datetime
    approved_at: datetime | None
    execute_by: datetime | None = Field(
        description="an approved order expires unless executed by then"
    )
    policy_version: int
    policy_digest: str
    digest: str = Field(description="sha256 of the order's RFC 8785 canonical JSON")
    matched_rules: list[str]
    seats: list[Seat]
    missing: list[MissingSeat]
    vetoers: list[str]
    reviews: list[ReviewOut]
    reasons: list[str]
    claimed_by: str | None
    claimed_at: datetime | None
    executed_at: datetime | None
    outcome: OutcomeChoice | None
    outcome_detail: str | None
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None
    event_seqs: list[int]


class OrderPage(_Response):
    items: list[Order]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


class Execution(_Response):
    order: Order
    ticket: str = Field(description="single-use secret; send it back with the result")


class PolicyOut(_Response):
    version: int
    name: str
    digest: str
    published_by: str
    published_at: datetime
    in_flight: InFlightChoice
    yaml: str


class Health(_Response):
    status: Literal["ok"]
    database: Literal["ok"]


class FieldProblem(_Response):
    loc: str
    message: str


class Problem(_Response):
    """RFC 9457 problem details, plus our stable machine-readable `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = None
    issues: list[str] | None = None
