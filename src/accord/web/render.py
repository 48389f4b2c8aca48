"""Rendering pages: one Jinja2 environment (autoescaped), markdown made safe, page context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt

from accord import __version__
from accord.schema.html import sanitize_html

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown(text: str) -> str:
    """Guidelines and notes: markdown to HTML, raw HTML disabled, the result sanitised again."""
    return sanitize_html(_markdown.render(text or ""))


templates.env.filters["markdown"] = markdown
templates.env.globals["version"] = __version__


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", getattr(request.state, "user", None))
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    return templates.TemplateResponse(request, name, context, status_code=status_code)
