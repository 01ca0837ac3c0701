"""End-to-end flows through the `cosignatory` command line, as a person types them.

`run` always runs as a real process (it starts commands and streams their output); the
other commands run through `cli.main` in this process, with the same environment
variables and exit codes, which keeps the suite quick.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cosignatory.cli import main
from cosignatory.core.policy import ReviewDecision
from tests.api.serverproc import (
    Deployment,
    ServerProcess,
    cli_env,
    cosignatory_command,
    run_cli,
)

pytestmark = pytest.mark.slow

MOVE_ARGS = ["-p", "unit=3rd-battalion", "-p", "destination=hill-412"]


Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    def invoke(d: Deployment, who: str | None, *args: str) -> subprocess.CompletedProcess[str]:
        for key, value in cli_env(d.url, d.tokens[who] if who is not None else None).items():
            if key.startswith("COSIGNATORY_") or key == "COLUMNS":
                monkeypatch.setenv(key, value)
        if who is None:
            monkeypatch.delenv("COSIGNATORY_TOKEN", raising=False)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return subprocess.CompletedProcess(
            ["cosignatory", *args], code, out.getvalue(), err.getvalue()
        )

    return invoke


def real_cli(d: Deployment, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(list(args), url=d.url, token=d.tokens[who])


def test_propose_approve_run_show(deployment: Deployment, tmp_path: Path, cli: Cli) -> None:
    proposed = cli(
        deployment, "kim", "propose", "move", *MOVE_ARGS, "--justification", "dawn", "--json"
    )
    assert proposed.returncode == 0, proposed.stderr
    order = json.loads(proposed.stdout)
    assert (order["state"], order["params"]) == (
        "pending",
        {"unit": "3rd-battalion", "destination": "hill-412"},
    )

    human = cli(deployment, "pak", "approve", order["id"], "--comment", "confirmed")
    assert human.returncode == 0, human.stderr
    assert f"{order['id']} move by kim: approved" in human.stdout
    assert "pak approved: confirmed" in human.stdout

    marker = tmp_path / "ran"
    script = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x'); print('moved')"
    ran = real_cli(deployment, "kim", "run", order["id"], "--", sys.executable, "-c", script)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "moved\n"
    assert marker.exists()

    shown = json.loads(cli(deployment, "kim", "show", order["id"], "--json").stdout)
    assert (shown["state"], shown["outcome"]) == ("executed", "succeeded")
    detail = json.loads(shown["outcome_detail"])
    assert detail["exit_status"] == 0
    assert detail["stdout_sha256"] == hashlib.sha256(b"moved\n").hexdigest()

    again = real_cli(
        deployment, "kim", "run", order["id"], "--", sys.executable, "-c", "print('twice')"
    )
    assert again.returncode == 1
    assert "error[already_executed]" in again.stderr
    assert "twice" not in again.stdout


def test_run_refuses_an_unapproved_order_and_runs_nothing(
    deployment: Deployment, tmp_path: Path
) -> None:
    order = deployment.pending("move")
    marker = tmp_path / "ran"
    script = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')"
    result = real_cli(deployment, "kim", "run", order.id, "--", sys.executable, "-c", script)
    assert result.returncode == 1
    assert "error[not_approved]" in result.stderr
    assert not marker.exists()
    assert deployment.service.get_order(order.id).state == "pending"


def test_run_records_a_failing_command(deployment: Deployment) -> None:
    order = deployment.approved()
    result = real_cli(
        deployment, "kim", "run", order.id, "--", sys.executable, "-c", "import sys; sys.exit(3)"
    )
    assert result.returncode == 3
    stored = deployment.service.get_order(order.id)
    assert (stored.state, stored.outcome) == ("failed", "failed")
    assert json.loads(stored.outcome_detail or "{}")["exit_status"] == 3


def _wait_and_run(
    d: Deployment, tmp_path: Path, decide: ReviewDecision
) -> tuple[subprocess.CompletedProcess[str], Path]:
    marker = tmp_path / f"ran-{decide}"
    script = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')"
    command = [
        *cosignatory_command(),
        "run",
        "--propose",
        "move",
        *MOVE_ARGS,
        "--justification",
        "wait",
        "--wait",
        "--timeout",
        "1m",
        "--poll",
        "0.1",
        "--",
        sys.executable,
        "-c",
        script,
    ]
    child = subprocess.Popen(
        command,
        env=cli_env(d.url, d.tokens["kim"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    order_id = None
    while order_id is None and time.monotonic() < deadline:
        pending, _ = d.service.list_orders(awaiting="pak", action="move", limit=200)
        waiting = [o for o in pending if o.justification == "wait"]
        order_id = waiting[0].id if waiting else None
        time.sleep(0.1)
    assert order_id is not None, "run --propose did not propose"
    assert child.poll() is None, "run --wait returned before the order was decided"
    d.service.review(order_id=order_id, reviewer="pak", decision=decide, comment="decided")
    stdout, stderr = child.communicate(timeout=60)
    return subprocess.CompletedProcess(command, child.returncode, stdout, stderr), marker


def test_run_propose_wait_runs_once_approved(deployment: Deployment, tmp_path: Path) -> None:
    result, marker = _wait_and_run(deployment, tmp_path, ReviewDecision.APPROVE)
    assert result.returncode == 0, result.stderr
    assert marker.exists()
    assert "political_officer 0/1" in result.stderr  # the seat view, before
    assert "approved" in result.stderr


def test_run_propose_wait_runs_nothing_when_vetoed(deployment: Deployment, tmp_path: Path) -> None:
    result, marker = _wait_and_run(deployment, tmp_path, ReviewDecision.DENY)
    assert result.returncode == 1
    assert not marker.exists()
    assert "rejected; nothing will run" in result.stderr


def test_execute_prints_only_the_ticket_then_result(deployment: Deployment, cli: Cli) -> None:
    order = deployment.approved()
    executed = cli(deployment, "jo", "execute", order.id)
    assert executed.returncode == 0, executed.stderr
    ticket = executed.stdout.strip()
    assert "\n" not in ticket and len(ticket) >= 22
    recorded = cli(
        deployment, "jo", "result", order.id, "--ticket", ticket, "--outcome", "succeeded", "--json"
    )
    assert recorded.returncode == 0, recorded.stderr
    assert json.loads(recorded.stdout)["state"] == "executed"


def test_list_awaiting_me_and_cancel(deployment: Deployment, cli: Cli) -> None:
    order = deployment.pending("detain")
    listed = json.loads(cli(deployment, "ri", "list", "--awaiting-me", "--json").stdout)
    assert order.id in [o["id"] for o in listed["items"]]
    table = cli(deployment, "ri", "list", "--awaiting-me")
    assert order.id in table.stdout  # ids are never truncated
    cancelled = cli(deployment, "kim", "cancel", order.id, "--reason", "called off")
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled" in cancelled.stdout


@pytest.mark.parametrize(
    ("who", "args", "exit_code", "message"),
    [
        pytest.param(
            "pak",
            ["deny", "ord_x"],
            2,
            "error[invalid_input]: say why with `--comment`",
            id="deny needs a comment",
        ),
        pytest.param(
            "kim",
            ["propose", "move", "-p", "unit"],
            2,
            "error[invalid_input]: `unit` is not key=value",
            id="param without =",
        ),
        pytest.param(None, ["list"], 2, "COSIGNATORY_TOKEN is not set", id="no token"),
        pytest.param("revoked", ["list"], 1, "error[unauthenticated]", id="revoked token"),
        pytest.param(
            "ri",
            ["propose", "move", "-p", "unit=a", "-p", "destination=b"],
            1,
            "error[not_proposer]",
            id="refused proposal",
        ),
        pytest.param(
            "kim",
            ["show", "ord_00000000000000000000000000"],
            1,
            "error[not_found]",
            id="unknown order",
        ),
        pytest.param(
            "kim",
            ["run", "--", "true"],
            2,
            "`cosignatory run ORDER -- COMMAND…`",
            id="run without an order",
        ),
    ],
)
def test_errors_and_exit_codes(
    cli: Cli, deployment: Deployment, who: str | None, args: list[str], exit_code: int, message: str
) -> None:
    result = cli(deployment, who, *args)
    assert result.returncode == exit_code, (result.stdout, result.stderr)
    assert message in result.stderr


def test_unreachable_server_exits_1(cli: Cli, deployment: Deployment) -> None:
    nowhere = Deployment(
        server=ServerProcess(db_url="", log_path=Path(), url="http://127.0.0.1:9"),
        service=deployment.service,
        tokens=deployment.tokens,
    )
    result = cli(nowhere, "kim", "list")
    assert result.returncode == 1
    assert "cannot reach `http://127.0.0.1:9`" in result.stderr
