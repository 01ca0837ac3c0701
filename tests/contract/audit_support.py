"""Helpers for the audit contract tests: a random day on the real service, and exports."""

from __future__ import annotations

import io
import random
from collections.abc import Iterable

from cosignatory.core.audit import VerifyReport, key_from_seed, verify_export
from cosignatory.core.errors import CosignatoryError
from cosignatory.core.lifecycle import OrderState
from cosignatory.service import InFlight, OrderView, Outcome, ReviewDecision, Service
from tests.conftest import Clock
from tests.contract.policies import FIELD

ORIGIN = "contract.test/audit"
SIGNER, VERIFIER = key_from_seed(ORIGIN, bytes(range(7, 39)))
PEOPLE = ("kim", "jo", "pak", "han", "ri", "choe", "mallory")
PROPOSERS = ("kim", "kim", "jo", "jo", "pak", "mallory")  # mostly commanders
REVIEWERS = ("pak", "han", "ri", "choe", "pak", "han", "kim", "mallory")
PROPOSALS = (
    ("move", {"unit": "A1", "destination": "hill-412"}),
    ("detain", {"person": "pvt-so", "reason": "desertion"}),
    ("transfer", {"person": "sgt-yun", "to_unit": "2nd"}),
    ("requisition", {"item": "fuel", "amount": 5000}),
    ("requisition", {"item": "fuel", "amount": "lots"}),  # refused: invalid params
)


def random_day(service: Service, clock: Clock, rng: random.Random, steps: int) -> dict[str, int]:
    """Drive the real service at random, refusals included; returns what happened."""
    seen = {"ok": 0, "refused": 0}
    tickets: dict[str, str] = {}
    orders: list[str] = []

    def attempt(fn: object) -> object:
        try:
            result = fn()  # type: ignore[operator]
        except CosignatoryError:
            seen["refused"] += 1
            return None
        seen["ok"] += 1
        return result

    service.publish_policy(yaml_text=FIELD, by="admin")
    for _ in range(steps):
        clock.advance(minutes=rng.choice((1, 1, 7, 40, 200, 900)))
        roll = rng.random()
        any_order = rng.choice(orders) if orders else None

        def pick(state: OrderState, fallback: str | None = any_order) -> str | None:
            """Mostly an order in `state` (lawful moves), sometimes any (refusals)."""
            fitting = [o for o in orders[-10:] if service.get_order(o).state is state]
            return rng.choice(fitting) if fitting and rng.random() < 0.85 else fallback

        order_id = any_order
        if roll < 0.25 or order_id is None:
            action, params = rng.choice(PROPOSALS)
            view = attempt(
                lambda a=action, p=params: service.propose(
                    action=a, params=p, proposer=rng.choice(PROPOSERS), justification="orders"
                )
            )
            if isinstance(view, OrderView):
                orders.append(view.id)
        elif roll < 0.60:
            decision = ReviewDecision.DENY if rng.random() < 0.2 else ReviewDecision.APPROVE
            target = pick(OrderState.PENDING)
            attempt(
                lambda o=target, d=decision: service.review(
                    order_id=o, reviewer=rng.choice(REVIEWERS), decision=d, comment="né — ok"
                )
            )
        elif roll < 0.72:
            target = pick(OrderState.APPROVED)
            claimed = attempt(lambda o=target: service.claim(order_id=o, by=rng.choice(PEOPLE)))
            if isinstance(claimed, tuple) and target is not None:
                tickets[target] = claimed[1]
        elif roll < 0.82 and tickets:
            done, ticket = rng.choice(sorted(tickets.items()))
            outcome = Outcome.SUCCEEDED if rng.random() < 0.8 else Outcome.FAILED
            attempt(
                lambda o=done, t=ticket, r=outcome: service.record_result(
                    order_id=o, ticket=t, outcome=r
                )
            )
        elif roll < 0.88:
            target = pick(OrderState.PENDING)
            by = service.get_order(target).proposer if target and rng.random() < 0.7 else "pak"
            attempt(
                lambda o=target, b=by: service.cancel(order_id=o, by=b, as_admin=rng.random() < 0.2)
            )
        elif roll < 0.93:
            attempt(service.expire_due)
        elif roll < 0.96:
            attempt(lambda: service.create_token(person=rng.choice(PEOPLE), by="admin"))
        else:
            text = FIELD.replace("ttl: 24h", rng.choice(("ttl: 24h", "ttl: 3h", "ttl: 30h")))
            mode = rng.choice(list(InFlight))
            attempt(
                lambda t=text, m=mode: service.publish_policy(yaml_text=t, by="admin", in_flight=m)
            )
    return seen


def export(service: Service, start: int = 0) -> bytes:
    return b"".join(service.audit.export_lines(start))


def verify(data: bytes, *, since: str | None = None) -> VerifyReport:
    return verify_export(io.BytesIO(data), verifier_key=VERIFIER, since_note=since)


def lines(data: bytes) -> list[bytes]:
    return [line + b"\n" for line in data.split(b"\n")[:-1]]


def joined(parts: Iterable[bytes]) -> bytes:
    return b"".join(parts)
