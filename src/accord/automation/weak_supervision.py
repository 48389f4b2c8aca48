"""Weak supervision: labeling functions vote a label or abstain; a label model combines the votes.

Pure: standard library, numpy, pandas and scipy; no database. The pieces:

* :class:`LabelingFunctionSpec` describes one function: a keyword list, a regular expression or
  a Python function registered by name (:func:`register_labeling_function` or the entry-point
  group ``accord.labeling_functions``).
* :func:`apply_labeling_functions` runs functions over records (``Item.data`` dicts) and returns
  the label matrix ``L``: one row per record, one column per function, label codes (positions
  in ``labels``) or :data:`ABSTAIN`.
* :func:`lf_summary` and :func:`label_matrix_coverage`: coverage, overlap, conflict and, against
  gold labels, accuracy (the definitions of Snorkel's ``LFAnalysis``).
* :class:`LabelModel`: one label and a probability per class for every row that got a vote, by
  majority vote or by Dawid–Skene (each function an annotator with a confusion matrix).

See docs/weak-supervision.md.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from accord.errors import InvalidInput

ABSTAIN: Final = -1
"""The code of "no vote" in a label matrix."""

ENTRY_POINT_GROUP: Final = "accord.labeling_functions"
"""Packages register Python labeling functions under this entry-point group."""

LF_KINDS: Final = ("keywords", "regex", "python")
LABEL_MODEL_METHODS: Final = ("dawid_skene", "majority", "dawid_skene_votes")

LabelingFunction = Callable[[dict[str, Any]], "str | None"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_CONFIG_KEYS: Final[dict[str, dict[str, Any]]] = {
    "keywords": {"keywords": None, "field": "text", "case_sensitive": False, "whole_word": True},
    "regex": {"pattern": None, "field": "text", "ignore_case": True},
    "python": {"function": None},
}
_SEPARATOR: Final = "\x00"  # joins all texts for one scan per keyword; never in a keyword
_EPS: Final = 1e-10

_registry: dict[str, LabelingFunction] = {}


@dataclass(frozen=True)
class LabelingFunctionSpec:
    """One labeling function: ``kind`` is ``"keywords"``, ``"regex"`` or ``"python"``.

    ``label`` is the label a keyword or regex function votes; a Python function returns its own
    label (or ``None``) and ``label`` is ignored. ``config`` holds the kind's settings:

    * keywords: ``{"keywords": [...], "field": "text", "case_sensitive": False,
      "whole_word": True}``
    * regex: ``{"pattern": "...", "field": "text", "ignore_case": True}``
    * python: ``{"function": "<registered name>"}``
    """

    name: str
    kind: str
    label: str | None
    config: dict[str, Any]


def _invalid(message: str, field: str, rule: str, **extra: Any) -> InvalidInput:
    return InvalidInput(message, [{"field": field, "rule": rule, **extra}])


# ----------------------------------------------------------------------------- registry
def register_labeling_function(name: str, func: LabelingFunction) -> None:
    """Make ``func`` available to Python labeling functions as ``{"function": name}``.

    ``func`` takes the record (``Item.data``) and returns a label or ``None`` (abstain).
    Registering a name again replaces the earlier function; a registered name shadows an
    entry point of the same name.
    """
    if not isinstance(name, str) or not name.strip():
        raise _invalid("a labeling function needs a non-empty name", "name", "required")
    if not callable(func):
        raise _invalid(f"labeling function {name!r} is not callable", "function", "type")
    _registry[name] = func


def unregister_labeling_function(name: str) -> None:
    """Remove a function registered with :func:`register_labeling_function` (no-op if absent)."""
    _registry.pop(name, None)


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry)
    return found


def available_labeling_functions() -> list[str]:
    """Names usable as ``config.function``: registered ones and those of the entry-point group."""
    return sorted(set(_registry) | set(_entry_points()))


def _python_function(name: str, spec_name: str) -> LabelingFunction:
    if name in _registry:
        return _registry[name]
    entry = _entry_points().get(name)
    if entry is None:
        raise _invalid(
            f"labeling function {spec_name!r}: no Python function {name!r} is registered or "
            f"provided by the entry-point group {ENTRY_POINT_GROUP!r}",
            "config.function",
            "registered",
        )
    try:
        loaded = entry.load()
    except Exception as exc:  # an entry point can fail in any way its module can
        raise _invalid(
            f"labeling function {spec_name!r}: entry point {name!r} ({entry.value}) failed to "
            f"load: {type(exc).__name__}: {exc}",
            "config.function",
            "loadable",
        ) from exc
    if not callable(loaded):
        raise _invalid(
            f"labeling function {spec_name!r}: entry point {name!r} ({entry.value}) is not "
            "callable",
            "config.function",
            "callable",
        )
    func: LabelingFunction = loaded
    return func


# ---------------------------------------------------------------------------- compiling
@dataclass(frozen=True)
class _Compiled:
    name: str
    kind: str
    label: str | None
    field: str
    regex: re.Pattern[str] | None  # searched in the text, lowered first when ``lower``
    lower: bool
    scanners: tuple[re.Pattern[str], ...]  # keywords: one literal-first pattern per keyword
    func: LabelingFunction | None

    def votes(self, text: str | None) -> bool:
        if text is None or self.regex is None:
            return False
        return self.regex.search(text.lower() if self.lower else text) is not None


def _check_bool(config: Mapping[str, Any], key: str, spec_name: str) -> bool:
    value = config[key]
    if not isinstance(value, bool):
        raise _invalid(
            f"labeling function {spec_name!r}: config.{key} must be true or false",
            f"config.{key}",
            "type",
        )
    return value


def _keywords(config: Mapping[str, Any], lower: bool, spec_name: str) -> list[str]:
    keywords = config["keywords"]
    if not isinstance(keywords, list | tuple) or not keywords:
        raise _invalid(
            f"labeling function {spec_name!r}: config.keywords must be a non-empty list of words",
            "config.keywords",
            "required",
        )
    words: list[str] = []
    for word in keywords:
        if not isinstance(word, str) or not word.strip() or _SEPARATOR in word:
            raise _invalid(
                f"labeling function {spec_name!r}: every keyword must be a non-empty string, "
                f"not {word!r}",
                "config.keywords",
                "non_empty",
            )
        words.append(" ".join(word.lower().split() if lower else word.split()))
    return sorted(set(words), key=lambda w: (-len(w), w))


def _keyword_source(word: str, whole_word: bool) -> str:
    """The pattern of one keyword: its words separated by any whitespace, and with
    ``whole_word`` no word character right before or after it. The pattern starts with the
    literal first word (the boundary check comes after it, as a look-behind), which lets the
    regex engine skip ahead to candidates instead of trying every position."""
    parts = [re.escape(token) for token in word.split()]
    body = r"\s+".join(parts)
    if not whole_word:
        return body
    rest = "".join(rf"\s+{part}" for part in parts[1:])
    return rf"{parts[0]}(?<!\w{parts[0]}){rest}(?!\w)"


def _compile(spec: LabelingFunctionSpec) -> _Compiled:
    if not isinstance(spec.name, str) or not spec.name.strip():
        raise _invalid("a labeling function needs a non-empty name", "name", "required")
    name = spec.name
    if spec.kind not in LF_KINDS:
        raise _invalid(
            f"labeling function {name!r}: kind must be one of {', '.join(LF_KINDS)}, "
            f"not {spec.kind!r}",
            "kind",
            "choice",
        )
    if not isinstance(spec.config, Mapping):
        raise _invalid(f"labeling function {name!r}: config must be an object", "config", "type")
    defaults = _CONFIG_KEYS[spec.kind]
    unknown = sorted(set(spec.config) - set(defaults))
    if unknown:
        raise _invalid(
            f"labeling function {name!r}: unknown setting {unknown[0]!r} for kind {spec.kind!r} "
            f"(known: {', '.join(defaults)})",
            f"config.{unknown[0]}",
            "unknown_key",
        )
    config = {**defaults, **spec.config}
    if spec.kind == "python":
        function = config["function"]
        if not isinstance(function, str) or not function.strip():
            raise _invalid(
                f"labeling function {name!r}: config.function must name a registered function",
                "config.function",
                "required",
            )
        func = _python_function(function, name)
        return _Compiled(name, "python", None, "", None, False, (), func)
    if not isinstance(spec.label, str) or not spec.label:
        raise _invalid(
            f"labeling function {name!r}: a {spec.kind} function needs the label it votes",
            "label",
            "required",
        )
    field = config["field"]
    if not isinstance(field, str) or not field:
        raise _invalid(
            f"labeling function {name!r}: config.field must name an item data field",
            "config.field",
            "required",
        )
    if spec.kind == "keywords":
        lower = not _check_bool(config, "case_sensitive", name)
        whole_word = _check_bool(config, "whole_word", name)
        words = _keywords(config, lower, name)
        sources = [_keyword_source(word, whole_word) for word in words]
        regex = re.compile("|".join(sources))
        scanners = tuple(re.compile(source) for source in sources)
        return _Compiled(name, "keywords", spec.label, field, regex, lower, scanners, None)
    ignore_case = _check_bool(config, "ignore_case", name)
    pattern = config["pattern"]
    if not isinstance(pattern, str) or not pattern:
        raise _invalid(
            f"labeling function {name!r}: config.pattern must be a non-empty regular expression",
            "config.pattern",
            "required",
        )
    try:
        regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise _invalid(
            f"labeling function {name!r}: config.pattern is not a valid regular expression: {exc}",
            "config.pattern",
            "regex",
        ) from exc
    return _Compiled(name, "regex", spec.label, field, regex, False, (), None)


def _field_text(record: Mapping[str, Any], field: str) -> str | None:
    value = record.get(field)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def compile_labeling_function(spec: LabelingFunctionSpec) -> LabelingFunction:
    """A function record -> label or ``None``; checks the spec first.

    Raises :class:`InvalidInput` naming the field (``name``, ``kind``, ``label``,
    ``config.keywords``, ``config.pattern``, ``config.function``, ...) and the rule broken.
    """
    compiled = _compile(spec)
    if compiled.func is not None:
        return compiled.func
    label, field = compiled.label, compiled.field

    def vote(record: dict[str, Any]) -> str | None:
        return label if compiled.votes(_field_text(record, field)) else None

    return vote


# ----------------------------------------------------------------------------- applying
def _check_labels(labels: Sequence[str]) -> list[str]:
    values = list(labels)
    if not values:
        raise _invalid("the label set is empty", "labels", "required")
    if len(set(values)) != len(values):
        raise _invalid("the label set has duplicates", "labels", "unique")
    return values


class _Texts:
    """The values of one field for every record, and all of them joined by NUL (lowered or
    not) for scans that cover all records in one pass."""

    def __init__(self, records: Sequence[Mapping[str, Any]], field: str) -> None:
        try:
            self.values = [_field_text(record, field) for record in records]
        except AttributeError as exc:
            raise _invalid("every record must be an object", "records", "type") from exc
        self._joined: dict[bool, tuple[str, IntArray] | None] = {}
        self._lowered: list[str | None] | None = None

    def lowered(self) -> list[str | None]:
        if self._lowered is None:
            self._lowered = [None if v is None else v.lower() for v in self.values]
        return self._lowered

    def joined(self, lower: bool) -> tuple[str, IntArray] | None:
        """The joined text and the offsets of its separators; None if a text holds a NUL."""
        if lower not in self._joined:
            parts = [v or "" for v in (self.lowered() if lower else self.values)]
            text = _SEPARATOR.join(parts)
            if text.count(_SEPARATOR) != max(len(parts) - 1, 0):
                self._joined[lower] = None
            else:
                lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
                separators = np.cumsum(lengths + 1)[:-1] - 1
                self._joined[lower] = (text, np.asarray(separators, dtype=np.int64))
        return self._joined[lower]


def _hits(compiled: _Compiled, texts: _Texts) -> BoolArray:
    n = len(texts.values)
    joined = texts.joined(compiled.lower) if compiled.scanners else None
    if joined is None:
        assert compiled.regex is not None
        search = compiled.regex.search
        values = texts.lowered() if compiled.lower else texts.values
        return np.fromiter(
            (v is not None and search(v) is not None for v in values), dtype=bool, count=n
        )
    text, separators = joined
    hits = np.zeros(n, dtype=bool)
    for scanner in compiled.scanners:
        starts = np.fromiter((m.start() for m in scanner.finditer(text)), dtype=np.int64)
        hits[np.searchsorted(separators, starts, side="right")] = True
    return hits


def _python_votes(
    compiled: _Compiled, records: Sequence[dict[str, Any]], index: Mapping[str, int]
) -> IntArray:
    func = compiled.func
    assert func is not None
    out = np.full(len(records), ABSTAIN, dtype=np.int64)
    for row, record in enumerate(records):
        try:
            value = func(record)
        except Exception as exc:  # a plugin can fail in any way; report which one and where
            raise _invalid(
                f"labeling function {compiled.name!r} failed on record {row}: "
                f"{type(exc).__name__}: {exc}",
                "config.function",
                "raised",
                name=compiled.name,
                record=row,
            ) from exc
        if value is None:
            continue
        code = index.get(value) if isinstance(value, str) else None
        if code is None:
            raise _invalid(
                f"labeling function {compiled.name!r} returned {value!r} on record {row}, "
                f"which is not one of the labels {list(index)}",
                "label",
                "choice",
                name=compiled.name,
                record=row,
            )
        out[row] = code
    return out


def apply_labeling_functions(
    specs: Sequence[LabelingFunctionSpec],
    records: Sequence[dict[str, Any]],
    labels: Sequence[str],
) -> IntArray:
    """The label matrix: ``L[i, j]`` is the code (position in ``labels``) of the label function
    ``j`` votes on record ``i``, or :data:`ABSTAIN`.

    Each function is compiled once (one regular expression each). The texts of a field are
    read once for all functions. A keyword function scans all texts joined into one string,
    one pass per keyword with a pattern that starts with the keyword's literal text; a
    regex function runs ``re.search`` on each text (its pattern may use ``^``, ``$`` or
    look-arounds, which a joined scan would change); a Python function is called per record.
    """
    label_list = _check_labels(labels)
    index = {label: code for code, label in enumerate(label_list)}
    compiled = [_compile(spec) for spec in specs]
    seen: set[str] = set()
    for c in compiled:
        if c.name in seen:
            raise _invalid(f"two labeling functions are named {c.name!r}", "name", "unique")
        seen.add(c.name)
        if c.kind != "python" and c.label not in index:
            raise _invalid(
                f"labeling function {c.name!r} votes {c.label!r}, which is not one of the "
                f"labels {label_list}",
                "label",
                "choice",
                name=c.name,
            )
    matrix = np.full((len(records), len(compiled)), ABSTAIN, dtype=np.int64)
    texts: dict[str, _Texts] = {}
    for j, c in enumerate(compiled):
        if c.kind == "python":
            matrix[:, j] = _python_votes(c, records, index)
            continue
        assert c.label is not None
        if c.field not in texts:
            texts[c.field] = _Texts(records, c.field)
        matrix[_hits(c, texts[c.field]), j] = index[c.label]
    return matrix


# ---------------------------------------------------------------------------- statistics
def _check_matrix(L: npt.ArrayLike, n_classes: int | None = None) -> IntArray:
    matrix = np.asarray(L)
    if matrix.ndim != 2:
        raise _invalid("the label matrix must be two-dimensional (rows × functions)", "L", "shape")
    if matrix.size and matrix.dtype.kind not in "iu":
        raise _invalid("the label matrix must hold integer label codes", "L", "type")
    matrix = matrix.astype(np.int64, copy=False)
    if matrix.size and matrix.min() < ABSTAIN:
        raise _invalid("label codes must be -1 (abstain) or a label position", "L", "range")
    if n_classes is not None and matrix.size and matrix.max() >= n_classes:
        raise _invalid(
            f"label codes must be below the number of labels ({n_classes})", "L", "range"
        )
    return matrix


def label_matrix_coverage(L: npt.ArrayLike) -> float:
    """Share of rows where at least one function votes (NaN for no rows)."""
    matrix = _check_matrix(L)
    if matrix.shape[0] == 0:
        return float("nan")
    return float((matrix != ABSTAIN).any(axis=1).mean())


def lf_summary(
    L: npt.ArrayLike,
    names: Sequence[str],
    labels: Sequence[str],
    gold: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """One row per function (index ``name``), with shares over all ``n`` rows of ``L``:

    * ``coverage``: rows where the function votes;
    * ``overlap``: rows where it votes and at least one other function votes;
    * ``conflict``: rows where it votes and another function votes a different label;
    * ``n_gold``: its votes on rows whose gold label is known (``gold[i] != ABSTAIN``);
      ``correct``: those equal to gold; ``accuracy = correct / n_gold`` (NaN when 0);
    * ``n_votes``: its number of votes; ``polarity``: the labels it voted, in label order.
    """
    label_list = _check_labels(labels)
    matrix = _check_matrix(L, len(label_list))
    n, m = matrix.shape
    if len(names) != m:
        raise _invalid(f"{len(names)} names for {m} functions", "names", "length")
    votes = matrix != ABSTAIN
    per_row = votes.sum(axis=1)
    highest = matrix.max(axis=1, initial=ABSTAIN)
    lowest = np.where(votes, matrix, len(label_list)).min(axis=1, initial=len(label_list))
    overlapped = per_row >= 2
    conflicted = overlapped & (lowest != highest)
    n_votes = votes.sum(axis=0)
    denominator = n if n else np.nan
    n_gold = np.zeros(m, dtype=np.int64)
    correct = np.zeros(m, dtype=np.int64)
    if gold is not None:
        truth = np.asarray(gold)
        if truth.shape != (n,) or (truth.size and truth.dtype.kind not in "iu"):
            raise _invalid(f"gold must hold one integer code per row ({n})", "gold", "shape")
        truth = truth.astype(np.int64, copy=False)
        if truth.size and (truth.min() < ABSTAIN or truth.max() >= len(label_list)):
            raise _invalid("gold codes must be -1 (unknown) or a label position", "gold", "range")
        known = votes & (truth != ABSTAIN)[:, None]
        n_gold = known.sum(axis=0)
        correct = (known & (matrix == truth[:, None])).sum(axis=0)
    accuracy = np.divide(
        correct, n_gold, out=np.full(m, np.nan), where=n_gold > 0, dtype=np.float64
    )
    polarity = [tuple(label_list[c] for c in np.unique(matrix[votes[:, j], j])) for j in range(m)]
    return pd.DataFrame(
        {
            "coverage": n_votes / denominator,
            "overlap": (votes & overlapped[:, None]).sum(axis=0) / denominator,
            "conflict": (votes & conflicted[:, None]).sum(axis=0) / denominator,
            "n_gold": n_gold.astype(np.int64),
            "correct": correct.astype(np.int64),
            "accuracy": accuracy,
            "n_votes": n_votes.astype(np.int64),
            "polarity": polarity,
        },
        index=pd.Index(list(names), name="name"),
    )


# --------------------------------------------------------------------------- label model
def _softmax_rows(log_scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    top = log_scores.max(axis=1, keepdims=True)
    scaled = np.exp(log_scores - top)
    total = scaled.sum(axis=1, keepdims=True)
    return np.asarray(scaled / total), np.asarray((np.log(total) + top)[:, 0])


class LabelModel:
    """One label per row from the votes of a label matrix ``L`` (rows × functions).

    ``method``:

    * ``"dawid_skene"`` (default): Dawid–Skene with abstention as an answer. Function ``j``
      has a confusion matrix ``confusions_[j, c, a] = P(j answers a | true class c)`` whose
      answers are the ``n_classes`` labels *and* abstain (the last column), so a function that
      only ever votes one label is informative through how much more often it fires on rows of
      that label. EM on the rows with at least one vote, started from their vote shares; each
      confusion cell gets ``smoothing`` pseudo-counts; the class prior is re-estimated in every
      M-step unless ``class_balance`` fixes it. Stops when the log-likelihood gains less than
      ``tol`` per row, or after ``n_iter`` iterations.
    * ``"majority"``: the label with most votes; a tie goes to the tied label with more votes
      in the whole matrix, then to the lowest code. ``probas_`` are the vote shares.
    * ``"dawid_skene_votes"``: :class:`accord.quality.DawidSkene` (with ``n_iter``, ``tol``,
      ``smoothing``) on the non-abstain votes only, each function an annotator and each vote a
      label. A function that always votes the same label has the same answer under every
      class, so it carries no evidence here: with keyword and regex functions this model
      returns the class prior for every row. It suits Python functions that vote several
      labels.

    Results: ``probas_`` ``(n, n_classes)`` and ``labels_`` ``(n,)``, NaN and :data:`ABSTAIN`
    on rows where every function abstains; ``accuracies_`` ``(m,)``, the mean probability the
    model gives to the label each function voted, over its votes (the model's estimate of the
    function's accuracy; NaN for a function that never votes); ``class_balance_``. The
    Dawid–Skene methods add ``confusions_`` (``(m, n_classes, n_classes + 1)``; for
    ``dawid_skene_votes`` ``(m, n_classes, n_classes)``), ``n_iter_`` and
    ``log_likelihood_``.

    Like every Dawid–Skene model it assumes the functions vote independently given the true
    class. Two functions that fire on the same words (a negation rule and the praise words it
    negates) break that assumption, and EM can then give one of them a confusion matrix that
    reads its votes as evidence for the other label; its ``accuracies_`` entry falls far
    below its measured accuracy, which is how to spot it. See docs/weak-supervision.md.
    """

    probas_: FloatArray
    labels_: IntArray
    class_balance_: FloatArray
    accuracies_: FloatArray
    confusions_: FloatArray
    n_iter_: int
    log_likelihood_: float

    def __init__(
        self,
        method: str = "dawid_skene",
        *,
        n_iter: int = 100,
        tol: float = 1e-6,
        smoothing: float = 1.0,
        class_balance: Sequence[float] | None = None,
    ) -> None:
        self.method = method
        self.n_iter = n_iter
        self.tol = tol
        self.smoothing = smoothing
        self.class_balance = class_balance

    def __repr__(self) -> str:
        return (
            f"LabelModel(method={self.method!r}, n_iter={self.n_iter}, tol={self.tol}, "
            f"smoothing={self.smoothing}, class_balance={self.class_balance!r})"
        )

    def _check(self, n_classes: int) -> FloatArray | None:
        if self.method not in LABEL_MODEL_METHODS:
            raise _invalid(
                f"method must be one of {', '.join(LABEL_MODEL_METHODS)}, not {self.method!r}",
                "method",
                "choice",
            )
        if not isinstance(n_classes, int | np.integer) or n_classes < 1:
            raise _invalid("n_classes must be a positive integer", "n_classes", "range")
        if not isinstance(self.n_iter, int) or self.n_iter < 1:
            raise _invalid("n_iter must be a positive integer", "n_iter", "range")
        if not self.tol >= 0 or not self.smoothing >= 0:
            raise _invalid("tol and smoothing must be non-negative", "smoothing", "range")
        if self.class_balance is None:
            return None
        if self.method != "dawid_skene":
            raise _invalid(
                "class_balance applies to the dawid_skene method only", "class_balance", "choice"
            )
        balance = np.asarray(self.class_balance, dtype=np.float64)
        if (
            balance.shape != (n_classes,)
            or not np.all(balance > 0)
            or not np.all(np.isfinite(balance))
        ):
            raise _invalid(
                f"class_balance must hold {n_classes} positive numbers", "class_balance", "range"
            )
        return np.asarray(balance / balance.sum())

    def fit(self, L: npt.ArrayLike, n_classes: int) -> Self:
        balance = self._check(n_classes)
        matrix = _check_matrix(L, int(n_classes))
        n, k = matrix.shape[0], int(n_classes)
        covered = (matrix != ABSTAIN).any(axis=1)
        probas = np.full((n, k), np.nan)
        self.n_iter_ = 0
        self.log_likelihood_ = float("nan")
        self.class_balance_ = np.full(k, 1.0 / k) if balance is None else balance
        self.confusions_ = np.full((matrix.shape[1], k, k + 1), np.nan)
        if covered.any():
            votes = matrix[covered]
            if self.method == "majority":
                probas[covered] = self._majority(votes, k)
            elif self.method == "dawid_skene":
                probas[covered] = self._dawid_skene(votes, k, balance)
            else:
                probas[covered] = self._dawid_skene_votes(votes, k)
        labels = np.full(n, ABSTAIN, dtype=np.int64)
        if covered.any():
            if self.method == "majority":
                labels[covered] = self._majority_decision(probas[covered], matrix)
            else:
                labels[covered] = probas[covered].argmax(axis=1)
        self.probas_ = probas
        self.labels_ = labels
        self.accuracies_ = self._accuracies(matrix, probas)
        return self

    @staticmethod
    def _accuracies(matrix: IntArray, probas: FloatArray) -> FloatArray:
        """Per function: mean posterior probability of the label it voted, over its votes."""
        rows, functions = np.nonzero(matrix != ABSTAIN)
        hit = probas[rows, matrix[rows, functions]]
        m = matrix.shape[1]
        total = np.bincount(functions, weights=hit, minlength=m)
        count = np.bincount(functions, minlength=m)
        out = np.divide(total, count, out=np.full(m, np.nan), where=count > 0)
        return np.asarray(out, dtype=np.float64)

    # ------------------------------------------------------------------------ majority
    @staticmethod
    def _counts(votes: IntArray, k: int) -> FloatArray:
        rows = np.repeat(np.arange(votes.shape[0]), votes.shape[1])
        flat = votes.ravel()
        keep = flat != ABSTAIN
        counts = np.bincount(rows[keep] * k + flat[keep], minlength=votes.shape[0] * k)
        return np.asarray(counts.reshape(votes.shape[0], k), dtype=np.float64)

    def _majority(self, votes: IntArray, k: int) -> FloatArray:
        counts = self._counts(votes, k)
        self.class_balance_ = np.asarray(counts.sum(axis=0) / counts.sum())
        return np.asarray(counts / counts.sum(axis=1, keepdims=True))

    @staticmethod
    def _majority_decision(shares: FloatArray, matrix: IntArray) -> IntArray:
        k = shares.shape[1]
        flat = matrix.ravel()
        overall = np.bincount(flat[flat != ABSTAIN], minlength=k)
        # rank: more votes overall first, then the lower code; larger rank wins a tie
        order = np.lexsort((np.arange(k), -overall))
        rank = np.empty(k)
        rank[order] = np.arange(k, 0, -1, dtype=np.float64)
        top = shares.max(axis=1, keepdims=True)
        tied = shares == top  # shares are count / row total: equal counts, equal floats
        return np.asarray((tied * rank).argmax(axis=1), dtype=np.int64)

    # --------------------------------------------------------------------- Dawid–Skene
    def _dawid_skene(self, votes: IntArray, k: int, balance: FloatArray | None) -> FloatArray:
        n, m = votes.shape
        answers = np.where(votes == ABSTAIN, k, votes)  # code k = abstain
        cols = (np.arange(m) * (k + 1))[None, :] + answers
        design = sp.csr_matrix(
            (np.ones(n * m), (np.repeat(np.arange(n), m), cols.ravel())),
            shape=(n, m * (k + 1)),
        )
        probas = self._counts(votes, k)
        probas /= probas.sum(axis=1, keepdims=True)
        previous = -np.inf
        log_lik = previous
        confusion = np.empty((m, k, k + 1))
        prior = np.full(k, 1.0 / k)
        for iteration in range(1, self.n_iter + 1):
            confusion, prior = self._m_step(design, probas, m, k, balance)
            log_pi = np.log(confusion).transpose(0, 2, 1).reshape(m * (k + 1), k)
            probas, norm = _softmax_rows(np.asarray(design @ log_pi) + np.log(prior))
            log_lik = float(norm.sum())
            self.n_iter_ = iteration
            if abs(log_lik - previous) / n < self.tol:
                break
            previous = log_lik
        self.confusions_, self.class_balance_ = self._m_step(design, probas, m, k, balance)
        self.log_likelihood_ = log_lik
        return probas

    def _m_step(
        self, design: sp.csr_matrix, probas: FloatArray, m: int, k: int, fixed: FloatArray | None
    ) -> tuple[FloatArray, FloatArray]:
        counts = np.asarray(design.T @ probas).reshape(m, k + 1, k).transpose(0, 2, 1)
        counts = np.maximum(counts + self.smoothing, _EPS)
        confusion = counts / counts.sum(axis=2, keepdims=True)
        if fixed is not None:
            return confusion, fixed
        prior = np.maximum(probas.mean(axis=0), _EPS)
        return confusion, prior / prior.sum()

    def _dawid_skene_votes(self, votes: IntArray, k: int) -> FloatArray:
        from accord.quality import DawidSkene, LabelData

        rows, functions = np.nonzero(votes != ABSTAIN)
        data = LabelData.from_codes(
            rows,
            functions,
            votes[rows, functions],
            n_items=votes.shape[0],
            n_annotators=votes.shape[1],
            n_labels=k,
        )
        model = DawidSkene(n_iter=self.n_iter, tol=self.tol, smoothing=self.smoothing).fit(data)
        self.n_iter_ = model.n_iter_
        self.log_likelihood_ = float(model.log_likelihood_)
        self.confusions_ = np.asarray(model.confusions_.to_numpy().reshape(votes.shape[1], k, k))
        self.class_balance_ = np.asarray(model.priors_.to_numpy(), dtype=np.float64)
        return np.asarray(model.probas_.to_numpy(), dtype=np.float64)
