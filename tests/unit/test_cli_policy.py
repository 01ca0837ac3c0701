"""`cosignatory policy check|evaluate` as a user runs them (exit codes, output contract)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosignatory.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIELD = str(ROOT / "examples/field-command/policy.yaml")
CHANGE = str(ROOT / "examples/change-control/policy.yaml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_examples_ok(capsys):
    code, out, _ = run(capsys, "policy", "check", FIELD, CHANGE)
    assert code == 0
    assert "field-command" in out and "change-control" in out


def test_check_reports_every_error_with_positions(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path(FIELD)
        .read_text()
        .replace("    require: [{role: military_police}]", "    requires: [{role: military_polce}]")
        .replace("proposers: [commander]", "proposers: [comander]")
    )
    code, _out, err = run(capsys, "policy", "check", str(bad))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) >= 3, err
    assert all(line.startswith(f"{bad}:") for line in lines)
    assert any(
        "unknown key `requires`" in line and "did you mean `require`?" in line for line in lines
    )
    assert any("`comander`" in line for line in lines)


def test_check_missing_file(capsys):
    code, _, err = run(capsys, "policy", "check", "/nonexistent.yaml")
    assert code == 2 and "no such file" in err


@pytest.mark.parametrize(
    ("policy", "order", "status", "matched"),
    [
        (FIELD, "move-approved.json", "approved", ["political-confirmation"]),
        (FIELD, "move-pending.json", "pending", ["political-confirmation"]),
        (FIELD, "detain-vetoed.json", "rejected", ["political-confirmation", "detentions"]),
        (
            FIELD,
            "requisition-large.json",
            "approved",
            ["political-confirmation", "large-requisitions"],
        ),
        (FIELD, "move-by-officer-refused.json", "refused", []),
        (CHANGE, "prod-deploy-pending.json", "pending", ["prod-two-release-managers"]),
        (CHANGE, "prod-deploy-self-approval.json", "pending", ["prod-two-release-managers"]),
        (
            CHANGE,
            "auth-deploy-approved.json",
            "approved",
            ["prod-two-release-managers", "auth-needs-security"],
        ),
        (CHANGE, "staging-deploy.json", "approved", ["staging-free"]),
    ],
)
def test_evaluate_examples_json(capsys, policy, order, status, matched):
    path = Path(policy).parent / "orders" / order
    code, out, _ = run(capsys, "policy", "evaluate", policy, "--input", str(path), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["status"] == status
    assert result["matched_rules"] == matched
    assert set(result) >= {"status", "matched_rules", "seats", "missing", "vetoers", "reasons"}
    assert ("error" in result) == (status == "refused")


def test_evaluate_reads_stdin(capsys, monkeypatch):
    import io

    order = {
        "action": "move",
        "params": {"unit": "a", "destination": "b"},
        "proposer": "kim",
        "reviews": [{"reviewer": "han", "decision": "approve"}],
        "at": "2026-01-01T00:00:00Z",
    }
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(order)))
    code, out, _ = run(capsys, "policy", "evaluate", FIELD, "--input", "-", "--json")
    assert code == 0 and json.loads(out)["seats"][0]["filled_by"] == ["han"]


def test_evaluate_human_output(capsys):
    path = Path(FIELD).parent / "orders" / "move-pending.json"
    code, out, _ = run(capsys, "policy", "evaluate", FIELD, "--input", str(path))
    assert code == 0
    assert "pending" in out and "political_officer" in out and "han, pak" in out


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[]", "must be a JSON object"),
        (
            '{"action": "move", "proposer": "kim", "reviews": [{"reviewer": "pak", "decision": "ok"}]}',
            "reviews[0].decision must be `approve` or `deny`",
        ),
        ('{"action": "move", "proposer": "kim", "at": "yesterday"}', "not an RFC 3339 timestamp"),
        ('{"action": "move", "proposer": "kim", "at": "2026-01-01T00:00:00"}', "has no timezone"),
        ('{"action": "move", "proposer": "kim", "extra": 1}', "unknown key `extra`"),
    ],
)
def test_evaluate_malformed_input_exits_2(tmp_path, capsys, payload, message):
    path = tmp_path / "order.json"
    path.write_text(payload)
    code, out, err = run(capsys, "policy", "evaluate", FIELD, "--input", str(path), "--json")
    assert code == 2
    assert message in err and out == ""


def test_evaluate_with_invalid_policy_exits_2(tmp_path, capsys):
    bad = tmp_path / "p.yaml"
    bad.write_text("cosignatory: 1\n")
    order = tmp_path / "o.json"
    order.write_text('{"action": "move", "proposer": "kim"}')
    code, _, err = run(capsys, "policy", "evaluate", str(bad), "--input", str(order))
    assert code == 2 and f"{bad}:1:1:" in err


@pytest.mark.parametrize(
    "args", [["policy", "check"], ["policy", "nonsense"], ["policy", "evaluate", FIELD, "--bogus"]]
)
def test_usage_errors_exit_2_without_traceback(capsys, args):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert "Traceback" not in err and "Error" in err
