"""Propose an order: a form from the action's param schema, with a live preview of its seats.

The preview is a dry run of the decision engine on what the form holds now (no order
is written): which rules match, which seats the order will need and who could fill
them, who may veto, or why it would be refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams
from starlette.responses import Response

from cosignatory.core.errors import CosignatoryError, ErrorCode
from cosignatory.core.policy import Action, Decision, OrderInput, Policy, evaluate
from cosignatory.service.checks import MAX_TEXT
from cosignatory.web.context import Web
from cosignatory.web.forms import ProposalForm, blank_form, read_form
from cosignatory.web.present import roles_phrase
from cosignatory.web.sessions import Session

__all__ = ["blocked_reason", "register"]

MAX_FORM_FIELDS = 200


def blocked_reason(policy: Policy, action: str, person: str) -> str:
    """Why `person` certainly may not propose `action` (an unconditional rule says so), or ""."""
    member = policy.people.get(person)
    if member is None:
        return f"you are not in the roster of policy `{policy.name}`, so you may not propose"
    for rule in policy.rules_for(action):
        if rule.when is None and rule.proposers is not None and not rule.proposers & member.roles:
            return (
                f"only a {roles_phrase(rule.proposers)} may propose `{action}` (rule `{rule.id}`)"
            )
    return ""


def _strings(data: FormData | QueryParams) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in list(data.multi_items())[:MAX_FORM_FIELDS]:
        if isinstance(value, str) and key not in out:
            out[key] = value
    return out


def _preview(
    policy: Policy, form: ProposalForm, person: str, justification: str, now: Any
) -> Decision:
    order = OrderInput(
        action=form.action.name, params=form.params, proposer=person, justification=justification
    )
    return evaluate(policy, order, [], now)


def register(router: APIRouter, web: Web) -> None:
    def page(
        request: Request,
        session: Session,
        policy: Policy,
        action: Action | None,
        *,
        form: ProposalForm | None = None,
        justification: str = "",
        error: str = "",
        status: int = 200,
    ) -> Response:
        person = session.person or ""
        blocked = {name: blocked_reason(policy, name, person) for name in policy.actions}
        return web.render(
            request,
            "propose.html",
            session=session,
            status=status,
            policy=policy,
            actions=[policy.actions[n] for n in sorted(policy.actions)],
            action=action,
            blocked=blocked,
            form=form if form is not None else (blank_form(action) if action else None),
            justification=justification,
            error=error,
            max_text=MAX_TEXT,
        )

    @router.get("/propose")
    def propose_page(
        request: Request, action: Annotated[str, Query(max_length=100)] = ""
    ) -> Response:
        session = web.signed_in(request)
        policy = web.service(request).policy()
        chosen = policy.actions.get(action)
        if chosen is None and len(policy.actions) == 1:
            chosen = next(iter(policy.actions.values()))
        error = (
            f"the policy has no action `{action}`; choose one below"
            if action and not chosen
            else ""
        )
        return page(request, session, policy, chosen, error=error, status=404 if error else 200)

    @router.get("/propose/preview")
    def preview(request: Request) -> Response:
        session = web.signed_in(request)
        service = web.service(request)
        policy = service.policy()
        values = _strings(request.query_params)
        action = policy.actions.get(values.get("action", ""))
        if action is None:
            return web.render(request, "_preview.html", session=session, action=None, form=None)
        form = read_form(action, values, show_missing=False)
        justification = values.get("justification", "")[:MAX_TEXT]
        decision = _preview(policy, form, session.person or "", justification, service.now())
        return web.render(
            request,
            "_preview.html",
            session=session,
            policy=policy,
            action=action,
            form=form,
            decision=decision,
            incomplete=decision.error is not None
            and decision.error.code is ErrorCode.INVALID_PARAMS,
            settings=policy.settings,
        )

    def submit(request: Request, values: Mapping[str, str]) -> Response:
        session = web.check_post(request, values.get("csrf_token", ""))
        if session.person is None:
            return web.redirect(request, web.sign_in_url("/propose"))
        service = web.service(request)
        policy = service.policy()
        action = policy.actions.get(values.get("action", ""))
        if action is None:
            return page(
                request, session, policy, None, error="choose an action to propose", status=422
            )
        form = read_form(action, values, show_missing=True)
        justification = values.get("justification", "")
        if not form.ok:
            return page(
                request,
                session,
                policy,
                action,
                form=form,
                justification=justification,
                error="some fields need attention; see the messages next to them",
                status=422,
            )
        try:
            order = service.propose(
                action=action.name,
                params=form.params,
                proposer=session.person,
                justification=justification,
            )
        except CosignatoryError as e:
            return page(
                request,
                session,
                policy,
                action,
                form=form,
                justification=justification,
                error=e.message,
                status=403 if e.code in (ErrorCode.NOT_PROPOSER, ErrorCode.NO_RULE) else 422,
            )
        return web.redirect(
            request,
            f"/orders/{order.id}",
            session=session,
            flash="Your order is proposed. It takes effect only when its cosignatories confirm it.",
        )

    @router.post("/propose")
    async def propose(request: Request) -> Response:
        # The fields depend on the action, so the form is read whole (not declared).
        async with request.form(max_files=0, max_fields=MAX_FORM_FIELDS) as data:
            values = _strings(data)
        return await run_in_threadpool(submit, request, values)
