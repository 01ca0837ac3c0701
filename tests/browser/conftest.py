"""A real server process and Debian's Chromium, driven through Playwright's sync API.

`live` starts `python -m tests.browser.serve` on a SQLite file in a temp directory, with
the field-command example policy published and a token per person. `browser` is one
headless Chromium for the whole run; `signed_in(person)` opens a fresh browser context
(its own cookies) and signs in through the sign-in form.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from cosignatory.service import Service
from cosignatory.storage import open_store, upgrade

ROOT = Path(__file__).resolve().parents[2]
FIELD_COMMAND = ROOT / "examples" / "field-command" / "policy.yaml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PEOPLE = ("kim", "pak", "han", "ri", "choe", "jo")
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Live:
    url: str
    tokens: dict[str, str]
    service: Service  # the same database, opened from the test process


def _wait_until_healthy(url: str, proc: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    db_url = f"sqlite:///{tmp / 'cosignatory.db'}"
    store = open_store(db_url, create=True, check_schema=False)
    upgrade(store)
    service = Service(store)
    service.publish_policy(
        yaml_text=FIELD_COMMAND.read_text(), by="admin", filename=str(FIELD_COMMAND)
    )
    tokens = {
        p: service.create_token(person=p, by="admin", label="browser tests")[1] for p in PEOPLE
    }
    log = tmp / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "COSIGNATORY_AUDIT_CHECKPOINT_INTERVAL": "1",
        "COSIGNATORY_AUDIT_KEY_FILE": "",  # the server signs with its test key only
        "COSIGNATORY_AUDIT_KEY": "",
    }
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.browser.serve", db_url],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        if not first.isdigit():
            proc.wait(timeout=10)
            raise RuntimeError(f"the server did not report a port:\n{log.read_text()}")
        url = f"http://127.0.0.1:{first}"
        _wait_until_healthy(url, proc, log)
        yield Live(url=url, tokens=tokens, service=service)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        store.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; run `bash scripts/system-deps.sh`")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """`contexts(**options)`: a fresh browser context, closed after the test."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def sign_in(page: Page, live: Live, person: str) -> Page:
    page.goto(f"{live.url}/signin")
    page.get_by_label("Personal token").fill(live.tokens[person])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Inbox", exact=True).wait_for()
    return page


@pytest.fixture
def signed_in(live: Live, contexts: Callable[..., BrowserContext]) -> Callable[..., Page]:
    """`signed_in("pak")`: a page in its own browser context, signed in as pak."""

    def make(person: str, **options: Any) -> Page:
        return sign_in(contexts(**options).new_page(), live, person)

    return make
