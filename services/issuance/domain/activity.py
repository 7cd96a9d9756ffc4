"""Monitoring activity data: one row per parcel, from JSON or an uploaded CSV/XLSX file.

Files have a header row with the methodology's documented column names
(`GET /v1/methodologies/{id}` → `activity_columns`). Every row is checked and all errors are
reported at once, each with its spreadsheet row number (the header is row 1) and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from services.issuance.domain.errors import InvalidActivityData
from services.issuance.domain.methodologies.base import Methodology, parameter_path

MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


def read_table(content: bytes, filename: str) -> list[dict[str, str]]:
    """CSV (UTF-8, optional BOM) or XLSX (first sheet) → rows as column → text."""
    if filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(content)
    elif filename.lower().endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidActivityData(f"the CSV file is not UTF-8: {exc}") from None
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise InvalidActivityData("upload a .csv or .xlsx file")
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InvalidActivityData("the file has no header row")
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidActivityData(f"at most {MAX_ROWS} rows")
    header = [h.strip() for h in rows[0]]
    return [
        {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        for row in rows[1:]
    ]


def check_header(methodology: Methodology[Any], header: Sequence[str]) -> None:
    known = {c.name for c in methodology.columns}
    required = {c.name for c in methodology.columns if c.required}
    errors = [RowError(1, name, "unknown column") for name in header if name not in known]
    errors += [
        RowError(1, name, "required column missing") for name in sorted(required - set(header))
    ]
    if errors:
        raise InvalidActivityData(
            f"{len(errors)} error(s) in the header", errors=[e.as_dict() for e in errors]
        )


def strata_from_file(
    methodology: Methodology[Any],
    rows: Sequence[Mapping[str, str]],
    parcel_areas: Mapping[str, Decimal],
) -> tuple[list[str], list[dict[str, Any]]]:
    if rows:
        check_header(methodology, list(rows[0]))
    return strata_from_rows(
        methodology, [methodology.stratum_from_row(r) for r in rows], parcel_areas, first_row=2
    )


def strata_from_rows(
    methodology: Methodology[Any],
    rows: Sequence[Mapping[str, Any]],
    parcel_areas: Mapping[str, Decimal],
    first_row: int = 1,
) -> tuple[list[str], list[dict[str, Any]]]:
    """(parcel ids, strata) — each row validated against the methodology's stratum model, the
    parcel known to the project, its area defaulting to (and capped by) the declared area."""
    if not rows:
        raise InvalidActivityData("no activity rows")
    errors: list[RowError] = []
    parcel_ids: list[str] = []
    strata: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=first_row):
        stratum = dict(row)
        parcel_id = stratum.pop("parcel_id", None)
        if not isinstance(parcel_id, str) or parcel_id not in parcel_areas:
            errors.append(
                RowError(number, "parcel_id", f"not a parcel of this project: {parcel_id!r}")
            )
            continue
        if parcel_id in seen:
            errors.append(RowError(number, "parcel_id", f"parcel {parcel_id} appears twice"))
            continue
        seen.add(parcel_id)
        declared = parcel_areas[parcel_id]
        stratum.setdefault("area_ha", str(declared))
        try:
            checked = methodology.stratum_model.model_validate(stratum)
        except ValidationError as exc:
            errors += [RowError(number, parameter_path(e["loc"]), e["msg"]) for e in exc.errors()]
            continue
        area = getattr(checked, "area_ha", None)
        if isinstance(area, Decimal) and area > declared:
            errors.append(
                RowError(number, "area_ha", f"{area} ha exceeds the parcel's {declared} ha")
            )
            continue
        parcel_ids.append(parcel_id)
        strata.append(checked.model_dump(mode="json"))
    if errors:
        raise InvalidActivityData(
            f"{len(errors)} error(s) in the activity data", errors=[e.as_dict() for e in errors]
        )
    return parcel_ids, strata


def _xlsx_rows(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # imported on use: only uploads of XLSX need it

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt or foreign file
        raise InvalidActivityData(f"not a readable XLSX file: {type(exc).__name__}") from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
