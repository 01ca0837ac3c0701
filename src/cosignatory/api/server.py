"""Running the app under uvicorn on a socket we bind first.

Binding before starting lets callers learn the real port (`--port 0`), print it, and
fail early with an actionable message when the address is taken.
"""

from __future__ import annotations

import errno
import socket

import uvicorn
from fastapi import FastAPI

from cosignatory.core.errors import InputError

__all__ = ["bind", "run_server", "url_of"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # An explicit IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections
    # only when the socket says it is TCP; without it, Nagle's algorithm and delayed ACKs
    # add ~40 ms to every keep-alive response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise InputError(
                f"`{host}:{port}` is already in use; stop what runs there or pass another --port"
            ) from e
        raise InputError(f"cannot listen on `{host}:{port}`: {e.strerror or e}") from e
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def run_server(
    app: FastAPI, sock: socket.socket, *, log_level: str = "info", access_log: bool = True
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM shut down gracefully)."""
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        server_header=False,
        proxy_headers=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])
