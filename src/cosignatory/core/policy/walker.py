"""Walking a YAML policy document while collecting positioned issues."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cosignatory.core.errors import PolicyIssue
from cosignatory.core.policy.yamlpos import Pos, item_pos, key_pos

__all__ = ["ID_HELP", "NAME_RE", "Walker", "is_int", "show", "suggest"]

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
ID_HELP = "lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit"


def show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Walker:
    file: str
    issues: list[PolicyIssue] = field(default_factory=list)

    def add(self, pos: Pos, message: str) -> None:
        self.issues.append(PolicyIssue(file=self.file, line=pos.line, col=pos.col, message=message))

    def mapping(self, node: Any, where: str, pos: Pos) -> Mapping[Any, Any] | None:
        if node is None:
            return {}
        if not isinstance(node, Mapping):
            self.add(pos, f"{where} must be a mapping, got `{show(node)}`")
            return None
        return node

    def keys(self, node: Mapping[Any, Any], allowed: tuple[str, ...], where: str, pos: Pos) -> None:
        for key in node:
            kpos = key_pos(node, key, pos)
            if not isinstance(key, str):
                self.add(kpos, f"{where}: keys must be strings, got `{show(key)}`")
            elif key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                tip = f"; did you mean `{hint[0]}`?" if hint else f"; allowed: {', '.join(allowed)}"
                self.add(kpos, f"unknown key `{key}` in {where}{tip}")

    def name_list(self, node: Any, where: str, pos: Pos) -> list[tuple[str, Pos]]:
        """A list of names (a lone string is accepted as a one-element list)."""
        if isinstance(node, str):
            node = [node]
        if not isinstance(node, list):
            self.add(pos, f"{where} must be a list of names, got `{show(node)}`")
            return []
        out = []
        for i, item in enumerate(node):
            ipos = item_pos(node, i, pos)
            if not isinstance(item, str) or not NAME_RE.fullmatch(item):
                self.add(ipos, f"{where}: `{show(item)}` is not a valid name ({ID_HELP})")
                continue
            out.append((item, ipos))
        return out


def is_int(node: Any) -> bool:
    return isinstance(node, int) and not isinstance(node, bool)


def suggest(name: str, known: Iterable[str]) -> str:
    hint = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean `{hint[0]}`?" if hint else ""
