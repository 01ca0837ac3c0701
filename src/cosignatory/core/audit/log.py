"""One append to the audit log, as a value: everything storage writes in the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from cosignatory.core.audit.merkle import CompactRange, Frontier, leaf_hash
from cosignatory.core.audit.store import Node

__all__ = ["AppendResult", "append_entry"]


@dataclass(frozen=True, kw_only=True, slots=True)
class AppendResult:
    """The effect of appending one entry to a tree whose state was a `Frontier`.

    Storage writes, in the transaction that records the event: the entry at `index`
    (with `leaf_hash`), every row of `nodes`, and `frontier` in place of the old one.
    """

    index: int
    leaf_hash: bytes
    frontier: Frontier
    nodes: tuple[Node, ...]

    @property
    def root(self) -> bytes:
        """The new tree's root, for signing a checkpoint of size `index + 1` (computed on
        demand: an append on the write path has no use for it)."""
        return self.frontier.root()


def append_entry(frontier: Frontier, entry: bytes) -> AppendResult:
    """Append `entry` (canonical JSON bytes) after the tree in state `frontier`."""
    tree = CompactRange(frontier)
    index = tree.size
    leaf = leaf_hash(entry)
    created = tree.append(leaf)
    new = tree.frontier()
    return AppendResult(
        index=index,
        leaf_hash=leaf,
        frontier=new,
        nodes=tuple(
            Node(level=level, index=index >> level, hash=h) for level, h in enumerate(created)
        ),
    )
