"""Addressing of stored tree nodes, the `HashReader` port, and an in-memory store.

A node is addressed as in C2SP tlog-tiles: level `L`, index `i` is the hash of the
complete subtree over leaves [i * 2**L, (i + 1) * 2**L); level 0 holds the leaf hashes.
Only complete subtrees are ever stored (they never change once the log has grown past
them); the hash of any other subtree that RFC 6962 needs (the right edge of a tree) is
folded from at most log2(n) stored nodes. So proofs for a log of any size cost O(log n)
reads, made in one `get_nodes` call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Protocol, TypeAlias

from cosignatory.core.audit.errors import TreeError
from cosignatory.core.audit.merkle import EMPTY_ROOT, HASH_SIZE

__all__ = [
    "HashReader",
    "MemoryHashStore",
    "Node",
    "NodeAddress",
    "root_at",
    "subtree_addresses",
    "subtree_hashes",
]


NodeAddress: TypeAlias = tuple[int, int]
"""`(level, index)` of a complete subtree (see the module docstring)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Node:
    """A complete-subtree hash to persist: row (`level`, `index`) → `hash`."""

    level: int
    index: int
    hash: bytes

    def __post_init__(self) -> None:
        if self.level < 0 or self.index < 0:
            raise TreeError(f"node address must not be negative, got `{self.address}`")
        if len(self.hash) != HASH_SIZE:
            raise TreeError(f"node hash must be {HASH_SIZE} bytes, got {len(self.hash)}")

    @property
    def address(self) -> NodeAddress:
        return (self.level, self.index)


class HashReader(Protocol):
    """Read access to stored complete-subtree hashes (the port storage implements)."""

    def get_nodes(self, addresses: Sequence[NodeAddress], /) -> Sequence[bytes]:
        """The hashes at `addresses`, in the same order.

        Raise `TreeError` if any of them is not stored.
        """
        ...


class MemoryHashStore:
    """In-memory `HashReader` and node sink: one list per level, indexed by node index.

    Complete-subtree nodes are created left to right on every level, so each level is
    an append-only list; writing a node out of order is refused rather than guessed at.
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []

    @property
    def size(self) -> int:
        """Number of leaves stored."""
        return len(self._levels[0]) if self._levels else 0

    def put(self, nodes: Iterable[Node]) -> None:
        for node in nodes:
            self._put(node.level, node.index, node.hash)

    def put_created(self, index: int, created: Sequence[bytes]) -> None:
        """Store what `CompactRange.append` returned for the leaf at `index`."""
        levels = self._levels
        while len(levels) < len(created):
            levels.append([])
        for level, h in enumerate(created):
            row = levels[level]
            if len(row) == index >> level:
                row.append(h)
            else:
                self._put(level, index >> level, h)

    def put_extended(self, old_size: int, created: Sequence[Sequence[bytes]]) -> None:
        """Store what `CompactRange.extend` returned for a tree that had `old_size` leaves."""
        levels = self._levels
        while len(levels) < len(created):
            levels.append([])
        for level, hashes in enumerate(created):
            row = levels[level]
            first = old_size >> level
            if len(row) == first:
                row.extend(hashes)
            else:
                for offset, h in enumerate(hashes):
                    self._put(level, first + offset, h)

    def _put(self, level: int, index: int, h: bytes) -> None:
        if len(h) != HASH_SIZE:
            raise TreeError(f"node hash must be {HASH_SIZE} bytes, got {len(h)}")
        while len(self._levels) <= level:
            self._levels.append([])
        row = self._levels[level]
        if index == len(row):
            row.append(h)
        elif index > len(row):
            raise TreeError(
                f"node `{level}/{index}` written before `{level}/{len(row)}`; "
                "nodes must be stored left to right"
            )
        elif row[index] != h:
            raise TreeError(f"node `{level}/{index}` is already stored with another hash")

    def get_nodes(self, addresses: Sequence[NodeAddress], /) -> list[bytes]:
        levels = self._levels
        out = []
        for level, index in addresses:
            if level >= len(levels) or not 0 <= index < len(levels[level]):
                raise TreeError(f"node `{level}/{index}` is not stored")
            out.append(levels[level][index])
        return out


def _check_range(begin: int, end: int) -> None:
    width = end - begin
    if begin < 0 or width < 1:
        raise TreeError(f"subtree range `[{begin}, {end})` is empty or negative")
    # RFC 6962 only ever splits a tree into subtrees whose start is a multiple of the
    # smallest power of two covering their width; exactly those fold from the right.
    if begin % (1 << (width - 1).bit_length()):
        raise TreeError(f"`[{begin}, {end})` is not a subtree of an RFC 6962 tree")


def subtree_addresses(begin: int, end: int) -> list[NodeAddress]:
    """The stored nodes whose right fold is MTH(D[begin:end]), left to right."""
    _check_range(begin, end)
    width = end - begin
    out = []
    cursor = begin
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            out.append((level, cursor >> level))
            cursor += 1 << level
    return out


def subtree_hashes(ranges: Sequence[tuple[int, int]], reader: HashReader) -> list[bytes]:
    """MTH(D[begin:end]) for each `(begin, end)`, with a single `get_nodes` call."""
    groups = [subtree_addresses(begin, end) for begin, end in ranges]
    fetched = reader.get_nodes([a for group in groups for a in group])
    wanted = sum(len(g) for g in groups)
    if len(fetched) != wanted:
        raise TreeError(f"hash store returned {len(fetched)} nodes for {wanted} addresses")
    out = []
    pos = 0
    for group in groups:
        parts = fetched[pos : pos + len(group)]
        pos += len(group)
        for part in parts:
            if len(part) != HASH_SIZE:
                raise TreeError(f"hash store returned a {len(part)}-byte node hash")
        h = parts[-1]
        for left in reversed(parts[:-1]):
            h = sha256(b"\x01" + left + h).digest()
        out.append(h)
    return out


def root_at(tree_size: int, reader: HashReader) -> bytes:
    """MTH of the first `tree_size` leaves, from O(log n) stored nodes."""
    if tree_size < 0:
        raise TreeError(f"tree size must not be negative, got `{tree_size}`")
    if tree_size == 0:
        return EMPTY_ROOT
    return subtree_hashes([(0, tree_size)], reader)[0]
