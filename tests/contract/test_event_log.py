"""The event log under random histories: gapless, canonical, and in agreement with state."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosignatory.core.errors import CosignatoryError
from cosignatory.service import Outcome, ReviewDecision, Service
from cosignatory.storage import open_store
from tests.conftest import Clock
from tests.contract.policies import OFFICERS, SQUAD
from tests.contract.support import assert_log_consistent

PEOPLE = ["cmd", "cmd2", "insp", "clerk", *OFFICERS[:4]]
step = st.one_of(
    st.tuples(st.just("propose"), st.sampled_from(["launch", "drill", "mass"]),
              st.sampled_from(["cmd", "cmd2", "o1"])),
    st.tuples(st.just("review"), st.integers(0, 7), st.sampled_from(PEOPLE),
              st.sampled_from(list(ReviewDecision))),
    st.tuples(st.just("cancel"), st.integers(0, 7), st.sampled_from(["cmd", "o1", "root"])),
    st.tuples(st.just("claim"), st.integers(0, 7), st.sampled_from(PEOPLE)),
    st.tuples(st.just("result"), st.integers(0, 7), st.sampled_from(list(Outcome))),
    st.tuples(st.just("wait"), st.sampled_from([1, 5, 11, 61])),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("token"), st.sampled_from(PEOPLE)),
)  # fmt: skip


def _do(service: Service, clock: Clock, s: tuple[object, ...], ids: list[str],
        tickets: dict[str, str]) -> None:  # fmt: skip
    kind, args = s[0], s[1:]
    targeted = kind in ("review", "cancel", "claim", "result")
    target = ids[int(str(args[0])) % len(ids)] if targeted and ids else "ord_none"
    if kind == "propose":
        params: dict[str, object] = {"target": "t"} if args[0] == "launch" else {}
        ids.append(service.propose(action=str(args[0]), params=params, proposer=str(args[1])).id)
    elif kind == "review":
        service.review(order_id=target, reviewer=str(args[1]), decision=ReviewDecision(args[2]))
    elif kind == "cancel":
        service.cancel(order_id=target, by=str(args[1]), as_admin=args[1] == "root")
    elif kind == "claim":
        tickets[target] = service.claim(order_id=target, by=str(args[1]))[1]
    elif kind == "result":
        service.record_result(
            order_id=target, ticket=tickets.get(target, "none"), outcome=Outcome(args[1])
        )
    elif kind == "wait":
        clock.advance(minutes=int(str(args[0])))
    elif kind == "sweep":
        service.expire_due()
    elif kind == "token":
        service.create_token(person=str(args[0]), by="admin")


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_random_histories_keep_the_log_gapless_and_consistent(
    make_store_url: Callable[[], str], steps: list[tuple[object, ...]]
) -> None:
    store = open_store(make_store_url())
    try:
        clock = Clock()
        service = Service(store, clock=clock)
        service.publish_policy(yaml_text=SQUAD, by="admin")
        ids: list[str] = []
        tickets: dict[str, str] = {}
        for s in steps:
            with contextlib.suppress(CosignatoryError):  # refusals must leave no trace
                _do(service, clock, s, ids, tickets)
        events = assert_log_consistent(service)
        for order in service.list_orders(limit=500)[0]:
            assert list(order.event_seqs) == [e.seq for e in events if e.subject == order.id]
    finally:
        store.close()
