"""Policy rules as sentences a person reads: "Every order needs 1 political officer, who may veto."

Values from the policy (action names, conditions) are `backticked`; the templates show
them as code.
"""

from __future__ import annotations

from cosignatory.core.policy import ALL_ACTIONS, Requirement, Rule
from cosignatory.web.present import a, join_words, role_name, roles_phrase

__all__ = ["rule_sentence", "seat_phrase"]


def seat_phrase(requirement: Requirement) -> str:
    """`1 political officer`, `2 release managers`."""
    if requirement.count == 1:
        return f"1 {role_name(requirement.role)}"
    return role_name(requirement.role, requirement.count)


def _subject(rule: Rule) -> str:
    if ALL_ACTIONS in rule.applies_to:
        subject = "Every order"
    else:
        names = join_words((f"`{a}`" for a in sorted(rule.applies_to)), "or")
        subject = f"Every {names} order"
    if rule.when:
        subject += f" where `{rule.when}`"
    return subject


def _veto(rule: Rule) -> str:
    if not rule.veto:
        return ""
    required = {r.role for r in rule.require}
    if len(rule.require) == 1 and rule.veto == required:
        return ", who may veto" if rule.require[0].count == 1 else ", any of whom may veto"
    return f"; {a(roles_phrase(rule.veto))} may veto it"


def rule_sentence(rule: Rule) -> str:
    """The whole rule in one or a few sentences."""
    if rule.require:
        needs = "needs " + join_words(seat_phrase(r) for r in rule.require)
    else:
        needs = "needs no cosignatory"
    text = f"{_subject(rule)} {needs}{_veto(rule)}."
    if rule.proposers is not None:
        text += f" Only {a(roles_phrase(rule.proposers))} may propose it."
    if rule.reject_after_denials is not None:
        n = rule.reject_after_denials
        text += f" It is rejected after {n} denial{'s' if n != 1 else ''}."
    return text
