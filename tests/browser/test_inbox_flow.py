"""End to end in Chromium against a real server: propose, see, approve, veto, forge.

Each test uses its own unit names, so the tests can share one server in any order.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from cosignatory.core.lifecycle import OrderState
from cosignatory.service import ReviewDecision
from tests.browser.conftest import Live, sign_in

pytestmark = pytest.mark.browser

SignedIn = Callable[..., Page]


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def propose_move(page: Page, live: Live, unit: str, destination: str = "hill 204") -> str:
    """Propose a move through the form; returns the new order's id."""
    page.goto(f"{live.url}/propose")
    page.get_by_label("Action").select_option("move")  # htmx swaps in the move form
    page.get_by_label("unit").fill(unit)
    page.get_by_label("destination").fill(destination)
    page.get_by_label("Justification").fill("the bridge is out")
    expect(page.locator("#preview")).to_contain_text("1 political officer")
    page.get_by_role("button", name="Propose").click()
    page.wait_for_url(f"{live.url}/orders/ord_*")
    return page.url.rsplit("/", 1)[1]


def test_kim_proposes_and_pak_approves_from_a_self_refreshing_inbox(
    live: Live, signed_in: SignedIn
) -> None:
    pak = signed_in("pak")  # pak's inbox is open before the order exists
    kim = signed_in("kim")
    unit = unique("alpha")

    order_id = propose_move(kim, live, unit)
    expect(kim.get_by_role("status")).to_contain_text("Your order is proposed.")
    expect(kim.locator("h1 .badge")).to_have_text("waiting for cosignatories")
    approve = kim.get_by_role("button", name="Approve")
    expect(approve).to_be_disabled()
    expect(kim.locator("#review-why")).to_have_text(
        "You proposed this order; another person must confirm it."
    )
    expect(approve).to_have_accessible_description(
        "You proposed this order; another person must confirm it."
    )

    # pak never reloads: the inbox polls and the new order appears
    card = pak.locator("#awaiting-list li", has_text=unit)
    expect(card).to_contain_text("You can fill the political officer seat.")
    card.get_by_role("link").click()
    pak.wait_for_url(f"**/orders/{order_id}")
    expect(pak.locator("#seats")).to_contain_text("political officer: missing")
    pak.get_by_label("Comment").fill("confirmed by the political department")
    pak.get_by_role("button", name="Approve").click()
    expect(pak.get_by_role("status")).to_have_text("You approved this order. It is now approved.")
    expect(pak.locator("h1 .badge")).to_have_text("approved")
    expect(pak.locator("#seats")).to_contain_text("political officer: filled by Maj. Pak (pak)")
    expect(pak.locator("#timeline")).to_contain_text("confirmed by the political department")

    # kim's order page refreshes itself too
    expect(kim.locator("h1 .badge")).to_have_text("approved")
    expect(kim.locator("#review-why")).to_contain_text("This order is closed (approved)")
    assert live.service.get_order(order_id).state is OrderState.APPROVED


def test_the_live_preview_follows_the_form_and_a_vetoers_deny_rejects(
    live: Live, signed_in: SignedIn
) -> None:
    kim = signed_in("kim")
    kim.goto(f"{live.url}/propose?action=requisition")
    item = unique("fuel")
    kim.get_by_label("item").fill(item)
    amount = kim.get_by_label("amount")
    amount.fill("0")
    expect(kim.locator("#param-amount-error")).to_have_text("Param amount is 0; the minimum is 1.")
    amount.fill("10")
    expect(kim.locator("#param-amount-error")).to_be_empty()
    preview = kim.locator("#preview-seats")
    expect(preview).to_contain_text("1 political officer")
    expect(preview).not_to_contain_text("logistics")
    amount.fill("5000")  # above 1000: the large-requisitions rule adds the deputy for logistics
    expect(preview).to_contain_text("1 logistics: could be Maj. Han (han)")
    kim.get_by_role("button", name="Propose").click()
    kim.wait_for_url(f"{live.url}/orders/ord_*")
    order_id = kim.url.rsplit("/", 1)[1]

    pak = signed_in("pak")
    pak.goto(f"{live.url}/orders/{order_id}")
    expect(pak.locator(".review-panel .note")).to_contain_text("Your deny is a veto")
    pak.get_by_label("Comment").fill("no winter stock to spare")
    pak.get_by_role("button", name="Deny").click()
    expect(pak.get_by_role("status")).to_have_text("You denied this order. It is now rejected.")
    expect(pak.locator("h1 .badge")).to_have_text("rejected")
    expect(pak.locator("#timeline")).to_contain_text("Rejected (by pak).")
    assert live.service.get_order(order_id).state is OrderState.REJECTED


def test_forged_posts_are_refused(
    live: Live, signed_in: SignedIn, contexts: Callable[..., BrowserContext]
) -> None:
    order = live.service.propose(
        action="move", params={"unit": unique("bravo"), "destination": "x"}, proposer="kim"
    )
    pak = signed_in("pak")
    pak.goto(f"{live.url}/orders/{order.id}")
    token = pak.locator("form.review input[name=csrf_token]").input_value()

    # 1. pak's own cookies, but no CSRF token (what a script replaying the POST would send)
    response = pak.request.post(
        f"{live.url}/orders/{order.id}/review", form={"decision": "approve"}
    )
    assert response.status == 403
    assert "security token is missing or out of date" in response.text()

    # 2. a page on another site auto-submits a form at the server, even with pak's token:
    #    the SameSite=Strict cookie is not sent, so it acts for nobody
    evil = pak.context.new_page()
    evil.set_content(
        f"""<form method="post" action="{live.url}/orders/{order.id}/review">
        <input name="decision" value="approve"><input name="csrf_token" value="{token}">
        <button>win a prize</button></form>"""
    )
    evil.get_by_role("button", name="win a prize").click()
    expect(evil.get_by_role("heading", name="Form refused")).to_be_visible()
    expect(evil.get_by_role("alert")).to_contain_text("Your session cookie was not sent")
    assert live.service.get_order(order.id).reviews == ()
    assert live.service.get_order(order.id).state is OrderState.PENDING

    # the real form still works afterwards
    pak.get_by_role("button", name="Approve").click()
    expect(pak.locator("h1 .badge")).to_have_text("approved")
    del contexts


def test_a_link_from_another_site_opens_the_order_still_signed_in(
    live: Live, signed_in: SignedIn
) -> None:
    order = live.service.propose(
        action="move", params={"unit": unique("charlie"), "destination": "x"}, proposer="kim"
    )
    han = signed_in("han")
    chat = han.context.new_page()  # e.g. a link in a chat message: a cross-site navigation
    chat.set_content(f'<a href="{live.url}/orders/{order.id}">please confirm</a>')
    chat.get_by_role("link", name="please confirm").click()
    chat.wait_for_url(f"{live.url}/orders/{order.id}")
    expect(chat.get_by_role("button", name="Approve")).to_be_enabled()
    expect(chat.locator(".signout .who")).to_have_text("Maj. Han (han)")


def test_approve_works_without_javascript(
    live: Live, contexts: Callable[..., BrowserContext]
) -> None:
    order = live.service.propose(
        action="transfer", params={"person": unique("lee"), "to_unit": "b"}, proposer="jo"
    )
    choe = sign_in(contexts(java_script_enabled=False).new_page(), live, "choe")
    choe.goto(f"{live.url}/orders/{order.id}")
    choe.get_by_label("Comment").fill("papers in order")
    choe.get_by_role("button", name="Approve").click()
    expect(choe.get_by_role("status")).to_have_text(
        "You approved this order. It is now waiting for cosignatories."
    )
    expect(choe.locator("#seats")).to_contain_text("personnel: filled by Capt. Choe (choe)")
    expect(choe.get_by_role("button", name="Approve")).to_be_disabled()
    expect(choe.locator("#review-why")).to_contain_text("You already approved this order")
    reviews = live.service.get_order(order.id).reviews
    assert [(r.reviewer, r.comment) for r in reviews] == [("choe", "papers in order")]


def test_pages_fit_a_phone_are_labelled_and_keyboard_reachable(
    live: Live, signed_in: SignedIn
) -> None:
    order = live.service.propose(
        action="detain", params={"person": unique("sgt"), "reason": "desertion"}, proposer="kim"
    )
    ri = signed_in("ri", viewport={"width": 375, "height": 740}, is_mobile=True)
    for path in ("/", f"/orders/{order.id}", "/propose?action=detain", "/policy", "/audit"):
        ri.goto(f"{live.url}{path}")
        problems = ri.evaluate(
            """() => {
              const out = [];
              if (document.documentElement.scrollWidth > window.innerWidth + 1)
                out.push(`scrolls sideways: ${document.documentElement.scrollWidth}px`);
              for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea'))
                if (!el.labels || el.labels.length === 0) out.push(`unlabelled ${el.name}`);
              for (const b of document.querySelectorAll('button'))
                if (!b.textContent.trim()) out.push('a button without a name');
              return out;
            }"""
        )
        assert problems == [], (path, problems)
    ri.goto(f"{live.url}/orders/{order.id}")
    ri.keyboard.press("Tab")
    expect(ri.locator(":focus")).to_have_text("Skip to content")
    ri.keyboard.press("Enter")
    ri.get_by_label("Comment").focus()
    ri.keyboard.press("Tab")
    expect(ri.locator(":focus")).to_have_text("Approve")
    ri.get_by_label("Comment").fill("escorted")
    ri.keyboard.press("Tab")
    ri.keyboard.press("Enter")
    expect(ri.get_by_role("status")).to_contain_text("You approved this order.")


def test_the_browser_checks_an_orders_inclusion_proofs_itself(
    live: Live, signed_in: SignedIn
) -> None:
    order = live.service.propose(
        action="move", params={"unit": unique("delta"), "destination": "x"}, proposer="kim"
    )
    live.service.review(order_id=order.id, reviewer="han", decision=ReviewDecision.APPROVE)
    pak = signed_in("pak")
    pak.goto(f"{live.url}/orders/{order.id}")
    pak.get_by_role("link", name="Verify this order in the audit log").click()
    pak.wait_for_url(f"**/audit?order={order.id}")
    results = pak.locator("#proofs [data-audit-result]")
    for _ in range(20):  # the server signs a checkpoint every second
        if results.count() == 3:
            break
        pak.wait_for_timeout(250)
        pak.reload()
    expect(results).to_have_count(3)  # proposed, reviewed, approved
    for i in range(3):
        expect(results.nth(i)).to_have_text(
            "Verified in your browser: this entry is in the signed tree."
        )
    expect(pak.locator("[data-audit-signature]")).to_have_text(
        "Your browser checked the checkpoint signature: valid."
    )
    # change one byte of an entry as shown, and let the script check again
    pak.evaluate(
        """() => {
          const li = document.querySelector('#proofs li');
          const bytes = atob(li.dataset.auditEntry).replace('"kim"', '"kin"');
          li.dataset.auditEntry = btoa(bytes);
          document.dispatchEvent(new Event('htmx:afterSettle'));
        }"""
    )
    expect(results.nth(0)).to_have_text(
        "NOT verified: the proof does not lead to the checkpoint's root."
    )
    expect(results.nth(1)).to_contain_text("Verified in your browser")
