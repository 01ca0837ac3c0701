"""A racer process for the multi-process tests.

Workers are forked from a multiprocessing *forkserver* that has imported this module
(so sixteen of them start in milliseconds, not sixteen interpreter start-ups), and they
share nothing with the test process but the database. Each serves commands on a pipe:

    {"op": "prepare", "url": …, "call": "claim"|"review", "args": {…}}  → {"ready": True}
    {"op": "go"}    runs the prepared call → {"ok": True, …} | {"ok": False, "code": …}
    {"op": "quit"}

The parent prepares every worker, waits for all `ready` (each has connected by then),
then sends `go` to all, so the calls hit the database together.
"""

from __future__ import annotations

from multiprocessing.connection import Connection
from typing import Any

from cosignatory.core.errors import CosignatoryError
from cosignatory.service import ReviewDecision, Service
from cosignatory.storage import Store, open_store


def serve(pipe: Connection) -> None:
    stores: dict[str, Store] = {}
    prepared: tuple[Service, str, dict[str, Any]] | None = None
    try:
        while True:
            command: dict[str, Any] = pipe.recv()
            op = command["op"]
            if op == "quit":
                return
            if op == "prepare":
                url = command["url"]
                if url not in stores:
                    stores[url] = open_store(url)
                service = Service(stores[url])
                service.store.ping()  # connected before the start signal
                prepared = (service, command["call"], command["args"])
                pipe.send({"ready": True})
            elif op == "go" and prepared is not None:
                pipe.send(run(*prepared))
                prepared = None
            else:
                pipe.send({"ok": False, "code": f"bad command {op}"})
    finally:
        for store in stores.values():
            store.close()
        pipe.close()


def run(service: Service, call: str, args: dict[str, Any]) -> dict[str, Any]:
    try:
        if call == "claim":
            order, ticket = service.claim(order_id=args["order_id"], by=args["by"])
            return {"ok": True, "state": order.state.value, "ticket": ticket}
        if call == "review":
            order = service.review(
                order_id=args["order_id"],
                reviewer=args["reviewer"],
                decision=ReviewDecision(args["decision"]),
            )
            return {"ok": True, "state": order.state.value}
    except CosignatoryError as e:
        return {"ok": False, "code": e.code.value}
    return {"ok": False, "code": f"unknown call {call}"}
