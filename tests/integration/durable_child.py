"""The process that gets SIGKILLed: `python -m tests.integration.durable_child URL`.

In a loop it proposes an order as `cmd` and approves it as `o1`, and after each approval
has returned (its transaction committed) prints `acked <order id>`. The parent kills it
with SIGKILL after a few acknowledgements, mid-way through the next write.
"""

from __future__ import annotations

import sys

from cosignatory.service import ReviewDecision, Service
from cosignatory.storage import open_store


def main(url: str) -> None:
    service = Service(open_store(url))
    while True:
        order = service.propose(action="launch", params={"target": "t"}, proposer="cmd")
        service.review(order_id=order.id, reviewer="o1", decision=ReviewDecision.APPROVE)
        sys.stdout.write(f"acked {order.id}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
