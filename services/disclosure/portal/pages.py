"""The portal's pages: each one renders what the public JSON API answers (the same functions),
in zh-CN at `/…` and in English at `/en/…`. Server-rendered, no JavaScript, no external asset."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from libs.problems import Problem
from libs.servicekit.app import runtime_of
from services.disclosure import store
from services.disclosure.api import policies, projects, public
from services.disclosure.portal import charts
from services.disclosure.portal.i18n import translator

router = APIRouter(include_in_schema=False)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
Handler = Callable[..., Awaitable[Response]]


async def render(
    request: Request, lang: str, template: str, status: int = 200, **values: Any
) -> HTMLResponse:
    prefix = "/en" if lang == "en" else ""
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


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:,.2f}"


def page(path: str) -> Callable[[Handler], Handler]:
    """Register a page at `path` (zh-CN) and `/en{path}` (English)."""

    def register(handler: Handler) -> Handler:
        for lang, prefix in (("zh", ""), ("en", "/en")):
            route = (prefix + path) if path != "/" else (prefix + "/" if prefix else "/")

            async def endpoint(request: Request, lang: str = lang, **kwargs: Any) -> Response:
                try:
                    return await handler(request, lang, **kwargs)
                except Problem as problem:
                    if problem.status != 404:
                        raise
                    return await render(request, lang, "not_found.html", status=404)

            endpoint.__signature__ = _signature_of(handler)  # type: ignore[attr-defined]
            router.add_api_route(route, endpoint, methods=["GET"], response_class=HTMLResponse)
        return handler

    return register


def _signature_of(handler: Handler) -> Any:
    """The handler's own parameters after `(request, lang)`, for FastAPI to read."""
    signature = inspect.signature(handler)
    parameters = list(signature.parameters.values())
    return signature.replace(parameters=[parameters[0], *parameters[2:]])


@page("/")
async def home(request: Request, lang: str) -> Response:
    totals = await public.totals(request, by="program", fmt="json")
    months = await store.monthly_supply(runtime_of(request).pool)
    t = translator(lang)
    chart = charts.bars(
        [m["month"] for m in months],
        [
            (t("issued"), "issued", [m["issued"] for m in months]),
            (t("retired"), "retired", [m["retired"] for m in months]),
        ],
        t("by_month"),
    )
    return await render(request, lang, "home.html", totals=totals.overall, chart=Markup(chart))  # type: ignore[union-attr]


@page("/projects")
async def project_list(
    request: Request, lang: str, county: str | None = Query(default=None, max_length=2)
) -> Response:
    chosen = county if county in ("QP", "WJ", "JS") else None
    found = await projects.list_projects(request, None, 500, chosen, None, None, None, fmt="json")
    return await render(request, lang, "projects.html", projects=found.items, county=chosen)  # type: ignore[union-attr]


@page("/projects/{project_id}")
async def project_page(request: Request, lang: str, project_id: str) -> Response:
    detail = await projects.get_project(project_id, request)
    shapes = [(p.parcel_id, p.geometry) for p in detail.parcels]
    chart = charts.parcels(shapes, translator(lang)("parcels"))
    return await render(request, lang, "project.html", x=detail, map=Markup(chart))


@page("/retirements")
async def retirement_list(request: Request, lang: str) -> Response:
    found = await public.list_retirements(request, None, 200, None, None, fmt="json")
    return await render(request, lang, "retirements.html", items=found.items)  # type: ignore[union-attr]


@page("/serials")
async def serial_lookup(
    request: Request, lang: str, serial: str | None = Query(default=None, max_length=100)
) -> Response:
    if serial and serial.strip():
        prefix = "/en" if lang == "en" else ""
        return RedirectResponse(f"{prefix}/serials/{quote(serial.strip())}", status_code=303)
    return await render(request, lang, "serials.html", serial=serial, missing=False)


@page("/serials/{serial}")
async def serial_page(request: Request, lang: str, serial: str) -> Response:
    try:
        view = await public.serial_provenance(serial, request)
    except Problem as problem:
        if problem.status not in (404, 422):
            raise
        return await render(request, lang, "serials.html", status=404, serial=serial, missing=True)
    return await render(request, lang, "serial.html", v=view)


@page("/policies")
async def policy_list(request: Request, lang: str) -> Response:
    items = await policies.list_policies(request, None, None, 500, fmt="json")
    return await render(request, lang, "policies.html", items=items)


@page("/policies/{policy_id}")
async def policy_page(request: Request, lang: str, policy_id: str) -> Response:
    return await render(
        request, lang, "policy.html", x=await policies.get_policy(policy_id, request)
    )


@page("/market")
async def market_list(request: Request, lang: str) -> Response:
    return await render(
        request, lang, "market.html", instruments=await public.market_instruments(request)
    )


@page("/market/{instrument_id}")
async def instrument_page(request: Request, lang: str, instrument_id: str) -> Response:
    daily = await public.market_daily(instrument_id, request, fmt="json")
    days = daily.days  # type: ignore[union-attr]
    chart = charts.line(
        [str(d.date) for d in days], [d.close for d in days], translator(lang)("close_chart")
    )
    return await render(
        request, lang, "instrument.html", instrument=instrument_id, days=days, chart=Markup(chart)
    )


@page("/notices")
async def notice_list(request: Request, lang: str) -> Response:
    open_notices = await projects.notices(request, state="open", fmt="json")
    past_notices = await projects.notices(request, state="past", fmt="json")
    return await render(
        request, lang, "notices.html", open_notices=open_notices, past_notices=past_notices
    )


MESSAGES = {"received", "rate_limited", "refused", "unavailable"}


@page("/notices/{project_id}")
async def notice_page(
    request: Request,
    lang: str,
    project_id: str,
    sent: str | None = Query(default=None, max_length=20),
) -> Response:
    project = await projects.get_project(project_id, request)
    comments = await projects.notice_comments(project_id, request)
    ends = project.notice_ends_at
    is_open = project.status == "public_notice" and ends is not None and ends > datetime.now(UTC)
    message = f"comment_{sent}" if sent in MESSAGES else None
    return await render(
        request,
        lang,
        "notice.html",
        x=project,
        comments=comments,
        is_open=is_open,
        message=message,
    )


async def send_comment(
    request: Request,
    project_id: str,
    lang: str,
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
    prefix = "/en" if lang == "en" else ""
    return RedirectResponse(f"{prefix}/notices/{quote(project_id)}?sent={outcome}", status_code=303)


for _prefix, _lang in (("", "zh"), ("/en", "en")):

    async def _send(
        request: Request,
        project_id: str,
        author: str | None = Form(default=None, max_length=100),
        text: str = Form(min_length=1, max_length=5000),
        lang: str = _lang,
    ) -> Response:
        return await send_comment(request, project_id, lang, author, text)

    _send.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [p for name, p in inspect.signature(_send).parameters.items() if name != "lang"]
    )
    router.add_api_route(f"{_prefix}/notices/{{project_id}}/comments", _send, methods=["POST"])


@page("/methodologies")
async def methodology_list(request: Request, lang: str) -> Response:
    items = await request.app.state.methodologies.all()
    return await render(request, lang, "methodologies.html", items=items)


@page("/methodologies/{methodology_id}")
async def methodology_page(request: Request, lang: str, methodology_id: str) -> Response:
    described = await request.app.state.methodologies.one(methodology_id)
    return await render(request, lang, "methodology.html", m=described)
