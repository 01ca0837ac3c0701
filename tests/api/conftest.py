from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.serverproc import Deployment, ServerProcess, prepare_database


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A fresh SQLite database with the field-command policy and a server over it."""
    root = tmp_path_factory.mktemp("api")
    db_url = f"sqlite:///{root / 'cosignatory.db'}"
    service, tokens = prepare_database(db_url)
    server = ServerProcess(db_url=db_url, log_path=root / "server.log").start()
    deployed = Deployment(server=server, service=service, tokens=tokens)
    try:
        yield deployed
    finally:
        deployed.close()
