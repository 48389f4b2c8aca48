"""The model backend contract: what a model is given, what it answers, and the registry of kinds.

A backend answers one control of a labeling schema (:class:`BackendSpec`). The platform fits it
on the stored human labels (:class:`Example`) and asks it for pre-labels (:class:`Task` in,
:class:`ModelPrediction` out). Built-in models are refitted from the labels by every train job;
nothing is pickled. External servers keep their own state and only report a version.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, KeysView, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from accord.errors import InvalidInput


class BackendError(InvalidInput):
    """A backend cannot do what was asked: a bad configuration, a model that is not trained yet,
    an external server that is unreachable or answers something invalid. ``details`` names the
    field and the rule, e.g. ``[{"field": "config.url", "rule": "required"}]``."""

    def __init__(
        self, message: str, details: list[dict[str, Any]] | None = None, **where: Any
    ) -> None:
        """``where`` is a shorthand for one detail: ``BackendError(msg, field="config.k",
        rule="range")``."""
        if where:
            details = [*(details or []), dict(where)]
        super().__init__(message, details)


@dataclass(frozen=True)
class Task:
    """An item to predict."""

    item_id: int
    data: dict[str, Any]
    vector: NDArray[np.float32] | None = None
    """The item's embedding, for backends that need one (``needs_vectors``)."""


@dataclass(frozen=True)
class Example:
    """A human-labelled item to learn from; ``result`` is an Accord annotation result."""

    item_id: int
    data: dict[str, Any]
    result: dict[str, Any]
    vector: NDArray[np.float32] | None = None


@dataclass(frozen=True)
class ModelPrediction:
    """A model's answer for one item: an Accord result holding ``spec.control`` only."""

    item_id: int
    result: dict[str, Any]
    score: float | None
    """Confidence in [0, 1], or None when the model has none."""
    probas: dict[str, float] | None = None
    """Classification only: probability of every label of the control."""


@dataclass(frozen=True)
class BackendSpec:
    """Which control a backend answers and how it is configured."""

    control: str
    control_type: str
    field: str
    """The item-data key that the control's field reads."""
    labels: tuple[str, ...]
    config: dict[str, Any]
    """Kind-specific settings (``ModelBackend.config`` of the database)."""
    schema: dict[str, Any] | None = None
    """The whole labeling schema document, for external backends and control options."""

    def control_definition(self) -> Mapping[str, Any]:
        """The control's entry in :attr:`schema` (``{}`` when no schema is given)."""
        for control in (self.schema or {}).get("controls", ()):
            if isinstance(control, Mapping) and control.get("name") == self.control:
                return control
        return {}

    @property
    def multiple(self) -> bool:
        """Whether a ``choices`` control takes a list of labels."""
        return bool(self.control_definition().get("multiple", False))


@runtime_checkable
class ModelBackend(Protocol):
    """A model that answers one control. ``predict`` may skip tasks it cannot answer."""

    kind: str
    trainable: bool
    """Whether :meth:`fit` learns anything."""
    needs_vectors: bool
    """Whether ``Task.vector`` and ``Example.vector`` must be given."""

    @property
    def version(self) -> str:
        """Changes whenever :meth:`fit` changes the model."""
        ...

    def fit(self, examples: Sequence[Example]) -> str:
        """Learn from the examples (all of them: a fit replaces the previous one); returns the
        new version."""
        ...

    def predict(self, tasks: Sequence[Task]) -> list[ModelPrediction]: ...


BackendFactory = Callable[[BackendSpec], ModelBackend]

_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_REGISTRY: dict[str, BackendFactory] = {}

BACKEND_KINDS: KeysView[str] = _REGISTRY.keys()
"""The registered kinds, a live view: kinds registered later appear in it."""


def register_backend(kind: str, factory: BackendFactory) -> None:
    """Make ``kind`` available to :func:`create_backend`. Registering a kind again replaces its
    factory. A kind is lower case letters, digits and ``_``, at most 40 characters."""
    if not _KIND_NAME.match(kind):
        raise ValueError(
            f"backend kind {kind!r} must be lower case letters, digits and '_' "
            "(at most 40 characters, starting with a letter)"
        )
    _REGISTRY[kind] = factory


def create_backend(kind: str, spec: BackendSpec) -> ModelBackend:
    """A new backend of ``kind`` for ``spec``; :class:`BackendError` for an unknown kind or a
    configuration the kind rejects."""
    factory = _REGISTRY.get(kind)
    if factory is None:
        known = ", ".join(sorted(_REGISTRY))
        raise BackendError(
            f"unknown model backend kind {kind!r}; known kinds: {known}",
            field="kind",
            rule="unknown",
        )
    return factory(spec)


def _builtin(module: str, name: str) -> BackendFactory:
    """A factory that imports its module on first use, so importing the package stays cheap
    (scikit-learn is loaded only when a text classifier is made)."""

    def make(spec: BackendSpec) -> ModelBackend:
        cls = getattr(importlib.import_module(f"accord.automation.backends.{module}"), name)
        backend: ModelBackend = cls(spec)
        return backend

    return make


for _kind, _module, _class in (
    ("text_classifier", "text_classifier", "TextClassifier"),
    ("pattern_ner", "pattern_ner", "PatternNer"),
    ("knn", "knn", "KnnClassifier"),
    ("http", "http", "HttpBackend"),
    ("label_studio", "label_studio", "LabelStudioBackend"),
):
    register_backend(_kind, _builtin(_module, _class))


def require_control_type(spec: BackendSpec, kind: str, *types: str) -> None:
    if spec.control_type not in types:
        raise BackendError(
            f"a {kind} backend answers {' or '.join(types)} controls, "
            f"not {spec.control_type!r} ({spec.control!r})",
            field="control",
            rule="unsupported_control_type",
        )


def require_labels(spec: BackendSpec, kind: str) -> None:
    if not spec.labels:
        raise BackendError(
            f"a {kind} backend needs a control with labels; {spec.control!r} has none",
            field="control",
            rule="no_labels",
        )


def require_single_choice(spec: BackendSpec, kind: str) -> None:
    """For backends that answer one label per item: a ``choices`` control with labels that
    takes a single one."""
    require_control_type(spec, kind, "choices")
    require_labels(spec, kind)
    if spec.multiple:
        raise BackendError(
            f"a {kind} backend answers single-choice controls; {spec.control!r} takes "
            "several labels",
            field="control",
            rule="multiple_choices",
        )


def label_predictions(
    spec: BackendSpec, item_ids: Sequence[int], probas: NDArray[np.float64]
) -> list[ModelPrediction]:
    """One prediction per row of ``probas`` (items x the control's labels, in
    ``spec.labels`` order): the most probable label, its probability as the score and the
    probability of every label."""
    labels = spec.labels
    best = probas.argmax(axis=1)
    return [
        ModelPrediction(
            item_id=item_id,
            result={spec.control: labels[b]},
            score=row[b],
            probas=dict(zip(labels, row, strict=True)),
        )
        for item_id, row, b in zip(item_ids, probas.tolist(), best.tolist(), strict=True)
    ]


def single_label(spec: BackendSpec, result: Mapping[str, Any]) -> str | None:
    """The example's label for a single-choice control, or None when it has no usable one (no
    answer, or a label the control no longer has)."""
    value = result.get(spec.control)
    return value if isinstance(value, str) and value in spec.labels else None
