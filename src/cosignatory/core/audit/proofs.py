"""Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4): making and verifying.

Making a proof first lists the subtrees RFC 6962's PATH / PROOF name (pure arithmetic on
the sizes), then reads their hashes from a `HashReader` in one call. Verification follows
the RFC's algorithms step by step and raises `ProofError` on any mismatch, including
impossible arguments (an index outside the tree, a first size larger than the second).
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

from cosignatory.core.audit.errors import ProofError
from cosignatory.core.audit.merkle import EMPTY_ROOT, HASH_SIZE
from cosignatory.core.audit.store import HashReader, subtree_hashes

__all__ = [
    "consistency_proof",
    "consistency_ranges",
    "inclusion_proof",
    "inclusion_ranges",
    "verify_consistency",
    "verify_inclusion",
]


def _split(width: int) -> int:
    """The largest power of two smaller than `width` (which is at least 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[0:tree_size]), leaf side first."""
    if not 0 <= index < tree_size:
        raise ProofError(
            f"leaf index `{index}` is outside a tree of size `{tree_size}`; "
            "ask for a proof against a tree that contains it"
        )
    ranges = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(first, D[0:second]) (RFC 9162 §2.1.4.1).

    Empty when `first` is 0 or equal to `second`: every tree extends the empty tree and
    itself.
    """
    if not 0 <= first <= second:
        raise ProofError(
            f"no consistency proof from size `{first}` to size `{second}`; "
            "the first size must be between 0 and the second"
        )
    if first in (0, second):
        return []
    ranges = []
    lo, hi = 0, second
    m = first
    whole = True  # SUBPROOF's `b`: is the subtree at hand the whole old tree?
    while True:
        if m == hi - lo:
            if not whole:
                ranges.append((lo, hi))
            break
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, tree_size: int, reader: HashReader) -> tuple[bytes, ...]:
    """The audit path of leaf `index` in the tree of the first `tree_size` leaves.

    Raises `ProofError` unless 0 <= index < tree_size, and `TreeError` if `reader`
    lacks a node (the log is shorter than `tree_size`).
    """
    return tuple(subtree_hashes(inclusion_ranges(index, tree_size), reader))


def consistency_proof(first: int, second: int, reader: HashReader) -> tuple[bytes, ...]:
    """The proof that the tree of size `second` extends the tree of size `first`.

    Raises `ProofError` unless 0 <= first <= second, and `TreeError` if `reader` lacks
    a node (the log is shorter than `second`).
    """
    return tuple(subtree_hashes(consistency_ranges(first, second), reader))


def _node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def _check_hashes(proof: Sequence[bytes], *named: tuple[str, bytes]) -> None:
    for name, value in named:
        if len(value) != HASH_SIZE:
            raise ProofError(f"{name} must be {HASH_SIZE} bytes, got {len(value)}")
    for i, p in enumerate(proof):
        if len(p) != HASH_SIZE:
            raise ProofError(f"proof element {i} must be {HASH_SIZE} bytes, got {len(p)}")


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `tree_size` with `root`.

    RFC 9162 §2.1.3.2. Returns nothing; raises `ProofError` if the proof fails.
    """
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index `{index}` is outside a tree of size `{tree_size}`")
    _check_hashes(proof, ("leaf hash", leaf_hash), ("root", root))
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(
                f"inclusion proof for leaf `{index}` in size `{tree_size}` is too long"
            )
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof for leaf `{index}` in size `{tree_size}` is too short")
    if r != root:
        raise ProofError(
            f"inclusion proof for leaf `{index}` in size `{tree_size}` does not lead to the root"
        )


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (`second`, `second_root`) extends (`first`, `first_root`).

    RFC 9162 §2.1.4.2, plus the cases the RFC leaves out: sizes equal (the proof must be
    empty and the roots equal) and first size 0 (the proof must be empty and the first
    root the empty tree's). Raises `ProofError` if the proof fails.
    """
    if not 0 <= first <= second:
        raise ProofError(
            f"size `{first}` cannot be a prefix of size `{second}`; "
            "the first size must be between 0 and the second"
        )
    _check_hashes(proof, ("first root", first_root), ("second root", second_root))
    what = f"consistency proof from size `{first}` to `{second}`"
    if first == second:
        if proof:
            raise ProofError(f"{what} must be empty, got {len(proof)} elements")
        if first_root != second_root:
            raise ProofError(f"the two roots of size `{first}` differ")
        return
    if first == 0:
        if proof:
            raise ProofError(f"{what} must be empty, got {len(proof)} elements")
        if first_root != EMPTY_ROOT:
            raise ProofError("the first root is not the root of the empty tree")
        return
    if not proof:
        raise ProofError(f"{what} is empty")
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"{what} is too long")
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"{what} is too short")
    if fr != first_root:
        raise ProofError(f"{what} does not lead to the first root")
    if sr != second_root:
        raise ProofError(f"{what} does not lead to the second root")
