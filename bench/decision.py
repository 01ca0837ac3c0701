"""Our full decision vs cedarpy's `is_authorized`, measured in the same run.

Both sides get an equivalent job: a policy of six rules with conditions on the order's
params, the proposer's roles and the action; cedarpy gets a pre-parsed PolicySet and
Entities (its fastest path). Ours additionally validates params, matches seats and
explains itself. Prints both medians, our p99 and the ratio (target: ours >= 3x faster).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import cedarpy

from cosignatory.core.policy import OrderInput, ReviewDecision, ReviewInput, evaluate, load_policy

POLICY = """
cosignatory: 1
name: bench
people:
  ana: {roles: [engineer]}
  ben: {roles: [engineer, release_manager]}
  cho: {roles: [release_manager]}
  dev: {roles: [release_manager]}
  eli: {roles: [security]}
  fay: {roles: [security, engineer]}
  gus: {roles: [dba]}
actions:
  deploy:
    params:
      service: {type: string, required: true}
      version: {type: string, required: true}
      environment: {type: string, required: true, enum: [staging, prod]}
      replicas: {type: integer, minimum: 1}
rules:
  - {id: staging, applies_to: deploy, when: 'params.environment == "staging"', proposers: [engineer], require: []}
  - {id: prod, applies_to: deploy, when: 'params.environment == "prod"', proposers: [engineer], require: [{role: release_manager, count: 2}]}
  - {id: auth, applies_to: deploy, when: 'params.environment == "prod" && params.service.startsWith("auth")', require: [{role: security}], veto: [security]}
  - {id: big, applies_to: deploy, when: 'has(params.replicas) && params.replicas > 50', require: [{role: release_manager, count: 2}]}
  - {id: db, applies_to: deploy, when: 'params.service.endsWith("-db")', require: [{role: dba}]}
  - {id: friday, applies_to: deploy, when: 'justification.contains("hotfix")', require: [{role: security}]}
"""

CEDAR = """
permit(principal in Role::"engineer", action == Action::"deploy", resource)
  when { context.environment == "staging" };
permit(principal in Role::"engineer", action == Action::"deploy", resource)
  when { context.environment == "prod" && context.approvals.contains("cho") && context.approvals.contains("dev") };
forbid(principal, action == Action::"deploy", resource)
  when { context.environment == "prod" && context.service like "auth*" && !context.approvals.contains("eli") };
forbid(principal, action == Action::"deploy", resource)
  when { context has replicas && context.replicas > 50 && context.approvals.isEmpty() };
forbid(principal, action == Action::"deploy", resource)
  when { context.service like "*-db" && !context.approvals.contains("gus") };
forbid(principal, action == Action::"deploy", resource)
  when { context.justification like "*hotfix*" && !context.approvals.contains("eli") };
"""

ENTITIES = (
    [
        {
            "uid": {"type": "User", "id": pid},
            "attrs": {},
            "parents": [{"type": "Role", "id": r} for r in roles],
        }
        for pid, roles in {
            "ana": ["engineer"],
            "ben": ["engineer", "release_manager"],
            "cho": ["release_manager"],
            "dev": ["release_manager"],
            "eli": ["security"],
            "fay": ["security", "engineer"],
            "gus": ["dba"],
        }.items()
    ]
    + [
        {"uid": {"type": "Role", "id": r}, "attrs": {}, "parents": []}
        for r in ["engineer", "release_manager", "security", "dba"]
    ]
    + [{"uid": {"type": "Service", "id": "auth-gateway"}, "attrs": {}, "parents": []}]
)

PARAMS = {"service": "auth-gateway", "version": "1.9.0", "environment": "prod", "replicas": 3}


def measure(fn, *, seconds: float) -> list[float]:
    """Per-call times (ns) of `fn`, for about `seconds`; warmed up first."""
    for _ in range(20):
        fn()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    return samples


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
    policy = load_policy(POLICY)
    order = OrderInput(action="deploy", params=PARAMS, proposer="ana", justification="rotate keys")
    reviews = [
        ReviewInput(reviewer=r, decision=ReviewDecision.APPROVE) for r in ("cho", "dev", "eli")
    ]
    now = datetime.now(UTC)
    ours = evaluate(policy, order, reviews, now)
    assert ours.status.value == "approved", ours.reasons

    policies = cedarpy.PolicySet.from_str(CEDAR)
    entities = cedarpy.Entities.from_json_str(json.dumps(ENTITIES))
    request = {
        "principal": 'User::"ana"',
        "action": 'Action::"deploy"',
        "resource": 'Service::"auth-gateway"',
        "context": {**PARAMS, "justification": "rotate keys", "approvals": ["cho", "dev", "eli"]},
    }
    theirs = cedarpy.is_authorized(request, policies, entities)
    assert theirs.decision == cedarpy.Decision.Allow, theirs

    # Many short interleaved rounds: on a shared machine the load drifts in seconds, so
    # each round's ratio compares the two sides under the same weather; the median of
    # the round ratios is the figure (with its spread), and the pooled medians too.
    ours_ns: list[float] = []
    cedar_ns: list[float] = []
    ratios: list[float] = []
    rounds = max(6, int(seconds / 0.2))
    for _ in range(rounds):
        ours = measure(lambda: evaluate(policy, order, reviews, now), seconds=seconds / rounds / 2)
        cedar = measure(
            lambda: cedarpy.is_authorized(request, policies, entities), seconds=seconds / rounds / 2
        )
        ours_ns += ours
        cedar_ns += cedar
        ratios.append(statistics.median(cedar) / statistics.median(ours))
    ours_med = statistics.median(ours_ns) / 1000
    cedar_med = statistics.median(cedar_ns) / 1000
    ours_p99 = statistics.quantiles(ours_ns, n=100)[98] / 1000
    ratio = statistics.median(ratios)
    low, high = statistics.quantiles(ratios, n=10)[0], statistics.quantiles(ratios, n=10)[-1]
    print(
        f"decision: cosignatory median {ours_med:.1f} us, p99 {ours_p99:.1f} us ({len(ours_ns)} calls)"
    )
    print(f"decision: cedarpy is_authorized median {cedar_med:.1f} us ({len(cedar_ns)} calls)")
    print(
        f"decision: ratio cedarpy/cosignatory = {ratio:.2f}x, median of {rounds} interleaved "
        f"rounds (p10 {low:.2f}x, p90 {high:.2f}x; pooled medians {cedar_med / ours_med:.2f}x) "
        "(target >= 3x)"
    )


if __name__ == "__main__":
    main()
