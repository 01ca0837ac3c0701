"""How the web inbox behaves; the server command builds it (the environment is read in config)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

__all__ = ["WebSettings"]

MIN_SECRET_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """Settings of the web inbox.

    `secret_key` signs session cookies. The default is random per process: sessions
    end when the server restarts, and several servers behind one load balancer need
    one shared key passed in explicitly.
    """

    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    session_max_age: timedelta = timedelta(hours=12)
    # Secure cookies: True always sets the flag; None sets it when the request is https.
    cookie_secure: bool | None = None
    poll_seconds: float = 10.0  # how often the inbox and an open order refresh themselves
    recent_limit: int = 10  # orders shown under "recently decided"

    def __post_init__(self) -> None:
        if len(self.secret_key) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the web secret key must be at least {MIN_SECRET_BYTES} bytes, "
                f"got {len(self.secret_key)}"
            )
        if self.session_max_age <= timedelta(0):
            raise ValueError("the session lifetime must be longer than zero")
        if self.poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be more than zero, got {self.poll_seconds}")
