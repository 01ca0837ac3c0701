"""`policy analyze`, `policy diff` and `forecast` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosignatory.cli import main

from .support import ROOT

FIELD = ROOT / "examples/field-command"
CHANGE = ROOT / "examples/change-control"


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def flat(text: str) -> str:
    """Output without the terminal's line wrapping."""
    return " ".join(text.split())


def test_analyze_both_examples_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "policy", "analyze", FIELD / "policy.yaml", "--at", "2026-11-27T12:00:00Z"
    )
    assert code == 0
    assert "single_point_of_failure" in out and "sampled, not proven" in out
    code, out, _ = run(capsys, "policy", "analyze", CHANGE / "policy.yaml")
    assert code == 0
    assert "no_confirmation" in out and "weakest" in out


def test_analyze_json_with_what_if_and_fail_on(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "policy",
        "analyze",
        FIELD / "policy.yaml",
        "--json",
        "--grant",
        "kim=political_officer",
        "--set",
        "proposer_may_approve=true",
        "--fail-on",
        "critical",
    )
    assert code == 1  # a critical finding, and we asked to fail on it
    data = json.loads(out)
    assert data["summary"]["critical"] >= 1
    assert data["changes"] == ["proposer_may_approve: true", "`kim` granted `political_officer`"]
    code, out, _ = run(
        capsys, "policy", "analyze", FIELD / "policy.yaml", "--json", "--without", "pak,han"
    )
    assert code == 0
    assert any(f["kind"] == "deadlock" for f in json.loads(out)["findings"])


def test_analyze_bad_what_if_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "policy", "analyze", FIELD / "policy.yaml", "--grant", "kim")
    assert code == 2 and "NAME=VALUE" in err
    code, _, err = run(capsys, "policy", "analyze", FIELD / "policy.yaml", "--without", "kym")
    assert code == 2 and "did you mean `kim`" in err


def test_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (FIELD / "policy.yaml").read_text()
    new = tmp_path / "new.yaml"
    new.write_text(
        text.replace(
            "kim: {name: Col. Kim, roles: [commander]}",
            "kim: {name: Col. Kim, roles: [commander, military_police]}",
        )
    )
    code, out, _ = run(capsys, "policy", "diff", FIELD / "policy.yaml", new)
    assert code == 0 and "detain" in out and "-single point of failure: ri" in flat(out)
    code, out, _ = run(
        capsys, "policy", "diff", FIELD / "policy.yaml", new, "--json", "--fail-on", "warning"
    )
    data = json.loads(out)
    assert [a["action"] for a in data["actions"]] == ["detain"]
    assert code == 1  # kim now wears two hats on detentions: a new warning


def test_forecast_prints_percentiles_and_writes_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "cdf.png"
    code, out, _ = run(
        capsys,
        "forecast",
        FIELD / "policy.yaml",
        "--order",
        FIELD / "orders/requisition-large.json",
        "--availability",
        FIELD / "availability-garrison.yaml",
        "--availability",
        FIELD / "availability-combat.yaml",
        "--grant",
        "choe=logistics",
        "--compare",
        "--runs",
        "20000",
        "--plot",
        png,
    )
    assert code == 0
    assert "p50" in out and "P(expires)" in out and "combat" in out and "granted" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_forecast_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "forecast",
        CHANGE / "policy.yaml",
        "--order",
        CHANGE / "orders/prod-deploy-pending.json",
        "--availability",
        CHANGE / "availability-oncall.yaml",
        "--runs",
        "5000",
        "--json",
    )
    assert code == 0
    (f,) = json.loads(out)["forecasts"]
    assert f["runs"] == 5000 and set(f["quantiles_seconds"]) == {"p50", "p90", "p99"}
    assert 0.0 <= f["p_expired"] <= 1.0 and f["bottleneck"]


def test_forecast_refused_order_and_bad_availability(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
        "forecast",
        FIELD / "policy.yaml",
        "--order",
        FIELD / "orders/move-by-officer-refused.json",
        "--availability",
        FIELD / "availability-combat.yaml",
    )
    assert code == 1 and "not_proposer" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("availability: 1\ndefault: {reachable: 2, median: 1h, p90: 2h}\n")
    code, _, err = run(
        capsys,
        "forecast",
        FIELD / "policy.yaml",
        "--order",
        FIELD / "orders/move-pending.json",
        "--availability",
        bad,
    )
    assert code == 2 and f"{bad}:2:" in err
