"""`cosignatory run`: wait for a decision (live seat view), claim the ticket, run the
command, record its exit status and output digests as the order's result.

The command starts only after the ticket is claimed, i.e. only for an approved,
unexpired, never-executed order; every refusal happens before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from cosignatory.cli.remote_view import order_lines, seat_summary
from cosignatory.client import Client, ClientError, Order, TransportFailure

__all__ = ["run_approved", "wait_for_decision"]

_MAX_TRANSPORT_RETRIES = 5


def _fetch(client: Client, order_id: str, console: Console) -> Order:
    """Read the order, riding out a few connection failures (a server restart)."""
    for attempt in range(_MAX_TRANSPORT_RETRIES):
        try:
            return client.get_order(order_id)
        except TransportFailure as e:
            if attempt == _MAX_TRANSPORT_RETRIES - 1:
                raise
            console.print(f"(server unreachable, retrying: {e.message})", style="dim")
            time.sleep(min(2.0**attempt, 10.0))
    raise RuntimeError("unreachable")  # pragma: no cover


def _explain(order: Order, console: Console) -> None:
    if order.state == "approved":
        console.print(f"{order.id}: approved", style="bold green")
    else:
        console.print(f"{order.id}: {order.state}; nothing will run", style="bold red")
        for reason in order.reasons:
            console.print(f"  - {reason}", markup=False)


def wait_for_decision(
    client: Client, order_id: str, *, timeout: float, poll: float, console: Console
) -> Order:
    """Poll until the order leaves `pending` or `timeout` seconds pass; return it."""
    deadline = time.monotonic() + timeout
    order = _fetch(client, order_id, console)
    if console.is_terminal:
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while order.state == "pending" and time.monotonic() < deadline:
                left = int(deadline - time.monotonic())
                live.update(
                    Group(
                        order_lines(order),
                        Text(f"waiting for cosignatories… ({left}s left)", style="dim"),
                    )
                )
                time.sleep(poll)
                order = _fetch(client, order_id, console)
            live.update(order_lines(order))
    else:
        last = ""
        while True:
            line = seat_summary(order)
            if line != last:
                console.print(line, markup=False)
                last = line
            if order.state != "pending" or time.monotonic() >= deadline:
                break
            time.sleep(poll)
            order = _fetch(client, order_id, console)
    if order.state == "pending":
        console.print(
            f"gave up waiting; {order_id} is still pending and nothing ran. Run it once "
            f"approved with `cosignatory run {order_id} -- …`, or withdraw it with "
            f"`cosignatory cancel {order_id}`",
            style="bold yellow",
        )
        return order
    _explain(order, console)
    return order


class _Tee(threading.Thread):
    """Copy a child's stream to ours while hashing it."""

    def __init__(self, source: IO[bytes], sink: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.source, self.sink = source, sink
        self.digest = hashlib.sha256()
        self.size = 0

    def run(self) -> None:
        while chunk := self.source.read1(65536):  # type: ignore[attr-defined]
            self.digest.update(chunk)
            self.size += len(chunk)
            self.sink.write(chunk)
            self.sink.flush()


def _exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N → 128+N


def _execute(command: Sequence[str]) -> tuple[int, dict[str, object]]:
    started = time.monotonic()
    try:
        child = subprocess.Popen(  # noqa: S603 - running the user's command is the point
            list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except (FileNotFoundError, PermissionError, OSError) as e:
        status = 127 if isinstance(e, FileNotFoundError) else 126
        return status, {"command": list(command), "exit_status": status, "error": str(e)}
    if child.stdout is None or child.stderr is None:  # pragma: no cover - PIPE given above
        raise RuntimeError("child streams missing")
    tees = [_Tee(child.stdout, sys.stdout.buffer), _Tee(child.stderr, sys.stderr.buffer)]
    for tee in tees:
        tee.start()
    try:
        returncode = child.wait()
    except KeyboardInterrupt:  # the child got the same SIGINT; let it finish dying
        returncode = child.wait()
    for tee in tees:
        tee.join()
    status = _exit_status(returncode)
    return status, {
        "command": list(command),
        "exit_status": status,
        "stdout_sha256": tees[0].digest.hexdigest(),
        "stdout_bytes": tees[0].size,
        "stderr_sha256": tees[1].digest.hexdigest(),
        "stderr_bytes": tees[1].size,
        "seconds": round(time.monotonic() - started, 3),
    }


def run_approved(client: Client, order_id: str, command: Sequence[str], *, console: Console) -> int:
    """Claim the ticket (refused unless approved), run `command`, record the result."""
    claimed = client.execute(order_id)
    console.print(f"{order_id}: ticket claimed; running {' '.join(command)}", markup=False)
    status, detail = _execute(command)
    outcome = "succeeded" if status == 0 else "failed"
    try:
        client.record_result(
            order_id,
            ticket=claimed.ticket,
            outcome=outcome,
            detail=json.dumps(detail, sort_keys=True),
        )
    except ClientError:
        console.print(
            f"the command finished ({outcome}, exit {status}) but its result was not recorded; "
            f"record it with `cosignatory result {order_id} --ticket {claimed.ticket} "
            f"--outcome {outcome}`",
            markup=False,
        )
        raise
    console.print(f"{order_id}: {outcome} (exit {status}); result recorded", markup=False)
    return status
