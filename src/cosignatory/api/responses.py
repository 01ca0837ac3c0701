"""OpenAPI declarations of the problem responses each route may give.

Declared per route so that the schema tells the truth (schemathesis checks every status
and body against it) and `/docs` shows what can go wrong.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from cosignatory.api.problems import PROBLEM_MEDIA_TYPE
from cosignatory.api.schemas import Problem

__all__ = ["problem_component_schemas", "problems"]

_DESCRIPTIONS = {
    401: "No, bad, expired or revoked bearer token (`unauthenticated`).",
    403: "Authenticated, but not allowed (`forbidden`, `not_eligible`, `self_approval`, "
    "`not_proposer`, `no_rule`, `invalid_ticket`).",
    404: "No such order (`not_found`).",
    409: "The order's state forbids it (`order_closed`, `already_reviewed`, `not_approved`, "
    "`already_executed`, `no_policy`).",
    413: "The request body is larger than the server accepts (`payload_too_large`).",
    422: "Invalid input (`invalid_input`, `invalid_params`, `unknown_action`, "
    "`condition_error`, `policy_invalid`).",
    503: "The database is unreachable (`unavailable`).",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status as problem+json."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted(set(statuses)):
        out[status] = {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out


def problem_component_schemas() -> dict[str, Any]:
    """`components.schemas` entries for `Problem` and the models it refers to."""
    _, top = models_json_schema(
        [(Problem, "serialization")], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    return schemas
