"""`append_entry`: one append as a value, replayed the way storage will replay it."""

from __future__ import annotations

import pytest

from cosignatory.core.audit import (
    Frontier,
    MemoryHashStore,
    Node,
    TreeError,
    append_entry,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    root_from_entries,
    verify_consistency,
    verify_inclusion,
)
from cosignatory.core.canonical import canonical_json


def _entry(i: int) -> bytes:
    return canonical_json({"seq": i, "kind": "order:approved", "actor": "pak", "subject": i})


def test_appending_one_entry_per_transaction_keeps_everything_consistent() -> None:
    # storage keeps one frontier row plus node rows; simulate exactly that
    frontier = Frontier.empty()
    store = MemoryHashStore()
    roots = [frontier.root()]
    entries = []
    for i in range(70):
        entries.append(_entry(i))
        # the frontier goes through its one-row form between transactions
        frontier = Frontier.from_bytes(size=frontier.size, data=frontier.to_bytes())
        result = append_entry(frontier, entries[-1])
        store.put(result.nodes)
        frontier = result.frontier
        roots.append(result.root)

        assert result.index == i
        assert result.leaf_hash == leaf_hash(entries[-1])
        assert result.frontier.size == i + 1
        assert result.root == root_from_entries(entries) == root_at(i + 1, store)
        assert result.nodes[0] == Node(level=0, index=i, hash=result.leaf_hash)
        assert [(n.level, n.index) for n in result.nodes] == [
            (level, i >> level) for level in range(len(result.nodes))
        ]

    size = len(entries)
    for i in range(size):
        proof = inclusion_proof(i, size, store)
        verify_inclusion(leaf_hash(entries[i]), i, size, proof, roots[size])
    for first in range(size + 1):
        proof = consistency_proof(first, size, store)
        verify_consistency(first, size, roots[first], roots[size], proof)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": -1, "index": 0, "hash": bytes(32)}, "must not be negative"),
        ({"level": 0, "index": 0, "hash": bytes(31)}, "32 bytes"),
    ],
)
def test_node_invariants(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TreeError, match=message):
        Node(**kwargs)  # type: ignore[arg-type]
