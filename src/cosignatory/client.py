"""Python SDK over the HTTP API.

    with Client("http://127.0.0.1:8000", token) as c:
        order = c.propose("move", {"unit": "3rd-battalion"}, justification="...")
        c.approve(order.id, comment="confirmed")          # as another person's token
        run = c.execute(order.id)                          # run.ticket is single-use
        c.record_result(order.id, ticket=run.ticket, outcome="succeeded")

Every failure raises a `ClientError`:

    ClientError (a CosignatoryError)
     ├── ApiError            the server answered with a problem (status, code, detail)
     └── TransportFailure    no answer: connection refused, timeout, bad URL

`ApiError.code` is the `ErrorCode` the server sent (`not_eligible`, `already_executed`,
…); `problem_code` is the raw string, kept even when this client does not know it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from cosignatory.api.schemas import (
    Execution,
    Health,
    InFlightChoice,
    Order,
    OrderPage,
    OutcomeChoice,
    PolicyOut,
    ReviewChoice,
)
from cosignatory.core.errors import CosignatoryError, ErrorCode

__all__ = [
    "ApiError",
    "Client",
    "ClientError",
    "Execution",
    "Health",
    "Order",
    "OrderPage",
    "PolicyOut",
    "TransportFailure",
]

_M = TypeVar("_M", bound=BaseModel)
_KNOWN_CODES = frozenset(c.value for c in ErrorCode)
# Codes the server may send that have no domain counterpart, by the status that carries
# them; `ApiError.code` then names the nearest domain meaning.
_FALLBACK_BY_STATUS = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.INVALID_INPUT,  # payload_too_large: bad input, as the CLI sees it
}


class ClientError(CosignatoryError):
    """Base of every error the client raises."""


class ApiError(ClientError):
    """The server refused the request; carries the problem details it sent."""

    def __init__(
        self, *, status: int, problem_code: str, title: str, detail: str, body: Mapping[str, Any]
    ) -> None:
        if problem_code in _KNOWN_CODES:
            code = ErrorCode(problem_code)
        else:
            code = _FALLBACK_BY_STATUS.get(status, ErrorCode.CONFLICT)
        super().__init__(detail or title, code=code)
        self.status = status
        self.problem_code = problem_code
        self.title = title
        self.detail = detail
        self.body = dict(body)

    def __str__(self) -> str:
        return f"{self.problem_code} ({self.status}): {self.message}"


class TransportFailure(ClientError):
    """The server could not be reached, or did not answer in time."""

    code = ErrorCode.CONFLICT


def _problem_from(response: httpx.Response) -> ApiError:
    status = response.status_code
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = f"http {status}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        snippet = response.text[:200].strip()
        return ApiError(
            status=status,
            problem_code="internal" if status >= 500 else "invalid_input",
            title=phrase,
            detail=f"the server answered {status} without problem details: `{snippet}`",
            body={},
        )
    return ApiError(
        status=status,
        problem_code=str(body.get("code") or ("internal" if status >= 500 else "invalid_input")),
        title=str(body.get("title") or phrase),
        detail=str(body.get("detail") or ""),
        body=body,
    )


class Client:
    """A blocking client for one server and one person's bearer token."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "cosignatory-client"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    # -- plumbing -------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        try:
            response = self._http.request(method, path, json=json, params=params)
        except httpx.InvalidURL as e:
            raise TransportFailure(f"invalid server url `{self.url}`: {e}") from e
        except httpx.TimeoutException as e:
            raise TransportFailure(f"`{self.url}` did not answer in time ({e})") from e
        except httpx.TransportError as e:
            raise TransportFailure(
                f"cannot reach `{self.url}`: {e}; is `cosignatory serve` running there "
                "and is COSIGNATORY_URL right?"
            ) from e
        if response.status_code >= 400:
            raise _problem_from(response)
        try:
            return response.json()
        except ValueError as e:
            raise ApiError(
                status=response.status_code,
                problem_code="internal",
                title="invalid response",
                detail=f"the server's answer to {method} {path} is not JSON",
                body={},
            ) from e

    def _parse(self, model: type[_M], data: Any) -> _M:
        try:
            return model.model_validate(data)
        except ValidationError as e:
            raise ApiError(
                status=200,
                problem_code="internal",
                title="invalid response",
                detail=f"the server's answer is not a valid {model.__name__}: {e}",
                body={},
            ) from e

    # -- orders ---------------------------------------------------------------------

    def propose(
        self, action: str, params: Mapping[str, Any] | None = None, *, justification: str = ""
    ) -> Order:
        body = {"action": action, "params": dict(params or {}), "justification": justification}
        return self._parse(Order, self._request("POST", "/v1/orders", json=body))

    def get_order(self, order_id: str) -> Order:
        return self._parse(Order, self._request("GET", f"/v1/orders/{_segment(order_id)}"))

    def list_orders(
        self,
        *,
        state: str | None = None,
        proposer: str | None = None,
        action: str | None = None,
        awaiting_me: bool = False,
        limit: int = 50,
        cursor: str | None = None,
    ) -> OrderPage:
        query: dict[str, str | int] = {"limit": limit}
        for key, value in (("state", state), ("proposer", proposer), ("action", action)):
            if value is not None:
                query[key] = value
        if awaiting_me:
            query["awaiting"] = "me"
        if cursor is not None:
            query["cursor"] = cursor
        return self._parse(OrderPage, self._request("GET", "/v1/orders", params=query))

    def iter_orders(
        self,
        *,
        state: str | None = None,
        proposer: str | None = None,
        action: str | None = None,
        awaiting_me: bool = False,
        page_size: int = 100,
    ) -> Iterator[Order]:
        """Every matching order, following cursors page by page."""
        cursor: str | None = None
        while True:
            page = self.list_orders(
                state=state,
                proposer=proposer,
                action=action,
                awaiting_me=awaiting_me,
                limit=page_size,
                cursor=cursor,
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def review(self, order_id: str, decision: ReviewChoice | str, *, comment: str = "") -> Order:
        body = {"decision": ReviewChoice(decision).value, "comment": comment}
        path = f"/v1/orders/{_segment(order_id)}/reviews"
        return self._parse(Order, self._request("POST", path, json=body))

    def approve(self, order_id: str, *, comment: str = "") -> Order:
        return self.review(order_id, ReviewChoice.APPROVE, comment=comment)

    def deny(self, order_id: str, *, comment: str) -> Order:
        return self.review(order_id, ReviewChoice.DENY, comment=comment)

    def cancel(self, order_id: str, *, reason: str = "") -> Order:
        path = f"/v1/orders/{_segment(order_id)}/cancel"
        return self._parse(Order, self._request("POST", path, json={"reason": reason}))

    def execute(self, order_id: str) -> Execution:
        """Claim the single-use ticket of an approved order (409 for everyone after)."""
        path = f"/v1/orders/{_segment(order_id)}/execute"
        return self._parse(Execution, self._request("POST", path, json={}))

    def record_result(
        self, order_id: str, *, ticket: str, outcome: OutcomeChoice | str, detail: str = ""
    ) -> Order:
        body = {"ticket": ticket, "outcome": OutcomeChoice(outcome).value, "detail": detail}
        path = f"/v1/orders/{_segment(order_id)}/result"
        return self._parse(Order, self._request("POST", path, json=body))

    # -- policy and health ----------------------------------------------------------

    def get_policy(self) -> PolicyOut:
        return self._parse(PolicyOut, self._request("GET", "/v1/policy"))

    def publish_policy(
        self, yaml_text: str, *, in_flight: InFlightChoice | str = InFlightChoice.KEEP
    ) -> PolicyOut:
        body = {"yaml": yaml_text, "in_flight": InFlightChoice(in_flight).value}
        return self._parse(PolicyOut, self._request("PUT", "/v1/policy", json=body))

    def health(self) -> Health:
        return self._parse(Health, self._request("GET", "/healthz"))


def _segment(order_id: str) -> str:
    """Order ids go into the path; refuse anything that could change the route."""
    if not order_id or any(ch in order_id for ch in "/?#%") or order_id in {".", ".."}:
        raise ClientError(f"`{order_id}` is not an order id", code=ErrorCode.INVALID_INPUT)
    return order_id
