"""Serve the API and the web inbox for the browser tests, on a loopback port the OS picks.

    python -m tests.browser.serve sqlite:////tmp/x/cosignatory.db

Prints the port on the first line of stdout once the socket listens, then serves until
terminated. The inbox polls every second so the tests see updates quickly; the audit
log signs with a fixed test key (`AUDIT_SIGNER`), every
`COSIGNATORY_AUDIT_CHECKPOINT_INTERVAL` seconds (the fixture sets it to 1).
"""

from __future__ import annotations

import socket
import sys

import uvicorn

from cosignatory.api.app import ApiSettings, create_app
from cosignatory.core.audit import key_from_seed
from cosignatory.service import Service
from cosignatory.storage import open_store
from cosignatory.web import WebSettings, create_web_router

POLL_SECONDS = 1.0
AUDIT_ORIGIN = "browser-tests.example/cosignatory"
AUDIT_SIGNER, AUDIT_VERIFIER = key_from_seed(AUDIT_ORIGIN, bytes(range(32)))


def main(argv: list[str]) -> int:
    (db_url,) = argv
    service = Service(open_store(db_url), audit_signer=AUDIT_SIGNER)
    web = create_web_router(WebSettings(poll_seconds=POLL_SECONDS))
    app = create_app(service, ApiSettings(sweep_interval=1.0, docs=False), routers=[web])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    print(sock.getsockname()[1], flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
