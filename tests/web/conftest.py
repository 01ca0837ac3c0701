"""Fixtures for the web pages: a service on in-memory SQLite, the app, signed-in clients."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from cosignatory.api.app import ApiSettings, create_app
from cosignatory.service import Service
from cosignatory.storage import open_store, upgrade
from cosignatory.web import WebSettings, create_web_router

with warnings.catch_warnings():
    # starlette 1.x asks for `httpx2`; the project pins `httpx`, which still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
FIELD_COMMAND = (ROOT / "examples" / "field-command" / "policy.yaml").read_text()
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


@pytest.fixture
def clock() -> Clock:
    return Clock()


PEOPLE = ("kim", "pak", "han", "ri", "choe", "jo")


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A database with the field-command policy and a token per person, made once per run.

    Each test works on its own copy (migrating and seeding per test would dominate the run).
    """
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    store = open_store(f"sqlite:///{path}", create=True, check_schema=False)
    upgrade(store)
    svc = Service(store)
    svc.publish_policy(yaml_text=FIELD_COMMAND, by="admin", filename="field-command.yaml")
    tokens = {p: svc.create_token(person=p, by="admin")[1] for p in PEOPLE}
    tokens["root"] = svc.create_token(person="root", by="admin", admin=True)[1]
    store.close()  # checkpoints the WAL into the file we copy
    return path, tokens


@pytest.fixture
def service(clock: Clock, seeded: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[Service]:
    db = tmp_path / "web.db"
    shutil.copyfile(seeded[0], db)
    store = open_store(f"sqlite:///{db}")
    yield Service(store, clock=clock)
    store.close()


@pytest.fixture
def tokens(seeded: tuple[Path, dict[str, str]]) -> dict[str, str]:
    return seeded[1]


@pytest.fixture
def app(service: Service) -> FastAPI:
    settings = WebSettings(secret_key=b"k" * 32, poll_seconds=2)
    return create_app(service, ApiSettings(sweep_interval=0), routers=[create_web_router(settings)])


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def sign_in(client: TestClient, token: str) -> TestClient:
    page = client.get("/signin")
    response = client.post(
        "/signin", data={"token": token, "csrf_token": csrf_of(page.text), "next": "/"}
    )
    assert response.status_code == 200, response.text
    return client


@pytest.fixture
def browser_as(app: FastAPI, tokens: dict[str, str]) -> Iterator[Callable[[str], TestClient]]:
    """`browser_as("pak")`: a client (its own cookie jar) signed in as that person."""
    clients: list[TestClient] = []

    def make(person: str) -> TestClient:
        client = TestClient(app, base_url="http://testserver")
        clients.append(client)
        return sign_in(client, tokens[person])

    yield make
    for client in clients:
        client.close()
