"""The portal's pages: each one renders what the public JSON API answers (the same functions),
in zh-CN at `/…` and in English at `/en/…`. Server-rendered, no JavaScript, no external asset."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from libs.problems import Problem
from libs.servicekit.app import runtime_of
from services.disclosure import checkpoints, store, valuation
from services.disclosure.api import policies, projects, public, valuations
from services.disclosure.domain.valuation import Position, value
from services.disclosure.portal import charts
from services.disclosure.portal.i18n import translator
from services.disclosure.portal.qr import qr_svg

router = APIRouter(include_in_schema=False)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
Handler = Callable[..., Awaitable[Response]]
COUNTIES = ("QP", "WJ", "JS")


def lang_of(request: Request) -> str:
    """The page's language, from its path: English under `/en/`, zh-CN everywhere else."""
    path = request.url.path
    return "en" if path == "/en" or path.startswith("/en/") else "zh"


def prefix_of(request: Request) -> str:
    return "/en" if lang_of(request) == "en" else ""


async def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang, prefix = lang_of(request), prefix_of(request)
    path = request.url.path.removeprefix("/en") or "/"
    other = path if lang == "en" else "/en" + path
    as_of = await store.data_as_of(runtime_of(request).pool)
    html = TEMPLATES.get_template(template).render(
        lang=lang,
        t=translator(lang),
        p=prefix,
        other_url=other,
        yuan=_yuan,
        as_of=as_of.strftime("%Y-%m-%d %H:%M UTC") if as_of else None,
        **values,
    )
    return HTMLResponse(html, status_code=status)


def _whole(text: str | None, low: int, high: int) -> int | None:
    """A form's whole number within [low, high], or None for anything else."""
    try:
        number = int(text) if text and text.isascii() else None
    except ValueError:
        return None
    return number if number is not None and low <= number <= high else None


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:,.2f}"


def page(path: str) -> Callable[[Handler], Handler]:
    """Register a page at `path` (zh-CN) and `/en{path}` (English); a 404 is a page too."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def endpoint(request: Request, **kwargs: Any) -> Response:
            try:
                return await handler(request, **kwargs)
            except Problem as problem:
                if problem.status != 404:
                    raise
                return await render(request, "not_found.html", status=404)

        for prefix in ("", "/en"):
            router.add_api_route(
                prefix + path, endpoint, methods=["GET"], response_class=HTMLResponse
            )
        return handler

    return register


@page("/")
async def home(request: Request) -> Response:
    totals = await public.totals(request, by="program", fmt="json")
    months = await store.monthly_supply(runtime_of(request).pool)
    t = translator(lang_of(request))
    chart = charts.bars(
        [m["month"] for m in months],
        [
            (t("issued"), "issued", [m["issued"] for m in months]),
            (t("retired"), "retired", [m["retired"] for m in months]),
        ],
        t("by_month"),
    )
    buffer = await public.buffer_pool(request, fmt="json")
    return await render(
        request,
        "home.html",
        totals=totals.overall,  # type: ignore[union-attr]
        chart=Markup(chart),
        buffer=buffer.items,  # type: ignore[union-attr]
    )


@page("/projects")
async def project_list(
    request: Request, county: str | None = Query(default=None, max_length=2)
) -> Response:
    chosen = county if county in COUNTIES else None
    found = await projects.list_projects(request, None, 500, chosen, None, None, None, fmt="json")
    return await render(request, "projects.html", projects=found.items, county=chosen)  # type: ignore[union-attr]


@page("/projects/{project_id}")
async def project_page(request: Request, project_id: str) -> Response:
    detail = await projects.get_project(project_id, request)
    shapes = [(p.parcel_id, p.geometry) for p in detail.parcels]
    chart = charts.parcels(shapes, translator(lang_of(request))("parcels"))
    return await render(request, "project.html", x=detail, map=Markup(chart))


@page("/issuances")
async def issuance_list(
    request: Request,
    county: str | None = Query(default=None, max_length=2),
    vintage: str | None = Query(default=None, max_length=4),
    cursor: str | None = Query(default=None, max_length=100),
) -> Response:
    """Issued batches, newest first, a page of 100; what the form asks that is not a county
    or a year is left out rather than refused (a page, not an API)."""
    chosen = county if county in COUNTIES else None
    year = _whole(vintage, 1990, 2100)
    found = await public.list_issuances(
        request, cursor, 100, chosen, None, year, None, None, fmt="json"
    )
    filters = {name: value for name, value in (("county", chosen), ("vintage", year)) if value}
    following = found.next_cursor  # type: ignore[union-attr]
    return await render(
        request,
        "issuances.html",
        items=found.items,  # type: ignore[union-attr]
        county=chosen,
        vintage=year,
        query=urlencode(filters),
        next_query=urlencode(filters | {"cursor": following}) if following else None,
    )


@page("/retirements")
async def retirement_list(request: Request) -> Response:
    found = await public.list_retirements(request, None, 200, None, None, None, None, fmt="json")
    return await render(request, "retirements.html", items=found.items)  # type: ignore[union-attr]


@page("/serials")
async def serial_lookup(
    request: Request, serial: str | None = Query(default=None, max_length=100)
) -> Response:
    if serial and serial.strip():
        prefix = prefix_of(request)
        return RedirectResponse(f"{prefix}/serials/{quote(serial.strip())}", status_code=303)
    return await render(request, "serials.html", serial=serial, missing=False)


@page("/points")
async def points_page(request: Request) -> Response:
    found = await public.points_schemes(request, None, 500, fmt="json")
    return await render(request, "points.html", items=found.items)  # type: ignore[union-attr]


@page("/transparency")
async def transparency_page(request: Request) -> Response:
    runtime = runtime_of(request)
    found = await checkpoints.heads(runtime.transparency, runtime.pool, request.app.state.ledgers)
    return await render(request, "transparency.html", heads=found)


PROGRAMS = ("YRDPH", "CCER")


@page("/valuation")
async def valuation_page(
    request: Request,
    program: str | None = Query(default=None, max_length=5),
    vintage: str | None = Query(default=None, max_length=4),
    quantity: str | None = Query(default=None, max_length=12),
) -> Response:
    """What a holding is worth at the current marks; a form's nonsense is left out, not
    refused (a page, not an API)."""
    today = valuations.today()
    marks = await valuation.marks(runtime_of(request).pool, today)
    chosen = program if program in PROGRAMS else PROGRAMS[0]
    year, tonnes = _whole(vintage, 1990, 2100), _whole(quantity, 1, 10**12)
    result = None
    if year and tonnes:  # valued at the marks the page shows
        result = value([Position(chosen, year, tonnes)], marks, today)
    return await render(
        request,
        "valuation.html",
        programs=PROGRAMS,
        program=chosen,
        vintage=year,
        quantity=tonnes,
        result=result,
        marks=sorted(marks.values(), key=lambda m: m.instrument),
    )


@page("/labels/{code}")
async def label_page(request: Request, code: str) -> Response:
    label = await public.get_label(code, request)
    qr = qr_svg(str(request.url), translator(lang_of(request))("label_qr"))
    return await render(request, "label.html", x=label, qr=Markup(qr))


@page("/serials/{serial}")
async def serial_page(request: Request, serial: str) -> Response:
    try:
        view = await public.serial_provenance(serial, request)
    except Problem as problem:
        if problem.status not in (404, 422):
            raise
        return await render(request, "serials.html", status=404, serial=serial, missing=True)
    return await render(request, "serial.html", v=view)


POLICY_CATEGORIES = ("regulation", "methodology", "notice", "market_rule")


@page("/policies")
async def policy_list(
    request: Request, category: str | None = Query(default=None, max_length=20)
) -> Response:
    chosen = category if category in POLICY_CATEGORIES else None
    found = await policies.list_policies(
        request,
        chosen,
        None,
        None,
        None,
        None,
        500,
        fmt="json",  # type: ignore[arg-type]
    )
    return await render(
        request,
        "policies.html",
        items=found.items,  # type: ignore[union-attr]
        category=chosen,
        categories=POLICY_CATEGORIES,
    )


@page("/policies/{policy_id}")
async def policy_page(request: Request, policy_id: str) -> Response:
    return await render(request, "policy.html", x=await policies.get_policy(policy_id, request))


@page("/market")
async def market_list(request: Request) -> Response:
    found = await public.market_instruments(request, None, 500, fmt="json")
    return await render(request, "market.html", instruments=found.items)  # type: ignore[union-attr]


@page("/market/{instrument_id}")
async def instrument_page(request: Request, instrument_id: str) -> Response:
    daily = await public.market_daily(instrument_id, request, None, None, fmt="json")
    days = daily.days  # type: ignore[union-attr]
    chart = charts.price_volume(
        [str(d.date) for d in days],
        [d.close for d in days],
        [d.volume for d in days],
        translator(lang_of(request))("price_volume_chart"),
    )
    return await render(
        request, "instrument.html", instrument=instrument_id, days=days, chart=Markup(chart)
    )


@page("/notices")
async def notice_list(request: Request) -> Response:
    open_notices = await projects.notices(request, "open", None, None, 200, fmt="json")
    past_notices = await projects.notices(request, "past", None, None, 200, fmt="json")
    return await render(
        request,
        "notices.html",
        open_notices=open_notices.items,  # type: ignore[union-attr]
        past_notices=past_notices.items,  # type: ignore[union-attr]
    )


MESSAGES = {"received", "rate_limited", "refused", "unavailable"}


@page("/notices/{project_id}")
async def notice_page(
    request: Request,
    project_id: str,
    sent: str | None = Query(default=None, max_length=20),
) -> Response:
    project = await projects.get_project(project_id, request)
    answered = await projects.notice_comments(project_id, request, None, 500, fmt="json")
    comments = answered.items  # type: ignore[union-attr]
    ends = project.notice_ends_at
    is_open = project.status == "public_notice" and ends is not None and ends > datetime.now(UTC)
    message = f"comment_{sent}" if sent in MESSAGES else None
    return await render(
        request,
        "notice.html",
        x=project,
        comments=comments,
        is_open=is_open,
        message=message,
    )


async def send_comment(
    request: Request,
    project_id: str,
    author: str | None = Form(default=None, max_length=100),
    text: str = Form(min_length=1, max_length=5000),
) -> Response:
    """The comment form: handed to issuance's anonymous endpoint (its rate limit applies to
    the visitor's address, forwarded), then back to the notice with what happened."""
    body = {"author": author or None, "text": text}
    forwarded = {"X-Forwarded-For": request.client.host} if request.client else {}
    try:
        answer = await request.app.state.issuance.post(
            f"/v1/projects/{quote(project_id)}/comments", json=body, headers=forwarded
        )
        outcome = {201: "received", 429: "rate_limited"}.get(answer.status_code, "refused")
    except httpx.HTTPError:
        outcome = "unavailable"
    notice = f"{prefix_of(request)}/notices/{quote(project_id)}"
    return RedirectResponse(f"{notice}?sent={outcome}", status_code=303)


for _prefix in ("", "/en"):
    router.add_api_route(
        f"{_prefix}/notices/{{project_id}}/comments", send_comment, methods=["POST"]
    )


@page("/methodologies")
async def methodology_list(request: Request) -> Response:
    found = await projects.methodologies(request, None, 500, fmt="json")
    return await render(request, "methodologies.html", items=found.items)  # type: ignore[union-attr]


@page("/methodologies/{methodology_id}")
async def methodology_page(request: Request, methodology_id: str) -> Response:
    described = await request.app.state.methodologies.one(methodology_id)
    return await render(request, "methodology.html", m=described)
