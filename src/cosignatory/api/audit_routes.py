"""`/v1/audit`: the signed checkpoint, entries, and inclusion / consistency proofs.

    GET /v1/audit/checkpoint                           the latest signed checkpoint (public)
    GET /v1/audit/entries?start=&end=                  entries [start, end), at most 1000
    GET /v1/audit/proof/inclusion?index=&tree_size=    the audit path of one entry
    GET /v1/audit/proof/consistency?first=&second=     proof that tree `second` extends `first`

The checkpoint is public (a size and a hash; witnesses and monitors fetch it); entries
and proofs need a token, like the orders they describe. Hashes are base64, as in the
checkpoint. An order's entries are the `event_seqs` of its Order JSON.

Including this router also schedules checkpoints: while the app runs, the log signs one
every `COSIGNATORY_AUDIT_CHECKPOINT_INTERVAL` seconds if entries were added, with the
service's key or else the key of `COSIGNATORY_AUDIT_KEY_FILE` / `COSIGNATORY_AUDIT_KEY`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cosignatory.api.auth import SECURED, caller_of, service_of
from cosignatory.api.responses import problems
from cosignatory.config import load_audit_settings
from cosignatory.core.orders import format_timestamp
from cosignatory.service import Service
from cosignatory.service.audit import MAX_ENTRIES_PAGE, AuditLog
from cosignatory.service.audit_keys import configured_signer
from cosignatory.storage.audit import CheckpointRecord

__all__ = ["checkpoint_json", "router"]

log = logging.getLogger("cosignatory.audit")

Index = Annotated[int, Query(ge=0, le=2**53)]


async def sign_forever(audit: AuditLog, interval: float) -> None:
    """Sign a checkpoint now and then every `interval` seconds, when the log grew."""
    while True:
        try:
            await asyncio.to_thread(audit.sign_if_grown)
        except Exception:  # keep the schedule alive; the next round retries
            log.exception("signing an audit checkpoint failed")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def _checkpoint_schedule(app: FastAPI) -> AsyncIterator[None]:
    service: Service = app.state.service
    settings = load_audit_settings()
    if not service.audit.can_sign:
        signer = configured_signer(settings)
        if signer is not None:
            service.audit = service.audit.with_signer(signer)
    task = None
    if service.audit.can_sign:
        task = asyncio.create_task(
            sign_forever(service.audit, settings.checkpoint_interval),
            name="cosignatory-audit-checkpoints",
        )
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


router = APIRouter(prefix="/v1/audit", tags=["audit"], lifespan=_checkpoint_schedule)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CheckpointOut(_Out):
    origin: str
    size: int
    root_hash: str = Field(description="Base64 SHA-256 root of the first `size` entries.")
    signed_at: str
    note: str = Field(description="The C2SP signed note; verify it with the log's key.")


class EntryOut(_Out):
    index: int
    entry: dict[str, Any] = Field(description="The entry; its RFC 8785 bytes are the leaf.")
    leaf_hash: str = Field(description="Base64 SHA-256(0x00 || entry bytes), as stored.")


class EntriesOut(_Out):
    entries: list[EntryOut]
    tree_size: int = Field(description="How many entries the log holds now.")


class InclusionOut(_Out):
    index: int
    tree_size: int
    proof: list[str] = Field(description="Base64 hashes, leaf side first (RFC 9162 2.1.3).")


class ConsistencyOut(_Out):
    first: int
    second: int
    proof: list[str] = Field(description="Base64 hashes (RFC 9162 2.1.4).")


def checkpoint_json(record: CheckpointRecord) -> dict[str, Any]:
    return {
        "origin": record.origin,
        "size": record.size,
        "root_hash": _b64(record.root_hash),
        "signed_at": format_timestamp(record.signed_at),
        "note": record.note,
    }


@router.get(
    "/checkpoint",
    response_model=CheckpointOut,
    responses=problems(404),
    summary="The latest signed checkpoint (C2SP tlog-checkpoint)",
)
def get_checkpoint(request: Request) -> JSONResponse:
    return JSONResponse(checkpoint_json(service_of(request).audit.checkpoint()))


@router.get(
    "/entries",
    response_model=EntriesOut,
    responses=problems(401, 422),
    summary=f"Entries [start, end), at most {MAX_ENTRIES_PAGE}",
    openapi_extra=SECURED,
)
def get_entries(*, request: Request, start: Index, end: Index) -> JSONResponse:
    service = service_of(request)
    caller_of(request)  # any authenticated person may audit
    entries = service.audit.stored_entries(start, end)
    body = {
        "entries": [
            {"index": e.index, "entry": json.loads(e.entry), "leaf_hash": _b64(e.leaf_hash)}
            for e in entries
        ],
        "tree_size": service.audit.size(),
    }
    return JSONResponse(body)


@router.get(
    "/proof/inclusion",
    response_model=InclusionOut,
    responses=problems(401, 422),
    summary="Inclusion proof of one entry in the tree of `tree_size` entries",
    openapi_extra=SECURED,
)
def get_inclusion_proof(*, request: Request, index: Index, tree_size: Index) -> JSONResponse:
    service = service_of(request)
    caller_of(request)
    proof = service.audit.inclusion_proof(index, tree_size)
    return JSONResponse({"index": index, "tree_size": tree_size, "proof": [_b64(h) for h in proof]})


@router.get(
    "/proof/consistency",
    response_model=ConsistencyOut,
    responses=problems(401, 422),
    summary="Consistency proof: the tree of `second` entries extends the tree of `first`",
    openapi_extra=SECURED,
)
def get_consistency_proof(*, request: Request, first: Index, second: Index) -> JSONResponse:
    service = service_of(request)
    caller_of(request)
    proof = service.audit.consistency_proof(first, second)
    return JSONResponse({"first": first, "second": second, "proof": [_b64(h) for h in proof]})
