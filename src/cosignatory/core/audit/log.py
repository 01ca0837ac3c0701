"""One append to the audit log, as a value: everything storage writes in the transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cosignatory.core.audit.errors import TreeError
from cosignatory.core.audit.merkle import CompactRange, Frontier
from cosignatory.core.audit.store import Node

__all__ = ["AppendResult", "append_entry"]


@dataclass(frozen=True, kw_only=True, slots=True)
class AppendResult:
    """The effect of appending one entry to a tree whose state was a `Frontier`.

    Storage writes, in the transaction that records the event: the entry at `index`
    (with `leaf_hash`), every node of `nodes`, and `frontier` in place of the old one.
    """

    index: int
    frontier: Frontier
    # The complete-subtree hashes the append created, by level: element `L` is the node
    # at level `L`, index `index >> L`; element 0 is the leaf hash. Kept as hashes because
    # the write path stores them as they are (`node_rows`), with no `Node` built per row.
    created: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.created:
            raise TreeError("an append creates at least its leaf")

    @property
    def leaf_hash(self) -> bytes:
        return self.created[0]

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(
            Node(level=level, index=self.index >> level, hash=h)
            for level, h in enumerate(self.created)
        )

    def node_rows(self) -> Iterator[tuple[int, int, bytes]]:
        """(`level`, `index`, `hash`) of each created node, leaf first."""
        index = self.index
        for level, h in enumerate(self.created):
            yield level, index >> level, h

    @property
    def root(self) -> bytes:
        """The new tree's root, for signing a checkpoint of size `index + 1` (computed on
        demand: an append on the write path has no use for it)."""
        return self.frontier.root()


def append_entry(frontier: Frontier, entry: bytes) -> AppendResult:
    """Append `entry` (canonical JSON bytes) after the tree in state `frontier`."""
    tree = CompactRange(frontier)
    index = tree.size
    created = tree.append_entry(entry)  # its leaf hash first
    return AppendResult(index=index, frontier=tree.frontier(), created=tuple(created))
