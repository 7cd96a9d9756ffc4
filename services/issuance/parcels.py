"""Parcels of a project: validated GeoJSON, and the spatial double-counting check.

A parcel may not overlap a parcel of another project that is under public notice or
registered for an overlapping crediting period, across programs too (docs/domain.md). It is checked
when parcels are added (early feedback) and again, binding, when a project opens its public
notice — under an advisory lock, so two projects cannot enter notice with overlapping fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from shapely.geometry import shape

from libs.events.contract.issuance import ParcelRecord, ParcelsAdded
from libs.events.store import ANY_VERSION, EventTransaction
from libs.servicekit.auth import Principal
from services.issuance import access, store
from services.issuance.domain.errors import DuplicateParcel, InvalidParcels, ParcelOverlap
from services.issuance.domain.lifecycle import PROTECTED
from services.issuance.domain.parcels import Parcel, overlapping_pairs, parse_collection
from services.issuance.lookup import locked, require_editable, stream
from services.issuance.schemas import AddParcels, ParcelsAddedView, ParcelView, ProjectView


async def add(
    tx: EventTransaction, principal: Principal, project_id: str, body: AddParcels
) -> ParcelsAddedView:
    project = await locked(tx, principal, project_id)
    access.require_developer(principal, project)
    require_editable(project)
    new, errors = parse_collection(body.model_dump())
    if errors:
        raise InvalidParcels(
            f"{len(errors)} invalid parcel(s)", errors=[e.as_dict() for e in errors]
        )
    taken = await store.existing_parcel_ids(tx, project_id, [p.parcel_id for p in new])
    if taken:
        raise DuplicateParcel(f"parcels already in {project_id}: {', '.join(sorted(taken))}")
    await _refuse_overlaps(tx, project, new)
    await _refuse_overlaps_within_project(tx, project, new)
    records = [
        ParcelRecord(
            parcel_id=p.parcel_id,
            name=p.name,
            geometry=dict(p.geometry),
            declared_area_ha=str(p.declared_area_ha),
            computed_area_ha=str(p.computed_area_ha),
        )
        for p in new
    ]
    await tx.append(
        stream(project_id), ANY_VERSION, [ParcelsAdded(project_id=project_id, parcels=records)]
    )
    await store.insert_parcels(tx, project_id, new)
    return ParcelsAddedView(
        project_id=project_id, added=[ParcelView(**r.model_dump()) for r in records]
    )


async def check_project_against_protected(tx: EventTransaction, project: ProjectView) -> None:
    await store.lock_protected_parcels(tx)
    views = await store.list_parcels(tx, project.id)
    await _refuse_overlaps(tx, project, [_as_parcel(v) for v in views])


async def _refuse_overlaps(
    tx: EventTransaction, project: ProjectView, new: Sequence[Parcel]
) -> None:
    if not new:
        return
    boxes = [p.bbox for p in new]
    bbox = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    candidates = await store.protected_parcels_near(
        tx, bbox, project.id, sorted(PROTECTED), (project.crediting_start, project.crediting_end)
    )
    existing = [(f"{pid}/{parcel}", shape(geometry)) for pid, parcel, geometry in candidates]
    conflicts = overlapping_pairs(new, existing)
    if conflicts:
        parcel, other, shared = conflicts[0]
        other_project, _, other_parcel = other.partition("/")
        raise ParcelOverlap(
            f"parcel {parcel.parcel_id} overlaps parcel {other_parcel} of project {other_project}"
            f" by {shared:.0f} m² within an overlapping crediting period",
            conflicts=[
                {
                    "parcel_id": p.parcel_id,
                    "project": o.partition("/")[0],
                    "other_parcel": o.partition("/")[2],
                    "overlap_m2": round(m2),
                }
                for p, o, m2 in conflicts
            ],
        )


async def _refuse_overlaps_within_project(
    tx: EventTransaction, project: ProjectView, new: Sequence[Parcel]
) -> None:
    """A field counted twice inside one project is double counting too."""
    views = await store.list_parcels(tx, project.id)
    existing = [(v.parcel_id, shape(v.geometry)) for v in views]
    conflicts = overlapping_pairs(new, existing)
    if conflicts:
        parcel, other, shared = conflicts[0]
        raise ParcelOverlap(
            f"parcel {parcel.parcel_id} overlaps parcel {other} of the same project by {shared:.0f} m²"
        )


def _as_parcel(view: ParcelView) -> Parcel:
    return Parcel(
        view.parcel_id,
        view.name,
        view.geometry,
        shape(view.geometry),
        Decimal(view.declared_area_ha),
        Decimal(view.computed_area_ha),
    )
