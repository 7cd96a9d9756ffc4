"""The methodology plugin contract (docs/domain.md).

A methodology is versioned code: a parameter schema (project-level settings plus a list of
strata — one per parcel in a monitoring report), applicability checks that name the violated
parameter, and a quantification in `Decimal` that records every intermediate value with its
formula and source in a trace.

Arithmetic rule: all intermediate values keep the full precision of a 50-digit decimal context
(no intermediate rounding); only the reported tonnes are rounded, to 3 decimals, half-even.
"""

from __future__ import annotations

import decimal
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from services.issuance.domain.errors import InvalidParameters, NotApplicable

PRECISION = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)
REPORTED = Decimal("0.001")
ZERO = Decimal(0)


def reported(value: Decimal) -> str:
    """Tonnes as reported: 3 decimals, half-even."""
    return str(value.quantize(REPORTED, rounding=decimal.ROUND_HALF_EVEN, context=PRECISION))


class Parameters(BaseModel):
    """Base of every methodology's parameter model: unknown parameters are refused by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class FactorTable:
    id: str
    title: str
    source: str
    unit: str
    values: Mapping[str, Decimal]
    confidence: str = "high"


@dataclass(frozen=True)
class Equation:
    id: str
    formula: str
    source: str


@dataclass(frozen=True)
class Column:
    """One column of an uploaded activity-data file (CSV/XLSX), documented at /methodologies."""

    name: str
    description: str
    required: bool = True


@dataclass(frozen=True)
class Violation:
    parameter: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"parameter": self.parameter, "message": self.message}


class TraceStep(NamedTuple):
    name: str
    value: Decimal
    unit: str
    formula: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "value": str(self.value),
            "unit": self.unit,
            "formula": self.formula,
            "source": self.source,
        }


@dataclass
class Trace:
    steps: list[TraceStep] = field(default_factory=list)

    def record(self, name: str, value: Decimal, unit: str, formula: str, source: str) -> Decimal:
        self.steps.append(TraceStep(name, value, unit, formula, source))
        return value


@dataclass(frozen=True)
class Quantification:
    baseline: Decimal
    project: Decimal
    leakage: Decimal
    deductions: Mapping[str, Decimal]
    net: Decimal
    trace: Sequence[TraceStep]

    def as_dict(self, with_trace: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = {
            "baseline_tco2e": reported(self.baseline),
            "project_tco2e": reported(self.project),
            "leakage_tco2e": reported(self.leakage),
            "deductions": {name: reported(v) for name, v in self.deductions.items()},
            "net_tco2e": reported(self.net),
        }
        if with_trace:
            result["trace"] = [step.as_dict() for step in self.trace]
        return result


P = TypeVar("P", bound=Parameters)


class Methodology(ABC, Generic[P]):
    id: ClassVar[str]
    version: ClassVar[int]
    name_zh: ClassVar[str]
    name_en: ClassVar[str]
    description_zh: ClassVar[str]
    description_en: ClassVar[str]
    parameters_model: type[P]
    stratum_model: ClassVar[type[BaseModel]]
    equations: ClassVar[Sequence[Equation]]
    factor_tables: ClassVar[Sequence[FactorTable]]
    columns: ClassVar[Sequence[Column]]

    def parse(self, raw: Mapping[str, Any]) -> P:
        try:
            return self.parameters_model.model_validate(raw)
        except ValidationError as exc:
            violations = [
                {"parameter": parameter_path(error["loc"]), "message": error["msg"]}
                for error in exc.errors()
            ]
            names = ", ".join(v["parameter"] for v in violations)
            raise InvalidParameters(f"invalid parameters: {names}", errors=violations) from None

    @abstractmethod
    def applicability(self, parameters: P) -> list[Violation]: ...

    @abstractmethod
    def quantify(self, parameters: P) -> Quantification: ...

    def evaluate(self, raw: Mapping[str, Any]) -> Quantification:
        """Parse, check applicability, quantify: what `/quantify` and monitoring reports run."""
        parameters = self.parse(raw)
        violations = self.applicability(parameters)
        if violations:
            names = ", ".join(v.parameter for v in violations)
            raise NotApplicable(
                f"applicability violated: {names}", errors=[v.as_dict() for v in violations]
            )
        with decimal.localcontext(PRECISION):
            return self.quantify(parameters)

    def stratum_from_row(self, row: Mapping[str, str]) -> dict[str, Any]:
        """An activity-file row (column → text) as a stratum; empty cells are absent."""
        return {name: value for name, value in row.items() if value != ""}

    def settings_fields(self) -> set[str]:
        """Project-level parameters (everything but the strata)."""
        return set(self.parameters_model.model_fields) - {"strata"}

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "name": {"zh": self.name_zh, "en": self.name_en},
            "description": {"zh": self.description_zh, "en": self.description_en},
            "parameters": self.parameters_model.model_json_schema(),
            "equations": [vars(e) for e in self.equations],
            "factor_tables": [
                {
                    "id": t.id,
                    "title": t.title,
                    "source": t.source,
                    "unit": t.unit,
                    "confidence": t.confidence,
                    "values": {k: str(v) for k, v in t.values.items()},
                }
                for t in self.factor_tables
            ],
            "activity_columns": [vars(c) for c in self.columns],
        }


def parameter_path(loc: Sequence[int | str]) -> str:
    """('strata', 2, 'area_ha') → 'strata[2].area_ha'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "parameters"


def total(values: Sequence[Decimal]) -> Decimal:
    return sum(values, ZERO)
