"""Refuse oversized request bodies, as problem+json (`413 payload_too_large`).

A declared `Content-Length` over the limit is refused before anything reads the body;
a body sent without one (chunked) is counted as it arrives and refused once it passes
the limit (the HTTPException reaches `api.problems` like any other).
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cosignatory.api.problems import PAYLOAD_TOO_LARGE, problem_response

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self) -> str:
        return f"the request body is larger than the limit of {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = problem_response(status=413, code=PAYLOAD_TOO_LARGE, detail=self._detail())
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(status_code=413, detail=self._detail())
            return message

        await self.app(scope, counted, send)
