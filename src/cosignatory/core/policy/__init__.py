"""The policy language: parse (YAML with positions), validate, conditions (CEL), evaluate."""

from cosignatory.core.policy.decision import (
    CountedReview,
    Decision,
    DecisionStatus,
    OrderInput,
    Refusal,
    ReviewDecision,
    ReviewInput,
    SeatState,
)
from cosignatory.core.policy.evaluate import Proposal, check_proposal, evaluate, requirements_of
from cosignatory.core.policy.model import (
    ALL_ACTIONS,
    Action,
    ParamSpec,
    ParamType,
    Person,
    Policy,
    Requirement,
    Rule,
    Settings,
)
from cosignatory.core.policy.parse import load_policy, policy_digest

__all__ = [
    "ALL_ACTIONS",
    "Action",
    "CountedReview",
    "Decision",
    "DecisionStatus",
    "OrderInput",
    "ParamSpec",
    "ParamType",
    "Person",
    "Policy",
    "Proposal",
    "Refusal",
    "Requirement",
    "ReviewDecision",
    "ReviewInput",
    "Rule",
    "SeatState",
    "Settings",
    "check_proposal",
    "evaluate",
    "load_policy",
    "policy_digest",
    "requirements_of",
]
