"""What a person may do on an order page, and in words why not.

This mirrors the checks of `Service.review` so that a button is disabled *before* the
person tries; the service still decides (a page can be stale), and its refusal is
shown as a message when the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from cosignatory.core.lifecycle import OrderState
from cosignatory.core.policy import Policy, ReviewDecision
from cosignatory.service import OrderView
from cosignatory.web.present import STATE_LABELS, a, clock, roles_phrase

__all__ = ["PAST", "ReviewGate", "review_gate"]

PAST = {ReviewDecision.APPROVE: "approved", ReviewDecision.DENY: "denied"}


@dataclass(frozen=True, kw_only=True)
class ReviewGate:
    approve: bool
    deny: bool
    reason: str = ""  # why a button is disabled; empty when both are enabled
    note: str = ""  # what the person should know before acting
    cancel: bool = False  # the proposer (or an admin) may cancel this open order

    @property
    def any(self) -> bool:
        return self.approve or self.deny


def _can_cancel(order: OrderView, person: str, is_admin: bool) -> bool:
    open_states = (OrderState.PENDING, OrderState.APPROVED)
    return order.state in open_states and (person == order.proposer or is_admin)


def review_gate(order: OrderView, policy: Policy, person: str, *, is_admin: bool) -> ReviewGate:
    """`policy` is the version that governs `order` (its pinned one)."""
    cancel = _can_cancel(order, person, is_admin)
    if order.state is not OrderState.PENDING:
        label = STATE_LABELS[order.state]
        return ReviewGate(
            approve=False,
            deny=False,
            reason=f"This order is closed ({label}); it can no longer be reviewed.",
            cancel=cancel,
        )
    if person == order.proposer and not policy.settings.proposer_may_approve:
        return ReviewGate(
            approve=False,
            deny=False,
            reason="You proposed this order; another person must confirm it.",
            cancel=cancel,
        )
    mine = next((r for r in order.reviews if r.reviewer == person), None)
    if mine is not None:
        return ReviewGate(
            approve=False,
            deny=False,
            reason=f"You already {PAST[mine.decision]} this order at {clock(mine.at)}; "
            "a review cannot be changed.",
            cancel=cancel,
        )
    member = policy.people.get(person)
    if member is None:
        return ReviewGate(
            approve=False,
            deny=False,
            reason=f"You are not eligible: you are not in the roster of policy version "
            f"{order.policy_version}, which governs this order.",
            cancel=cancel,
        )
    needed = {seat.role for seat in order.seats}
    mine_roles = member.roles & needed
    vetoer = person in order.vetoers
    if not mine_roles:
        if vetoer:
            return ReviewGate(
                approve=False,
                deny=True,
                reason="You hold none of this order's seats, so an approval from you would "
                "not count; you may deny it, which vetoes it.",
                note="Your deny is a veto: it rejects the order at once.",
                cancel=cancel,
            )
        held = roles_phrase(member.roles, "and") or "no role"
        return ReviewGate(
            approve=False,
            deny=False,
            reason=f"You are not eligible: this order needs {a(roles_phrase(needed))}, "
            f"and you hold {held}.",
            cancel=cancel,
        )
    notes = []
    if vetoer:
        notes.append("Your deny is a veto: it rejects the order at once.")
    open_seat = any(seat.role in mine_roles and seat.missing > 0 for seat in order.seats)
    if not open_seat:
        notes.append(
            f"Every {roles_phrase(mine_roles)} seat is already filled; "
            "an approval from you would be recorded but not counted."
        )
    return ReviewGate(approve=True, deny=True, note=" ".join(notes), cancel=cancel)
