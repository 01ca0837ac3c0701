"""The web pages through FastAPI's TestClient: sign-in, inbox, order, review, propose, policy."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from cosignatory.core.lifecycle import OrderState
from cosignatory.service import ReviewDecision, Service
from cosignatory.web.sessions import COOKIE_NAME
from tests.web.conftest import FIELD_COMMAND, Clock, TestClient, csrf_of, sign_in

Browser = Callable[[str], TestClient]
MOVE = {"unit": "alpha-1", "destination": "hill 204"}


def text(page: str) -> str:
    """The visible text of a page, tags removed and whitespace collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return re.sub(r"\( ", "(", re.sub(r" ([.,;:)])", r"\1", words))


def button(page: str, value: str) -> str:
    match = re.search(rf'<button[^>]*value="{value}"[^>]*>', page)
    assert match is not None, f"no {value} button"
    return match.group(0)


# ---- sign in / sign out --------------------------------------------------------------------


def test_pages_send_a_stranger_to_sign_in_and_back(
    anonymous: TestClient, tokens: dict[str, str]
) -> None:
    response = anonymous.get("/policy?version=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/policy%3Fversion%3D1"
    form = anonymous.get(response.headers["location"])
    assert 'name="next" value="/policy?version=1"' in form.text
    done = anonymous.post(
        "/signin",
        data={
            "token": tokens["pak"],
            "next": "/policy?version=1",
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/policy?version=1"
    page = anonymous.get("/policy?version=1")
    assert "Signed in as Maj. Pak (pak)." in text(page.text)


def test_the_session_cookie_is_httponly_and_samesite_strict(
    anonymous: TestClient, tokens: dict[str, str]
) -> None:
    form = anonymous.get("/signin")
    response = anonymous.post(
        "/signin",
        data={"token": tokens["kim"], "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert tokens["kim"] not in cookie  # the bearer token never goes into the cookie


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "Paste your personal token"),
        ("tok_nope.secret", "Unknown token; check it was copied whole"),
        ("not a token", "Unknown token"),
    ],
    ids=["empty", "unknown", "malformed"],
)
def test_a_bad_token_is_explained_on_the_sign_in_form(
    anonymous: TestClient, token: str, message: str
) -> None:
    form = anonymous.get("/signin")
    response = anonymous.post("/signin", data={"token": token, "csrf_token": csrf_of(form.text)})
    assert response.status_code == 401
    assert message in text(response.text)
    assert 'aria-invalid="true"' in response.text


def test_next_never_leaves_the_site(anonymous: TestClient, tokens: dict[str, str]) -> None:
    form = anonymous.get("/signin")
    response = anonymous.post(
        "/signin",
        data={"token": tokens["kim"], "next": "//evil.example/x", "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_sign_out_ends_the_session(browser_as: Browser) -> None:
    kim = browser_as("kim")
    inbox = kim.get("/")
    out = kim.post("/signout", data={"csrf_token": csrf_of(inbox.text)})
    assert "You are signed out." in text(out.text)
    assert kim.get("/", follow_redirects=False).status_code == 303


def test_revoking_the_token_signs_the_browser_out(browser_as: Browser, service: Service) -> None:
    pak = browser_as("pak")
    assert pak.get("/", follow_redirects=False).status_code == 200
    for info in service.list_tokens():
        if info.person == "pak":
            service.revoke_token(token_id=info.id, by="admin")
    assert pak.get("/", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_ignored(anonymous: TestClient) -> None:
    anonymous.cookies.set(COOKIE_NAME, "eyJwZXJzb24iOiJwYWsifQ.forged.signature")
    assert anonymous.get("/", follow_redirects=False).status_code == 303


# ---- inbox -----------------------------------------------------------------------------------


def test_the_inbox_lists_what_awaits_me_my_proposals_and_recent_decisions(
    browser_as: Browser, service: Service
) -> None:
    waiting = service.propose(action="move", params=MOVE, proposer="kim", justification="flank")
    decided = service.propose(
        action="move", params={"unit": "b-2", "destination": "x"}, proposer="jo"
    )
    service.review(order_id=decided.id, reviewer="han", decision=ReviewDecision.APPROVE)
    detain = service.propose(
        action="detain", params={"person": "lee", "reason": "r"}, proposer="kim"
    )

    pak = text(browser_as("pak").get("/").text)
    assert "Awaiting you 2" in pak
    assert "You can fill the political officer seat. You may veto it." in pak
    assert "Recently decided move destination x · unit b-2 approved" in pak

    ri = browser_as("ri").get("/").text
    assert f'href="/orders/{detain.id}"' in ri
    assert f'href="/orders/{waiting.id}"' not in ri  # ri holds no seat of a move

    kim = text(browser_as("kim").get("/").text)
    assert "Awaiting you 0" in kim
    assert "Your proposals detain" in kim
    assert (
        "missing 1 military police, 1 political officer" in kim
        or "missing 1 political officer, 1 military police" in kim
    )


def test_the_inbox_fragment_refreshes_and_sends_a_lapsed_session_to_sign_in(
    browser_as: Browser, anonymous: TestClient, service: Service
) -> None:
    pak = browser_as("pak")
    page = pak.get("/")
    assert 'hx-get="/inbox/lists" hx-trigger="every 2s"' in page.text
    service.propose(action="move", params=MOVE, proposer="kim")
    fragment = pak.get("/inbox/lists", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Awaiting you 1" in text(fragment.text)
    lapsed = anonymous.get("/inbox/lists", headers={"HX-Request": "true"}, follow_redirects=False)
    assert lapsed.headers["HX-Redirect"] == "/signin?next=/inbox/lists"


# ---- order page and reviews --------------------------------------------------------------------


def test_the_order_page_shows_the_facts_seats_vetoers_and_timeline(
    browser_as: Browser, service: Service
) -> None:
    order = service.propose(
        action="requisition",
        params={"item": "fuel", "amount": 5000},
        proposer="kim",
        justification="winter",
    )
    service.review(
        order_id=order.id, reviewer="han", decision=ReviewDecision.APPROVE, comment="stock ok"
    )
    page = text(browser_as("pak").get(f"/orders/{order.id}").text)
    for expected in [
        "requisition waiting for cosignatories",
        "amount 5000",
        "item fuel",
        "Proposer Col. Kim (kim)",
        "Justification winter",
        "Policy version 1",
        "Expires 2026-03-02 09:00 UTC (in 1 d) unless every seat is filled",
        # han holds both roles; the matching seats him where pak cannot sit
        "✓ logistics: filled by Maj. Han (han)",
        "○ political officer: missing could be filled by Maj. Pak (pak)",
        "May veto: Maj. Pak (pak).",
        "Col. Kim (kim) proposed it under policy version 1; it needs 1 political officer, 1 logistics",
        "Maj. Han (han) approved, filling the logistics seat stock ok",
    ]:
        assert expected in page, (expected, page)


@pytest.mark.parametrize(
    ("person", "approve", "deny", "reason"),
    [
        ("kim", False, False, "You proposed this order; another person must confirm it."),
        (
            "ri",
            False,
            False,
            "You are not eligible: this order needs a political officer, and you hold military police.",
        ),
        ("pak", True, True, "Your deny is a veto: it rejects the order at once."),
    ],
    ids=["proposer", "not-eligible", "eligible-vetoer"],
)
def test_review_buttons_say_why_they_are_disabled(
    browser_as: Browser, service: Service, person: str, approve: bool, deny: bool, reason: str
) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    page = browser_as(person).get(f"/orders/{order.id}").text
    assert ("disabled" not in button(page, "approve")) is approve
    assert ("disabled" not in button(page, "deny")) is deny
    assert reason in text(page)
    if not approve:
        assert 'aria-describedby="review-why"' in button(page, "approve")


def test_approve_without_javascript_posts_redirects_and_shows_the_outcome(
    browser_as: Browser, service: Service
) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    pak = browser_as("pak")
    page = pak.get(f"/orders/{order.id}")
    response = pak.post(
        f"/orders/{order.id}/review",
        data={"decision": "approve", "comment": "confirmed <b>", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/orders/{order.id}"
    after = pak.get(response.headers["location"])
    shown = text(after.text)
    assert "You approved this order. It is now approved." in shown
    assert "This order is closed (approved); it can no longer be reviewed." in shown
    assert "confirmed &lt;b&gt;" in after.text  # comments are escaped
    assert service.get_order(order.id).state is OrderState.APPROVED
    # the flash is shown once
    assert "You approved this order" not in text(pak.get(f"/orders/{order.id}").text)


def test_a_vetoers_deny_rejects_the_order(browser_as: Browser, service: Service) -> None:
    order = service.propose(
        action="transfer", params={"person": "lee", "to_unit": "b"}, proposer="kim"
    )
    service.review(order_id=order.id, reviewer="choe", decision=ReviewDecision.APPROVE)
    han = browser_as("han")
    page = han.get(f"/orders/{order.id}")
    after = han.post(
        f"/orders/{order.id}/review",
        data={"decision": "deny", "comment": "no", "csrf_token": csrf_of(page.text)},
    )
    assert "You denied this order. It is now rejected." in text(after.text)
    assert "Rejected (by han)." in text(after.text)
    assert service.get_order(order.id).state is OrderState.REJECTED


def test_a_refused_review_comes_back_as_a_message(browser_as: Browser, service: Service) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    pak, han = browser_as("pak"), browser_as("han")
    stale = han.get(f"/orders/{order.id}")  # han's page still offers the buttons...
    service.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.DENY)
    after = han.post(  # ...but pak vetoed it meanwhile
        f"/orders/{order.id}/review",
        data={"decision": "approve", "csrf_token": csrf_of(stale.text)},
    )
    assert after.status_code == 200
    assert 'class="flash error" role="alert"' in after.text
    assert f"Order {order.id} is rejected; it can no longer be reviewed." in text(after.text)
    del pak


def test_the_proposer_can_cancel(browser_as: Browser, service: Service) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    kim = browser_as("kim")
    page = kim.get(f"/orders/{order.id}")
    assert "Cancel this order" in page.text
    after = kim.post(
        f"/orders/{order.id}/cancel",
        data={"reason": "plan changed", "csrf_token": csrf_of(page.text)},
    )
    assert "You cancelled this order." in text(after.text)
    assert service.get_order(order.id).state is OrderState.CANCELLED
    assert "Cancel this order" not in browser_as("pak").get(f"/orders/{order.id}").text


def test_an_expired_order_reads_as_closed(
    browser_as: Browser, service: Service, clock: Clock
) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    clock.advance(timedelta(hours=25))
    page = text(browser_as("pak").get(f"/orders/{order.id}").text)
    assert "This order is closed (expired); it can no longer be reviewed." in page
    assert "Expired. the ttl passed before every seat was filled" in page


def test_the_live_order_section_answers_only_when_something_changed(
    browser_as: Browser, service: Service
) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    kim = browser_as("kim")
    page = kim.get(f"/orders/{order.id}")
    assert f'hx-get="/orders/{order.id}/live?seen=1"' in page.text
    assert kim.get(f"/orders/{order.id}/live?seen=1").status_code == 204
    service.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE)
    changed = kim.get(f"/orders/{order.id}/live?seen=1")
    assert changed.status_code == 200
    assert "<html" not in changed.text
    assert "approved" in text(changed.text)
    assert "hx-trigger" in changed.text  # approved is not terminal: it may still expire or run


# ---- CSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "headers", "reason"),
    [
        ({}, {}, "security token is missing or out of date"),
        ({"csrf_token": "guessed"}, {}, "security token is missing or out of date"),
        (None, {"Origin": "https://evil.example"}, "sent from another site"),
        (None, {"Sec-Fetch-Site": "cross-site"}, "sent from another site"),
    ],
    ids=["no-token", "wrong-token", "foreign-origin", "cross-site-fetch"],
)
def test_a_forged_review_is_refused(
    browser_as: Browser,
    service: Service,
    data: dict[str, str] | None,
    headers: dict[str, str],
    reason: str,
) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    pak = browser_as("pak")
    page = pak.get(f"/orders/{order.id}")
    form = {
        "decision": "approve",
        **(data if data is not None else {"csrf_token": csrf_of(page.text)}),
    }
    response = pak.post(f"/orders/{order.id}/review", data=form, headers=headers)
    assert response.status_code == 403
    assert reason in text(response.text)
    assert "Nothing was changed." in text(response.text)
    assert service.get_order(order.id).state is OrderState.PENDING


def test_a_post_without_a_session_cookie_is_refused(
    anonymous: TestClient, service: Service
) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    response = anonymous.post(
        f"/orders/{order.id}/review", data={"decision": "deny", "csrf_token": "x"}
    )
    assert response.status_code == 403
    assert "your session cookie was not sent" in text(response.text).lower()
    assert service.get_order(order.id).reviews == ()


def test_signing_in_replaces_the_csrf_token(anonymous: TestClient, tokens: dict[str, str]) -> None:
    before = csrf_of(anonymous.get("/signin").text)
    sign_in(anonymous, tokens["kim"])
    assert csrf_of(anonymous.get("/").text) != before


# ---- propose -----------------------------------------------------------------------------------


def test_the_propose_form_is_built_from_the_param_schema(browser_as: Browser) -> None:
    page = browser_as("kim").get("/propose?action=requisition").text
    assert '<label for="param-item">item <span class="req">(required)</span></label>' in page
    assert re.search(
        r'<input id="param-amount" name="param.amount" type="number"[^>]* min="1"', page
    )
    assert "A whole number, at least 1." in text(page)


def test_field_errors_are_shown_next_to_their_fields(browser_as: Browser, service: Service) -> None:
    kim = browser_as("kim")
    page = kim.get("/propose?action=move")
    response = kim.post(
        "/propose",
        data={
            "action": "move",
            "param.unit": "alpha 1",
            "param.destination": "",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 422
    unit = re.search(r'id="param-unit-error">(.*?)</p>', response.text)
    destination = re.search(r'id="param-destination-error">(.*?)</p>', response.text)
    assert unit is not None and "does not match" in text(unit.group(1))
    assert destination is not None and text(destination.group(1)) == "Required: fill this in."
    assert 'value="alpha 1"' in response.text  # what was typed comes back
    assert service.list_orders()[0] == []


def test_a_refused_proposal_says_why(browser_as: Browser) -> None:
    pak = browser_as("pak")
    page = pak.get("/propose?action=move")
    assert "Only a commander may propose move (rule political-confirmation)." in text(page.text)
    response = pak.post(
        "/propose",
        data={
            "action": "move",
            "param.unit": "a1",
            "param.destination": "x",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 403
    assert (
        "pak may not propose move: rule political-confirmation needs a proposer holding commander"
        in text(response.text)
    )


def test_proposing_creates_the_order_and_opens_it(browser_as: Browser, service: Service) -> None:
    kim = browser_as("kim")
    page = kim.get("/propose?action=requisition")
    response = kim.post(
        "/propose",
        data={
            "action": "requisition",
            "param.item": "fuel",
            "param.amount": "1500",
            "justification": "winter",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    order_id = response.headers["location"].removeprefix("/orders/")
    order = service.get_order(order_id)
    assert order.params == {"item": "fuel", "amount": 1500}
    assert order.justification == "winter"
    assert {s.role for s in order.seats} == {"political_officer", "logistics"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"param.item": "fuel", "param.amount": "10"},
            "1 political officer: could be Maj. Han (han), Maj. Pak (pak)",
        ),
        ({"param.item": "fuel", "param.amount": "5000"}, "1 logistics: could be Maj. Han (han)"),
        ({"param.item": "fuel"}, "Fill in amount to see which seats"),
        ({"param.item": "fuel", "param.amount": "lots"}, "Fix the fields marked in the form"),
    ],
    ids=["small", "large-needs-logistics", "incomplete", "invalid"],
)
def test_the_preview_shows_the_seats_before_proposing(
    browser_as: Browser, query: dict[str, str], expected: str
) -> None:
    response = browser_as("kim").get("/propose/preview", params={"action": "requisition", **query})
    assert response.status_code == 200
    assert expected in text(response.text)


def test_the_preview_updates_field_errors_out_of_band(browser_as: Browser) -> None:
    response = browser_as("kim").get(
        "/propose/preview", params={"action": "requisition", "param.amount": "0"}
    )
    assert re.search(
        r'<p class="field-error" id="param-amount-error" hx-swap-oob="true">.*minimum is 1',
        response.text,
    )
    assert '<p class="field-error" id="param-item-error" hx-swap-oob="true"></p>' in response.text


def test_the_preview_says_when_it_would_be_refused(browser_as: Browser) -> None:
    response = browser_as("pak").get(
        "/propose/preview", params={"action": "move", "param.unit": "a1", "param.destination": "x"}
    )
    assert "It would be refused: pak may not propose move" in text(response.text)


# ---- policy ---------------------------------------------------------------------------------------


def test_the_policy_page_reads_as_sentences_roster_and_history(
    browser_as: Browser, service: Service
) -> None:
    service.publish_policy(yaml_text=FIELD_COMMAND.replace("ttl: 24h", "ttl: 12h"), by="admin")
    pak = browser_as("pak")
    current = text(pak.get("/policy").text)
    assert (
        "Every order needs 1 political officer, who may veto. Only a commander may propose it."
        in current
    )
    assert "Every requisition order where params.amount > 1000 needs 1 logistics." in current
    assert "political officer Maj. Han (han), Maj. Pak (pak)" in current
    assert "Time to confirm 12 h" in current
    assert "1 field-command" in current and "2 (current) field-command" in current
    old = text(pak.get("/policy?version=1").text)
    assert "You are looking at an older version." in old
    assert "Time to confirm 1 d" in old


# ---- errors, headers, static files ------------------------------------------------------------------


def test_errors_are_pages_a_person_can_act_on(browser_as: Browser) -> None:
    pak = browser_as("pak")
    missing = pak.get("/orders/ord_00000000000000000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "No order ord_00000000000000000000000000." in text(missing.text)
    assert "Back to your inbox" in missing.text
    bad = pak.get("/policy?version=0")
    assert bad.status_code == 400
    assert "version" in text(bad.text)


def test_an_unexpected_error_is_an_apology_not_a_stack_trace(
    browser_as: Browser, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    pak = browser_as("pak")

    def broken(order_id: str) -> None:
        raise RuntimeError("secret internals " + order_id)

    monkeypatch.setattr(service, "get_order", broken)
    response = pak.get("/orders/ord_x")
    assert response.status_code == 500
    assert "An internal error occurred; it has been logged." in text(response.text)
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_pages_carry_security_headers(browser_as: Browser) -> None:
    response = browser_as("pak").get("/")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_static_files_are_served_with_their_type_and_a_long_cache(anonymous: TestClient) -> None:
    page = anonymous.get("/signin").text
    css = re.search(r'href="(/static/style\.css\?v=[0-9a-f]{12})"', page)
    js = re.search(r'src="(/static/htmx\.min\.js\?v=[0-9a-f]{12})"', page)
    assert css is not None and js is not None
    style = anonymous.get(css.group(1))
    assert style.headers["content-type"].startswith("text/css")
    assert "immutable" in style.headers["cache-control"]
    assert anonymous.get(js.group(1)).headers["content-type"].startswith("text/javascript")
    assert anonymous.get("/static/../settings.py").status_code == 404
    assert anonymous.get("/static/nope.js").status_code == 404


# ---- cross-site requests ------------------------------------------------------------------------


def test_a_cross_site_link_bounces_once_to_pick_up_the_strict_cookie(anonymous: TestClient) -> None:
    response = anonymous.get(
        "/orders/ord_1", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False
    )
    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="0;url=/orders/ord_1">' in response.text
    same = anonymous.get(
        "/orders/ord_1", headers={"Sec-Fetch-Site": "same-origin"}, follow_redirects=False
    )
    assert same.status_code == 303
    assert same.headers["location"] == "/signin?next=/orders/ord_1"


def test_an_answer_to_a_cookieless_request_never_touches_the_session_cookie(
    anonymous: TestClient, service: Service
) -> None:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    response = anonymous.post(
        f"/orders/{order.id}/review", data={"decision": "approve", "csrf_token": "x"}
    )
    assert response.status_code == 403
    assert f"{COOKIE_NAME}=" not in response.headers.get("set-cookie", "")
