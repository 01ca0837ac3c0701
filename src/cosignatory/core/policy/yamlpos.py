"""Load YAML keeping the position of every key and value (ruamel.yaml round-trip mode).

We never parse YAML ourselves; this module only answers "where is this node?".
Positions are 1-based (line, column), as editors and `FILE:LINE:COL` expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

__all__ = ["Pos", "YamlSyntaxError", "item_pos", "key_pos", "load_yaml", "value_pos"]


@dataclass(frozen=True, kw_only=True, order=True)
class Pos:
    line: int
    col: int


class YamlSyntaxError(Exception):
    def __init__(self, message: str, pos: Pos) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def load_yaml(text: str) -> Any:
    yaml = YAML(typ="rt")
    # Quote style tells us where the characters of a string start (for CEL columns).
    yaml.preserve_quotes = True
    try:
        return yaml.load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        pos = Pos(line=mark.line + 1, col=mark.column + 1) if mark else Pos(line=1, col=1)
        problem = (e.problem or e.context or "invalid yaml").strip()
        raise YamlSyntaxError(f"yaml syntax error: {problem}", pos) from e
    except YAMLError as e:  # pragma: no cover - ruamel marks nearly everything
        raise YamlSyntaxError(f"yaml error: {e}", Pos(line=1, col=1)) from e
    except (TypeError, ValueError) as e:
        # e.g. a mapping used as a key (`? {a: 1}`): ruamel fails while hashing it.
        raise YamlSyntaxError(
            f"unsupported yaml: {str(e).splitlines()[0] if str(e) else type(e).__name__}; "
            "keys must be plain strings",
            Pos(line=1, col=1),
        ) from e


def _lc(node: Any) -> Any:
    return getattr(node, "lc", None)


def key_pos(mapping: Any, key: Any, fallback: Pos) -> Pos:
    lc = _lc(mapping)
    try:
        line, col = lc.key(key)
    except (AttributeError, KeyError, TypeError):
        return fallback
    return Pos(line=line + 1, col=col + 1)


def value_pos(mapping: Any, key: Any, fallback: Pos) -> Pos:
    lc = _lc(mapping)
    try:
        line, col = lc.value(key)
    except (AttributeError, KeyError, TypeError):
        return fallback
    return Pos(line=line + 1, col=col + 1)


def item_pos(seq: Any, index: int, fallback: Pos) -> Pos:
    lc = _lc(seq)
    try:
        line, col = lc.item(index)
    except (AttributeError, KeyError, IndexError, TypeError):
        return fallback
    return Pos(line=line + 1, col=col + 1)


def node_pos(node: Any, fallback: Pos) -> Pos:
    lc = _lc(node)
    if lc is None or lc.line is None:
        return fallback
    return Pos(line=lc.line + 1, col=lc.col + 1)
