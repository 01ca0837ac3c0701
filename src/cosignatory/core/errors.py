"""One exception tree for the whole project; each edge translates it in one place.

    CosignatoryError               .code: ErrorCode (stable, machine-readable)
     ├── PolicyError               a policy document is invalid (all issues, with positions)
     ├── InputError                malformed input to a pure function (bad JSON shape, ...)
     ├── RefusedError              a proposal no rule authorizes (no_rule, not_proposer, ...)
     └── DomainError               a lifecycle use case refused (not_eligible, order_closed, ...)

Programmer mistakes stay `RuntimeError`/`TypeError`; foreign exceptions are wrapped at
the boundary with `raise ... from e`. Messages are lowercase, name the offending value in
backticks and say what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CosignatoryError",
    "DomainError",
    "ErrorCode",
    "InputError",
    "PolicyError",
    "PolicyIssue",
    "RefusedError",
]


class ErrorCode(StrEnum):
    """Stable error codes shared by the CLI, the HTTP API and the audit log."""

    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_ELIGIBLE = "not_eligible"
    SELF_APPROVAL = "self_approval"
    ALREADY_REVIEWED = "already_reviewed"
    ORDER_CLOSED = "order_closed"
    NOT_APPROVED = "not_approved"
    ALREADY_EXECUTED = "already_executed"
    NO_RULE = "no_rule"
    NOT_PROPOSER = "not_proposer"
    UNKNOWN_ACTION = "unknown_action"
    INVALID_PARAMS = "invalid_params"
    CONDITION_ERROR = "condition_error"
    POLICY_INVALID = "policy_invalid"
    NOT_FOUND = "not_found"
    INVALID_INPUT = "invalid_input"
    INVALID_TICKET = "invalid_ticket"
    NO_POLICY = "no_policy"
    CONFLICT = "conflict"


class CosignatoryError(Exception):
    """Base of every error we raise on purpose."""

    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


@dataclass(frozen=True, kw_only=True, order=True)
class PolicyIssue:
    """One problem in a policy document, at a 1-based line and column."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class PolicyError(CosignatoryError):
    """A policy document is invalid; `issues` lists every problem found, in file order."""

    code = ErrorCode.POLICY_INVALID

    def __init__(self, issues: list[PolicyIssue]) -> None:
        if not issues:
            raise RuntimeError("PolicyError needs at least one issue")
        self.issues = tuple(sorted(issues))
        super().__init__("\n".join(str(i) for i in self.issues))


class InputError(CosignatoryError):
    code = ErrorCode.INVALID_INPUT


class RefusedError(CosignatoryError):
    """A proposal that no order may be created for; `code` says why."""


class DomainError(CosignatoryError):
    """A use case refused by the lifecycle rules; `code` says why."""
