"""Every public list downloadable as CSV or XLSX (`format=csv|xlsx`).

Columns are the JSON items' fields in order; nested values (serial blocks, geometry) are
written as JSON text. CSV is UTF-8 with a byte-order mark, so that spreadsheet programs read
the Chinese text correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

import orjson
from fastapi import Query, Response
from openpyxl import Workbook
from pydantic import BaseModel

Format = Literal["json", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def format_query() -> Any:
    return Query(default="json", alias="format", description="json, or a csv / xlsx download")


def rows_of(
    items: Sequence[BaseModel], model: type[BaseModel]
) -> tuple[list[str], list[list[Any]]]:
    """The columns are the model's fields, so an empty list still downloads its header."""
    columns = list(model.model_fields)
    dicts = [item.model_dump(mode="json") for item in items]
    return columns, [[_cell(item.get(c)) for c in columns] for item in dicts]


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def download(
    items: Sequence[BaseModel], model: type[BaseModel], fmt: Format, name: str
) -> Response:
    columns, rows = rows_of(items, model)
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(columns)
        writer.writerows(rows)
        body, media = ("\ufeff" + text.getvalue()).encode(), "text/csv; charset=utf-8"
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(name[:31])
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        body, media = out.getvalue(), XLSX
    disposition = f'attachment; filename="{name}.{fmt}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
