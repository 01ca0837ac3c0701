"""Forecast: analytic checks, the engine as oracle for the quorum time, and the sampler."""

from __future__ import annotations

import math
import statistics
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosignatory.core.analysis import (
    Availability,
    Distribution,
    Response,
    WhatIf,
    apply_whatif,
    forecast_order,
    load_availability,
)
from cosignatory.core.analysis.ordstats import first_times, norm_ppf_of_tail
from cosignatory.core.analysis.quorum import hall_constraints, quorum_times, useful_responders
from cosignatory.core.errors import InputError, RefusedError
from cosignatory.core.policy import (
    OrderInput,
    Policy,
    ReviewDecision,
    ReviewInput,
    check_proposal,
    evaluate,
)

from .support import FIELD, NOW, ROOT, example, policy, small_policies

HOUR = 3600.0


def one_seat(count: int = 1, holders: int = 1, ttl: str = "24h") -> Policy:
    people = "\n".join(f"  h{i}: {{roles: [officer]}}" for i in range(holders))
    return policy(
        f"""
cosignatory: 1
name: one-seat
settings: {{ttl: {ttl}}}
people:
  boss: {{roles: [boss]}}
{people}
actions: {{go: {{}}}}
rules:
  - {{id: go, applies_to: go, proposers: [boss], require: [{{role: officer, count: {count}}}]}}
"""
    )


def everyone(pol: Policy, response: Response) -> Availability:
    model = Availability(name="test")
    for pid in pol.people:
        model = model.with_person(pid, response)
    return model


def exponential(median_h: float, reachable: float = 1.0) -> Response:
    return Response(
        reachable=reachable,
        distribution=Distribution.EXPONENTIAL,
        median=timedelta(hours=median_h),
    )


GO = OrderInput(action="go", params={}, proposer="boss")


def run(pol: Policy, model: Availability, runs: int = 200_000, seed: int = 1):
    return forecast_order(pol, GO, model, now=NOW, runs=runs, seed=seed)


def cdf(samples: np.ndarray, t: float) -> float:
    return float(np.mean(samples <= t))


def test_one_seat_one_person_exponential_matches_the_formula() -> None:
    pol = one_seat()
    f = run(pol, everyone(pol, exponential(1.0)))
    n = f.runs
    median = f.quantile("p50").value
    assert median is not None
    # sd of a sample median: 1 / (2 f(m) sqrt(n)) with f(m) = λ/2, i.e. m / (ln 2 sqrt(n))
    assert abs(median.total_seconds() / HOUR - 1.0) < 4 / (math.log(2) * math.sqrt(n))
    low, high = f.quantile("p50").low, f.quantile("p50").high
    assert low is not None and high is not None and low <= median <= high
    rate = math.log(2) / HOUR
    for t in (0.1, 0.5, 1, 2, 5):
        assert abs(cdf(f.samples, t * HOUR) - (1 - math.exp(-rate * t * HOUR))) < 0.005
    assert f.p_expired == pytest.approx(math.exp(-rate * 24 * HOUR), abs=1e-4)


def test_reachability_and_ttl_give_the_expiry_probability() -> None:
    pol = one_seat(ttl="2h")
    f = run(pol, everyone(pol, exponential(1.0, reachable=0.8)))
    rate = math.log(2) / HOUR
    expected = 1 - 0.8 * (1 - math.exp(-rate * 2 * HOUR))  # 0.4
    assert abs(f.p_expired - expected) < 4 * f.standard_error
    median = f.quantile("p50").value
    assert median is not None  # P(approved within 2h) = 0.6 > 0.5
    exact = -math.log(1 - 0.5 / 0.8) / rate
    assert median.total_seconds() == pytest.approx(exact, rel=0.02)
    assert f.quantile("p90").value is None  # beyond the TTL: expired


def test_lognormal_median_and_p90_are_the_ones_given() -> None:
    pol = one_seat()
    law = Response(reachable=1.0, median=timedelta(minutes=30), p90=timedelta(hours=3))
    f = run(pol, everyone(pol, law))
    median, p90 = f.quantile("p50").value, f.quantile("p90").value
    assert median is not None and p90 is not None
    assert median.total_seconds() == pytest.approx(1800, rel=0.015)
    assert p90.total_seconds() == pytest.approx(3 * HOUR, rel=0.02)


def test_a_seat_of_two_among_four_waits_for_the_second_fastest() -> None:
    pol = one_seat(count=2, holders=4)
    f = run(pol, everyone(pol, exponential(1.0)))
    # P(at least 2 of 4 by t) = 0.5: solve for F, then t = -ln(1 - F) / λ
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        below_two = (1 - mid) ** 4 + 4 * mid * (1 - mid) ** 3
        lo, hi = (mid, hi) if 1 - below_two < 0.5 else (lo, mid)
    exact = -math.log(1 - lo) / (math.log(2) / HOUR)
    median = f.quantile("p50").value
    assert median is not None
    assert median.total_seconds() == pytest.approx(exact, rel=0.015)


def test_a_person_holding_two_seats_makes_the_order_wait_for_both_officers() -> None:
    # field-command, large requisition: han is the only logistics officer, so the
    # political officer must be pak: approval = max(T_han, T_pak), CDF F², median at
    # F = √½. A count-based model would approve at han's answer alone.
    pol = example(FIELD)
    order = OrderInput(
        action="requisition", params={"item": "fuel", "amount": 5000}, proposer="kim"
    )
    f = forecast_order(pol, order, everyone(pol, exponential(1.0)), now=NOW, runs=200_000, seed=3)
    rate = math.log(2) / HOUR
    exact = -math.log(1 - math.sqrt(0.5)) / rate
    median = f.quantile("p50").value
    assert median is not None
    assert median.total_seconds() == pytest.approx(exact, rel=0.015)
    logistics = next(s for s in f.seats if s.role == "logistics")
    assert logistics.eligible == 1


def test_nobody_reachable_means_every_order_expires() -> None:
    pol = one_seat(holders=3)
    f = run(pol, everyone(pol, exponential(1.0, reachable=0.0)), runs=10_000)
    assert f.p_expired == 1.0 and f.p_approved == 0.0
    assert all(q.value is None for q in f.quantiles)
    assert f.bottleneck == () and f.expiry_cause == (("officer", 1.0),)
    assert f.mean_when_approved is None


def test_an_order_without_seats_is_approved_at_once() -> None:
    pol = policy(
        """
        cosignatory: 1
        name: free
        people: {ann: {roles: [dev]}}
        actions: {go: {}}
        rules: [{id: go, applies_to: go, require: []}]
        """
    )
    f = forecast_order(
        pol, OrderInput(action="go", proposer="ann"), Availability(name="x"), now=NOW, runs=100
    )
    assert f.p_expired == 0.0 and f.quantile("p99").value == timedelta(0)


def test_a_proposer_who_may_approve_counts_at_once() -> None:
    pol = policy(
        """
        cosignatory: 1
        name: self
        settings: {proposer_may_approve: true}
        people: {ann: {roles: [ops]}, bob: {roles: [ops]}}
        actions: {go: {}}
        rules: [{id: go, applies_to: go, require: [{role: ops}]}]
        """
    )
    f = forecast_order(
        pol,
        OrderInput(action="go", proposer="ann"),
        everyone(pol, exponential(5.0)),
        now=NOW,
        runs=1000,
    )
    assert f.p_expired == 0.0 and f.quantile("p99").value == timedelta(0)


def test_same_seed_same_forecast_and_a_refused_order_has_none() -> None:
    pol = one_seat(holders=2)
    model = everyone(pol, exponential(1.0, reachable=0.9))
    a, b = run(pol, model, runs=20_000, seed=7), run(pol, model, runs=20_000, seed=7)
    assert np.array_equal(a.samples, b.samples) and a.to_json() == b.to_json()
    assert not np.array_equal(a.samples, run(pol, model, runs=20_000, seed=8).samples)
    with pytest.raises(RefusedError):
        forecast_order(pol, OrderInput(action="go", proposer="h0"), model, now=NOW, runs=10)
    with pytest.raises(InputError, match="runs"):
        forecast_order(pol, GO, model, now=NOW, runs=0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_policies(), st.data())
def test_quorum_time_equals_replaying_the_responses_through_the_engine(
    pol: Policy, data: st.DataObject
) -> None:
    proposers = [p for p in sorted(pol.people) if _may_propose(pol, p)]
    if not proposers:
        return
    proposer = data.draw(st.sampled_from(proposers))
    order = OrderInput(action="act", params={}, proposer=proposer, created_at=NOW)
    reqs = check_proposal(pol, order, NOW).requirements
    seat = {r.role for r in reqs}
    eligible = [
        p
        for p in sorted(pol.people)
        if pol.people[p].roles & seat and (p != proposer or pol.settings.proposer_may_approve)
    ]
    times = {p: data.draw(st.none() | st.integers(1, 50).map(float), label=p) for p in eligible}
    if pol.settings.proposer_may_approve and proposer in times:
        times[proposer] = 0.0  # the forecast counts a self-approving proposer at once

    classes: dict[frozenset[str], list[float]] = {}
    for p in eligible:
        t = times[p]
        classes.setdefault(pol.people[p].roles & seat, []).append(math.inf if t is None else t)
    class_roles = list(classes)
    class_times = [np.array([sorted(classes[k])]) for k in class_roles]
    constraints = hall_constraints(
        reqs, class_roles, one_seat_per_person=pol.settings.one_seat_per_person
    )
    approval, _, _ = quorum_times(constraints, class_times, 1) if reqs else (np.zeros(1), 0, 0)
    # and only each class's first `useful` responders matter (what the sampler draws)
    useful = useful_responders(
        reqs, class_roles, one_seat_per_person=pol.settings.one_seat_per_person
    )
    if reqs:
        cut = [x[:, :n] for x, n in zip(class_times, useful, strict=True)]
        assert quorum_times(constraints, cut, 1)[0][0] == approval[0]

    reviews = [
        ReviewInput(reviewer=p, decision=ReviewDecision.APPROVE, at=NOW + timedelta(seconds=t))
        for p, t in times.items()
        if t is not None
    ]
    decision = evaluate(pol, order, reviews, NOW + timedelta(hours=1))
    engine = (
        math.inf if decision.approved_at is None else (decision.approved_at - NOW).total_seconds()
    )
    assert approval[0] == engine


def _may_propose(pol: Policy, pid: str) -> bool:
    try:
        check_proposal(pol, OrderInput(action="act", params={}, proposer=pid), NOW)
    except RefusedError:
        return False
    return True


def test_order_statistics_sampler_matches_direct_sampling() -> None:
    law = Response(reachable=0.7, median=timedelta(hours=1), p90=timedelta(hours=4))
    runs = 100_000
    fast = first_times(np.random.default_rng(5), members=6, response=law, needed=3, runs=runs)
    rng = np.random.default_rng(6)
    direct = np.exp(law.mu + law.sigma * rng.standard_normal((runs, 6)))
    direct[rng.random((runs, 6)) >= 0.7] = np.inf
    direct.sort(axis=1)
    for j in range(3):
        a, b = fast[:, j], direct[:, j]
        assert abs(np.mean(np.isinf(a)) - np.mean(np.isinf(b))) < 0.006
        grid = np.quantile(b[np.isfinite(b)], [0.1, 0.25, 0.5, 0.75, 0.9])
        for t in grid:  # Kolmogorov-style: the two CDFs agree everywhere we look
            assert abs(cdf(a, t) - cdf(b, t)) < 0.008


def test_normal_quantile_approximation() -> None:
    nd = statistics.NormalDist()
    e = np.exp(np.linspace(math.log(1e-10), math.log(500.0), 2000))
    ref = np.array([nd.inv_cdf(-math.expm1(-x)) if x < 3 else -nd.inv_cdf(math.exp(-x)) for x in e])
    assert np.max(np.abs(norm_ppf_of_tail(e) - ref)) < 1e-7


AVAIL_POLICY = example(FIELD)


def load(text: str) -> Availability:
    return load_availability(text, filename="avail.yaml", policy=AVAIL_POLICY)


def test_availability_errors_are_all_reported_with_positions() -> None:
    with pytest.raises(InputError) as caught:
        load(
            "availability: 1\n"
            "default: {reachable: 1.5, median: 1h, p90: 30m}\n"
            "roles:\n"
            "  politcal_officer: {reachable: 0.5}\n"
            "people:\n"
            "  pak: {distribution: exponential, median: 1h, p90: 2h, speed: 3}\n"
        )
    lines = caught.value.message.splitlines()
    assert any(line.startswith("avail.yaml:2:") and "between 0 and 1" in line for line in lines)
    assert any("`p90` must be longer than `median`" in line for line in lines)
    assert any("did you mean `political_officer`" in line for line in lines)
    assert any("remove `p90`" in line for line in lines)
    assert any("unknown key `speed`" in line for line in lines)


def test_availability_inheritance_and_the_most_pessimistic_role() -> None:
    model = load(
        "availability: 1\n"
        "default: {reachable: 0.9, median: 30m, p90: 2h}\n"
        "roles:\n"
        "  political_officer: {reachable: 0.7, median: 2h, p90: 8h}\n"
        "  logistics: {reachable: 0.5}\n"
        "people:\n"
        "  pak: {median: 10m, p90: 1h}\n"
        "  ri: {distribution: exponential, median: 1h}\n"
    )
    people = AVAIL_POLICY.people
    assert model.response(people["kim"]).reachable == 0.9  # default
    pak = model.response(people["pak"])
    assert (pak.reachable, pak.median) == (0.7, timedelta(minutes=10))  # role, then own
    han = model.response(people["han"])  # logistics and political_officer: the worse one
    assert han.reachable == 0.5 and han.median == timedelta(minutes=30)
    ri = model.response(people["ri"])
    assert ri.distribution is Distribution.EXPONENTIAL and ri.p90 is None
    with pytest.raises(InputError, match="add a `default`"):
        load("availability: 1\npeople: {pak: {reachable: 1}}\n").response(people["pak"])


@pytest.mark.parametrize("order_file", ["move-pending.json", "requisition-large.json"])
def test_shipped_availability_files_combat_is_slower_and_a_deputy_helps(order_file: str) -> None:
    import json

    raw = json.loads((ROOT / "examples/field-command/orders" / order_file).read_text())
    order = OrderInput(action=raw["action"], params=raw["params"], proposer=raw["proposer"])
    forecasts = {}
    for name in ("garrison", "combat"):
        path = ROOT / f"examples/field-command/availability-{name}.yaml"
        model = load_availability(path.read_text(), filename=str(path), policy=AVAIL_POLICY)
        forecasts[name] = forecast_order(AVAIL_POLICY, order, model, now=NOW, runs=50_000)
    assert forecasts["combat"].p_expired > forecasts["garrison"].p_expired
    if raw["action"] == "requisition":
        deputy, _ = apply_whatif(AVAIL_POLICY, WhatIf(grants=(("choe", "logistics"),)))
        path = ROOT / "examples/field-command/availability-combat.yaml"
        model = load_availability(path.read_text(), filename=str(path), policy=AVAIL_POLICY)
        helped = forecast_order(deputy, order, model, now=NOW, runs=50_000)
        assert helped.p_expired < forecasts["combat"].p_expired / 2


def test_two_people_holding_both_seat_roles_are_both_needed() -> None:
    # Seats a×1 and b×1, and only two people, each holding a and b: the sampler must
    # keep two responders of that class (Σ counts), not one (a regression guard).
    pol = policy(
        """
        cosignatory: 1
        name: twins
        people: {boss: {roles: [boss]}, x: {roles: [a, b]}, y: {roles: [a, b]}}
        actions: {go: {}}
        rules: [{id: go, applies_to: go, proposers: [boss], require: [{role: a}, {role: b}]}]
        """
    )
    f = run(pol, everyone(pol, exponential(1.0)))
    exact = -math.log(1 - math.sqrt(0.5)) / (math.log(2) / HOUR)  # max of two: F² = ½
    median = f.quantile("p50").value
    assert median is not None
    assert median.total_seconds() == pytest.approx(exact, rel=0.015)
    assert f.bottleneck[0][0] == "a + b"  # the pair of seats, jointly, is what it waits for
