"""Screenshots of every web page, for README.md and docs/web.md (`make screenshots`).

Builds a throwaway SQLite database with the field-command example policy and a few
orders in different states, serves the API and the web inbox on a loopback port, and
photographs each page in headless Chromium (Debian's, through Playwright):

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

from cosignatory.api.app import ApiSettings, create_app
from cosignatory.core.audit import generate_key
from cosignatory.service import ReviewDecision, Service
from cosignatory.storage import open_store, upgrade
from cosignatory.web import WebSettings, create_web_router

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "examples" / "field-command" / "policy.yaml"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1100, "height": 760}
PHONE = {"width": 390, "height": 800}
AUDIT_ORIGIN = "demo.example/cosignatory"


def seed(service: Service) -> dict[str, str]:
    """A few orders in different states; returns ids by name."""
    service.publish_policy(yaml_text=POLICY.read_text(), by="admin", filename=str(POLICY))
    move = service.propose(
        action="move",
        params={"unit": "3rd-battalion", "destination": "hill 412"},
        proposer="kim",
        justification="The river crossing at the old bridge is out; we take the ridge road.",
    )
    fuel = service.propose(
        action="requisition",
        params={"item": "diesel (litres)", "amount": 4000},
        proposer="jo",
        justification="Winter reserve for the motor pool.",
    )
    service.review(
        order_id=fuel.id,
        reviewer="han",
        decision=ReviewDecision.APPROVE,
        comment="Depot can spare it.",
    )
    transfer = service.propose(
        action="transfer",
        params={"person": "sgt-lee", "to_unit": "signals"},
        proposer="kim",
        justification="Signals lost two operators.",
    )
    service.review(order_id=transfer.id, reviewer="choe", decision=ReviewDecision.APPROVE)
    service.review(
        order_id=transfer.id, reviewer="pak", decision=ReviewDecision.APPROVE, comment="Agreed."
    )
    detain = service.propose(
        action="detain",
        params={"person": "pvt-kang", "reason": "absent without leave"},
        proposer="jo",
        justification="Second absence this month.",
    )
    service.review(
        order_id=detain.id,
        reviewer="pak",
        decision=ReviewDecision.DENY,
        comment="He was on leave; the roster is wrong.",
    )
    return {"move": move.id, "fuel": fuel.id, "transfer": transfer.id, "detain": detain.id}


def serve(service: Service) -> tuple[uvicorn.Server, threading.Thread, str]:
    app = create_app(
        service,
        ApiSettings(sweep_interval=0, docs=False),
        routers=[create_web_router(WebSettings(poll_seconds=60))],
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/signin")
    page.get_by_label("Personal token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Inbox", exact=True).wait_for()


def shoot(page: Page, out: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / f"{name}.png"), full_page=False)
    print(f"wrote {out / name}.png")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/shots.db", create=True, check_schema=False)
        upgrade(store)
        service = Service(store, audit_signer=generate_key(AUDIT_ORIGIN)[0])
        ids = seed(service)
        service.audit.sign()
        tokens = {p: service.create_token(person=p, by="admin")[1] for p in ("kim", "pak")}
        server, thread, url = serve(service)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                anon = browser.new_page(viewport=DESKTOP)
                anon.goto(f"{url}/signin")
                shoot(anon, out, "signin")

                pak = browser.new_context(viewport=DESKTOP).new_page()
                sign_in(pak, url, tokens["pak"])
                pak.goto(f"{url}/")
                shoot(pak, out, "inbox")
                pak.goto(f"{url}/orders/{ids['move']}")
                pak.get_by_label("Comment").fill("Confirmed: the ridge road is clear.")
                shoot(pak, out, "order")
                pak.goto(f"{url}/orders/{ids['detain']}")
                shoot(pak, out, "order-rejected")
                pak.goto(f"{url}/policy")
                shoot(pak, out, "policy")
                pak.goto(f"{url}/audit?order={ids['transfer']}")
                pak.locator("#proofs [data-audit-result].verified").first.wait_for()
                shoot(pak, out, "audit")

                kim = browser.new_context(viewport=DESKTOP).new_page()
                sign_in(kim, url, tokens["kim"])
                kim.goto(f"{url}/orders/{ids['move']}")
                shoot(kim, out, "order-proposer")
                kim.goto(f"{url}/propose?action=requisition")
                kim.get_by_label("item").fill("rations (boxes)")
                kim.get_by_label("amount").fill("1500")
                kim.get_by_label("Justification").fill("Two weeks in the field.")
                kim.locator("#preview-seats").get_by_text("logistics").wait_for()
                shoot(kim, out, "propose")

                phone = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
                sign_in(phone, url, tokens["pak"])
                phone.goto(f"{url}/orders/{ids['move']}")
                shoot(phone, out, "phone-order")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
