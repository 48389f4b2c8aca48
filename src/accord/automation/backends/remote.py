"""What the external backends (``http``, ``label_studio``) share: one JSON-over-HTTP client that
turns every failure into a :class:`BackendError`, and the checks of the values a server answers.

A server's answer is never trusted: each value is checked against the control (labels, span
offsets against the item's text, score and probabilities in [0, 1]) before it becomes a
prediction, and the error names the path of the offending value in the response.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from accord.automation.backends.base import BackendError, BackendSpec
from accord.automation.backends.options import Options

# How much of a failing response's body is quoted in the error message.
EXCERPT = 300


def base_url(options: Options) -> str:
    url = options.required("url")
    if not isinstance(url, str):
        raise options.fail("url", "type", "must be a string")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise options.fail("url", "url", f"must be an http:// or https:// address, not {url!r}")
    return url.strip().rstrip("/")


class JsonClient:
    """POST and GET JSON to one server; connection problems, HTTP errors and bodies that are not
    JSON become BackendError naming the address."""

    def __init__(self, url: str, timeout: float, headers: Mapping[str, str]) -> None:
        self.url = url
        self.timeout = timeout
        self.headers = {"Accept": "application/json", **headers}
        self._client: httpx.Client | None = None

    @contextmanager
    def session(self) -> Iterator[None]:
        """Calls inside share one connection pool (a batch of requests to the same server)."""
        if self._client is not None:
            yield
            return
        with httpx.Client(timeout=self.timeout, headers=self.headers) as client:
            self._client = client
            try:
                yield
            finally:
                self._client = None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        address = f"{self.url}/{path}"
        try:
            with self.session():
                assert self._client is not None
                response = self._client.request(method, address, json=body)
        except httpx.TimeoutException:
            raise BackendError(
                f"model server {address} did not answer within {self.timeout:g} s",
                field="config.timeout",
                rule="timeout",
            ) from None
        except httpx.HTTPError as exc:
            raise BackendError(
                f"model server {address} cannot be reached: {exc}",
                field="config.url",
                rule="unreachable",
            ) from None
        if response.is_error or response.status_code >= 300:
            excerpt = response.text[:EXCERPT].strip()
            raise BackendError(
                f"model server {address} answered HTTP {response.status_code}"
                + (f": {excerpt}" if excerpt else ""),
                field="response",
                rule="http_status",
                status=response.status_code,
            )
        try:
            return response.json()
        except ValueError:
            excerpt = response.text[:EXCERPT].strip()
            raise BackendError(
                f"model server {address} answered something that is not JSON: {excerpt!r}",
                field="response",
                rule="not_json",
            ) from None


def bad(where: str, message: str, rule: str = "type") -> BackendError:
    """An error about a value of a server's response, located by its path."""
    return BackendError(f"invalid model server response: {where} {message}", field=where, rule=rule)


def expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        raise bad(where, f"must be {what}, not {_show(value)}")
    return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def probability(value: Any, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise bad(where, f"must be a number from 0 to 1, not {_show(value)}", "range")
    return float(value)


def clean_probas(spec: BackendSpec, value: Any, where: str) -> dict[str, float] | None:
    """Label -> probability over every label of the control (labels not given: 0)."""
    if value is None:
        return None
    expect(value, dict, where, "an object of label: probability")
    out = dict.fromkeys(spec.labels, 0.0)
    for label, p in value.items():
        if label not in out:
            raise bad(f"{where}.{label}", f"is not a label of {spec.control!r}", "unknown_label")
        out[label] = probability(p, f"{where}.{label}")
    return out


def clean_value(spec: BackendSpec, data: Mapping[str, Any], value: Any, where: str) -> Any:
    """The control's value, checked for ``choices`` and ``spans`` controls (labels, offsets
    inside the item's text, overlaps where the control forbids them); values of other control
    types are passed on, for the platform's schema validation."""
    if spec.control_type == "choices":
        return _choices(spec, value, where)
    if spec.control_type == "spans":
        return _spans(spec, data, value, where)
    return value


def _label(spec: BackendSpec, value: Any, where: str) -> str:
    expect(value, str, where, "a label")
    if value not in spec.labels:
        raise bad(where, f"{value!r} is not a label of {spec.control!r}", "unknown_label")
    return str(value)


def _choices(spec: BackendSpec, value: Any, where: str) -> str | list[str]:
    if not spec.multiple:
        return _label(spec, value, where)
    expect(value, list, where, "a list of labels")
    labels = [_label(spec, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if len(set(labels)) != len(labels):
        raise bad(where, "holds a label twice", "duplicate_label")
    return labels


def _spans(
    spec: BackendSpec, data: Mapping[str, Any], value: Any, where: str
) -> list[dict[str, Any]]:
    text = data.get(spec.field)
    if not isinstance(text, str):
        raise bad(where, f"answers spans for an item whose {spec.field!r} holds no text")
    expect(value, list, where, "a list of spans")
    spans = []
    for i, region in enumerate(value):
        at = f"{where}[{i}]"
        expect(region, dict, at, "an object")
        start = expect(region.get("start"), int, f"{at}.start", "an integer offset")
        end = expect(region.get("end"), int, f"{at}.end", "an integer offset")
        if not 0 <= start < end <= len(text):
            raise bad(
                at, f"{start}-{end} is not a span of the text (length {len(text)})", "span_range"
            )
        claimed = region.get("text")
        if claimed is not None and claimed != text[start:end]:
            raise bad(
                f"{at}.text",
                f"{claimed!r} is not what stands at {start}-{end} ({text[start:end]!r})",
                "span_text_mismatch",
            )
        span = {
            "label": _label(spec, region.get("label"), f"{at}.label"),
            "start": start,
            "end": end,
            "text": text[start:end],
        }
        if isinstance(region.get("id"), str | int) and not isinstance(region.get("id"), bool):
            span["id"] = region["id"]
        spans.append(span)
    if not spec.control_definition().get("overlap", False):
        reach = -1
        for span in sorted(spans, key=lambda s: (s["start"], s["end"])):
            if span["start"] < reach:
                raise bad(where, "holds overlapping spans, which the control forbids", "overlap")
            reach = max(reach, span["end"])
    return spans


def absent(value: Any) -> bool:
    """Whether a control value means "no answer" (as in Accord results)."""
    return value is None or value == [] or value == ""
