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
    `root` is the new tree's root, for signing a checkpoint of size `index + 1`.
    """

    index: int
    leaf_hash: bytes
    frontier: Frontier
    root: bytes
    nodes: tuple[Node, ...]


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
        root=new.root(),
        nodes=tuple(
            Node(level=level, index=index >> level, hash=h) for level, h in enumerate(created)
        ),
    )
