"""`/v1/policy`: read the version in force (anyone), publish a new one (administrators)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cosignatory.api.auth import BearerToken, ServiceDep, authenticate, authenticate_admin
from cosignatory.api.responses import problems
from cosignatory.api.schemas import PolicyOut, PublishPolicyRequest
from cosignatory.service import InFlight

__all__ = ["router"]

router = APIRouter(prefix="/v1/policy", tags=["policy"])


@router.get(
    "", response_model=PolicyOut, responses=problems(401, 409), summary="The policy in force"
)
def get_policy(token: BearerToken, service: ServiceDep) -> JSONResponse:
    authenticate(service, token)  # every authenticated person may read the rules they live under
    return JSONResponse(service.current_policy().to_json())


@router.put(
    "",
    response_model=PolicyOut,
    responses=problems(401, 403, 409, 413, 422),
    summary="Publish a new policy version (administrators)",
)
def publish_policy(
    body: PublishPolicyRequest, token: BearerToken, service: ServiceDep
) -> JSONResponse:
    admin = authenticate_admin(service, token)
    version = service.publish_policy(
        yaml_text=body.yaml,
        by=admin.person,
        in_flight=InFlight(body.in_flight.value),
        filename="policy.yaml",
    )
    return JSONResponse(version.to_json())
