"""`cosignatory demo`: a fresh SQLite database under `.demo/`, the example policy, one
token per person (plus an admin), the server, and the lines to act as each person."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from rich.console import Console

from cosignatory.api import ApiSettings, create_app
from cosignatory.api.server import bind, run_server, url_of
from cosignatory.cli.common import read_text
from cosignatory.core.audit import generate_key
from cosignatory.core.errors import InputError
from cosignatory.core.policy import Action, ParamType, Policy, load_policy
from cosignatory.service import Service
from cosignatory.service.audit_keys import write_key_file
from cosignatory.storage.migrate import upgrade
from cosignatory.storage.store import open_store
from cosignatory.web import create_web_router

__all__ = ["example_params", "program_name", "run_demo"]

ADMIN = "admin"
# Good-looking examples for the field-command policy; other policies get generic values.
_EXAMPLES: dict[str, tuple[dict[str, str], str]] = {
    "move": (
        {"unit": "3rd-battalion", "destination": "hill-412"},
        "Reinforce the northern flank before dawn",
    ),
    "detain": ({"person": "pvt-song", "reason": "desertion"}, "Left his post twice this week"),
    "transfer": ({"person": "sgt-yun", "to_unit": "2nd-battalion"}, "2nd battalion lacks a medic"),
    "requisition": ({"item": "fuel", "amount": "1500"}, "Winter reserve for the motor pool"),
}


def program_name() -> str:
    """How the person who started us can run us again from the same directory."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "cosignatory" and argv0.exists():
        try:
            return str(argv0.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            pass
        if shutil.which("cosignatory") == str(argv0.resolve()):
            return "cosignatory"
        return str(argv0.resolve())
    return "cosignatory"


def example_params(action: Action) -> tuple[dict[str, str], str]:
    if action.name in _EXAMPLES and set(_EXAMPLES[action.name][0]) >= {
        name for name, spec in action.params.items() if spec.required
    }:
        return _EXAMPLES[action.name]
    params: dict[str, str] = {}
    for name, spec in action.params.items():
        if spec.enum:
            params[name] = str(spec.enum[0]).lower()
        elif spec.type is ParamType.INTEGER:
            params[name] = str(spec.minimum if spec.minimum is not None else 1)
        elif spec.type is ParamType.BOOLEAN:
            params[name] = "true"
        elif spec.type is ParamType.LIST:
            params[name] = '["example"]'
        else:
            params[name] = "example"
    return params, f"Demo {action.name}"


def _proposable(policy: Policy, person: str) -> list[Action]:
    """Actions `person` may propose, judging by `proposers` (conditions are not evaluated)."""
    roles = policy.people[person].roles
    actions = []
    for action in policy.actions.values():
        rules = [r for r in policy.rules if r.applies_to_action(action.name)]
        if rules and all(r.proposers is None or r.proposers & roles for r in rules):
            actions.append(action)
    return actions


def _may_review(policy: Policy, person: str) -> tuple[bool, bool]:
    roles = policy.people[person].roles
    seats = any(req.role in roles for rule in policy.rules for req in rule.require)
    veto = any(rule.veto & roles for rule in policy.rules)
    return seats, veto


def _propose_line(program: str, actions: list[Action]) -> str:
    action = next((a for a in actions if a.name == "move"), actions[0])
    params, why = example_params(action)
    words = [program, "propose", action.name]
    for key, value in params.items():
        words += ["-p", f"{key}={value}"]
    words += ["--justification", why]
    return shlex.join(words)


def _write_env(root: Path, person: str, url: str, token: str) -> Path:
    path = root / f"{person}.env"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"export COSIGNATORY_URL={url} COSIGNATORY_TOKEN={token}\n")
    return path


def run_demo(*, directory: str, policy_path: str, host: str, port: int) -> None:
    out = Console(highlight=False, soft_wrap=True)
    text = read_text(policy_path)
    policy = load_policy(text, filename=policy_path)  # refuse a bad policy before anything
    sock = bind(host, port)
    url = url_of(sock)
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise InputError(f"`{root}` exists and is not a directory")
    root.mkdir(parents=True, exist_ok=True)
    db = root / "cosignatory.db"
    for leftover in (db, *root.glob("cosignatory.db-*"), *root.glob("*.env")):
        leftover.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{db.resolve()}", create=True, check_schema=False)
    upgrade(store)
    audit_signer, audit_verifier = generate_key("demo.cosignatory.local/audit")  # a fresh log key
    audit_key = write_key_file(root / "audit.key", audit_signer, replace=True)
    service = Service(store, audit_signer=audit_signer)
    service.publish_policy(yaml_text=text, by=ADMIN, filename=policy_path)
    tokens = {
        person: service.create_token(person=person, by=ADMIN, label="demo")[1]
        for person in policy.people
    }
    tokens[ADMIN] = service.create_token(person=ADMIN, by=ADMIN, admin=True, label="demo admin")[1]
    program = program_name()

    out.print(
        f"[bold]cosignatory demo[/]: policy `{policy.name}` from {policy_path}, database {db}"
    )
    out.print(f"server: {url}   API docs: {url}/docs")
    out.print(f"web inbox: {url}/signin — sign in with a person's token below")
    out.print("\nFrom a second terminal (same directory), act as one of these people.")
    out.print("Try: kim proposes a move, pak approves it, kim runs it.\n")
    for person, token in tokens.items():
        env_file = _write_env(root, person, url, token)
        if person == ADMIN:
            who = "administrator: may publish policies and cancel any order"
        else:
            p = policy.people[person]
            who = f"{p.name} · {', '.join(sorted(p.roles))}"
        out.print(f"[bold]# {person}[/] — {who}   (or: source {env_file})")
        out.print(f"export COSIGNATORY_URL={url} COSIGNATORY_TOKEN={token}", markup=False)
        out.print(f"# in a browser: {url}/signin with the token {token}", markup=False)
        if person == ADMIN:
            out.print(f"{program} list", markup=False)
            out.print(f'{program} cancel ORDER --reason "called off"\n', markup=False)
            continue
        actions = _proposable(policy, person)
        if actions:
            out.print(_propose_line(program, actions), markup=False)
            out.print(f'{program} run ORDER -- echo "order carried out"', markup=False)
        seats, veto = _may_review(policy, person)
        if seats or veto:
            out.print(f"{program} list --awaiting-me", markup=False)
        if seats:
            out.print(f'{program} approve ORDER --comment "confirmed"', markup=False)
        if veto:
            out.print(f'{program} deny ORDER --comment "not without a written plan"', markup=False)
        out.print("")
    out.print("[bold]# audit log[/] — signed by the demo's key; verify it offline (docs/audit.md)")
    export = ["audit", "export", "--db", f"sqlite:///{db}", "--key-file", str(audit_key)]
    out.print(f"{program} {shlex.join(export)} > log.jsonl", markup=False)
    out.print(f"{program} audit verify log.jsonl --key {audit_verifier}\n", markup=False)
    out.print(
        "ORDER is the `ord_…` id that `propose` prints (or `list` shows). "
        "Stop the server with Ctrl-C.\n"
    )
    web_app = create_app(service, ApiSettings(sweep_interval=5.0), routers=[create_web_router()])
    try:
        run_server(web_app, sock, access_log=False)
    finally:
        sock.close()
        store.close()
