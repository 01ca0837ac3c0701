"""`cosignatory audit init-key|key|verify` as a user runs them: files, output, exit codes."""

from __future__ import annotations

import json
import random
import stat
from pathlib import Path

import pytest

from cosignatory.cli import main
from cosignatory.core.audit import AuditEntry, parse_signer_key

from .history import SIGNER, VERIFIER, checkpoint_of, export_bytes, random_history


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_key_writes_a_private_file_and_prints_the_verifier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "log.key"
    code, out, err = run(
        capsys, "audit", "init-key", "--name", "example.org/log", "--out", str(key_file)
    )
    assert code == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    signer = parse_signer_key(key_file.read_text())
    assert signer.name == "example.org/log"
    assert out.strip() == signer.verifier().encode()
    assert "keep it secret" in err

    code, out2, _ = run(capsys, "audit", "key", "--key-file", str(key_file))
    assert (code, out2) == (0, out)

    code, _, err = run(capsys, "audit", "init-key", "--out", str(key_file))
    assert code == 2 and "exists; pass --force" in err
    code, out3, _ = run(capsys, "audit", "init-key", "--out", str(key_file), "--force")
    assert code == 0 and out3 != out


def test_init_key_to_stdout_and_bad_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "init-key", "--name", "a/b", "--out", "-")
    assert code == 0
    assert parse_signer_key(out).verifier().encode() in err
    code, _, err = run(capsys, "audit", "init-key", "--name", "has space", "--out", "-")
    assert code == 2 and "cannot name a log" in err


def test_key_refuses_a_key_file_others_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "log.key"
    key_file.write_text(SIGNER + "\n")
    key_file.chmod(0o644)
    code, _, err = run(capsys, "audit", "key", "--key-file", str(key_file))
    assert code == 2 and "chmod 600" in err
    key_file.chmod(0o600)
    code, out, _ = run(capsys, "audit", "key", "--key-file", str(key_file))
    assert (code, out.strip()) == (0, VERIFIER)
    code, _, err = run(capsys, "audit", "key", "--key-file", str(tmp_path / "missing"))
    assert code == 2 and "audit init-key" in err
    key_file.write_text(VERIFIER)
    code, _, err = run(capsys, "audit", "key", "--key-file", str(key_file))
    assert code == 2 and "does not hold an audit log signing key" in err


@pytest.fixture(scope="module")
def history_entries() -> list[AuditEntry]:
    return random_history(random.Random(11), steps=30).entries


def test_verify_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], history_entries: list[AuditEntry]
) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(export_bytes(history_entries))
    key_file = tmp_path / "verifier.txt"
    key_file.write_text(VERIFIER + "\n")

    code, out, _ = run(capsys, "audit", "verify", str(log), "--key", VERIFIER)
    assert code == 0, out
    assert "ok: entries 0–" in out and "history replayed" in out

    since = tmp_path / "earlier.checkpoint"
    since.write_text(checkpoint_of(history_entries, size=5))
    code, out, _ = run(
        capsys, "audit", "verify", str(log), "--key", str(key_file), "--since", str(since), "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["ok"] and report["since_size"] == 5 and report["replay"]["ok"]

    data = log.read_bytes()
    pos = data.index(b'"kind":"order:proposed"') + 10
    log.write_bytes(data[:pos] + b"X" + data[pos + 1 :])
    code, out, _ = run(capsys, "audit", "verify", str(log), "--key", VERIFIER)
    assert code == 1
    assert out.startswith("TAMPERED: entry ") and "line " in out

    code, out, _ = run(capsys, "audit", "verify", str(log), "--key", VERIFIER, "--json")
    assert code == 1
    problem = json.loads(out)["problem"]
    assert problem["tampered"] and problem["index"] == problem["line"] - 2


def test_verify_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], history_entries: list[AuditEntry]
) -> None:
    log = tmp_path / "log.jsonl"
    log.write_bytes(export_bytes(history_entries))
    code, _, err = run(capsys, "audit", "verify", str(log), "--key", "not-a-key")
    assert code == 2 and "not a verifier key" in err
    code, _, err = run(capsys, "audit", "verify", str(tmp_path / "nope.jsonl"), "--key", VERIFIER)
    assert code == 2 and "no such file" in err
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": "world"}\n')
    code, out, _ = run(capsys, "audit", "verify", str(other), "--key", VERIFIER)
    assert code == 2 and "not a cosignatory audit log export" in out
