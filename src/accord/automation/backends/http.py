"""``http``: a model served by any web server that speaks Accord's small JSON protocol.

    GET  {url}/health   -> {"status": "ok", "model_version": "..."}
    POST {url}/predict  {"control", "control_type", "field", "labels", "schema", "tasks": [{"id",
                        "data"}]} -> {"model_version", "predictions": [{"id", "result", "score",
                        "probas"}]}
    POST {url}/fit      {"control", "control_type", "field", "labels", "schema", "examples":
                        [{"id", "data", "result"}]} -> {"model_version": "..."}

``docs/models.md`` describes every key. Tasks go in batches of ``batch_size``; a server may leave
out tasks it cannot answer. Everything it answers is checked; a malformed answer is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accord.automation.backends.base import (
    BackendError,
    BackendSpec,
    Example,
    ModelPrediction,
    Task,
)
from accord.automation.backends.options import Options
from accord.automation.backends.remote import (
    JsonClient,
    absent,
    bad,
    base_url,
    clean_probas,
    clean_value,
    expect,
    probability,
)

CONFIG_KEYS = ("url", "timeout", "headers", "batch_size", "trainable")


class HttpBackend:
    """Config: ``url`` (required), ``timeout`` (seconds, default 30), ``headers`` (sent with
    every request, e.g. an ``Authorization``), ``batch_size`` (tasks per request, default 100),
    ``trainable`` (default true; false: :meth:`fit` sends nothing)."""

    kind = "http"
    needs_vectors = False

    def __init__(self, spec: BackendSpec) -> None:
        options = Options(spec.config, CONFIG_KEYS)
        self.url = base_url(options)
        self.timeout = options.number("timeout", 30.0, above=0)
        self.batch_size = options.integer("batch_size", 100, at_most=100_000)
        self.trainable = options.boolean("trainable", True)
        self.client = JsonClient(self.url, self.timeout, options.string_map("headers"))
        self.spec = spec
        self._version: str | None = None

    @property
    def version(self) -> str:
        """The version the server reported last; asks ``/health`` when it has not yet."""
        if self._version is None:
            self.health()
        return self._version or ""

    def health(self) -> dict[str, Any]:
        """The server's ``/health`` answer; BackendError unless its status is ``"ok"``."""
        answer = expect(self.client.call("GET", "health"), dict, "response", "an object")
        if answer.get("status") != "ok":
            raise BackendError(
                f"model server {self.url} reports status {answer.get('status')!r}, not 'ok'",
                field="response.status",
                rule="unhealthy",
            )
        self._version = self._model_version(answer, required=False) or ""
        return dict(answer)

    def _model_version(self, answer: dict[str, Any], required: bool) -> str | None:
        version = answer.get("model_version")
        if version is None and not required:
            return None
        expect(version, str, "response.model_version", "a string")
        return str(version)

    def _request(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "control": spec.control,
            "control_type": spec.control_type,
            "field": spec.field,
            "labels": list(spec.labels),
            "schema": spec.schema,
        }

    def fit(self, examples: Sequence[Example]) -> str:
        """Sends every example in one request; returns the version the server reports."""
        if not self.trainable:
            return self.version
        body = self._request()
        body["examples"] = [{"id": e.item_id, "data": e.data, "result": e.result} for e in examples]
        answer = expect(self.client.call("POST", "fit", body), dict, "response", "an object")
        self._version = self._model_version(answer, required=True)
        return self._version or ""

    def predict(self, tasks: Sequence[Task]) -> list[ModelPrediction]:
        out: list[ModelPrediction] = []
        with self.client.session():
            for start in range(0, len(tasks), self.batch_size):
                out.extend(self._predict_batch(tasks[start : start + self.batch_size]))
        return out

    def _predict_batch(self, tasks: Sequence[Task]) -> list[ModelPrediction]:
        body = self._request()
        body["tasks"] = [{"id": t.item_id, "data": t.data} for t in tasks]
        answer = expect(self.client.call("POST", "predict", body), dict, "response", "an object")
        self._version = self._model_version(answer, required=True)
        predictions = expect(
            answer.get("predictions"), list, "response.predictions", "a list of predictions"
        )
        by_id = {t.item_id: t for t in tasks}
        seen: set[int] = set()
        out = []
        for i, entry in enumerate(predictions):
            where = f"response.predictions[{i}]"
            expect(entry, dict, where, "an object")
            item_id = expect(entry.get("id"), int, f"{where}.id", "the id of a task sent")
            if item_id not in by_id:
                raise bad(f"{where}.id", f"{item_id} is not the id of a task sent", "unknown_item")
            if item_id in seen:
                raise bad(f"{where}.id", f"answers task {item_id} twice", "duplicate_item")
            seen.add(item_id)
            result = expect(entry.get("result"), dict, f"{where}.result", "an object")
            value = result.get(self.spec.control)
            if absent(value):
                continue  # the model abstains on this task
            at = f"{where}.result.{self.spec.control}"
            score = entry.get("score")
            out.append(
                ModelPrediction(
                    item_id=item_id,
                    result={
                        self.spec.control: clean_value(self.spec, by_id[item_id].data, value, at)
                    },
                    score=None if score is None else probability(score, f"{where}.score"),
                    probas=clean_probas(self.spec, entry.get("probas"), f"{where}.probas"),
                )
            )
        return out
