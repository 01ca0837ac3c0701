"""Merkle tree, node store and proofs against a naive RFC 6962 §2.1 reference.

The reference below is written straight from the RFC's recursive definitions of MTH,
PATH and PROOF, on plain `hashlib`, and shares no code with `cosignatory.core.audit`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosignatory.core.audit import (
    EMPTY_ROOT,
    CompactRange,
    Frontier,
    MemoryHashStore,
    NodeAddress,
    ProofError,
    TreeError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    root_from_entries,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from cosignatory.core.canonical import canonical_json

# --- the naive reference (RFC 6962 §2.1) -----------------------------------------------

ENTRIES = [
    canonical_json({"seq": i, "kind": "order:proposed", "subject": f"o-{i}", "pad": "x" * (i % 9)})
    for i in range(4096)
]


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1), by counting."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def ref_mth(lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) over ENTRIES."""
    n = hi - lo
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + ENTRIES[lo])
    k = _k(n)
    return _sha(b"\x01" + ref_mth(lo, lo + k) + ref_mth(lo + k, hi))


def ref_path(m: int, lo: int, hi: int) -> list[bytes]:
    """PATH(m, D[lo:hi])."""
    n = hi - lo
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, lo, lo + k), ref_mth(lo + k, hi)]
    return [*ref_path(m - k, lo + k, hi), ref_mth(lo, lo + k)]


def ref_subproof(m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[lo:hi], b)."""
    n = hi - lo
    if m == n:
        return [] if whole else [ref_mth(lo, hi)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, lo, lo + k, whole), ref_mth(lo + k, hi)]
    return [*ref_subproof(m - k, lo + k, hi, False), ref_mth(lo, lo + k)]


def ref_leaf(i: int) -> bytes:
    return ref_mth(i, i + 1)


# --- the system under test, built once -------------------------------------------------


def _build(n: int) -> MemoryHashStore:
    store = MemoryHashStore()
    tree = CompactRange()
    for i, entry in enumerate(ENTRIES[:n]):
        store.put_created(i, tree.append_entry(entry))
    return store


STORE = _build(len(ENTRIES))


class CountingReader:
    def __init__(self, inner: MemoryHashStore) -> None:
        self.inner = inner
        self.calls = 0
        self.reads = 0

    def get_nodes(self, addresses: Sequence[NodeAddress], /) -> list[bytes]:
        self.calls += 1
        self.reads += len(addresses)
        return self.inner.get_nodes(addresses)


def _flip(h: bytes, byte: int = 0) -> bytes:
    return h[:byte] + bytes([h[byte] ^ 0x01]) + h[byte + 1 :]


# --- published vectors (Certificate Transparency test data) ----------------------------

CT_ENTRIES = [
    bytes.fromhex(h)
    for h in (
        *("", "00", "10", "2021", "3031", "40414243", "5051525354555657"),
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def _ct_store() -> MemoryHashStore:
    store = MemoryHashStore()
    tree = CompactRange()
    for i, entry in enumerate(CT_ENTRIES):
        store.put_created(i, tree.append_entry(entry))
    return store


def test_published_roots() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    store = _ct_store()
    for n in range(len(CT_ENTRIES) + 1):
        assert root_from_entries(CT_ENTRIES[:n]).hex() == CT_ROOTS[n]
        assert root_at(n, store).hex() == CT_ROOTS[n]


@pytest.mark.parametrize(("index", "size"), sorted(CT_INCLUSION))
def test_published_inclusion_proofs(index: int, size: int) -> None:
    proof = inclusion_proof(index, size, _ct_store())
    assert [p.hex() for p in proof] == CT_INCLUSION[index, size]
    root = bytes.fromhex(CT_ROOTS[size])
    verify_inclusion(leaf_hash(CT_ENTRIES[index]), index, size, proof, root)


@pytest.mark.parametrize(("first", "second"), sorted(CT_CONSISTENCY))
def test_published_consistency_proofs(first: int, second: int) -> None:
    proof = consistency_proof(first, second, _ct_store())
    assert [p.hex() for p in proof] == CT_CONSISTENCY[first, second]
    roots = bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second])
    verify_consistency(first, second, *roots, proof)


# --- roots and the appender -----------------------------------------------------------


def test_hash_prefixes() -> None:
    assert leaf_hash(b"a") == _sha(b"\x00a")
    left, right = _sha(b"l"), _sha(b"r")
    assert node_hash(left, right) == _sha(b"\x01" + left + right)


def test_appender_matches_reference_at_every_size_up_to_200() -> None:
    tree = CompactRange()
    assert tree.root() == ref_mth(0, 0) == EMPTY_ROOT
    for n in range(1, 201):
        tree.append(leaf_hash(ENTRIES[n - 1]))
        want = ref_mth(0, n)
        assert tree.size == n
        assert tree.root() == want, n
        assert root_of(ref_leaf(i) for i in range(n)) == want
        assert root_from_entries(ENTRIES[:n]) == want
        assert root_at(n, STORE) == want


def test_frontier_is_one_hash_per_set_bit_and_round_trips() -> None:
    tree = CompactRange()
    for n in range(1, 201):
        tree.append_entry(ENTRIES[n - 1])
        frontier = tree.frontier()
        assert len(frontier.hashes) == n.bit_count()
        restored = Frontier.from_bytes(size=frontier.size, data=frontier.to_bytes())
        assert restored == frontier
        assert restored.root() == ref_mth(0, n)
        # a restored appender carries on exactly where the original was
        resumed = CompactRange(restored)
        resumed.append_entry(ENTRIES[n])
        assert resumed.root() == ref_mth(0, n + 1)


def test_append_reports_the_complete_subtrees_it_creates() -> None:
    tree = CompactRange()
    for i in range(100):
        created = tree.append_entry(ENTRIES[i])
        for level, h in enumerate(created):
            index = i >> level
            assert h == ref_mth(index << level, (index + 1) << level)
        # exactly the levels whose subtree ends at leaf i
        assert len(created) == 1 + ((i + 1) & -(i + 1)).bit_length() - 1


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=8), by_hash=st.booleans())
def test_extending_in_any_batches_equals_appending_one_by_one(
    cuts: list[int], by_hash: bool
) -> None:
    points = sorted({0, 300, *cuts})
    tree, store = CompactRange(), MemoryHashStore()
    for begin, end in pairwise(points):
        if by_hash:
            created = tree.extend([ref_leaf(i) for i in range(begin, end)])
        else:
            created = tree.extend_entries(ENTRIES[begin:end])
        store.put_extended(begin, created)
        assert tree.size == end
        assert tree.root() == ref_mth(0, end)
        assert len(tree.frontier().hashes) == end.bit_count()
    assert tree.extend([]) == []
    assert tree.root() == ref_mth(0, 300)
    for level in range((300).bit_length()):
        count = 300 >> level
        addresses = [(level, i) for i in range(count)]
        assert store.get_nodes(addresses) == STORE.get_nodes(addresses)
        with pytest.raises(TreeError):
            store.get_nodes([(level, count)])


@pytest.mark.parametrize(
    ("size", "data", "message"),
    [
        (3, b"\x00" * 32, "has 2 frontier hashes"),
        (1, b"\x00" * 31, "multiple of 32"),
        (-1, b"", "must not be negative"),
    ],
)
def test_bad_frontier_is_refused(size: int, data: bytes, message: str) -> None:
    with pytest.raises(TreeError, match=message):
        Frontier.from_bytes(size=size, data=data)


def test_short_leaf_hash_is_refused() -> None:
    with pytest.raises(TreeError, match="32 bytes"):
        CompactRange().append(b"short")
    with pytest.raises(TreeError, match="32 bytes"):
        root_of([b"short"])
    with pytest.raises(TreeError, match="32 bytes"):
        CompactRange().extend([EMPTY_ROOT, b"short"])


# --- the node store --------------------------------------------------------------------


def test_store_refuses_gaps_and_conflicts_and_reports_missing_nodes() -> None:
    store = _build(4)
    assert store.size == 4
    store.put_created(3, [ref_leaf(3)])  # rewriting the same hash is harmless
    with pytest.raises(TreeError, match="already stored with another hash"):
        store.put_created(3, [ref_leaf(0)])
    with pytest.raises(TreeError, match="left to right"):
        store.put_created(9, [ref_leaf(9)])
    with pytest.raises(TreeError, match="`2/1` is not stored"):
        store.get_nodes([(2, 1)])
    with pytest.raises(TreeError, match="is not stored"):
        inclusion_proof(0, 5, store)


def test_proofs_for_a_large_log_take_one_call_and_few_reads() -> None:
    size = len(ENTRIES) - 3
    reader = CountingReader(STORE)
    inclusion_proof(1234, size, reader)
    assert reader.calls == 1
    assert reader.reads <= 2 * size.bit_length()
    reader = CountingReader(STORE)
    consistency_proof(1001, size, reader)
    assert reader.calls == 1
    assert reader.reads <= 3 * size.bit_length()


# --- proofs: every shape up to 64, then random large sizes ------------------------------

SMALL = 64


def test_inclusion_proofs_for_every_index_and_size_up_to_64() -> None:
    for size in range(1, SMALL + 1):
        root = ref_mth(0, size)
        for index in range(size):
            proof = inclusion_proof(index, size, STORE)
            assert list(proof) == ref_path(index, 0, size), (index, size)
            verify_inclusion(ref_leaf(index), index, size, proof, root)


def test_consistency_proofs_for_every_pair_up_to_64() -> None:
    for second in range(SMALL + 1):
        for first in range(second + 1):
            proof = consistency_proof(first, second, STORE)
            want = [] if first in (0, second) else ref_subproof(first, 0, second, True)
            assert list(proof) == want, (first, second)
            verify_consistency(first, second, ref_mth(0, first), ref_mth(0, second), proof)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_inclusion_proofs_for_random_large_trees(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=65, max_value=len(ENTRIES)), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = inclusion_proof(index, size, STORE)
    assert list(proof) == ref_path(index, 0, size)
    verify_inclusion(ref_leaf(index), index, size, proof, ref_mth(0, size))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_consistency_proofs_for_random_large_trees(data: st.DataObject) -> None:
    second = data.draw(st.integers(min_value=65, max_value=len(ENTRIES)), label="second")
    first = data.draw(st.integers(min_value=1, max_value=second - 1), label="first")
    proof = consistency_proof(first, second, STORE)
    assert list(proof) == ref_subproof(first, 0, second, True)
    verify_consistency(first, second, ref_mth(0, first), ref_mth(0, second), proof)


# --- tampering: every change to a proof, its index or its roots fails -------------------


def test_tampered_inclusion_proofs_fail() -> None:
    for size in range(1, 33):
        root = ref_mth(0, size)
        for index in range(size):
            leaf = ref_leaf(index)
            proof = list(inclusion_proof(index, size, STORE))
            for k in range(len(proof)):
                for byte in (0, 31):
                    bad = [*proof[:k], _flip(proof[k], byte), *proof[k + 1 :]]
                    with pytest.raises(ProofError):
                        verify_inclusion(leaf, index, size, bad, root)
            for other in {index - 1, index + 1} & set(range(size)):
                with pytest.raises(ProofError):
                    verify_inclusion(leaf, other, size, proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(leaf, index, size, proof, _flip(root))
            with pytest.raises(ProofError):
                verify_inclusion(_flip(leaf), index, size, proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(leaf, index, size, [*proof, leaf], root)
            if proof:
                with pytest.raises(ProofError):
                    verify_inclusion(leaf, index, size, proof[:-1], root)
            if len(proof) > 1:
                swapped = [proof[1], proof[0], *proof[2:]]
                with pytest.raises(ProofError):
                    verify_inclusion(leaf, index, size, swapped, root)


def test_tampered_consistency_proofs_fail() -> None:
    for second in range(2, 33):
        second_root = ref_mth(0, second)
        for first in range(1, second):
            first_root = ref_mth(0, first)
            proof = list(consistency_proof(first, second, STORE))
            for k in range(len(proof)):
                bad = [*proof[:k], _flip(proof[k], 7), *proof[k + 1 :]]
                with pytest.raises(ProofError):
                    verify_consistency(first, second, first_root, second_root, bad)
            for args in (
                (first, second, _flip(first_root), second_root, proof),
                (first, second, first_root, _flip(second_root), proof),
                (first, second, first_root, second_root, proof[:-1]),
                (first, second, first_root, second_root, [*proof, first_root]),
                (first, second, first_root, second_root, []),
                (second, first, second_root, first_root, proof),
            ):
                with pytest.raises(ProofError):
                    verify_consistency(*args)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: inclusion_proof(5, 5, STORE), "outside a tree of size `5`"),
        (lambda: inclusion_proof(-1, 5, STORE), "outside"),
        (lambda: inclusion_proof(0, 0, STORE), "outside"),
        (lambda: consistency_proof(6, 5, STORE), "first size must be between 0"),
        (lambda: consistency_proof(-1, 5, STORE), "first size must be between 0"),
        (lambda: verify_inclusion(EMPTY_ROOT, 3, 3, [], EMPTY_ROOT), "outside"),
        (lambda: verify_inclusion(b"x", 0, 1, [], EMPTY_ROOT), "leaf hash must be 32 bytes"),
        (lambda: verify_inclusion(EMPTY_ROOT, 0, 2, [b"x"], EMPTY_ROOT), "proof element 0"),
        (lambda: verify_consistency(3, 2, EMPTY_ROOT, EMPTY_ROOT, []), "cannot be a prefix"),
        (lambda: verify_consistency(4, 4, ref_mth(0, 4), ref_mth(0, 5), []), "roots .* differ"),
        (lambda: verify_consistency(4, 4, ref_mth(0, 4), ref_mth(0, 4), [EMPTY_ROOT]), "empty"),
        (lambda: verify_consistency(0, 4, ref_mth(0, 1), ref_mth(0, 4), []), "empty tree"),
        (lambda: verify_consistency(0, 4, EMPTY_ROOT, ref_mth(0, 4), [EMPTY_ROOT]), "empty"),
    ],
)
def test_impossible_arguments_raise_proof_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ProofError, match=message):
        call()


def test_trivial_consistency_proofs_verify() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 9, EMPTY_ROOT, ref_mth(0, 9), [])
    verify_consistency(9, 9, ref_mth(0, 9), ref_mth(0, 9), [])
