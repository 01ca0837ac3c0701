"""The policy: its rules as sentences, the roster by role, actions, settings, version history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from cosignatory.core.errors import DomainError, ErrorCode
from cosignatory.core.policy import Policy
from cosignatory.web.context import Web

__all__ = ["register", "roster_by_role"]


def roster_by_role(policy: Policy) -> list[tuple[str, list[str]]]:
    """(role, sorted person ids) for every role, roles without holders included."""
    roles = set(policy.roles) | {r for p in policy.people.values() for r in p.roles}
    return [(role, sorted(policy.holders(role))) for role in sorted(roles)]


def register(router: APIRouter, web: Web) -> None:
    @router.get("/policy")
    def policy_page(
        request: Request, version: Annotated[int | None, Query(ge=1)] = None
    ) -> Response:
        session = web.signed_in(request)
        service = web.service(request)
        versions = sorted(service.policy_versions(), key=lambda v: v.version, reverse=True)
        if not versions:
            raise DomainError(
                "no policy has been published yet; an administrator publishes one with "
                "`cosignatory policy publish FILE`",
                code=ErrorCode.NO_POLICY,
            )
        shown = (
            versions[0]
            if version is None
            else next((v for v in versions if v.version == version), None)
        )
        if shown is None:
            raise DomainError(
                f"there is no policy version {version}; the latest is {versions[0].version}",
                code=ErrorCode.NOT_FOUND,
            )
        policy = service.policy(shown.version)
        return web.render(
            request,
            "policy.html",
            session=session,
            policy=policy,
            shown=shown,
            latest=versions[0].version,
            versions=versions,
            roster=roster_by_role(policy),
            people=[policy.people[p] for p in sorted(policy.people)],
            actions=[policy.actions[a] for a in sorted(policy.actions)],
        )
