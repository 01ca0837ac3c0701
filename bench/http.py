"""HTTP API throughput on loopback, against a trivial endpoint served the same way.

One uvicorn process serves the real app (SQLite, bearer tokens, a policy whose orders
need 12 officers) plus two trivial JSON endpoints behind the same middleware and
exception handlers: one sync (run in the thread pool, like the write endpoints) and one
async (run on the event loop, like `GET /v1/orders/{id}` on SQLite, whose short read
runs there). A load generator in this process warms every endpoint, then drives each
over keep-alive connections at the same concurrency, interleaving rounds so that drift
on a shared machine hits every endpoint alike, and prints req/s, p50, p99 and the
ratio of each endpoint's rate to the trivial one served the same way.

    GET  /bench/trivial              anchor for thread-pool endpoints: routing, middleware,
                                     thread pool, JSON
    GET  /bench/trivial-async        anchor for event-loop endpoints: the same, no thread pool
    GET  /bench/authenticated        the sync anchor plus bearer-token verification (one read)
    GET  /v1/orders/{id}             token + order, its reviews and its explained decision
                                     (on the event loop; ratio against trivial-async)
    POST /v1/orders/{id}/reviews     token + one write transaction: review, re-decide, event
                                     (in the thread pool; ratio against trivial)

Targets: GET /v1/orders/{id} >= 0.5 of its trivial rate; POST reviews >= 0.25.

The default generator speaks HTTP/1.1 over asyncio streams (like wrk, it costs the
server's cores little); `--client httpx` uses an httpx.AsyncClient instead, which on a
small machine saturates before the server does and so compresses every ratio toward 1.

    python bench/http.py [--seconds 20] [--concurrency 8] [--client raw|httpx]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: drop its directory from the import path so that the
# standard library's `http` (which httpx and uvicorn import) is the one found.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import asyncio
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx
from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse

from cosignatory.api import ApiSettings, create_app
from cosignatory.api.auth import caller_of
from cosignatory.api.server import bind, run_server, url_of
from cosignatory.core.policy import ReviewDecision
from cosignatory.service import Service
from cosignatory.storage.migrate import upgrade
from cosignatory.storage.store import open_store

OFFICERS = [f"officer-{i:02d}" for i in range(12)]
POLICY = f"""\
cosignatory: 1
name: bench
settings: {{ttl: 24h, execution_window: 1h}}
people:
  kim: {{roles: [commander]}}
{chr(10).join(f"  {p}: {{roles: [officer]}}" for p in OFFICERS)}
actions:
  move: {{params: {{unit: {{type: string, required: true}}, destination: {{type: string}}}}}}
rules:
  - id: council
    applies_to: "*"
    proposers: [commander]
    require: [{{role: officer, count: {len(OFFICERS)}}}]
    veto: [officer]
"""
TARGETS = {"GET  /v1/orders/{id}": 0.5, "POST /v1/orders/{id}/reviews": 0.25}
SYNC_ANCHOR, ASYNC_ANCHOR = "GET  /bench/trivial", "GET  /bench/trivial-async"
# Each endpoint against the trivial one served the same way (thread pool or event loop).
ANCHOR_OF = {"GET  /v1/orders/{id}": ASYNC_ANCHOR, ASYNC_ANCHOR: ASYNC_ANCHOR}

Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


# ---- the server process -----------------------------------------------------------


def serve(db_url: str) -> None:
    """The real app plus the two anchor endpoints, on a free loopback port."""
    anchors = APIRouter()

    @anchors.get("/bench/trivial")
    def trivial() -> JSONResponse:
        return JSONResponse({"ok": True})

    @anchors.get("/bench/trivial-async")
    async def trivial_async() -> JSONResponse:
        return JSONResponse({"ok": True})

    @anchors.get("/bench/authenticated")
    def authenticated(request: HttpRequest) -> JSONResponse:
        return JSONResponse({"ok": True, "person": caller_of(request).person})

    service = Service(open_store(db_url))
    app = create_app(service, ApiSettings(sweep_interval=0), routers=[anchors])
    sock = bind("127.0.0.1", 0)
    print(f"serving {url_of(sock)}", flush=True)
    run_server(app, sock, log_level="warning", access_log=False)


# ---- load generators --------------------------------------------------------------


class RawConnection:
    """Minimal HTTP/1.1 keep-alive client: enough for our JSON responses, nothing more."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> RawConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        lines = [
            f"{method} {path} HTTP/1.1",
            "Host: bench",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


async def drive(
    url: str, make: Callable[[], Request], *, seconds: float, concurrency: int, client: str
) -> Result:
    result = Result()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    senders: list[Callable[[Request], Awaitable[int]]] = []
    closers: list[Callable[[], object]] = []
    if client == "raw":
        for _ in range(concurrency):
            conn = await RawConnection.open(host, int(port))
            senders.append(lambda r, c=conn: c.request(*r))
            closers.append(conn.close)
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        http = httpx.AsyncClient(base_url=url, limits=limits, timeout=30)

        async def send(r: Request) -> int:
            headers = {**r[2], "Content-Type": "application/json"} if r[3] else r[2]
            response = await http.request(r[0], r[1], headers=headers, content=r[3] or None)
            return response.status_code

        senders = [send] * concurrency
        closers.append(http.aclose)
    for send in senders:  # warm every connection before the clock starts
        await send(("GET", "/bench/trivial", {}, b""))
    deadline = time.perf_counter() + seconds

    async def worker(send: Callable[[Request], Awaitable[int]]) -> None:
        while (start := time.perf_counter()) < deadline:
            request = make()
            status = await send(request)
            if status >= 300:
                result.errors += 1
                if result.errors <= 3:
                    print(f"http:   unexpected {status} for {request[0]} {request[1]}")
            result.latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(worker(send) for send in senders))
    result.seconds = time.perf_counter() - started
    for close in closers:
        closed = close()
        if asyncio.iscoroutine(closed):
            await closed
    return result


# ---- the run ----------------------------------------------------------------------


def prepare(db_url: str, review_orders: int) -> tuple[dict[str, str], list[str], list[str]]:
    store = open_store(db_url, create=True, check_schema=False)
    upgrade(store)
    service = Service(store)
    service.publish_policy(yaml_text=POLICY, by="admin")
    tokens = {p: service.create_token(person=p, by="admin")[1] for p in ["kim", *OFFICERS]}
    # Orders to read: half their seats filled, so the decision has real work to explain.
    read_ids = []
    for i in range(32):
        order = service.propose(action="move", params={"unit": f"u{i}"}, proposer="kim")
        for officer in OFFICERS[: len(OFFICERS) // 2]:
            service.review(order_id=order.id, reviewer=officer, decision=ReviewDecision.APPROVE)
        read_ids.append(order.id)
    # Orders to review: each takes 12 reviews (the last one approves it).
    review_ids = [
        service.propose(action="move", params={"unit": f"r{i}"}, proposer="kim").id
        for i in range(review_orders)
    ]
    store.close()
    return tokens, read_ids, review_ids


def scenarios(
    tokens: dict[str, str], read_ids: list[str], review_ids: list[str]
) -> dict[str, Callable[[], Request]]:
    kim = {"Authorization": f"Bearer {tokens['kim']}"}
    reads = iter(read_ids * 1_000_000)
    reviews: Iterator[tuple[str, str]] = ((o, p) for o in review_ids for p in OFFICERS)
    body = json.dumps({"decision": "approve", "comment": "confirmed"}).encode()

    def review() -> Request:
        order_id, officer = next(reviews)
        headers = {"Authorization": f"Bearer {tokens[officer]}"}
        return "POST", f"/v1/orders/{order_id}/reviews", headers, body

    return {
        "GET  /bench/trivial": lambda: ("GET", "/bench/trivial", {}, b""),
        "GET  /bench/trivial-async": lambda: ("GET", "/bench/trivial-async", {}, b""),
        "GET  /bench/authenticated": lambda: ("GET", "/bench/authenticated", kim, b""),
        "GET  /v1/orders/{id}": lambda: ("GET", f"/v1/orders/{next(reads)}", kim, b""),
        "POST /v1/orders/{id}/reviews": review,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time in all")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", metavar="DB_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    with tempfile.TemporaryDirectory(prefix="cosignatory-bench-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        tokens, read_ids, review_ids = prepare(db_url, review_orders=600)
        prepared = time.perf_counter() - started
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", db_url], stdout=subprocess.PIPE, text=True
        )
        try:
            if server.stdout is None:
                raise RuntimeError("no server output")
            url = server.stdout.readline().split()[1]
            plan = scenarios(tokens, read_ids, review_ids)
            # Warm every endpoint, not only the anchor, before any clock starts: one-time
            # costs (parsing the policy, ~50 ms per thread that first needs it; compiling
            # statements) otherwise land in whichever endpoint's first round meets them.
            for make in plan.values():
                asyncio.run(
                    drive(url, make, seconds=0.2, concurrency=args.concurrency, client=args.client)
                )
            per_run = args.seconds / (len(plan) * args.rounds)
            results = {name: Result() for name in plan}
            for _ in range(args.rounds):
                for name, make in plan.items():
                    one = asyncio.run(
                        drive(
                            url,
                            make,
                            seconds=per_run,
                            concurrency=args.concurrency,
                            client=args.client,
                        )
                    )
                    results[name].latencies += one.latencies
                    results[name].seconds += one.seconds
                    results[name].errors += one.errors
        finally:
            server.terminate()
            server.wait(timeout=15)
    print(
        f"http: one uvicorn process, SQLite, {args.concurrency} keep-alive connections "
        f"({args.client} client), {args.rounds} interleaved rounds; setup {prepared:.1f} s"
    )
    print(
        f"http: {'endpoint':<30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}  (against)"
    )
    failed = False
    for name, result in results.items():
        anchor = ANCHOR_OF.get(name, SYNC_ANCHOR)
        ratio = result.rate / results[anchor].rate
        note = ""
        if name in TARGETS:
            ok = ratio >= TARGETS[name]
            failed |= not ok
            note = f"  target >= {TARGETS[name]}: {'met' if ok else 'MISSED'}"
        if result.errors:
            note += f"  ({result.errors} errors)"
        print(
            f"http: {name:<30} {result.rate:>8.0f} {result.pct(50):>8.2f} {result.pct(99):>8.2f}"
            f" {ratio:>7.2f}  ({anchor.split('/')[-1]}){note}"
        )
    if any(r.errors for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
