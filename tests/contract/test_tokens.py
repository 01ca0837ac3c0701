"""Bearer tokens: shown once, stored as hashes, refused when unknown, revoked or expired."""

from __future__ import annotations

import hashlib

import pytest

from cosignatory.core.errors import ErrorCode
from cosignatory.service import Service
from tests.conftest import Clock
from tests.contract.support import assert_log_consistent, refused


def test_a_token_authenticates_its_person(service: Service, clock: Clock) -> None:
    info, secret = service.create_token(person="pak", by="admin", label="laptop")
    principal = service.authenticate(secret)
    assert (principal.person, principal.is_admin, principal.token_id) == ("pak", False, info.id)
    assert info.id.startswith("tok_") and secret.startswith(info.id + ".")
    assert (info.label, info.created_by, info.created_at) == ("laptop", "admin", clock.now)
    admin_info, admin_secret = service.create_token(person="root", by="admin", admin=True)
    assert service.authenticate(admin_secret).is_admin
    assert [t.id for t in service.list_tokens()] == [info.id, admin_info.id]
    created = service.events(subject=info.id)
    assert [e.kind.value for e in created] == ["token:created"]
    assert secret not in created[0].payload_json
    assert_log_consistent(service)


def test_only_the_hash_is_stored(service: Service) -> None:
    _, secret = service.create_token(person="pak", by="admin")
    with service.store.begin_read() as conn:
        stored = conn.exec_driver_sql("SELECT secret_hash FROM tokens").scalar_one()
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.split(".", 1)[1] not in stored


@pytest.mark.parametrize(
    "forged",
    ["", "garbage", "tok_nope.secret", "x" * 300, "tok_.", "{real}x", "{id}.wrong"],
)
def test_unknown_tokens_are_refused(forged: str, service: Service) -> None:
    info, secret = service.create_token(person="pak", by="admin")
    attempt = forged.replace("{real}", secret).replace("{id}", info.id)
    refused(ErrorCode.UNAUTHENTICATED, lambda: service.authenticate(attempt))


def test_revoked_tokens_are_refused(service: Service, clock: Clock) -> None:
    info, secret = service.create_token(person="pak", by="admin")
    service.revoke_token(token_id=info.id, by="admin")
    service.revoke_token(token_id=info.id, by="admin")  # again: nothing more happens
    error = refused(ErrorCode.UNAUTHENTICATED, lambda: service.authenticate(secret))
    assert "revoked" in error.message
    (listed,) = service.list_tokens()
    assert (listed.revoked_by, listed.revoked_at) == ("admin", clock.now)
    assert not listed.is_active(clock.now)
    assert [e.kind.value for e in service.events(subject=info.id)] == [
        "token:created",
        "token:revoked",
    ]
    refused(ErrorCode.NOT_FOUND, lambda: service.revoke_token(token_id="tok_nope", by="admin"))


def test_tokens_expire(service: Service, clock: Clock) -> None:
    from datetime import timedelta

    _, secret = service.create_token(person="pak", by="admin", expires_in=timedelta(hours=1))
    assert service.authenticate(secret).person == "pak"
    clock.advance(hours=1)
    error = refused(ErrorCode.UNAUTHENTICATED, lambda: service.authenticate(secret))
    assert "expired" in error.message
    refused(
        ErrorCode.INVALID_INPUT,
        lambda: service.create_token(person="pak", by="admin", expires_in=timedelta(0)),
    )
    refused(ErrorCode.INVALID_INPUT, lambda: service.create_token(person="Pak!", by="admin"))


def test_get_order_as_checks_the_token_then_reads_the_order(service: Service) -> None:
    from tests.contract.support import launch, setup_squad

    setup_squad(service)
    order = launch(service)
    info, secret = service.create_token(person="cmd", by="admin")
    principal, view = service.get_order_as(secret, order.id)
    assert (principal.person, principal.token_id) == ("cmd", info.id)
    assert view == service.get_order(order.id)
    refused(ErrorCode.NOT_FOUND, lambda: service.get_order_as(secret, "ord_nope"))
    refused(ErrorCode.UNAUTHENTICATED, lambda: service.get_order_as("garbage", order.id))
    service.revoke_token(token_id=info.id, by="admin")
    refused(ErrorCode.UNAUTHENTICATED, lambda: service.get_order_as(secret, order.id))
