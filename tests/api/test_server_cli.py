"""`cosignatory serve --policy` and `cosignatory token create|list|revoke` against a database."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from cosignatory.cli import main
from cosignatory.client import ApiError, Client
from cosignatory.service import Service
from cosignatory.storage.migrate import upgrade
from cosignatory.storage.store import open_store
from tests.api.serverproc import FIELD_COMMAND, ServerProcess

pytestmark = pytest.mark.slow


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_tokens_and_serve_publishes_a_changed_policy_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    store = open_store(db_url, create=True, check_schema=False)
    upgrade(store)
    service = Service(store)

    code, token, err = _run("token", "create", "pak", "--db", db_url, "--label", "laptop")
    assert code == 0, err
    token = token.strip()
    assert token.startswith("tok_") and "\n" not in token
    assert "shown only once" in err
    code, _, _ = _run("token", "create", "root", "--admin", "--expires", "1h", "--db", db_url)
    assert code == 0
    code, listed, _ = _run("token", "list", "--db", db_url, "--json")
    tokens = {t["person"]: t for t in json.loads(listed)}
    assert tokens["pak"]["label"] == "laptop" and not tokens["pak"]["is_admin"]
    assert tokens["root"]["is_admin"] and tokens["root"]["expires_at"]
    assert token not in listed, "token list never shows secrets"
    assert _run("token", "create", "pak", "--expires", "soon", "--db", db_url)[0] == 2

    policy = tmp_path / "policy.yaml"
    policy.write_text(FIELD_COMMAND.read_text())
    versions = []
    for text in (None, None, FIELD_COMMAND.read_text().replace("ttl: 24h", "ttl: 12h")):
        if text is not None:
            policy.write_text(text)
        server = ServerProcess(
            db_url=db_url, log_path=tmp_path / "serve.log", extra_args=("--policy", str(policy))
        ).start()
        try:
            with Client(server.url, token) as pak:
                versions.append(pak.get_policy().version)
        finally:
            server.stop()
    assert versions == [1, 1, 2]

    token_id = tokens["pak"]["id"]
    assert _run("token", "revoke", token_id, "--db", db_url)[0] == 0
    server = ServerProcess(db_url=db_url, log_path=tmp_path / "serve2.log").start()
    try:
        with Client(server.url, token) as pak, pytest.raises(ApiError) as refused:
            pak.get_policy()
        assert refused.value.status == 401
    finally:
        server.stop()
        service.store.close()


def test_serve_refuses_a_missing_database(tmp_path: Path) -> None:
    code, _, err = _run("serve", "--db", f"sqlite:///{tmp_path / 'nope.db'}", "--port", "0")
    assert code == 2
    assert "cosignatory db upgrade" in err
