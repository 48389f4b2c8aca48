"""``text_classifier``: TF-IDF (word 1-2 grams, sublinear tf) and logistic regression, for a
single-choice control over a text field.

Fitted from scratch on the examples each time; the version is a hash of what it was fitted on,
so refitting on the same labels gives the same version and the same model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from accord.automation.backends.base import (
    BackendError,
    BackendSpec,
    Example,
    ModelPrediction,
    Task,
    label_predictions,
    require_single_choice,
    single_label,
)
from accord.automation.backends.options import Options

# Rows vectorised at once in predict: bounds the sparse matrix and the probability block.
CHUNK = 20_000


class TextClassifier:
    """Config: ``C`` (float > 0, default 1.0), ``max_features`` (default 200000),
    ``class_weight`` (null or ``"balanced"``)."""

    kind = "text_classifier"
    trainable = True
    needs_vectors = False

    def __init__(self, spec: BackendSpec) -> None:
        require_single_choice(spec, self.kind)
        options = Options(spec.config, ("C", "max_features", "class_weight"))
        self.C = options.number("C", 1.0, above=0)
        self.max_features = options.integer("max_features", 200_000)
        self.class_weight: str | None = options.choice("class_weight", None, (None, "balanced"))
        self.spec = spec
        self._version = ""
        self._vectorizer: TfidfVectorizer | None = None
        self._model: LogisticRegression | None = None
        self._columns: NDArray[np.int64] = np.empty(0, dtype=np.int64)

    @property
    def version(self) -> str:
        return self._version

    def settings(self) -> dict[str, Any]:
        return {"C": self.C, "max_features": self.max_features, "class_weight": self.class_weight}

    def _text(self, data: dict[str, Any]) -> str | None:
        value = data.get(self.spec.field)
        return value if isinstance(value, str) else None

    def fit(self, examples: Sequence[Example]) -> str:
        """Examples without text in the field or without a current label are left out; at
        least two different labels must remain."""
        rows: list[tuple[int, str, str]] = []
        for example in examples:
            label = single_label(self.spec, example.result)
            text = self._text(example.data)
            if label is not None and text is not None:
                rows.append((example.item_id, label, text))
        # Sorted, so the model (and its version) does not depend on the order examples come in.
        rows.sort(key=lambda row: (row[0], row[1]))
        labels = [label for _, label, _ in rows]
        if len(set(labels)) < 2:
            raise BackendError(
                f"a text classifier needs examples of at least two labels of {self.spec.control!r}"
                f"; got {len(rows)} usable examples of {len(set(labels))} label(s)",
                field="examples",
                rule="min_classes",
            )
        texts = [text for _, _, text in rows]
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            max_features=self.max_features,
            dtype=np.float32,
        )
        matrix = vectorizer.fit_transform(texts)
        model = LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=1000, random_state=0
        )
        model.fit(matrix, labels)
        position = {label: i for i, label in enumerate(self.spec.labels)}
        self._columns = np.array([position[c] for c in model.classes_], dtype=np.int64)
        self._vectorizer, self._model = vectorizer, model
        self._version = "tfidf-lr-" + self._fingerprint(rows)
        return self._version

    def _fingerprint(self, rows: list[tuple[int, str, str]]) -> str:
        digest = hashlib.sha1(json.dumps(self.settings(), sort_keys=True).encode())
        for item_id, label, text in rows:
            digest.update(json.dumps([item_id, label, text]).encode())
        return digest.hexdigest()[:12]

    def predict(self, tasks: Sequence[Task]) -> list[ModelPrediction]:
        """Every task with text in the field gets the most probable label; ``probas`` covers
        every label of the control (labels absent from the training examples get 0)."""
        if self._vectorizer is None or self._model is None:
            raise BackendError(
                "the text classifier is not trained: fit it on labelled examples first",
                field="version",
                rule="not_trained",
            )
        answerable = [(t.item_id, text) for t in tasks if (text := self._text(t.data)) is not None]
        out: list[ModelPrediction] = []
        for start in range(0, len(answerable), CHUNK):
            chunk = answerable[start : start + CHUNK]
            matrix = self._vectorizer.transform([text for _, text in chunk])
            probas = np.zeros((len(chunk), len(self.spec.labels)), dtype=np.float64)
            probas[:, self._columns] = self._model.predict_proba(matrix)
            # the model computes in float32 (the TF-IDF dtype); rescale so rows sum to 1
            probas /= probas.sum(axis=1, keepdims=True)
            out.extend(label_predictions(self.spec, [item_id for item_id, _ in chunk], probas))
        return out
