"""Which generated orders to try: dimensions, their independent groups, and covers.

Each dimension of an order (a param, `justification`, `now`, the proposer) has a few
candidate values. Conditions tie dimensions together: `amount > 1000 && env == "prod"`
reads two. Dimensions never read by the same condition are *independent*: what one
does to the matched rules cannot depend on the other. So we enumerate each connected
group of dimensions on its own (others held at their first value), note the distinct
outcomes it produces, and then only combine one representative per outcome across
groups. That covers every combination of candidate values at the cost of their sum,
not their product. A group too large for the budget is covered by every value alone,
then seeded random points: sampled, not exhaustive.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

__all__ = ["SEED", "Dim", "components", "cover"]

SEED: Final = 20_240_601  # fixed: the same policy always gives the same report


@dataclass(frozen=True, kw_only=True)
class Dim:
    name: str  # "param:x", "justification", "now", "proposer"
    values: tuple[Any, ...]


def components(n: int, links: Iterable[frozenset[int]]) -> list[tuple[int, ...]]:
    """Connected groups of dimensions 0..n-1, where each link joins its members."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for link in links:
        members = sorted(link)
        for other in members[1:]:
            parent[find(other)] = find(members[0])
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return [tuple(g) for g in sorted(groups.values())]


def cover(
    sizes: Sequence[int], links: Sequence[frozenset[int]], budget: int
) -> tuple[list[tuple[int, ...]], bool]:
    """Index tuples over dimensions of `sizes`: the full product when it fits in
    `budget` (then True), else the base point, every value alone, the product of each
    link's dimensions, and seeded random points, up to `budget` (then False)."""
    if math.prod(sizes) <= budget:
        return list(itertools.product(*(range(n) for n in sizes))), True
    seen: dict[tuple[int, ...], None] = {}
    base = tuple(0 for _ in sizes)
    seen[base] = None
    for i, n in enumerate(sizes):
        for v in range(1, n):
            seen[(*base[:i], v, *base[i + 1 :])] = None
    for link in links:
        members = sorted(link)
        for combo in itertools.product(*(range(sizes[i]) for i in members)):
            if len(seen) >= budget:
                break
            point = list(base)
            for i, v in zip(members, combo, strict=True):
                point[i] = v
            seen[tuple(point)] = None
    rng = np.random.default_rng(SEED)
    attempts = 0
    while len(seen) < budget and attempts < budget * 20:
        attempts += 1
        seen[tuple(int(rng.integers(n)) for n in sizes)] = None
    return list(seen)[:budget], False
