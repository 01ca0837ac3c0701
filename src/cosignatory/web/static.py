"""Static files (vendored htmx, our stylesheet and scripts), served from a fixed list.

Each file is read once; pages link it as `/static/NAME?v=<digest>` so browsers may
cache it for a long time and still pick up a new version at once.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import Response

__all__ = ["Asset", "StaticFiles", "register"]

STATIC = Path(__file__).resolve().parent / "static"
_TYPES: Mapping[str, str] = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, kw_only=True)
class Asset:
    name: str
    body: bytes
    media_type: str
    version: str


class StaticFiles:
    def __init__(self, directory: Path = STATIC) -> None:
        assets = {}
        for path in sorted(directory.iterdir()):
            media_type = _TYPES.get(path.suffix)
            if media_type is None or not path.is_file():
                continue
            body = path.read_bytes()
            version = hashlib.sha256(body).hexdigest()[:12]
            assets[path.name] = Asset(
                name=path.name, body=body, media_type=media_type, version=version
            )
        self.assets: Mapping[str, Asset] = assets

    @classmethod
    @functools.cache
    def shared(cls) -> StaticFiles:
        """The package's static files, read once per process."""
        return cls()

    def url(self, name: str) -> str:
        asset = self.assets.get(name)
        if asset is None:
            raise RuntimeError(f"no static file `{name}` in {STATIC}")
        return f"/static/{name}?v={asset.version}"


def register(router: APIRouter, files: StaticFiles) -> None:
    @router.get("/static/{name}")
    def static_file(request: Request, name: str) -> Response:
        del request
        asset = files.assets.get(name)
        if asset is None:
            return Response("no such file", status_code=404, media_type="text/plain")
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )
