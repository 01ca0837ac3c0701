"""The audit log at the edges: /v1/audit, the scheduled checkpoints, the web page's
source, and `cosignatory audit sign|export|prove|verify` against a real database."""

from __future__ import annotations

import base64
import json
import time
import warnings
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from cosignatory.cli import main
from cosignatory.cli.audit_sources import AuditClient, DatabaseLog, ServerLog
from cosignatory.core.audit import leaf_hash, parse_and_verify, verify_consistency, verify_inclusion
from cosignatory.core.canonical import canonical_json
from cosignatory.service import ReviewDecision, Service
from cosignatory.storage import Store
from cosignatory.web.audit_source import service_audit_source
from tests.conftest import Clock
from tests.contract.audit_support import SIGNER, VERIFIER, export, verify
from tests.contract.policies import FIELD

with warnings.catch_warnings():
    # starlette 1.x asks for `httpx2`; the project pins `httpx`, which still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

MOVE = {"unit": "A1", "destination": "hill-412"}


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


@pytest.fixture
def history(store: Store, clock: Clock) -> tuple[Service, str, str]:
    """A service with a key, an approved order, and pak's token."""
    service = Service(store, clock=clock, audit_signer=SIGNER)
    service.publish_policy(yaml_text=FIELD, by="admin")
    order = service.propose(action="move", params=MOVE, proposer="kim")
    clock.advance(minutes=3)
    service.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE)
    _, token = service.create_token(person="pak", by="admin")
    return service, order.id, token


def _app(service: Service) -> TestClient:
    from cosignatory.api import ApiSettings, create_app

    return TestClient(create_app(service, ApiSettings(sweep_interval=0)))


def test_the_endpoints_serve_a_checkpoint_entries_and_proofs_that_verify(
    history: tuple[Service, str, str],
) -> None:
    service, order_id, token = history
    auth = {"Authorization": f"Bearer {token}"}
    with _app(service) as http:
        body = http.get("/v1/audit/checkpoint").json()  # public
        checkpoint = parse_and_verify(body["note"], VERIFIER)
        assert (body["size"], _b64(body["root_hash"])) == (checkpoint.size, checkpoint.root_hash)
        size = checkpoint.size
        assert size == service.audit.size() == 6

        page = http.get("/v1/audit/entries", params={"start": 0, "end": 50}, headers=auth).json()
        assert page["tree_size"] == size
        assert [e["index"] for e in page["entries"]] == list(range(size))
        order = http.get(f"/v1/orders/{order_id}", headers=auth).json()
        for index in order["event_seqs"]:  # the Order JSON names its entries
            item = page["entries"][index]
            assert item["entry"]["subject"] == order_id
            raw = canonical_json(item["entry"])
            assert _b64(item["leaf_hash"]) == leaf_hash(raw)
            proof = http.get(
                "/v1/audit/proof/inclusion",
                params={"index": index, "tree_size": size},
                headers=auth,
            ).json()["proof"]
            verify_inclusion(
                leaf_hash(raw), index, size, [_b64(p) for p in proof], checkpoint.root_hash
            )

        consistency = http.get(
            "/v1/audit/proof/consistency", params={"first": 2, "second": size}, headers=auth
        ).json()["proof"]
        verify_consistency(
            2, size, service.audit.root_at(2), checkpoint.root_hash, [_b64(p) for p in consistency]
        )


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/v1/audit/entries", {"start": 0, "end": 5}, 401, "unauthenticated"),
        ("/v1/audit/entries", {"start": 0, "end": 5000}, 422, "invalid_input"),
        ("/v1/audit/entries", {"start": 5, "end": 2}, 422, "invalid_input"),
        ("/v1/audit/entries", {"start": -1, "end": 2}, 422, "invalid_input"),
        ("/v1/audit/proof/inclusion", {"index": 6, "tree_size": 6}, 422, "invalid_input"),
        ("/v1/audit/proof/inclusion", {"index": 0, "tree_size": 99}, 422, "invalid_input"),
        ("/v1/audit/proof/consistency", {"first": 5, "second": 3}, 422, "invalid_input"),
        ("/v1/audit/proof/consistency", {"first": 1, "second": 99}, 422, "invalid_input"),
    ],
)
def test_bad_requests_are_problems(
    history: tuple[Service, str, str], path: str, params: dict[str, int], status: int, code: str
) -> None:
    service, _, token = history
    headers = {} if status == 401 else {"Authorization": f"Bearer {token}"}
    with _app(service) as http:
        response = http.get(path, params=params, headers=headers)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_without_a_key_or_checkpoint_the_checkpoint_is_not_found(
    store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COSIGNATORY_AUDIT_KEY_FILE", raising=False)
    monkeypatch.delenv("COSIGNATORY_AUDIT_KEY", raising=False)
    service = Service(store, clock=clock)
    service.publish_policy(yaml_text=FIELD, by="admin")
    assert service_audit_source(service) is None
    with _app(service) as http:
        response = http.get("/v1/audit/checkpoint")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_server_signs_on_a_schedule_with_the_configured_key(
    store: Store, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "audit.key"
    key_file.write_text(SIGNER + "\n")
    key_file.chmod(0o600)
    monkeypatch.setenv("COSIGNATORY_AUDIT_KEY_FILE", str(key_file))
    monkeypatch.setenv("COSIGNATORY_AUDIT_CHECKPOINT_INTERVAL", "0.05")
    service = Service(store, clock=clock)  # no key given: the app finds it in the settings
    service.publish_policy(yaml_text=FIELD, by="admin")
    with _app(service) as http:
        first = http.get("/v1/audit/checkpoint").json()
        assert first["size"] == 2
        service.propose(action="move", params=MOVE, proposer="kim")
        deadline = time.monotonic() + 10
        while http.get("/v1/audit/checkpoint").json()["size"] < 3:
            assert time.monotonic() < deadline, "no checkpoint was signed on schedule"
            time.sleep(0.05)
    assert service.audit.verifier_key() == VERIFIER
    source = service_audit_source(service)
    assert source is not None and source.verifier_key() == VERIFIER


def test_the_export_over_http_is_the_export_from_the_database(
    history: tuple[Service, str, str],
) -> None:
    service, order_id, token = history
    service.audit.sign()
    with _app(service) as http:
        client = AuditClient("http://testserver", token)
        client._http = http  # the app in-process, through the same client code
        http.headers["Authorization"] = f"Bearer {token}"
        over_http = b"".join(ServerLog(client=client).export_lines(0))
        partial = b"".join(ServerLog(client=client).export_lines(3))
    assert over_http == export(service)
    assert partial == export(service, start=3)
    assert verify(over_http).ok
    assert DatabaseLog(service.audit).order_indices(order_id) == [2, 3, 4]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_commands_against_a_database(
    history: tuple[Service, str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service, order_id, _ = history
    monkeypatch.delenv("COSIGNATORY_AUDIT_KEY_FILE", raising=False)
    monkeypatch.delenv("COSIGNATORY_AUDIT_KEY", raising=False)
    key_file = tmp_path / "audit.key"
    key_file.write_text(SIGNER + "\n")
    key_file.chmod(0o600)
    db = service.store.url.render_as_string(hide_password=False)

    code, _, err = _run(capsys, "audit", "export", "--db", db)
    assert code == 1 and "has not signed a checkpoint yet" in err

    code, note, _ = _run(capsys, "audit", "sign", "--db", db, "--key-file", str(key_file))
    assert code == 0 and parse_and_verify(note, VERIFIER).size == 6

    service.cancel(order_id=order_id, by="kim")  # logged after that checkpoint
    code, out, _ = _run(capsys, "audit", "prove", order_id, "--db", db, "--key", VERIFIER, "--json")
    assert code == 0
    bundle = json.loads(out)
    assert bundle["signature_checked"] and bundle["tree_size"] == 6
    assert [e["index"] for e in bundle["entries"]] == [2, 3, 4]
    assert bundle["not_yet_covered"] == [6]

    log = tmp_path / "log.jsonl"
    code, out, _ = _run(capsys, "audit", "export", "--db", db, "--key-file", str(key_file))
    data = out.encode("utf-8")
    assert code == 0
    log.write_bytes(data)
    assert verify(data).ok and verify(data).entries == 7  # signed afresh, cancel included
    code, out, _ = _run(capsys, "audit", "verify", str(log), "--key", VERIFIER)
    assert code == 0 and "history replayed" in out
