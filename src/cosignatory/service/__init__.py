"""Use cases over durable storage: `Service` and the views it returns.

service = Service(open_store("sqlite:///cosignatory.db"))
service.publish_policy(yaml_text=..., by="admin")
order = service.propose(action="move", params={...}, proposer="kim")
service.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE)
order, ticket = service.claim(order_id=order.id, by="kim")
service.record_result(order_id=order.id, ticket=ticket, outcome=Outcome.SUCCEEDED)
"""

from cosignatory.core.policy import ReviewDecision
from cosignatory.service.transitions import SYSTEM_EXPIRY
from cosignatory.service.use_cases import Service, utc_now
from cosignatory.service.views import (
    EventView,
    InFlight,
    OrderView,
    Outcome,
    PolicyVersion,
    Principal,
    ReviewView,
    TokenInfo,
)

__all__ = [
    "SYSTEM_EXPIRY",
    "EventView",
    "InFlight",
    "OrderView",
    "Outcome",
    "PolicyVersion",
    "Principal",
    "ReviewDecision",
    "ReviewView",
    "Service",
    "TokenInfo",
    "utc_now",
]
