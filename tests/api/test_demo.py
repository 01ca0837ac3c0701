"""`cosignatory demo`: the printed lines work when pasted into a second terminal."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.api.serverproc import REPO, cosignatory_command

pytestmark = pytest.mark.slow


def _block(printed: str, person: str) -> list[str]:
    """The command lines printed under `# person — …`, up to the blank line."""
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"# {person} "))
    block = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        block.append(line)
    return block


def _paste(lines: list[str], order_id: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run lines as a person pastes them into bash in the repository directory."""
    script = "set -e\n" + "\n".join(lines)
    if order_id is not None:
        script = script.replace("ORDER", order_id)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "COLUMNS": "200"}
    return subprocess.run(
        ["bash", "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_prints_lines_that_work(tmp_path: Path) -> None:
    out = tmp_path / "demo.out"
    with out.open("w") as sink:
        demo = subprocess.Popen(
            [*cosignatory_command(), "demo", "--dir", str(tmp_path / ".demo"), "--port", "0"],
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        url = None
        while time.monotonic() < deadline and demo.poll() is None:
            printed = out.read_text()
            found = re.search(r"^server: (http://127\.0\.0\.1:\d+)", printed, re.M)
            if found and "Stop the server with Ctrl-C" in printed:
                url = found.group(1)
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        assert url is not None, out.read_text()
        printed = out.read_text()
        for person in ("kim", "jo", "pak", "han", "ri", "choe", "admin"):
            assert f"export COSIGNATORY_URL={url} COSIGNATORY_TOKEN=tok_" in "\n".join(
                _block(printed, person)
            )

        kim = _block(printed, "kim")
        export, propose = kim[0], next(line for line in kim if " propose move " in line)
        assert propose.startswith(
            ".venv/bin/cosignatory propose move -p unit=3rd-battalion -p destination=hill-412"
        )
        proposed = _paste([export, propose])
        assert proposed.returncode == 0, proposed.stderr
        order_id = re.search(r"\b(ord_[0-9A-Z]{26})\b", proposed.stdout)
        assert order_id is not None, proposed.stdout

        pak = _block(printed, "pak")
        awaiting = _paste([pak[0], next(line for line in pak if "list --awaiting-me" in line)])
        assert order_id.group(1) in awaiting.stdout
        approved = _paste(
            [pak[0], next(line for line in pak if " approve ORDER" in line)], order_id.group(1)
        )
        assert approved.returncode == 0, approved.stderr
        assert "approved" in approved.stdout

        ran = _paste(
            [export, next(line for line in kim if " run ORDER -- " in line)], order_id.group(1)
        )
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.strip() == "order carried out"
        assert "succeeded (exit 0)" in ran.stderr

        # The audit log: exported with the demo's key, it verifies with the printed key,
        # and a one-byte change fails with the index of the changed entry.
        audit = [
            line.replace("log.jsonl", str(tmp_path / "log.jsonl"))
            for line in printed.splitlines()
            if " audit export " in line or " audit verify " in line
        ]
        export_log, verify_log = audit
        verified = _paste([export_log, verify_log])
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "1 order(s) (1 executed)" in verified.stdout
        log = tmp_path / "log.jsonl"
        log.write_bytes(log.read_bytes().replace(b"hill-412", b"hill-413", 1))
        tampered = _paste([verify_log])
        assert tampered.returncode == 1
        assert re.match(r"TAMPERED: entry \d+, line \d+: ", tampered.stdout), tampered.stdout
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl-C, as the demo says
        # uvicorn shuts down gracefully, then re-raises SIGINT: the shell's 130.
        assert demo.wait(timeout=20) in (0, 130), out.read_text()
        assert "Traceback" not in out.read_text()
