"""The web layer's pure parts: sessions, CSRF, `next` paths, rule sentences, forms, gates."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from cosignatory.core.policy import ReviewDecision, load_policy
from cosignatory.service import Service
from cosignatory.web.context import safe_next
from cosignatory.web.csrf import CsrfRefused, require_csrf
from cosignatory.web.forms import read_form
from cosignatory.web.gate import review_gate
from cosignatory.web.present import human_duration, message, relative, role_name
from cosignatory.web.sentences import rule_sentence
from cosignatory.web.sessions import COOKIE_NAME, Session, SignedCookieSessions, SignInMethod
from cosignatory.web.settings import WebSettings

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def request(
    *, cookie: str | None = None, headers: dict[str, str] | None = None, scheme: str = "http"
) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    raw.append((b"host", b"inbox.example"))
    if cookie is not None:
        raw.append((b"cookie", f"{COOKIE_NAME}={cookie}".encode()))
    return Request(
        {
            "type": "http",
            "method": "POST",
            "scheme": scheme,
            "path": "/",
            "query_string": b"",
            "headers": raw,
            "server": ("inbox.example", 80),
        }
    )


def cookie_value(response: Response) -> str:
    header = response.headers["set-cookie"]
    return header.split(";", 1)[0].split("=", 1)[1]


# ---- sessions ----------------------------------------------------------------------------------


def signed_in(at: datetime | None = None) -> Session:
    return Session.anonymous().signed_in(
        person="pak",
        is_admin=False,
        token_id="tok_1",
        via=SignInMethod.TOKEN,
        at=at or datetime.now(UTC),
    )


def test_a_session_survives_the_round_trip_through_its_cookie() -> None:
    sessions = SignedCookieSessions(WebSettings(secret_key=b"s" * 32))
    response = Response()
    session = signed_in().with_flash("hello")
    sessions.save(response, request(), session)
    loaded = sessions.load(request(cookie=cookie_value(response)))
    assert loaded is not None
    assert (loaded.person, loaded.csrf, loaded.flash, loaded.token_id) == (
        "pak",
        session.csrf,
        "hello",
        "tok_1",
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),
        lambda v: v.replace(v.split(".")[0], "eyJjc3JmIjoieCIsInBlcnNvbiI6InJvb3QifQ"),
        lambda _v: "garbage",
        lambda _v: "x" * 5000,
    ],
    ids=["bad-signature", "swapped-payload", "garbage", "oversized"],
)
def test_a_tampered_session_cookie_is_no_session(tamper: Any) -> None:
    sessions = SignedCookieSessions(WebSettings(secret_key=b"s" * 32))
    response = Response()
    sessions.save(response, request(), signed_in())
    assert sessions.load(request(cookie=tamper(cookie_value(response)))) is None


def test_signed_in_and_anonymous_cookies_cannot_stand_in_for_each_other() -> None:
    sessions = SignedCookieSessions(WebSettings(secret_key=b"s" * 32))
    anonymous, signed = Response(), Response()
    sessions.save(anonymous, request(), Session.anonymous())
    sessions.save(signed, request(), signed_in())
    assert "cosignatory_signin=" in anonymous.headers["set-cookie"]
    assert f"{COOKIE_NAME}=" not in anonymous.headers["set-cookie"]
    swapped = request(cookie=cookie_value(anonymous))  # anonymous bytes, session cookie name
    assert sessions.load(swapped) is None
    raw = [
        (b"host", b"inbox.example"),
        (b"cookie", f"cosignatory_signin={cookie_value(signed)}".encode()),
    ]
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "query_string": b"",
        "headers": raw,
    }
    assert sessions.load(Request(scope)) is None


def test_a_cookie_signed_with_another_key_is_no_session() -> None:
    response = Response()
    SignedCookieSessions(WebSettings(secret_key=b"a" * 32)).save(response, request(), signed_in())
    other = SignedCookieSessions(WebSettings(secret_key=b"b" * 32))
    assert other.load(request(cookie=cookie_value(response))) is None


def test_a_session_ends_after_its_lifetime_even_when_re_saved() -> None:
    settings = WebSettings(secret_key=b"s" * 32, session_max_age=timedelta(hours=1))
    sessions = SignedCookieSessions(settings)
    response = Response()
    sessions.save(response, request(), signed_in(at=datetime.now(UTC) - timedelta(hours=2)))
    assert sessions.load(request(cookie=cookie_value(response))) is None


@pytest.mark.parametrize(
    ("secure", "scheme", "flag"),
    [(None, "http", False), (None, "https", True), (True, "http", True), (False, "https", False)],
)
def test_the_cookie_flags(secure: bool | None, scheme: str, flag: bool) -> None:
    sessions = SignedCookieSessions(WebSettings(secret_key=b"s" * 32, cookie_secure=secure))
    response = Response()
    sessions.save(response, request(scheme=scheme), signed_in())
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=strict" in header
    assert ("secure" in header) is flag


def test_settings_refuse_a_short_key() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        WebSettings(secret_key=b"short")


# ---- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "token", "ok"),
    [
        ({}, "RIGHT", True),
        ({"Origin": "http://inbox.example"}, "RIGHT", True),
        ({"Origin": "https://inbox.example", "Sec-Fetch-Site": "same-origin"}, "RIGHT", True),
        ({}, "", False),
        ({}, "WRONG", False),
        ({"Origin": "http://evil.example"}, "RIGHT", False),
        ({"Origin": "null"}, "RIGHT", False),
        ({"Sec-Fetch-Site": "same-site"}, "RIGHT", False),
        ({"Sec-Fetch-Site": "cross-site"}, "RIGHT", False),
    ],
    ids=[
        "token",
        "token-same-origin",
        "token-behind-tls-proxy",
        "no-token",
        "wrong-token",
        "foreign-origin",
        "opaque-origin",
        "sibling-subdomain",
        "cross-site",
    ],
)
def test_csrf(headers: dict[str, str], token: str, ok: bool) -> None:
    session = Session.anonymous()
    sent = session.csrf if token == "RIGHT" else token
    if ok:
        assert require_csrf(request(headers=headers), session, sent) is session
    else:
        with pytest.raises(CsrfRefused):
            require_csrf(request(headers=headers), session, sent)


def test_csrf_without_a_session_is_refused() -> None:
    with pytest.raises(CsrfRefused, match="session cookie was not sent"):
        require_csrf(request(), None, "anything")


@pytest.mark.parametrize(
    ("unverified", "expected"),
    [
        ("/orders/ord_1", "/orders/ord_1"),
        ("/policy?version=2", "/policy?version=2"),
        ("", "/"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
    ],
)
def test_safe_next(unverified: str | None, expected: str) -> None:
    assert safe_next(unverified) == expected


# ---- sentences and formatting -----------------------------------------------------------------------

RULES = load_policy(
    textwrap.dedent(
        """
        cosignatory: 1
        name: sentences
        people:
          a: {roles: [engineer, release_manager, security, treasurer, auditor]}
          b: {roles: [release_manager, treasurer]}
          c: {roles: [release_manager, treasurer]}
        actions:
          deploy: {params: {env: {type: string}}}
          wire: {params: {amount: {type: integer}}}
        rules:
          - id: everything
            applies_to: "*"
            proposers: [engineer]
            require: [{role: release_manager, count: 1}]
            veto: [release_manager]
          - id: two
            applies_to: [deploy, wire]
            when: params.size() > 0
            require: [{role: release_manager, count: 2}, {role: security}]
            veto: [security]
            reject_after_denials: 2
          - id: free
            applies_to: deploy
            require: []
          - id: pair
            applies_to: wire
            require: [{role: treasurer, count: 2}]
            veto: [treasurer]
        """
    ),
    filename="sentences.yaml",
)


@pytest.mark.parametrize(
    ("rule_id", "sentence"),
    [
        (
            "everything",
            "Every order needs 1 release manager, who may veto. Only an engineer may propose it.",
        ),
        (
            "two",
            "Every `deploy` or `wire` order where `params.size() > 0` needs 2 release managers "
            "and 1 security; a security may veto it. It is rejected after 2 denials.",
        ),
        ("free", "Every `deploy` order needs no cosignatory."),
        ("pair", "Every `wire` order needs 2 treasurers, any of whom may veto."),
    ],
)
def test_rules_read_as_sentences(rule_id: str, sentence: str) -> None:
    assert rule_sentence(RULES.rule(rule_id)) == sentence


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=2), "just now"),
        (timedelta(seconds=42), "in 42 s"),
        (timedelta(minutes=-5), "5 min ago"),
        (timedelta(hours=5, minutes=12, seconds=9), "in 5 h 12 min"),
        (timedelta(days=2, hours=3, minutes=4), "in 2 d 3 h"),
    ],
)
def test_relative_times(delta: timedelta, text: str) -> None:
    assert relative(NOW + delta, NOW) == text


def test_small_formatters() -> None:
    assert role_name("political_officer") == "political officer"
    assert role_name("boss", 2) == "2 bosses"
    assert human_duration(timedelta(hours=24)) == "1 d"
    assert str(message("`pak` may not <b>")) == "<code>pak</code> may not &lt;b&gt;."
    assert str(message("no order here")) == "No order here."


# ---- the propose form ---------------------------------------------------------------------------------

FORMS = load_policy(
    textwrap.dedent(
        """
        cosignatory: 1
        name: forms
        people:
          a: {roles: [r]}
        actions:
          act:
            params:
              name: {type: string, required: true, pattern: "[a-z]+"}
              count: {type: integer, minimum: 1, maximum: 9}
              flag: {type: boolean}
              tags: {type: list, enum: [x, y]}
              env: {type: string, enum: [staging, prod]}
        rules:
          - {id: any, applies_to: "*", require: [{role: r}]}
        """
    ),
    filename="forms.yaml",
).actions["act"]


@pytest.mark.parametrize(
    ("fields", "params", "errors"),
    [
        (
            {"name": "abc", "count": "3", "flag": "true", "tags": "x\n\ny\n", "env": "prod"},
            {"name": "abc", "count": 3, "flag": True, "tags": ["x", "y"], "env": "prod"},
            {},
        ),
        ({"name": "  abc  ", "count": "", "flag": ""}, {"name": "abc"}, {}),
        ({}, {}, {"name": "Required"}),
        ({"name": "ABC"}, {}, {"name": "does not match"}),
        ({"name": "a", "count": "three"}, {"name": "a"}, {"count": "is not a whole number"}),
        ({"name": "a", "count": "12"}, {"name": "a"}, {"count": "the maximum is 9"}),
        ({"name": "a", "count": "1" * 40}, {"name": "a"}, {"count": "is not a whole number"}),
        ({"name": "a", "flag": "maybe"}, {"name": "a"}, {"flag": "pick yes or no"}),
        ({"name": "a", "tags": "x\nz"}, {"name": "a"}, {"tags": "allowed values"}),
        ({"name": "a", "env": "moon"}, {"name": "a"}, {"env": "allowed values"}),
    ],
    ids=[
        "all-valid",
        "optional-left-empty",
        "required-missing",
        "pattern",
        "not-a-number",
        "above-maximum",
        "huge-number",
        "bad-boolean",
        "list-outside-enum",
        "enum",
    ],
)
def test_the_propose_form_reads_values_by_type(
    fields: dict[str, str], params: dict[str, Any], errors: dict[str, str]
) -> None:
    form = read_form(FORMS, {f"param.{k}": v for k, v in fields.items()}, show_missing=True)
    assert dict(form.params) == params
    got = {f.spec.name: f.error for f in form.fields if f.error}
    assert set(got) == set(errors)
    for name, fragment in errors.items():
        assert fragment.lower() in got[name].lower()
    assert form.ok is (not errors)


def test_a_preview_does_not_flag_fields_not_filled_yet() -> None:
    form = read_form(FORMS, {}, show_missing=False)
    assert form.ok
    assert form.missing == ("name",)


# ---- review gates ---------------------------------------------------------------------------------

VETO_ONLY = """
cosignatory: 1
name: veto-only
people:
  pro: {roles: [proposer]}
  fin: {roles: [finance]}
  aud: {roles: [auditor]}
  by: {roles: [bystander]}
actions:
  pay: {params: {}}
rules:
  - id: pay
    applies_to: pay
    proposers: [proposer]
    require: [{role: finance}]
    veto: [auditor]
"""


@pytest.mark.parametrize(
    ("reviews", "person", "approve", "deny", "says"),
    [
        ([], "kim", False, False, "You proposed this order"),
        ([], "pak", True, True, "Your deny is a veto"),
        ([], "ri", False, False, "you hold military police"),
        ([], "nobody", False, False, "you are not in the roster of policy version 1"),
        ([("han", "approve")], "han", False, False, "You already approved this order"),
        ([("han", "approve"), ("pak", "approve")], "ri", False, False, "closed (approved)"),
        ([("pak", "deny")], "han", False, False, "This order is closed (rejected)"),
    ],
    ids=[
        "proposer",
        "eligible-vetoer",
        "not-eligible",
        "not-in-roster",
        "already-reviewed",
        "approved",
        "rejected",
    ],
)
def test_review_gate(
    service: Service,
    reviews: list[tuple[str, str]],
    person: str,
    approve: bool,
    deny: bool,
    says: str,
) -> None:
    # needs a political officer and the deputy for logistics (han holds both roles)
    order = service.propose(
        action="requisition", params={"item": "fuel", "amount": 5000}, proposer="kim"
    )
    for reviewer, decision in reviews:
        order = service.review(
            order_id=order.id, reviewer=reviewer, decision=ReviewDecision(decision)
        )
    gate = review_gate(order, service.policy(order.policy_version), person, is_admin=False)
    assert (gate.approve, gate.deny) == (approve, deny)
    assert says.lower() in (gate.reason + " " + gate.note).lower()


def test_a_veto_holder_without_a_seat_may_only_deny(service: Service) -> None:
    service.publish_policy(yaml_text=VETO_ONLY, by="admin")
    order = service.propose(action="pay", params={}, proposer="pro")
    policy = service.policy(order.policy_version)
    auditor = review_gate(order, policy, "aud", is_admin=False)
    assert (auditor.approve, auditor.deny) == (False, True)
    assert "an approval from you would not count" in auditor.reason
    bystander = review_gate(order, policy, "by", is_admin=False)
    assert (bystander.approve, bystander.deny) == (False, False)
    assert "this order needs a finance, and you hold bystander" in bystander.reason


def test_only_the_proposer_or_an_admin_may_cancel(service: Service) -> None:
    order = service.propose(
        action="move", params={"unit": "a1", "destination": "x"}, proposer="kim"
    )
    policy = service.policy(order.policy_version)
    assert review_gate(order, policy, "kim", is_admin=False).cancel
    assert review_gate(order, policy, "root", is_admin=True).cancel
    assert not review_gate(order, policy, "pak", is_admin=False).cancel
