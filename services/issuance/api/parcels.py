"""Parcels of a project as GeoJSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.problems import PROBLEM_JSON
from libs.servicekit.app import execute_mutation, runtime_of
from libs.servicekit.auth import Principal, current_principal, require_roles
from libs.servicekit.idempotency import idempotency_key
from services.issuance import access, parcels, store
from services.issuance.schemas import AddParcels, ParcelsAddedView

router = APIRouter(prefix="/v1/projects", tags=["parcels"])
ERRORS = {code: {"content": {PROBLEM_JSON: {}}} for code in (403, 404, 409, 422)}


@router.post(
    "/{project_id}/parcels",
    status_code=201,
    response_model=ParcelsAddedView,
    responses=ERRORS,
    summary="Add parcels: a GeoJSON FeatureCollection of polygons (developer, while editable)",
    description=(
        "Each feature: a Polygon or MultiPolygon in WGS 84 longitude/latitude, properties "
        "`parcel_id` (unique in the project), `area_ha` (declared; must be within 5% or 0.01 ha "
        "of the area measured in the parcel's UTM zone) and optional `name`. All invalid "
        "features are reported at once (422). A parcel overlapping (> 1 m²) a parcel of another "
        "project under notice or registered for an overlapping crediting period is refused "
        "with that project named (409)."
    ),
)
async def add_parcels(
    project_id: str,
    body: AddParcels,
    request: Request,
    principal: Principal = Depends(require_roles("developer", "registry_admin")),
    key: str | None = Depends(idempotency_key),
) -> JSONResponse:
    return await execute_mutation(
        request, principal, key, body, lambda tx: parcels.add(tx, principal, project_id, body)
    )


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


@router.get(
    "/{project_id}/parcels",
    response_class=GeoJSONResponse,
    responses={**ERRORS, 200: {"description": "A GeoJSON FeatureCollection (RFC 7946)"}},
    summary="The project's parcels as a GeoJSON FeatureCollection",
)
async def list_parcels(
    project_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> GeoJSONResponse:
    pool = runtime_of(request).pool
    access.visible(principal, await store.get_project(pool, project_id))
    features = [
        {
            "type": "Feature",
            "geometry": p.geometry,
            "properties": {
                "parcel_id": p.parcel_id,
                "name": p.name,
                "area_ha": p.declared_area_ha,
                "measured_area_ha": p.computed_area_ha,
            },
        }
        for p in await store.list_parcels(pool, project_id)
    ]
    return GeoJSONResponse({"type": "FeatureCollection", "features": features})
