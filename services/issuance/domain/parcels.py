"""Parcel geometry: GeoJSON polygons checked, measured and compared (docs/domain.md, issue 4).

Coordinates are WGS 84 longitude/latitude (GeoJSON, RFC 7946). Areas are measured in the UTM
zone of the parcel's centroid (for the demonstration zone, ~121°E 31°N: EPSG:32651), where
distortion over a field is far below a survey's precision. Two parcels overlap when they share
more than 1 m² — digitised neighbours that merely touch or differ by a sliver do not.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

AREA_TOLERANCE = Decimal("0.05")  # declared area may differ from the measured one by 5%…
AREA_SLACK_HA = Decimal("0.01")  # …or by 0.01 ha (100 m²) for very small parcels
OVERLAP_MIN_M2 = 1.0
M2_PER_HA = 10_000


@dataclass(frozen=True)
class Parcel:
    parcel_id: str
    name: str | None
    geometry: Mapping[str, Any]  # the GeoJSON geometry as given (validated)
    shape: BaseGeometry
    declared_area_ha: Decimal
    computed_area_ha: Decimal

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        min_lon, min_lat, max_lon, max_lat = self.shape.bounds
        return float(min_lon), float(min_lat), float(max_lon), float(max_lat)


@dataclass(frozen=True)
class ParcelError:
    index: int
    parcel_id: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.index, "parcel_id": self.parcel_id, "message": self.message}


@functools.lru_cache(maxsize=64)
def _to_utm(zone: int, north: bool) -> Transformer:
    return Transformer.from_crs(
        "EPSG:4326", f"EPSG:{(32600 if north else 32700) + zone}", always_xy=True
    )


def projected(geometry: BaseGeometry) -> BaseGeometry:
    """The geometry in metres, in the UTM zone of its centroid."""
    centroid = geometry.centroid
    zone = min(60, int((centroid.x + 180) // 6) + 1)
    transformer = _to_utm(zone, centroid.y >= 0)

    def to_metres(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, to_metres)


def area_ha(geometry: BaseGeometry) -> Decimal:
    """Area in hectares, to 4 decimals (1 m²)."""
    return Decimal(projected(geometry).area / M2_PER_HA).quantize(Decimal("0.0001"))


def overlap_m2(a: BaseGeometry, b: BaseGeometry) -> float:
    if not a.intersects(b):
        return 0.0
    shared = a.intersection(b)
    return float(projected(shared).area) if not shared.is_empty else 0.0


def parse_parcel(index: int, feature: Mapping[str, Any]) -> Parcel | ParcelError:
    """One GeoJSON Feature with properties parcel_id, area_ha (declared), name (optional)."""
    properties = feature.get("properties")
    if not isinstance(properties, Mapping):
        properties = {}
    parcel_id = properties.get("parcel_id")
    if not isinstance(parcel_id, str) or not 1 <= len(parcel_id) <= 64:
        return ParcelError(index, None, "properties.parcel_id: a string of 1–64 characters")
    name = properties.get("name")
    declared = _decimal(properties.get("area_ha"))
    if declared is None or declared <= 0:
        return ParcelError(index, parcel_id, "properties.area_ha: a positive number of hectares")
    geometry = feature.get("geometry")
    problem = _check_geojson(geometry)
    if problem:
        return ParcelError(index, parcel_id, problem)
    assert isinstance(geometry, Mapping)
    polygon = shape(geometry)
    if not polygon.is_valid:
        return ParcelError(index, parcel_id, f"invalid polygon: {explain_validity(polygon)}")
    computed = area_ha(polygon)
    if abs(declared - computed) > max(computed * AREA_TOLERANCE, AREA_SLACK_HA):
        return ParcelError(
            index,
            parcel_id,
            f"declared area {declared} ha differs from the measured {computed} ha by more than"
            f" {AREA_TOLERANCE:%}",
        )
    return Parcel(
        parcel_id, name if isinstance(name, str) else None, geometry, polygon, declared, computed
    )


def parse_collection(collection: Mapping[str, Any]) -> tuple[list[Parcel], list[ParcelError]]:
    """Every feature checked; all errors at once, including overlaps within the collection."""
    parcels: list[Parcel] = []
    errors: list[ParcelError] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(collection.get("features") or []):
        result = parse_parcel(index, feature if isinstance(feature, Mapping) else {})
        if isinstance(result, ParcelError):
            errors.append(result)
            continue
        if result.parcel_id in seen:
            errors.append(ParcelError(index, result.parcel_id, "parcel_id appears twice"))
            continue
        seen[result.parcel_id] = index
        parcels.append(result)
    errors.extend(_overlaps_within(parcels, seen))
    return parcels, errors


def overlapping_pairs(
    new: Sequence[Parcel], existing: Sequence[tuple[str, BaseGeometry]]
) -> list[tuple[Parcel, str, float]]:
    """(new parcel, existing key, overlap m²) for every pair sharing more than 1 m²."""
    if not new or not existing:
        return []
    tree = shapely.STRtree([g for _, g in existing])
    found = []
    for parcel in new:
        for i in tree.query(parcel.shape):
            key, other = existing[int(i)]
            shared = overlap_m2(parcel.shape, other)
            if shared > OVERLAP_MIN_M2:
                found.append((parcel, key, shared))
    return found


def _overlaps_within(parcels: Sequence[Parcel], index: Mapping[str, int]) -> list[ParcelError]:
    errors = []
    pairs = overlapping_pairs(parcels, [(p.parcel_id, p.shape) for p in parcels])
    for parcel, other, shared in pairs:
        if parcel.parcel_id < other:
            errors.append(
                ParcelError(
                    index[parcel.parcel_id],
                    parcel.parcel_id,
                    f"overlaps parcel {other} by {shared:.0f} m²",
                )
            )
    return errors


def _check_geojson(geometry: Any) -> str | None:
    if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "geometry: a GeoJSON Polygon or MultiPolygon"
    polygons = geometry.get("coordinates")
    if not isinstance(polygons, list) or not polygons:
        return "geometry.coordinates: missing"
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return "geometry.coordinates: a polygon needs at least one ring"
        for ring in polygon:
            problem = _check_ring(ring)
            if problem:
                return problem
    return None


def _check_ring(ring: Any) -> str | None:
    if not isinstance(ring, list) or len(ring) < 4:
        return "a linear ring needs at least 4 positions"
    for position in ring:
        if (
            not isinstance(position, list)
            or len(position) not in (2, 3)
            or not all(isinstance(c, int | float) and math.isfinite(c) for c in position)
        ):
            return "a position is [longitude, latitude] in decimal degrees"
        if not (-180 <= position[0] <= 180 and -90 <= position[1] <= 90):
            return f"position {position} is outside longitude/latitude bounds"
    if ring[0] != ring[-1]:
        return "a linear ring must be closed (first position = last position)"
    return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None
