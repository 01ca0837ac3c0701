"""schemathesis against `/openapi.json` of a real server, with a bearer token.

Every operation gets generated requests, valid and invalid (bounded: a few examples
each, derandomized); every response must be non-5xx, carry a documented status and
content type, and match its documented schema; unauthenticated variants must be
refused (`ignored_auth`). Cases are driven with Hypothesis directly because
schemathesis' lazy pytest integration does not run under pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode

from cosignatory.core.policy import ReviewDecision
from tests.api.serverproc import Deployment

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 12
OPERATIONS = [
    ("POST", "/v1/orders"),
    ("GET", "/v1/orders"),
    ("GET", "/v1/orders/{order_id}"),
    ("POST", "/v1/orders/{order_id}/reviews"),
    ("POST", "/v1/orders/{order_id}/cancel"),
    ("POST", "/v1/orders/{order_id}/execute"),
    ("POST", "/v1/orders/{order_id}/result"),
    ("GET", "/v1/policy"),
    ("PUT", "/v1/policy"),
    ("GET", "/v1/audit/checkpoint"),
    ("GET", "/v1/audit/entries"),
    ("GET", "/v1/audit/proof/inclusion"),
    ("GET", "/v1/audit/proof/consistency"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
]


@pytest.fixture(scope="module")
def api_schema(deployment: Deployment) -> schemathesis.BaseSchema:
    # Orders in several states, so listings return (and validate) real Order bodies.
    deployment.approved()
    deployment.executing()
    vetoed = deployment.pending("detain")
    deployment.service.review(order_id=vetoed.id, reviewer="pak", decision=ReviewDecision.DENY)
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {deployment.tokens['kim']}"},
            "checks": {
                # A schema-valid proposal may still name an action or params the policy
                # in force does not allow (the policy is data, not schema): 422 is right.
                "positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 409, 422]},
                # schemathesis' refusals, plus 413: an invalid body (a policy's `yaml` past
                # its maxLength) may be too large to read at all, documented where it can.
                "negative_data_rejection": {
                    "expected-statuses": [
                        400,
                        401,
                        403,
                        404,
                        405,
                        406,
                        409,
                        413,
                        415,
                        422,
                        428,
                        429,
                    ]
                },
            },
        }
    )
    return schemathesis.openapi.from_url(f"{deployment.url}/openapi.json", config=config)


def test_the_operation_list_is_complete(api_schema: schemathesis.BaseSchema) -> None:
    listed = {
        (method.upper(), path)
        for path, item in api_schema.raw_schema["paths"].items()
        for method in item
    }
    assert listed == set(OPERATIONS)


# Operations without parameters or body have no invalid inputs to generate.
NO_INPUT = {
    ("GET", "/v1/policy"),
    ("GET", "/v1/audit/checkpoint"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
}
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (method, path) not in NO_INPUT
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_conforms(
    api_schema: schemathesis.BaseSchema, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: Case) -> None:
        case.call_and_validate()

    conforms()
