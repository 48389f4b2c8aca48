"""``text_classifier``: TF-IDF (word 1-2 grams, sublinear tf) and logistic regression, for a
single-choice control over a text field.

Fitted from scratch on the examples each time; the version is a hash of what it was fitted on,
so refitting on the same labels gives the same version and the same model.

The regularisation strength ``C`` is chosen by default at every fit: stratified 3-fold
cross-validation of the log-loss over ``C_GRID`` on the examples themselves. The best ``C``
grows with the number of labels (few labels need strong regularisation, tens of thousands
hardly any), so one fixed value is either too weak early or too strong late. The log-loss, not
accuracy, decides because the probabilities are what pre-label scores and the uncertainty
queue read.
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
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

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
# Candidate values of C for ``"C": "auto"``, and the folds that choose among them.
C_GRID = (0.25, 1.0, 4.0, 16.0)
CV_FOLDS = 3


class TextClassifier:
    """Config: ``C`` (``"auto"``, the default, or a float > 0), ``max_features`` (default
    200000), ``class_weight`` (null or ``"balanced"``). After a fit, ``fitted_C`` is the value
    used."""

    kind = "text_classifier"
    trainable = True
    needs_vectors = False

    def __init__(self, spec: BackendSpec) -> None:
        require_single_choice(spec, self.kind)
        options = Options(spec.config, ("C", "max_features", "class_weight"))
        automatic = options.config.get("C") in (None, "auto")
        self.C: float | None = None if automatic else options.number("C", 1.0, above=0)
        self.fitted_C: float | None = None
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
        return {
            "C": "auto" if self.C is None else self.C,
            "max_features": self.max_features,
            "class_weight": self.class_weight,
        }

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
        model = self._fitted_model(matrix, labels)
        position = {label: i for i, label in enumerate(self.spec.labels)}
        self._columns = np.array([position[c] for c in model.classes_], dtype=np.int64)
        self._vectorizer, self._model = vectorizer, model
        self._version = "tfidf-lr-" + self._fingerprint(rows)
        return self._version

    def _fitted_model(self, matrix: Any, labels: list[str]) -> LogisticRegression:
        """Logistic regression at the configured C, or at the C of ``C_GRID`` with the lowest
        cross-validated log-loss (1.0 while some label has fewer examples than there are
        folds)."""
        target = np.asarray(labels)
        chosen = self.C
        if chosen is None:
            smallest = min(np.unique(target, return_counts=True)[1])
            chosen = 1.0 if smallest < CV_FOLDS else self._cross_validated_C(matrix, target)
        self.fitted_C = chosen
        return self._logistic(chosen, len(set(labels))).fit(matrix, target)

    def _logistic(self, C: float, n_labels: int) -> LogisticRegression:
        # liblinear is several times faster on sparse two-label problems; lbfgs gives the
        # multinomial model for more labels
        solver = "liblinear" if n_labels == 2 else "lbfgs"
        return LogisticRegression(
            C=C, solver=solver, class_weight=self.class_weight, max_iter=1000, random_state=0
        )

    def _cross_validated_C(self, matrix: Any, target: NDArray[Any]) -> float:
        classes = np.unique(target)
        folds = list(StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0).split(matrix, target))
        losses = []
        for C in C_GRID:
            loss = 0.0
            for train, held_out in folds:
                model = self._logistic(C, len(classes)).fit(matrix[train], target[train])
                loss += log_loss(
                    target[held_out], model.predict_proba(matrix[held_out]), labels=classes
                )
            losses.append(loss)
        return C_GRID[int(np.argmin(losses))]

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
