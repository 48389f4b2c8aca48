"""Rendering pages: one Jinja2 environment (autoescaped), markdown made safe, page context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from accord import __version__
from accord.core.guidelines import to_html

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def markdown(text: str) -> str:
    """Guidelines and notes: markdown to HTML, raw HTML disabled, the result sanitised again."""
    return to_html(text)


METHOD_NAMES = {
    "majority_vote": "Majority vote",
    "wawa": "WAWA (agreement-weighted vote)",
    "dawid_skene": "Dawid–Skene",
    "one_coin_dawid_skene": "One-coin Dawid–Skene",
    "glad": "GLAD",
    "mace": "MACE",
}
STATISTIC_NAMES = {
    "percent_agreement": "Percent agreement",
    "fleiss_kappa": "Fleiss' kappa",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
}


def method_name(method: str) -> str:
    """A consensus method as people call it; a method without a name here shows its key."""
    return METHOD_NAMES.get(method, method)


def statistic_name(statistic: str) -> str:
    return STATISTIC_NAMES.get(statistic, statistic.replace("_", " "))


templates.env.filters["markdown"] = markdown
templates.env.filters["method_name"] = method_name
templates.env.filters["statistic_name"] = statistic_name
templates.env.globals["version"] = __version__


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", getattr(request.state, "user", None))
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    return templates.TemplateResponse(request, name, context, status_code=status_code)
