"""The audit log in the database (SQLite and PostgreSQL): appended with every event,
exported, verified and replayed; proofs from stored nodes; checkpoints only ever extend.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter

import pytest
from sqlalchemy import select, update

from cosignatory.core.audit import (
    AuditEntry,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    parse_and_verify,
    root_from_entries,
    verify_consistency,
    verify_inclusion,
)
from cosignatory.core.errors import CosignatoryError, ErrorCode
from cosignatory.core.lifecycle import OrderState
from cosignatory.service import InFlight, ReviewDecision, Service
from cosignatory.storage import Store
from cosignatory.storage.audit import StoredHashReader, audit_nodes, node_id, read_head
from cosignatory.storage.migrate import downgrade, upgrade
from cosignatory.storage.tables import events
from tests.conftest import Clock
from tests.contract.audit_support import SIGNER, VERIFIER, export, lines, random_day, verify
from tests.contract.policies import FIELD
from tests.contract.support import all_events, stored_states

MOVE = {"unit": "A1", "destination": "hill-412"}


@pytest.fixture
def audited(store: Store, clock: Clock) -> Service:
    return Service(store, clock=clock, audit_signer=SIGNER)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_day_on_the_service_exports_verifies_and_replays(
    audited: Service, clock: Clock, seed: int
) -> None:
    seen = random_day(audited, clock, random.Random(seed), steps=100)
    assert seen["ok"] > 30 and seen["refused"] > 5, seen
    audited.audit.sign()
    report = verify(export(audited))
    assert report.ok, report.problem
    assert report.entries == len(all_events(audited))
    assert report.replay is not None
    replayed = {s: n for s, n in report.replay.orders.items() if n}
    stored = Counter(stored_states(audited).values())
    assert replayed == dict(stored)


def test_every_event_is_one_leaf_carrying_the_order_digest_of_its_time(
    audited: Service, clock: Clock
) -> None:
    audited.publish_policy(yaml_text=FIELD, by="admin")
    order = audited.propose(action="move", params=MOVE, proposer="kim")
    clock.advance(minutes=5)
    audited.publish_policy(
        yaml_text=FIELD.replace("ttl: 24h", "ttl: 30h"), by="admin", in_flight=InFlight.REEVALUATE
    )
    repinned = audited.get_order(order.id)
    assert repinned.digest != order.digest
    audited.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE)

    evs = all_events(audited)
    stored = audited.audit.stored_entries(0, len(evs))
    assert [s.index for s in stored] == [e.seq for e in evs]
    digests = []
    for event, entry in zip(evs, stored, strict=True):
        value = json.loads(entry.entry)
        rebuilt = AuditEntry.from_event(
            seq=event.seq,
            at=event.at,
            kind=event.kind,
            actor=event.actor,
            subject=event.subject,
            payload=event.payload_json,
            order_digest=value.get("order_digest"),
        )
        assert rebuilt.to_bytes() == entry.entry
        assert entry.leaf_hash == leaf_hash(entry.entry)
        digests.append((event.kind.value, value.get("order_digest")))
    assert ("order:proposed", order.digest) in digests
    assert ("order:reviewed", repinned.digest) in digests
    assert ("order:approved", repinned.digest) in digests
    assert ("policy:published", None) in digests
    with audited.store.begin_read() as conn:
        assert read_head(conn).root() == root_from_entries([s.entry for s in stored])


def test_proofs_from_stored_nodes_verify_for_every_index_and_size(
    audited: Service, clock: Clock
) -> None:
    audited.publish_policy(yaml_text=FIELD, by="admin")
    for i in range(8):
        clock.advance(seconds=1)
        order = audited.propose(action="move", params={**MOVE, "unit": f"u{i}"}, proposer="kim")
        audited.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE)
    n = audited.audit.size()
    assert n == 2 + 8 * 3
    raw = audited.audit.entries(0, n)
    roots = [root_from_entries(raw[:size]) for size in range(n + 1)]
    with audited.store.begin_read() as conn:
        reader = StoredHashReader(conn)
        for size in range(1, n + 1):
            assert audited.audit.root_at(size) == roots[size]
            for index in range(size):
                proof = inclusion_proof(index, size, reader)
                verify_inclusion(leaf_hash(raw[index]), index, size, proof, roots[size])
            for first in range(size + 1):
                proof = consistency_proof(first, size, reader)
                verify_consistency(first, size, roots[first], roots[size], proof)


def test_checkpoints_are_signed_on_demand_and_always_extend_the_last(
    audited: Service, clock: Clock
) -> None:
    audited.publish_policy(yaml_text=FIELD, by="admin")
    first = audited.audit.sign()
    assert parse_and_verify(first.note, VERIFIER).size == first.size == 2
    assert audited.audit.sign() == first  # nothing new: the same checkpoint
    assert audited.audit.sign_if_grown() is None
    audited.propose(action="move", params=MOVE, proposer="kim")
    clock.advance(minutes=1)
    second = audited.audit.sign_if_grown()
    assert second is not None and second.size == 3
    proof = audited.audit.consistency_proof(first.size, second.size)
    verify_consistency(first.size, second.size, first.root_hash, second.root_hash, proof)
    assert audited.audit.checkpoint() == second
    assert verify(export(audited), since=first.note).ok


def test_the_log_refuses_to_sign_a_tree_inconsistent_with_its_last_checkpoint(
    audited: Service,
) -> None:
    audited.publish_policy(yaml_text=FIELD, by="admin")
    audited.create_token(person="kim", by="admin")
    signed = audited.audit.sign()
    audited.propose(action="move", params=MOVE, proposer="kim")
    with audited.store.begin_write() as conn:  # someone rewrites history in the database
        conn.execute(
            update(audit_nodes)
            .where(audit_nodes.c.id == node_id(1, 0))  # the hash of entries 0 and 1
            .values(hash=b"\x00" * 32)
        )
    with pytest.raises(CosignatoryError) as info:
        audited.audit.sign()
    assert info.value.code is ErrorCode.CONFLICT
    assert f"not consistent with the checkpoint of size {signed.size}" in info.value.message
    assert audited.audit.checkpoint() == signed


def test_an_event_row_edited_in_the_database_is_named_by_verify(audited: Service) -> None:
    audited.publish_policy(yaml_text=FIELD, by="admin")
    order = audited.propose(action="move", params=MOVE, proposer="kim")
    audited.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE)
    audited.audit.sign()
    target = next(e for e in all_events(audited) if e.kind.value == "order:proposed")
    with audited.store.begin_write() as conn:
        conn.execute(
            update(events)
            .where(events.c.seq == target.seq)
            .values(payload=target.payload_json.replace("hill-412", "hill-413"))
        )
    report = verify(export(audited))
    assert report.problem is not None and report.problem.tampered
    assert (report.problem.index, report.problem.line) == (target.seq, target.seq + 2)


def test_an_export_from_the_middle_and_with_an_earlier_checkpoint(audited: Service) -> None:
    audited.publish_policy(yaml_text=FIELD, by="admin")
    early = audited.audit.sign()
    for unit in ("a", "b", "c"):
        audited.propose(action="move", params={**MOVE, "unit": unit}, proposer="kim")
    audited.audit.sign()
    full = export(audited)
    tail = export(audited, start=early.size)
    assert lines(tail)[1:] == lines(full)[1 + early.size :]
    report = verify(tail, since=early.note)
    assert report.ok, report.problem
    assert (report.start, report.replay) == (early.size, None)


def test_the_migration_audits_events_logged_before_it(audited: Service, clock: Clock) -> None:
    random_day(audited, clock, random.Random(3), steps=40)
    audited.publish_policy(  # re-pins orders: the backfill must follow their digests
        yaml_text=FIELD.replace("ttl: 24h", "ttl: 40h"), by="admin", in_flight=InFlight.REEVALUATE
    )
    size = audited.audit.size()
    before = audited.audit.entries(0, min(size, 1000))
    with audited.store.begin_read() as conn:
        root = read_head(conn).root()
    downgrade(audited.store, "0001")
    upgrade(audited.store)
    after = Service(audited.store, clock=clock, audit_signer=SIGNER)
    assert after.audit.entries(0, min(size, 1000)) == before
    with after.store.begin_read() as conn:
        assert read_head(conn).root() == root
        assert len(conn.execute(select(audit_nodes.c.id)).all()) == 2 * size - size.bit_count()
    assert verify(export(after)).ok


def test_the_node_key_migration_keeps_every_hash_and_proof(audited: Service, clock: Clock) -> None:
    random_day(audited, clock, random.Random(5), steps=40)
    size = audited.audit.size()
    signed = audited.audit.sign()
    with audited.store.begin_read() as conn:
        nodes = {int(k): bytes(h) for k, h in conn.execute(select(audit_nodes))}
    downgrade(audited.store, "0002")  # back to level · 2**56 + index
    with audited.store.begin_read() as conn:
        old = {int(k): bytes(h) for k, h in conn.execute(select(audit_nodes))}
    assert old[1 << 56] == nodes[node_id(1, 0)] and old[0] == nodes[node_id(0, 0)]
    assert sorted(old.values()) == sorted(nodes.values())
    upgrade(audited.store)
    with audited.store.begin_read() as conn:
        assert {int(k): bytes(h) for k, h in conn.execute(select(audit_nodes))} == nodes
    after = Service(audited.store, clock=clock, audit_signer=SIGNER)
    root = after.audit.root_at(size)
    for index in (0, size // 3, size - 1):
        proof = after.audit.inclusion_proof(index, size)
        entry = after.audit.entries(index, index + 1)[0]
        verify_inclusion(leaf_hash(entry), index, size, proof, root)
    assert verify(export(after), since=signed.note).ok


def test_node_keys_are_distinct_and_grow_with_the_appends() -> None:
    created = []  # (level, index) in the order appends create them
    for seq in range(300):
        level = 0
        while True:
            created.append((level, seq >> level))
            if not (seq >> level) & 1:
                break
            level += 1
    keys = [node_id(level, index) for level, index in created]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert node_id(0, 7) == 7 * 64


def test_racing_writers_keep_the_tree_in_step_with_the_events(audited: Service) -> None:
    audited.publish_policy(yaml_text=FIELD, by="admin")
    barrier = threading.Barrier(6)

    def work(i: int) -> None:
        barrier.wait(timeout=30)
        for j in range(4):
            order = audited.propose(
                action="move", params={**MOVE, "unit": f"u{i}-{j}"}, proposer="kim"
            )
            audited.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert audited.audit.size() == len(all_events(audited)) == 2 + 6 * 4 * 3
    assert Counter(stored_states(audited).values()) == {OrderState.APPROVED: 24}
    audited.audit.sign()
    report = verify(export(audited))
    assert report.ok, report.problem
