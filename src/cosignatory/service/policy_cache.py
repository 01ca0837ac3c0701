"""Parsed policy versions, cached per process: a version's text never changes once published."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Connection

from cosignatory.core.errors import DomainError, ErrorCode
from cosignatory.core.policy import Policy, load_policy
from cosignatory.storage import policies as policy_rows

__all__ = ["PolicyCache"]


class PolicyCache:
    """`(version, digest)` → parsed `Policy`. Keyed by digest too, so a database that was
    reset and republished under the same numbers can never serve a stale policy."""

    def __init__(self, max_entries: int = 64) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[int, str], Policy] = {}
        self._max = max_entries

    def get(self, conn: Connection, version: int, digest: str) -> Policy:
        key = (version, digest)
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None:
            return cached
        record = policy_rows.get_policy(conn, version)
        if record is None or record.digest != digest:
            raise RuntimeError(f"policy version {version} with digest `{digest}` is not stored")
        policy = load_policy(record.yaml_text, filename=f"policy-v{version}.yaml")
        if policy.digest != digest:
            raise RuntimeError(f"stored policy version {version} does not match its digest")
        self.put(version, policy)
        return policy

    def put(self, version: int, policy: Policy) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[(version, policy.digest)] = policy

    def current(self, conn: Connection) -> tuple[int, Policy]:
        """The newest version; `no_policy` when nothing was ever published."""
        head = policy_rows.latest_head(conn)
        if head is None:
            raise DomainError(
                "no policy has been published yet; publish one with "
                "`cosignatory policy publish FILE`",
                code=ErrorCode.NO_POLICY,
            )
        version, digest = head
        return version, self.get(conn, version, digest)
