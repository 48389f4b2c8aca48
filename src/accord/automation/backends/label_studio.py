"""``label_studio``: any Label Studio ML backend server (``label-studio-ml-backend`` and its
examples), used as it is, through the requests Label Studio itself sends:

- ``POST /setup`` ``{"project": "<id>.<stamp>", "schema": <label config XML>, "hostname",
  "access_token", "model_version", "extra_params"}`` -> ``{"model_version"}``;
- ``POST /predict`` ``{"tasks": [{"id", "data"}], "model_version", "project", "label_config",
  "params": {"login", "password", "context"}}`` -> ``{"results": [{"result": [regions],
  "score", "model_version"}]}`` (one entry per task, in order; a bare list, a ``"predictions"``
  key and the older top-level ``"model_version"`` are understood too);
- training, ``training: "webhook"`` (label-studio-ml-backend 2.x): ``POST /webhook`` with one
  ``ANNOTATION_CREATED`` event per example, ``{"action", "annotation", "task", "project"}``;
  ``training: "train"`` (1.x servers): one ``POST /train`` ``{"annotations": [tasks with their
  annotations], "project", "label_config", "params"}``. Either way ``/setup`` is asked for the
  model version afterwards.
- ``GET /health`` -> ``{"status": "UP"}``.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from typing import Any

from accord.automation.backends.base import (
    BackendError,
    BackendSpec,
    Example,
    ModelPrediction,
    Task,
)
from accord.automation.backends.ls_format import (
    LabelConfig,
    from_ls_result,
    label_config,
    score_of,
    to_ls_result,
)
from accord.automation.backends.options import Options
from accord.automation.backends.remote import (
    JsonClient,
    absent,
    bad,
    base_url,
    clean_value,
    expect,
)

CONFIG_KEYS = (
    "url",
    "timeout",
    "access_token",
    "extra_params",
    "headers",
    "batch_size",
    "training",
    "project",
    "hostname",
)
TRAINING = ("webhook", "train", "off")


class LabelStudioBackend:
    """Config: ``url`` (required), ``timeout`` (default 30 s), ``access_token`` and ``hostname``
    (passed to ``/setup``, for servers that read files from a Label Studio), ``extra_params``
    (passed to ``/setup``), ``headers`` (e.g. basic auth), ``batch_size`` (tasks per
    ``/predict``, default 50), ``training`` (``"webhook"``, ``"train"`` or ``"off"``),
    ``project`` (the project id the server sees; default: derived from the label config)."""

    kind = "label_studio"
    needs_vectors = False

    def __init__(self, spec: BackendSpec) -> None:
        options = Options(spec.config, CONFIG_KEYS)
        self.url = base_url(options)
        self.timeout = options.number("timeout", 30.0, above=0)
        self.access_token = options.string("access_token", "") or ""
        self.hostname = options.string("hostname", "") or ""
        self.extra_params = options.mapping("extra_params")
        self.batch_size = options.integer("batch_size", 50, at_most=100_000)
        self.training: str = options.choice("training", "webhook", TRAINING)
        self.trainable = self.training != "off"
        self.client = JsonClient(self.url, self.timeout, options.string_map("headers"))
        self.spec = spec
        self.label_config: LabelConfig = label_config(spec)
        digest = hashlib.sha1(self.label_config.xml.encode()).hexdigest()
        default_project = int(digest[:7], 16) + 1
        self.project_id = options.integer("project", default_project)
        # Label Studio sends "<project id>.<creation time>"; a checksum of the label config
        # stands in for the time, so a changed schema looks like a new project to the server.
        self.project = f"{self.project_id}.{zlib.crc32(self.label_config.xml.encode())}"
        self._version: str | None = None

    @property
    def version(self) -> str:
        """The model version the server reported last; runs ``/setup`` when it has not yet."""
        if self._version is None:
            self.setup()
        return self._version or ""

    def health(self) -> dict[str, Any]:
        answer = expect(self.client.call("GET", "health"), dict, "response", "an object")
        if str(answer.get("status", "")).upper() != "UP":
            raise BackendError(
                f"Label Studio ML backend {self.url} reports status {answer.get('status')!r}",
                field="response.status",
                rule="unhealthy",
            )
        return dict(answer)

    def setup(self) -> str:
        """Sends the label config (``/setup``), as Label Studio does when a backend is connected
        and before training; returns the model version the server reports."""
        body = {
            "project": self.project,
            "schema": self.label_config.xml,
            "hostname": self.hostname,
            "access_token": self.access_token,
            "model_version": self._version,
            "extra_params": self.extra_params or None,
        }
        answer = expect(self.client.call("POST", "setup", body), dict, "response", "an object")
        self._note_version(answer.get("model_version"))
        if self._version is None:
            self._version = ""
        return self._version

    def _note_version(self, value: Any) -> None:
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            self._version = str(value)

    def _data(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.label_config.data_key == self.spec.field:
            return data
        return {**data, self.label_config.data_key: data.get(self.spec.field)}

    # -- training ------------------------------------------------------------------------------

    def fit(self, examples: Sequence[Example]) -> str:
        """Sends the examples that answer the control (as ``ANNOTATION_CREATED`` events or one
        ``/train`` request), then asks ``/setup`` for the model version."""
        with self.client.session():
            if self._version is None or not self.trainable:
                self.setup()
            if not self.trainable:
                return self.version
            labelled = [
                (e, regions)
                for e in examples
                if (
                    regions := to_ls_result(
                        self.spec, self.label_config, e.result.get(self.spec.control)
                    )
                )
            ]
            if self.training == "train":
                self._train(labelled)
            else:
                for example, regions in labelled:
                    self._webhook(example, regions)
            return self.setup()

    def _annotation(self, example: Example, regions: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": example.item_id,
            "result": regions,
            "task": example.item_id,
            "project": self.project_id,
            "was_cancelled": False,
            "ground_truth": False,
        }

    def _webhook(self, example: Example, regions: list[dict[str, Any]]) -> None:
        event = {
            "action": "ANNOTATION_CREATED",
            "annotation": self._annotation(example, regions),
            "task": {
                "id": example.item_id,
                "data": self._data(example.data),
                "project": self.project_id,
            },
            "project": {
                "id": self.project_id,
                "title": f"Accord {self.spec.control}",
                "label_config": self.label_config.xml,
            },
        }
        answer = self.client.call("POST", "webhook", event)
        if isinstance(answer, dict) and answer.get("status") == "error":
            raise BackendError(
                f"Label Studio ML backend {self.url} failed to learn from item "
                f"{example.item_id}: {answer.get('error')}",
                field="response.error",
                rule="training_failed",
            )

    def _train(self, labelled: list[tuple[Example, list[dict[str, Any]]]]) -> None:
        body = {
            "annotations": [
                {
                    "id": example.item_id,
                    "data": self._data(example.data),
                    "annotations": [self._annotation(example, regions)],
                    "predictions": [],
                }
                for example, regions in labelled
            ],
            "project": self.project,
            "label_config": self.label_config.xml,
            "params": {"login": None, "password": None},
        }
        self.client.call("POST", "train", body)

    # -- prediction ----------------------------------------------------------------------------

    def predict(self, tasks: Sequence[Task]) -> list[ModelPrediction]:
        out: list[ModelPrediction] = []
        with self.client.session():
            if self._version is None:
                self.setup()
            for start in range(0, len(tasks), self.batch_size):
                out.extend(self._predict_batch(tasks[start : start + self.batch_size]))
        return out

    def _predict_batch(self, tasks: Sequence[Task]) -> list[ModelPrediction]:
        body = {
            "tasks": [{"id": t.item_id, "data": self._data(t.data)} for t in tasks],
            "model_version": self._version,
            "project": self.project,
            "label_config": self.label_config.xml,
            "params": {"login": None, "password": None, "context": None},
        }
        answer = self.client.call("POST", "predict", body)
        results = self._results(answer)
        if len(results) != len(tasks):
            raise bad(
                "response.results",
                f"holds {len(results)} predictions for {len(tasks)} tasks (one per task, in order)",
                "count",
            )
        out = []
        for i, (task, entry) in enumerate(zip(tasks, results, strict=True)):
            where = f"response.results[{i}]"
            if entry is None or entry == {} or entry == []:
                continue
            expect(entry, dict, where, "an object")
            self._note_version(entry.get("model_version"))
            value, region_score = from_ls_result(
                self.spec, entry.get("result", []), f"{where}.result"
            )
            if absent(value):
                continue
            at = f"{where}.result"
            score = score_of(entry.get("score"))
            out.append(
                ModelPrediction(
                    item_id=task.item_id,
                    result={self.spec.control: clean_value(self.spec, task.data, value, at)},
                    score=score if score is not None else region_score,
                )
            )
        return out

    def _results(self, answer: Any) -> list[Any]:
        if isinstance(answer, list):
            return answer
        expect(answer, dict, "response", "an object or a list")
        self._note_version(answer.get("model_version"))
        for key in ("results", "predictions"):
            if key in answer:
                value = answer[key]
                # a ModelResponse dumped whole: {"results": {"model_version", "predictions"}}
                if isinstance(value, dict) and "predictions" in value:
                    self._note_version(value.get("model_version"))
                    value = value["predictions"]
                return list(expect(value, list, f"response.{key}", "a list of predictions"))
        raise bad("response", "has no 'results' list", "missing_key")
