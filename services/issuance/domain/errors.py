"""Issuance problems with stable type URIs (docs/rest.md)."""

from __future__ import annotations

from libs.problems import Problem


class UnknownMethodology(Problem):
    status, slug, title = 404, "unknown-methodology", "Unknown methodology or version"


class InvalidParameters(Problem):
    """`errors` names every offending parameter, e.g. `strata[2].area_ha`."""

    status, slug, title = 422, "invalid-parameters", "The methodology parameters are not valid"


class NotApplicable(Problem):
    status, slug, title = 422, "not-applicable", "An applicability condition is violated"


class UnknownProject(Problem):
    status, slug, title = 404, "unknown-project", "Unknown project"


class UnknownReport(Problem):
    status, slug, title = 404, "unknown-monitoring-report", "Unknown monitoring report"


class UnknownDocument(Problem):
    status, slug, title = 404, "unknown-document", "Unknown document"


class IllegalTransition(Problem):
    status, slug, title = 409, "illegal-transition", "Not allowed in the project's current state"


class PreconditionMissing(Problem):
    status, slug, title = 409, "precondition-missing", "A step this action needs has not happened"


class NoticeNotOver(Problem):
    status, slug, title = 409, "notice-not-over", "The public notice period has not ended"


class ParcelOverlap(Problem):
    status, slug, title = 409, "parcel-overlap", "A parcel overlaps another project's parcel"


class InvalidParcels(Problem):
    status, slug, title = 422, "invalid-parcels", "One or more parcels are not valid"


class DuplicateParcel(Problem):
    status, slug, title = 409, "duplicate-parcel", "The project already has a parcel with this id"


class InvalidActivityData(Problem):
    status, slug, title = 422, "invalid-activity-data", "The activity data has errors"


class PeriodOverlap(Problem):
    status, slug, title = 409, "period-overlap", "The monitoring period overlaps an earlier one"


class InvalidPeriod(Problem):
    status, slug, title = 422, "invalid-period", "The monitoring period is not valid"


class VerifiedAboveClaimed(Problem):
    status, slug, title = 422, "verified-above-claimed", "Verified reductions exceed the claim"


class ReportStateConflict(Problem):
    status, slug, title = 409, "report-state", "Not allowed in the report's current state"


class NotIndependent(Problem):
    status, slug, title = 403, "not-independent", "A body may not review its own project"


class RoleRequired(Problem):
    status, slug, title = 403, "forbidden", "Not allowed for your roles"


class InvalidDocument(Problem):
    status, slug, title = 422, "invalid-document", "The document is not valid"


class RateLimited(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests; retry later"
