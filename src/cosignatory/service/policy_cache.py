"""Parsed policy versions, cached per process: a version's text never changes once published.

Parsing a policy compiles its CEL conditions (tens of milliseconds), so parsed policies
are shared by every `Service` of the process, keyed by the digest of their text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy.engine import Connection

from cosignatory.core.errors import DomainError, ErrorCode
from cosignatory.core.policy import Policy, load_policy, policy_digest
from cosignatory.storage import policies as policy_rows

__all__ = ["PolicyCache", "parse_policy"]

_MAX_PARSED = 64
_parsed: OrderedDict[str, Policy] = OrderedDict()
_parsed_lock = threading.Lock()


def parse_policy(text: str, *, filename: str = "<policy>") -> Policy:
    """`load_policy`, remembered by digest (a text that fails to parse is never cached)."""
    digest = policy_digest(text)
    with _parsed_lock:
        cached = _parsed.get(digest)
        if cached is not None:
            _parsed.move_to_end(digest)
            return cached
    policy = load_policy(text, filename=filename)
    with _parsed_lock:
        _parsed[digest] = policy
        while len(_parsed) > _MAX_PARSED:
            _parsed.popitem(last=False)
    return policy


class PolicyCache:
    """Looks up the policy that governs an order, by `(version, digest)`: keyed by digest
    too, so a database that was reset and republished under the same numbers can never
    be judged by a stale policy.

    It also remembers the newest head it read, for `current(remembered=True)`: a caller
    that takes it must have the database confirm it is still the newest (see
    `storage.orders.insert_order(if_policy_current=True)`) and call `forget_head` if not.
    """

    def __init__(self) -> None:
        self._head: tuple[int, str] | None = None

    def get(self, conn: Connection, version: int, digest: str) -> Policy:
        with _parsed_lock:
            cached = _parsed.get(digest)
        if cached is not None:
            return cached
        record = policy_rows.get_policy(conn, version)
        if record is None or record.digest != digest:
            raise RuntimeError(f"policy version {version} with digest `{digest}` is not stored")
        policy = parse_policy(record.yaml_text, filename=f"policy-v{version}.yaml")
        if policy.digest != digest:
            raise RuntimeError(f"stored policy version {version} does not match its digest")
        return policy

    def current(self, conn: Connection, *, remembered: bool = False) -> tuple[int, Policy]:
        """The newest version; `no_policy` when nothing was ever published. With
        `remembered`, the head read last time if there is one (unconfirmed: see above)."""
        head = self._head if remembered else None
        if head is not None:
            with _parsed_lock:
                parsed = head[1] in _parsed
            head = head if parsed else None  # confirm an evicted one: it may be stale
        if head is None:
            head = self._head = policy_rows.latest_head(conn)
        if head is None:
            raise DomainError(
                "no policy has been published yet; publish one with "
                "`cosignatory policy publish FILE`",
                code=ErrorCode.NO_POLICY,
            )
        version, digest = head
        return version, self.get(conn, version, digest)

    def forget_head(self) -> None:
        self._head = None
