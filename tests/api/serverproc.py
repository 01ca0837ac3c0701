"""Real server processes for end-to-end tests: `cosignatory serve` on a free loopback port.

The database is prepared in-process (migrations, policy, tokens) through the same
`Service` the server uses; the server then runs as a separate process, exactly as an
operator starts it, and tests talk to it over HTTP (client and CLI).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cosignatory.client import Client
from cosignatory.core.policy import ReviewDecision
from cosignatory.service import OrderView, Service
from cosignatory.storage.migrate import upgrade
from cosignatory.storage.store import open_store

REPO = Path(__file__).resolve().parents[2]
FIELD_COMMAND = REPO / "examples" / "field-command" / "policy.yaml"
PEOPLE = ("kim", "jo", "pak", "han", "ri", "choe")
ADMIN = "admin"
REVOKED = "revoked"  # the key of a token that belonged to `kim` and was revoked


def cosignatory_command() -> list[str]:
    """The installed console script next to this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("cosignatory")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cosignatory.cli import entrypoint; entrypoint()"]


def prepare_database(
    db_url: str, *, policy_text: str | None = None, people: Iterable[str] = PEOPLE
) -> tuple[Service, dict[str, str]]:
    """Migrate, publish the policy, and create a token per person (+ admin, + revoked)."""
    store = open_store(db_url, create=True, check_schema=False)
    upgrade(store)
    service = Service(store)
    service.publish_policy(
        yaml_text=policy_text or FIELD_COMMAND.read_text(), by=ADMIN, filename="policy.yaml"
    )
    tokens = {p: service.create_token(person=p, by=ADMIN)[1] for p in people}
    tokens[ADMIN] = service.create_token(person=ADMIN, by=ADMIN, admin=True)[1]
    revoked_info, tokens[REVOKED] = service.create_token(person="kim", by=ADMIN, label="old")
    service.revoke_token(token_id=revoked_info.id, by=ADMIN)
    return service, tokens


@dataclass
class ServerProcess:
    """One `cosignatory serve` process; its log goes to a file (read on failure)."""

    db_url: str
    log_path: Path
    extra_args: tuple[str, ...] = ()
    url: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COSIGNATORY_")}
        command = [
            *cosignatory_command(),
            "serve",
            "--db",
            self.db_url,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-access-log",
            *self.extra_args,
        ]
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                raise RuntimeError(f"server exited early:\n{self.log_text()}")
            for line in self.log_text().splitlines():
                if line.startswith("cosignatory: serving "):
                    self.url = line.split()[2]
            if self.url and self._healthy():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not become healthy:\n{self.log_text()}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@dataclass
class Deployment:
    """A running server plus an in-process service on the same database."""

    server: ServerProcess
    service: Service
    tokens: Mapping[str, str]
    _clients: dict[str, Client] = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, who: str) -> Client:
        """One client per person, closed with the deployment."""
        if who not in self._clients:
            self._clients[who] = Client(self.url, self.tokens[who])
        return self._clients[who]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self.server.stop()
        self.service.store.close()

    # Setup helpers go through the service directly: fast, and independent of the API.
    def pending(self, action: str = "detain", **params: object) -> OrderView:
        defaults: dict[str, dict[str, object]] = {
            "move": {"unit": "3rd-battalion", "destination": "hill-412"},
            "detain": {"person": "pvt-song", "reason": "desertion"},
        }
        return self.service.propose(
            action=action, params=params or defaults[action], proposer="kim", justification="test"
        )

    def approved(self) -> OrderView:
        order = self.pending("move")
        return self.service.review(
            order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE
        )

    def executing(self) -> tuple[OrderView, str]:
        order = self.approved()
        return self.service.claim(order_id=order.id, by="kim")


def cli_env(url: str, token: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COSIGNATORY_")}
    env["COSIGNATORY_URL"] = url
    if token is not None:
        env["COSIGNATORY_TOKEN"] = token
    env["COLUMNS"] = "200"
    return env


def run_cli(
    args: list[str], *, url: str, token: str | None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cosignatory_command(), *args],
        env=cli_env(url, token),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
