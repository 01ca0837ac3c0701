"""The local admin CLI end to end: `db`, `policy publish|history` and `order …`.

Runs `cli.main` in-process (exit codes, stdout, stderr) against a real database.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cosignatory.cli import main
from cosignatory.storage import head_revision
from tests.contract.policies import EXAMPLES

FIELD_FILE = str(EXAMPLES / "field-command" / "policy.yaml")


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], db: str) -> None:
        self.capsys, self.db = capsys, db

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*args, "--db", self.db])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, sqlite_template: Path) -> Cli:
    """On a SQLite copy only: the commands are the same code on either database, and the
    contract suite covers the databases themselves."""
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    return Cli(capsys, f"sqlite:///{path}")


def test_db_upgrade_creates_then_leaves_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli = Cli(capsys, f"sqlite:///{tmp_path / 'new.db'}")
    code, _, err = cli("order", "list")
    assert code == 2
    assert "no database at" in err and "cosignatory db upgrade" in err
    head = head_revision()
    code, out, _ = cli("db", "upgrade")
    assert (code, f"schema migrated empty → {head}" in out) == (0, True)
    code, out, _ = cli("db", "upgrade")
    assert (code, f"already at revision {head}" in out) == (0, True)
    status = cli.json("db", "status")
    assert status["revision"] == head
    assert status["policy"] is None and status["events"] == 0


def test_a_whole_lifecycle(cli: Cli) -> None:
    code, out, _ = cli("policy", "publish", FIELD_FILE, "--as", "admin")
    assert code == 0 and "as v1" in out
    code, out, _ = cli("policy", "publish", FIELD_FILE, "--as", "admin")
    assert code == 0 and "nothing published" in out

    order = cli.json("order", "propose", "move", "-p", "unit=3rd-bn", "-p", "destination=hill",
                     "--as", "kim", "-j", "advance")  # fmt: skip
    assert (order["state"], order["params"]) == (
        "pending",
        {"unit": "3rd-bn", "destination": "hill"},
    )
    oid = order["id"]
    code, out, _ = cli("order", "show", oid)
    assert code == 0 and "waiting for 1 more political_officer" in out

    code, _, err = cli("order", "approve", oid, "--as", "ri")
    assert code == 1 and err.startswith("error[not_eligible]: ")
    code, _, err = cli("order", "cancel", oid, "--as", "pak")
    assert code == 1 and err.startswith("error[forbidden]: ")
    approved = cli.json("order", "approve", oid, "--as", "pak", "-c", "confirmed")
    assert approved["state"] == "approved"
    assert approved["reviews"][0]["comment"] == "confirmed"

    claimed = cli.json("order", "claim", oid, "--as", "kim")
    code, _, err = cli("order", "claim", oid, "--as", "kim")
    assert code == 1 and err.startswith("error[already_executed]: ")
    code, _, err = cli("order", "result", oid, "--ticket", claimed["ticket"], "--outcome", "maybe")
    assert code == 2 and "succeeded or failed" in err
    done = cli.json("order", "result", oid, "--ticket", claimed["ticket"], "--outcome", "succeeded",
                    "--detail", "arrived")  # fmt: skip
    assert (done["state"], done["outcome_detail"]) == ("executed", "arrived")

    listed = cli.json("order", "list", "--state", "executed")
    assert [o["id"] for o in listed["items"]] == [oid] and listed["next_cursor"] is None
    events = cli.json("order", "events", oid)
    assert [e["kind"] for e in events] == [
        "order:proposed", "order:reviewed", "order:approved", "order:claimed", "order:executed",
    ]  # fmt: skip
    assert cli.json("order", "expire") == {"expired": []}
    history = cli.json("policy", "history")
    assert [(v["version"], v["published_by"]) for v in history] == [(1, "admin")]
    status = cli.json("db", "status")
    assert status["orders"]["executed"] == 1 and status["events"] == 7
    code, out, _ = cli("order", "list")
    assert code == 0 and oid in out and "executed" in out


def test_refusals_and_bad_input_have_distinct_exit_codes(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("order", "propose", "move", "--as", "kim")
    assert code == 1 and err.startswith("error[no_policy]: ")
    bad = tmp_path / "bad.yaml"
    bad.write_text("cosignatory: 1\nname: broken\n", encoding="utf-8")
    code, _, err = cli("policy", "publish", str(bad), "--as", "admin")
    assert code == 2 and err.startswith(f"{bad}:")
    cli("policy", "publish", FIELD_FILE, "--as", "admin")
    code, _, err = cli("order", "propose", "move", "-p", "unit=x", "--as", "kim")
    assert code == 1 and err.startswith("error[invalid_params]: ")
    code, _, err = cli("order", "propose", "move", "-p", "unit", "--as", "kim")
    assert code == 2 and "key=value" in err
    code, _, err = cli("order", "list", "--state", "bogus")
    assert code == 2 and "is not a state" in err
    code, _, err = cli("order", "show", "ord_nope")
    assert code == 1 and err.startswith("error[not_found]: ")
    code, _, err = cli("policy", "publish", FIELD_FILE, "--in-flight", "maybe")
    assert code == 2 and "keep, reevaluate or void" in err


def test_publish_reports_what_happened_in_flight(cli: Cli, tmp_path: Path) -> None:
    cli("policy", "publish", FIELD_FILE, "--as", "admin")
    cli.json("order", "propose", "move", "-p", "unit=a", "-p", "destination=b", "--as", "kim")
    changed = tmp_path / "v2.yaml"
    changed.write_text(Path(FIELD_FILE).read_text(encoding="utf-8").replace("ttl: 24h", "ttl: 12h"))
    code, out, _ = cli("policy", "publish", str(changed), "--in-flight", "void", "--as", "admin")
    assert code == 0
    assert "pending orders (void): 1 cancelled" in out
    assert cli.json("order", "list", "--state", "cancelled")["items"][0]["closed_by"] == "admin"
