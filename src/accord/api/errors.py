"""The one place where domain exceptions become HTTP responses.

Every error body has the same shape: ``{"detail": "<one clear sentence>", "type": "<kind>",
"errors": [{...where and which rule...}]}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from accord.errors import (
    AccordError,
    Conflict,
    Forbidden,
    ImportRowError,
    InvalidInput,
    InvalidResult,
    NotFound,
    QuotaReached,
    SchemaError,
    TooLarge,
    Unauthorized,
)

STATUS: list[tuple[type[AccordError], int, str]] = [
    (NotFound, 404, "not_found"),
    (Forbidden, 403, "forbidden"),
    (Unauthorized, 401, "unauthorized"),
    (Conflict, 409, "conflict"),
    (QuotaReached, 429, "quota_reached"),
    (InvalidResult, 422, "invalid_result"),
    (SchemaError, 422, "invalid_schema"),
    (ImportRowError, 422, "invalid_import_row"),
    (TooLarge, 413, "too_large"),
    (InvalidInput, 422, "invalid_input"),
]


def _body(exc: AccordError) -> tuple[int, dict[str, Any]]:
    status, kind = next(((s, k) for cls, s, k in STATUS if isinstance(exc, cls)), (400, "error"))
    body: dict[str, Any] = {"detail": exc.message, "type": kind, "errors": []}
    if isinstance(exc, InvalidResult):
        body["item_id"] = exc.item_id
        body["errors"] = [p.as_dict() | {"item_id": exc.item_id} for p in exc.problems]
    elif isinstance(exc, InvalidInput):
        body["errors"] = exc.details
    return status, body


TITLES = {401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "Conflict"}


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccordError)
    status, body = _body(exc)
    if not request.url.path.startswith("/api/"):
        return _page_error(request, exc, status)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _page_error(request: Request, exc: AccordError, status: int) -> Response:
    """Pages answer errors as pages: a login redirect, or the message in the site's layout."""
    from accord.web.auth import LoginRequired, login_url
    from accord.web.render import page

    if isinstance(exc, LoginRequired):
        return RedirectResponse(login_url(exc.next_url), status_code=303)
    title = TITLES.get(status, "Something is wrong")
    return page(request, "error.html", status_code=status, title=title, message=exc.message)


async def _request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in e["loc"] if p != "body"),
            "rule": e["type"],
            "message": e["msg"],
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "", "message": "invalid request"}
    detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    if not request.url.path.startswith("/api/"):
        return _page_error(request, InvalidInput(detail, errors), 422)
    return JSONResponse(
        {"detail": detail, "type": "invalid_request", "errors": errors}, status_code=422
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(AccordError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_error)
