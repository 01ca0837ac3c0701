"""Policy analysis (who could act alone, who can block) and time-to-quorum forecasting.

Pure: no I/O, no clock (`now` is an argument), seeded randomness only.

    scenarios    sample orders → the combinations of rules an action can match (sampled)
    coalitions   minimum coalitions per combination (exact, engine matching)
    blockers     single points of failure, single-deny blockers, deadlocks
    duties       separation-of-duties conflicts
    findings     severity-ranked findings, merged across actions
    report       `analyze_policy` → `PolicyAnalysis` (stable JSON)
    whatif/diff  edited rosters and settings; what a policy change does
    availability, ordstats, quorum, forecast
                 Monte Carlo time to approval
"""

from cosignatory.core.analysis.availability import (
    Availability,
    Distribution,
    Response,
    load_availability,
)
from cosignatory.core.analysis.coalitions import Coalitions, is_coalition, minimum_coalitions
from cosignatory.core.analysis.diff import PolicyDiff, diff_analyses
from cosignatory.core.analysis.findings import Finding, FindingKind, Place, Severity
from cosignatory.core.analysis.forecast import Forecast, Quantile, forecast_order, format_span
from cosignatory.core.analysis.report import METHOD, PolicyAnalysis, analyze_policy
from cosignatory.core.analysis.results import ActionAnalysis, ScenarioAnalysis
from cosignatory.core.analysis.scenarios import Exploration, Scenario, explore_action
from cosignatory.core.analysis.whatif import WhatIf, apply_whatif

__all__ = [
    "METHOD",
    "ActionAnalysis",
    "Availability",
    "Coalitions",
    "Distribution",
    "Exploration",
    "Finding",
    "FindingKind",
    "Forecast",
    "Place",
    "PolicyAnalysis",
    "PolicyDiff",
    "Quantile",
    "Response",
    "Scenario",
    "ScenarioAnalysis",
    "Severity",
    "WhatIf",
    "analyze_policy",
    "apply_whatif",
    "diff_analyses",
    "explore_action",
    "forecast_order",
    "format_span",
    "is_coalition",
    "load_availability",
    "minimum_coalitions",
]
