"""RFC 6962 / RFC 9162 Merkle tree hashing and the O(log n) incremental appender.

`leaf_hash` and `node_hash` carry the RFC's domain-separation prefixes (0x00 for a leaf,
0x01 for an interior node), so a leaf can never be passed off as a node. `CompactRange`
appends leaves keeping only the hashes of the completed subtrees on the right edge of the
tree (the *frontier*: one hash per set bit of the size), and reports the complete-subtree
nodes each append creates so that storage can persist them in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from itertools import islice

from cosignatory.core.audit.errors import TreeError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "Frontier",
    "leaf_hash",
    "node_hash",
    "root_from_entries",
    "root_of",
]

HASH_SIZE = 32
"""Bytes in every hash of the tree (SHA-256)."""

EMPTY_ROOT = sha256(b"").digest()
"""MTH({}) — the root of the empty tree (RFC 6962 §2.1)."""

_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): the hash of one log entry."""
    return sha256(_LEAF + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return sha256(_NODE + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise TreeError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Frontier:
    """The state of a tree of `size` leaves: the roots of its maximal complete subtrees.

    `hashes` run left to right (the largest subtree first), one per set bit of `size`,
    so the state is O(log n). `to_bytes`/`from_bytes` let storage keep it in one row.
    """

    size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.size < 0:
            raise TreeError(f"tree size must not be negative, got `{self.size}`")
        expected = self.size.bit_count()
        if len(self.hashes) != expected:
            raise TreeError(
                f"a tree of size `{self.size}` has {expected} frontier hashes, "
                f"got {len(self.hashes)}"
            )
        for h in self.hashes:
            _check_hash(h, "frontier hash")

    @classmethod
    def empty(cls) -> Frontier:
        return cls(size=0, hashes=())

    def root(self) -> bytes:
        """MTH of the whole tree: the frontier folded from the right."""
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            root = sha256(_NODE + h + root).digest()
        return root

    def to_bytes(self) -> bytes:
        """The frontier hashes concatenated (store it next to `size`)."""
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, *, size: int, data: bytes) -> Frontier:
        """Inverse of `to_bytes`; raises `TreeError` if `data` does not fit `size`."""
        if len(data) % HASH_SIZE:
            raise TreeError(f"frontier data must be a multiple of {HASH_SIZE} bytes")
        hashes = tuple(data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE))
        return cls(size=size, hashes=hashes)


class CompactRange:
    """Incremental builder of the tree over leaves [0, size).

    Mutable on purpose, like a `hashlib` object: it is the hot path of building and
    verifying logs of millions of entries. Appending is O(1) amortized (O(log n) worst
    case) and the state is a `Frontier`, taken with `frontier()` and restored with
    `CompactRange(frontier)`.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, frontier: Frontier | None = None) -> None:
        f = Frontier.empty() if frontier is None else frontier
        self._size = f.size
        self._hashes = list(f.hashes)

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> list[bytes]:
        """Append a leaf hash; return the complete-subtree nodes this creates.

        Element `L` of the result is the node at level `L`, index `old_size >> L`
        (element 0 is the leaf itself), in tlog-tiles addressing: the hash of leaves
        [index * 2**L, (index + 1) * 2**L).
        """
        if len(leaf) != HASH_SIZE:
            raise TreeError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        return self._append(leaf)

    def append_entry(self, entry: bytes) -> list[bytes]:
        """`append(leaf_hash(entry))`."""
        return self._append(sha256(_LEAF + entry).digest())

    def _append(self, h: bytes) -> list[bytes]:
        size = self._size
        self._size = size + 1
        if not size & 1:  # half of all appends merge nothing
            self._hashes.append(h)
            return [h]
        pop = self._hashes.pop
        created = [h]
        while size & 1:
            h = sha256(_NODE + pop() + h).digest()
            created.append(h)
            size >>= 1
        self._hashes.append(h)
        return created

    def extend(self, leaves: Sequence[bytes]) -> list[list[bytes]]:
        """Append many leaf hashes at once; return the nodes created, level by level.

        Element `L` lists the new nodes of level `L` in index order, starting at index
        `old_size >> L`. The same result as appending one by one, hashed a level at a
        time, which is what makes bulk building and verifying fast.
        """
        for leaf in leaves:
            _check_hash(leaf, "leaf hash")
        return self._extend(list(leaves))

    def extend_entries(self, entries: Iterable[bytes]) -> list[list[bytes]]:
        """`extend([leaf_hash(e) for e in entries])`."""
        return self._extend([sha256(_LEAF + e).digest() for e in entries])

    def _extend(self, level_nodes: list[bytes]) -> list[list[bytes]]:
        old = self._size
        old_levels = [level for level in range(old.bit_length()) if old >> level & 1]
        pending = dict(zip(reversed(old_levels), self._hashes, strict=True))
        created: list[list[bytes]] = []
        kept: dict[int, bytes] = {}
        level = 0
        while level_nodes:
            created.append(level_nodes)
            row = [pending.pop(level), *level_nodes] if level in pending else level_nodes
            if len(row) & 1:
                kept[level] = row[-1]
            level_nodes = [
                sha256(_NODE + left + right).digest()
                for left, right in zip(row[0::2], row[1::2], strict=False)
            ]
            level += 1
        kept.update(pending)  # the levels no new node reached keep their subtrees
        self._size = old + (len(created[0]) if created else 0)
        self._hashes = [kept[lv] for lv in sorted(kept, reverse=True)]
        return created

    def root(self) -> bytes:
        return self.frontier().root()

    def frontier(self) -> Frontier:
        return Frontier(size=self._size, hashes=tuple(self._hashes))


_CHUNK = 1 << 12  # leaves hashed per batch when folding a whole log


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over the given leaf hashes (RFC 6962 §2.1), for any number of leaves."""
    tree = CompactRange()
    it = iter(leaf_hashes)
    while chunk := list(islice(it, _CHUNK)):
        tree.extend(chunk)
    return tree.root()


def root_from_entries(entries: Iterable[bytes]) -> bytes:
    """MTH over the leaf hashes of `entries`: recompute a log's root from its entries."""
    tree = CompactRange()
    it = iter(entries)
    while chunk := list(islice(it, _CHUNK)):
        tree.extend_entries(chunk)
    return tree.root()
