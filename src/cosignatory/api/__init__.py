"""The HTTP API: FastAPI app factory, pydantic schemas, bearer auth, problem+json errors.

`create_app` and `ApiSettings` load on first use, so that `cosignatory.api.schemas`
(which the client imports) does not pull in FastAPI, the service and the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cosignatory.api.app import ApiSettings, create_app

__all__ = ["ApiSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from cosignatory.api import app  # noqa: PLC0415 - deferred on purpose, see above

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
