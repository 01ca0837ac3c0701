"""`/v1/policy`: read the version in force (anyone), publish a new one (administrators)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from cosignatory.api.auth import SECURED, admin_of, caller_of, service_of
from cosignatory.api.responses import problems
from cosignatory.api.schemas import PolicyOut, PublishPolicyRequest
from cosignatory.service import InFlight

__all__ = ["router"]

router = APIRouter(prefix="/v1/policy", tags=["policy"])


@router.get(
    "",
    response_model=PolicyOut,
    responses=problems(401, 409),
    summary="The policy in force",
    openapi_extra=SECURED,
)
def get_policy(request: Request) -> JSONResponse:
    caller_of(request)  # every authenticated person may read the rules they live under
    return JSONResponse(service_of(request).current_policy().to_json())


@router.put(
    "",
    response_model=PolicyOut,
    responses=problems(401, 403, 409, 413, 422),
    summary="Publish a new policy version (administrators)",
    openapi_extra=SECURED,
)
def publish_policy(body: PublishPolicyRequest, request: Request) -> JSONResponse:
    admin = admin_of(request)
    version = service_of(request).publish_policy(
        yaml_text=body.yaml,
        by=admin.person,
        in_flight=InFlight(body.in_flight.value),
        filename="policy.yaml",
    )
    return JSONResponse(version.to_json())
