"""Built-in model backends and the registry: the text classifier on SST-2, pattern NER on crafted
text and on WNUT-17, nearest neighbours against scikit-learn's KNeighborsClassifier."""

from __future__ import annotations

import itertools
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from accord.automation.backends import (
    BACKEND_KINDS,
    BackendError,
    BackendSpec,
    Example,
    ModelBackend,
    ModelPrediction,
    Task,
    create_backend,
    register_backend,
)
from accord.automation.backends.pattern_ner import find_spans, phrase_regex
from accord.errors import InvalidInput

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
SST2 = DATASETS / "text" / "sst2.csv"
WNUT = DATASETS / "ner" / "wnut17"
SENTIMENT = ("negative", "positive", "neutral")


def sentiment_spec(config: dict[str, Any] | None = None, **kw: Any) -> BackendSpec:
    return BackendSpec("sentiment", "choices", "text", SENTIMENT, config or {}, **kw)


def detail(exc: pytest.ExceptionInfo[BackendError]) -> dict[str, Any]:
    assert exc.value.details, exc.value.message
    return dict(exc.value.details[0])


@pytest.fixture(scope="module")
def sst2() -> pd.DataFrame:
    # columns: text, label (positive/negative), split (train/dev/test)
    frame = pd.read_csv(SST2)
    train = frame[frame["split"] == "train"].drop_duplicates("text")
    return train.sample(n=6000, random_state=7).reset_index(drop=True)


def examples_of(frame: pd.DataFrame, offset: int = 0) -> list[Example]:
    return [
        Example(offset + i, {"text": text}, {"sentiment": label})
        for i, (text, label) in enumerate(zip(frame["text"], frame["label"], strict=True))
    ]


def tasks_of(frame: pd.DataFrame, offset: int = 0) -> list[Task]:
    return [Task(offset + i, {"text": text}) for i, text in enumerate(frame["text"])]


# -- registry ----------------------------------------------------------------------------------


def test_registry_lists_the_built_in_kinds_and_refuses_unknown_ones() -> None:
    assert {"text_classifier", "pattern_ner", "knn", "http", "label_studio"} <= set(BACKEND_KINDS)
    with pytest.raises(BackendError) as exc:
        create_backend("crystal_ball", sentiment_spec())
    assert detail(exc) == {"field": "kind", "rule": "unknown"}
    assert "text_classifier" in exc.value.message
    assert isinstance(exc.value, InvalidInput)


def test_a_registered_kind_is_created_and_listed() -> None:
    class Constant:
        kind = "constant_test"
        trainable = False
        needs_vectors = False

        def __init__(self, spec: BackendSpec) -> None:
            self.spec = spec

        @property
        def version(self) -> str:
            return "constant-1"

        def fit(self, examples: Sequence[Example]) -> str:
            return self.version

        def predict(self, tasks: Sequence[Task]) -> list[ModelPrediction]:
            label = self.spec.labels[0]
            return [ModelPrediction(t.item_id, {self.spec.control: label}, 0.5) for t in tasks]

    register_backend("constant_test", Constant)
    assert "constant_test" in BACKEND_KINDS
    backend = create_backend("constant_test", sentiment_spec())
    assert isinstance(backend, ModelBackend)
    assert backend.predict([Task(3, {})]) == [ModelPrediction(3, {"sentiment": "negative"}, 0.5)]
    with pytest.raises(ValueError, match="lower case"):
        register_backend("Bad Kind", Constant)


# -- text classifier ---------------------------------------------------------------------------


def test_text_classifier_learns_sst2_sentiment(sst2: pd.DataFrame) -> None:
    train, held_out = sst2.iloc[:5000], sst2.iloc[5000:]
    model = create_backend("text_classifier", sentiment_spec())
    assert model.trainable and not model.needs_vectors
    version = model.fit(examples_of(train))
    assert version == model.version and version.startswith("tfidf-lr-")
    predictions = model.predict(tasks_of(held_out, offset=100_000))
    assert [p.item_id for p in predictions] == list(range(100_000, 101_000))
    predicted = [p.result["sentiment"] for p in predictions]
    accuracy = np.mean(np.array(predicted) == held_out["label"].to_numpy())
    assert accuracy > 0.75, accuracy
    for p in predictions:
        assert p.probas is not None and set(p.probas) == set(SENTIMENT)
        assert sum(p.probas.values()) == pytest.approx(1.0, abs=1e-9)
        assert p.probas["neutral"] == 0.0  # never seen in training
        assert p.score == max(p.probas.values()) == p.probas[p.result["sentiment"]]
        assert 0.5 <= p.score <= 1.0


def test_text_classifier_chooses_c_by_cross_validated_log_loss(sst2: pd.DataFrame) -> None:
    """The automatic C equals the grid value scikit-learn's own cross-validation prefers, and
    few labels of some class fall back to C = 1."""
    train = sst2.iloc[:1500]
    model = create_backend("text_classifier", sentiment_spec())
    model.fit(examples_of(train))
    texts, labels = train["text"].tolist(), train["label"].to_numpy()
    matrix = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, max_features=200_000, dtype=np.float32
    ).fit_transform(texts)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    losses = {
        c: -cross_val_score(
            LogisticRegression(C=c, solver="liblinear"), matrix, labels, cv=folds,
            scoring="neg_log_loss",
        ).mean()
        for c in (0.25, 1.0, 4.0, 16.0)
    }  # fmt: skip
    assert model.fitted_C == min(losses, key=losses.__getitem__)
    assert model.fitted_C != 1.0  # 1,500 labels: weaker regularisation wins here
    few = examples_of(train.iloc[:40])
    positives = [e for e in few if e.result["sentiment"] == "positive"]
    scarce = [e for e in few if e.result["sentiment"] == "negative"][:2] + positives
    model.fit(scarce)
    assert model.fitted_C == 1.0
    fixed = create_backend("text_classifier", sentiment_spec({"C": 4.0}))
    fixed.fit(examples_of(train))
    assert fixed.fitted_C == 4.0


def test_text_classifier_version_is_deterministic_and_follows_the_data(sst2: pd.DataFrame) -> None:
    examples = examples_of(sst2.iloc[:800])
    first, second = (create_backend("text_classifier", sentiment_spec()) for _ in range(2))
    shuffled = list(examples)
    random.Random(1).shuffle(shuffled)
    assert first.fit(examples) == second.fit(shuffled)
    tasks = tasks_of(sst2.iloc[5000:5200])
    assert first.predict(tasks) == second.predict(tasks)

    more = examples + examples_of(sst2.iloc[800:801], offset=800)
    assert second.fit(more) != first.version
    relabelled = list(examples)
    flipped = "positive" if examples[0].result["sentiment"] == "negative" else "negative"
    relabelled[0] = Example(examples[0].item_id, examples[0].data, {"sentiment": flipped})
    assert second.fit(relabelled) not in (first.version, second.fit(more))
    other_c = create_backend("text_classifier", sentiment_spec({"C": 4.0}))
    assert other_c.fit(examples) != first.version


def test_text_classifier_refuses_to_predict_untrained_or_learn_one_class() -> None:
    model = create_backend("text_classifier", sentiment_spec())
    assert model.version == ""
    with pytest.raises(BackendError, match="not trained") as exc:
        model.predict([Task(1, {"text": "fine"})])
    assert detail(exc) == {"field": "version", "rule": "not_trained"}
    one_class = [Example(i, {"text": f"good {i}"}, {"sentiment": "positive"}) for i in range(5)]
    # examples without text or with a label the control lacks do not count
    one_class += [
        Example(10, {"text": 3}, {"sentiment": "negative"}),
        Example(11, {"text": "bad"}, {"sentiment": "sarcastic"}),
        Example(12, {"text": "bad"}, {}),
    ]
    with pytest.raises(BackendError, match="at least two labels") as exc:
        model.fit(one_class)
    assert detail(exc) == {"field": "examples", "rule": "min_classes"}


def test_text_classifier_skips_tasks_without_text() -> None:
    model = create_backend("text_classifier", sentiment_spec({"class_weight": "balanced"}))
    model.fit(
        [
            Example(1, {"text": "a wonderful film"}, {"sentiment": "positive"}),
            Example(2, {"text": "a dreadful film"}, {"sentiment": "negative"}),
        ]
    )
    predictions = model.predict([Task(5, {"text": "wonderful"}), Task(6, {}), Task(7, {"text": 1})])
    assert [(p.item_id, p.result) for p in predictions] == [(5, {"sentiment": "positive"})]


@pytest.mark.parametrize(
    ("config", "field", "rule"),
    [
        ({"C": 0}, "config.C", "range"),
        ({"C": "high"}, "config.C", "type"),
        ({"max_features": 0}, "config.max_features", "range"),
        ({"max_features": 2.5}, "config.max_features", "type"),
        ({"class_weight": "heavy"}, "config.class_weight", "choice"),
        ({"c": 1.0}, "config.c", "unknown"),
    ],
)
def test_text_classifier_config_errors_name_the_setting(
    config: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(BackendError) as exc:
        create_backend("text_classifier", sentiment_spec(config))
    assert detail(exc) == {"field": field, "rule": rule}
    assert field in exc.value.message


def test_text_classifier_answers_single_choice_controls_only() -> None:
    multi = {
        "fields": [{"name": "text", "type": "text"}],
        "controls": [
            {"name": "sentiment", "type": "choices", "field": "text", "multiple": True,
             "labels": list(SENTIMENT)},
        ],
    }  # fmt: skip
    with pytest.raises(BackendError) as exc:
        create_backend("text_classifier", sentiment_spec(schema=multi))
    assert detail(exc) == {"field": "control", "rule": "multiple_choices"}
    spans = BackendSpec("entities", "spans", "text", ("PER",), {})
    with pytest.raises(BackendError) as exc:
        create_backend("text_classifier", spans)
    assert detail(exc) == {"field": "control", "rule": "unsupported_control_type"}


# -- pattern NER -------------------------------------------------------------------------------

ENTITY_LABELS = ("ORG", "LOC", "PER", "EMAIL")


def ner(patterns: list[dict[str, Any]], labels: tuple[str, ...] = ENTITY_LABELS) -> ModelBackend:
    return create_backend(
        "pattern_ner", BackendSpec("entities", "spans", "text", labels, {"patterns": patterns})
    )


def spans_of(backend: ModelBackend, text: str) -> list[tuple[str, str, int, int]]:
    predictions = backend.predict([Task(1, {"text": text})])
    if not predictions:
        return []
    (prediction,) = predictions
    assert prediction.score == 1.0 and prediction.probas is None
    spans = prediction.result["entities"]
    for span in spans:
        assert text[span["start"] : span["end"]] == span["text"]
    return [(s["label"], s["text"], s["start"], s["end"]) for s in spans]


def test_pattern_ner_longest_match_wins_then_earliest() -> None:
    backend = ner(
        [
            {"label": "LOC", "phrases": ["New York", "York"]},
            {"label": "ORG", "phrases": ["New York Times", "Times Square Partners"]},
        ]
    )
    text = "The New York Times sold Times Square Partners, York and New York."
    assert spans_of(backend, text) == [
        ("ORG", "New York Times", 4, 18),
        ("ORG", "Times Square Partners", 24, 45),
        ("LOC", "York", 47, 51),
        ("LOC", "New York", 56, 64),
    ]
    # equal lengths overlapping: the earlier one wins
    tie = ner([{"label": "ORG", "phrases": ["ab cd", "cd ef"]}])
    assert spans_of(tie, "ab cd ef") == [("ORG", "ab cd", 0, 5)]
    # equal spans from two patterns: the pattern listed first wins
    both = ner([{"label": "PER", "phrases": ["Paris"]}, {"label": "LOC", "phrases": ["Paris"]}])
    assert spans_of(both, "Paris Hilton in Paris") == [
        ("PER", "Paris", 0, 5),
        ("PER", "Paris", 16, 21),
    ]


def test_pattern_ner_case_and_whole_words() -> None:
    folded = ner([{"label": "ORG", "phrases": ["Acme Corp", "ACME"]}])
    assert spans_of(folded, "acme corp, ACME CORP and Acme; acmecorp, Acmeish") == [
        ("ORG", "acme corp", 0, 9),
        ("ORG", "ACME CORP", 11, 20),
        ("ORG", "Acme", 25, 29),
    ]
    exact = ner([{"label": "ORG", "phrases": ["Acme"], "case_sensitive": True}])
    assert spans_of(exact, "acme Acme ACME") == [("ORG", "Acme", 5, 9)]
    inside = ner([{"label": "ORG", "phrases": ["cat"], "whole_word": False}])
    assert spans_of(inside, "concatenate cat") == [("ORG", "cat", 3, 6), ("ORG", "cat", 12, 15)]
    words = ner([{"label": "ORG", "phrases": ["cat"]}])
    assert spans_of(words, "concatenate cat cats (cat)") == [
        ("ORG", "cat", 12, 15),
        ("ORG", "cat", 22, 25),
    ]
    # a longer phrase that does not end on a word boundary gives way to a shorter one that does
    backoff = ner([{"label": "LOC", "phrases": ["Rio", "Rio Grande"]}])
    assert spans_of(backoff, "Rio Grandest") == [("LOC", "Rio", 0, 3)]


def test_pattern_ner_regex_and_unicode_text() -> None:
    backend = ner(
        [
            {"label": "EMAIL", "regex": r"[\w.+-]+@[\w-]+\.[\w.]+\w"},
            {"label": "PER", "phrases": ["Zoë Müller"], "regex": r"Dr\. [A-Z]\w+"},
        ]
    )
    text = "Écrivez à zoë.müller@example.org ou Dr. Watson; Zoë Müller répond."
    spans = spans_of(backend, text)
    assert spans == [
        ("EMAIL", "zoë.müller@example.org", 10, 32),
        ("PER", "Dr. Watson", 36, 46),
        ("PER", "Zoë Müller", 48, 58),
    ]
    assert spans_of(backend, "nothing to see") == []
    assert backend.predict([Task(1, {"text": None}), Task(2, {})]) == []


def test_pattern_ner_is_not_trainable_and_versions_by_patterns() -> None:
    patterns = [{"label": "ORG", "phrases": ["Acme"]}]
    backend = ner(patterns)
    assert not backend.trainable
    assert backend.version.startswith("patterns-")
    assert backend.fit([Example(1, {"text": "x"}, {})]) == backend.version
    assert ner([{"label": "ORG", "phrases": ["Acme"]}]).version == backend.version
    assert ner([{"label": "ORG", "phrases": ["Acme", "Bolt"]}]).version != backend.version


@pytest.mark.parametrize(
    ("patterns", "field", "rule"),
    [
        ([{"label": "MISC", "phrases": ["x"]}], "config.patterns[0].label", "unknown_label"),
        (
            [{"label": "ORG", "phrases": ["x"]}, {"label": "GPE", "phrases": ["y"]}],
            "config.patterns[1].label",
            "unknown_label",
        ),
        ([{"label": "ORG", "regex": "(unclosed"}], "config.patterns[0].regex", "invalid_regex"),
        ([{"label": "ORG"}], "config.patterns[0].phrases", "required"),
        ([{"label": "ORG", "phrases": "Acme"}], "config.patterns[0].phrases", "type"),
        (
            [{"label": "ORG", "phrases": ["a"], "words": True}],
            "config.patterns[0].words",
            "unknown",
        ),
        ([{"phrases": ["a"]}], "config.patterns[0].label", "required"),
        ([], "config.patterns", "type"),
        (["ORG"], "config.patterns[0]", "type"),
    ],
)
def test_pattern_ner_config_errors_name_the_pattern(
    patterns: list[Any], field: str, rule: str
) -> None:
    with pytest.raises(BackendError) as exc:
        ner(patterns)
    assert detail(exc) == {"field": field, "rule": rule}


def test_phrase_regex_prefers_the_longest_phrase_at_a_position() -> None:
    import re

    phrases = ["New York", "New York City", "Newark", "N.Y.", "a"]
    regex = re.compile(phrase_regex(phrases))
    assert regex.match("New York City Hall").group() == "New York City"
    assert regex.match("New York Cit").group() == "New York"
    assert regex.match("N.Y.C.").group() == "N.Y."
    assert regex.match("Newarks").group() == "Newark"
    assert regex.match("Nope") is None


def read_conll(path: Path) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """Sentences as (text with tokens joined by spaces, [(type, start, end)]) from IOB2."""
    sentences: list[list[tuple[str, str]]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.replace("\ufeff", "")
        if not line.strip():
            if sentences[-1]:
                sentences.append([])
            continue
        token, tag = line.split("\t")
        sentences[-1].append((token, tag))
    out = []
    for tokens in filter(None, sentences):
        text, spans, current = "", [], None
        for token, tag in tokens:
            text += " " if text else ""
            start = len(text)
            text += token
            if tag.startswith("I-") and current and current[0] == tag[2:]:
                current[2] = len(text)
                continue
            if current:
                spans.append((current[0], current[1], current[2]))
            current = [tag[2:], start, len(text)] if tag.startswith("B-") else None
        if current:
            spans.append((current[0], current[1], current[2]))
        out.append((text, spans))
    return out


def test_pattern_ner_finds_wnut17_entities_of_a_phrase_list_from_the_training_split() -> None:
    train = read_conll(WNUT / "wnut17train.conll")
    held_out = read_conll(WNUT / "emerging.dev.conll") + read_conll(
        WNUT / "emerging.test.annotated"
    )
    assert len(train) == 3394 and len(held_out) == 1009 + 1287
    phrases: dict[str, set[str]] = {}
    for text, spans in train:
        for label, start, end in spans:
            phrases.setdefault(label, set()).add(text[start:end])
    labels = tuple(sorted(phrases))
    assert labels == ("corporation", "creative-work", "group", "location", "person", "product")
    spec = BackendSpec(
        "entities",
        "spans",
        "text",
        labels,
        {"patterns": [{"label": label, "phrases": sorted(phrases[label])} for label in labels]},
    )
    backend = create_backend("pattern_ner", spec)
    listed = {label: {p.lower() for p in found} for label, found in phrases.items()}

    def recall(sentences: list[tuple[str, list[tuple[str, int, int]]]]) -> tuple[int, int]:
        predicted = {
            p.item_id: {(s["label"], s["start"], s["end"]) for s in p.result["entities"]}
            for p in backend.predict([Task(i, {"text": t}) for i, (t, _) in enumerate(sentences)])
        }
        found = total = 0
        for i, (text, spans) in enumerate(sentences):
            for label, start, end in spans:
                if text[start:end].lower() in listed[label]:
                    total += 1
                    found += (label, start, end) in predicted.get(i, set())
        return found, total

    found, total = recall(held_out)
    # WNUT-17 is built around unseen entities: few held-out ones are in the training list
    assert total == 46
    assert found / total >= 0.95, (found, total)
    found, total = recall(train)
    assert total > 1900
    # misses: phrases listed under two types, entities inside a longer listed phrase
    assert found / total >= 0.97, (found, total)


def test_find_spans_on_random_phrase_sets_against_a_brute_force() -> None:
    """Spans never overlap, each is an occurrence of one of its pattern's phrases, every
    occurrence is kept or overlaps a kept span, and the longest occurrence is always kept."""
    rng = random.Random(3)
    words = ["al", "be", "ga", "de", "ep"]
    for _ in range(300):
        phrases = [" ".join(rng.choices(words, k=rng.randint(1, 3))) for _ in range(4)]
        patterns = [
            {"label": "A", "phrases": phrases[:2]},
            {"label": "B", "phrases": phrases[2:], "whole_word": rng.random() < 0.5},
        ]
        spec = BackendSpec("entities", "spans", "text", ("A", "B"), {"patterns": patterns})
        backend = create_backend("pattern_ner", spec)
        text = " ".join(rng.choices(words, k=12)).replace("l b", "lb", rng.randint(0, 2))
        spans = find_spans(text, backend.patterns)  # type: ignore[attr-defined]
        kept = {(s["label"], s["start"], s["end"]) for s in spans}
        for a, b in itertools.pairwise(spans):
            assert a["end"] <= b["start"]
        occurrences = set()
        for pattern in patterns:
            whole = pattern.get("whole_word", True)
            for phrase in pattern["phrases"]:
                for start in range(len(text)):
                    end = start + len(phrase)
                    if not text.startswith(phrase, start):
                        continue
                    if whole and (
                        (start > 0 and text[start - 1].isalnum())
                        or (end < len(text) and text[end].isalnum())
                    ):
                        continue
                    occurrences.add((pattern["label"], start, end))
        assert kept <= occurrences or not kept.isdisjoint(occurrences)
        for label, start, end in kept:
            assert any(o[1:] == (start, end) for o in occurrences), (text, label, start, end)
        for _, start, end in occurrences:
            assert any(s < end and start < e for _, s, e in kept), (text, start, end)
        if occurrences:
            longest = max(e - s for _, s, e in occurrences)
            assert any(e - s == longest for _, s, e in kept)


# -- nearest neighbours ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sst2_vectors(sst2: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    texts = sst2["text"].iloc[:3000].tolist()
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    vectors = TruncatedSVD(n_components=48, random_state=0).fit_transform(tfidf)
    # Texts of one-letter tokens only have no TF-IDF terms: a zero vector is equally far from
    # everything, and which neighbours such a tie keeps is arbitrary in any implementation.
    keep = np.linalg.norm(vectors, axis=1) > 0
    labels = sst2["label"].iloc[:3000].to_numpy()
    return vectors[keep][:2900].astype(np.float32), labels[keep][:2900]


def knn_spec(labels: tuple[str, ...], **config: Any) -> BackendSpec:
    return BackendSpec("sentiment", "choices", "text", labels, config)


@pytest.mark.parametrize(("weights", "k"), [("uniform", 10), ("distance", 7), ("uniform", 1)])
def test_knn_agrees_with_scikit_learn(
    sst2_vectors: tuple[np.ndarray, np.ndarray], weights: str, k: int
) -> None:
    vectors, labels = sst2_vectors
    train, test = slice(0, 2400), slice(2400, 2900)
    reference = KNeighborsClassifier(
        n_neighbors=k, metric="cosine", algorithm="brute", weights=weights
    )
    reference.fit(vectors[train].astype(np.float64), labels[train])
    expected = reference.predict(vectors[test].astype(np.float64))
    expected_probas = reference.predict_proba(vectors[test].astype(np.float64))

    backend = create_backend("knn", knn_spec(("negative", "positive"), k=k, weights=weights))
    assert backend.needs_vectors and backend.trainable
    backend.fit(
        [Example(i, {}, {"sentiment": label}, vectors[i]) for i, label in enumerate(labels[train])]
    )
    predictions = backend.predict([Task(10_000 + i, {}, vectors[2400 + i]) for i in range(500)])
    assert [p.item_id for p in predictions] == [10_000 + i for i in range(500)]
    assert [p.result["sentiment"] for p in predictions] == expected.tolist()
    got = np.array([[p.probas["negative"], p.probas["positive"]] for p in predictions])
    np.testing.assert_allclose(got, expected_probas, atol=1e-6)
    assert set(expected) == {"negative", "positive"}


def test_knn_similarity_weights_probas_and_skips() -> None:
    labels = ("cat", "dog", "bird")
    backend = create_backend("knn", knn_spec(labels, k=3))
    examples = [
        Example(1, {}, {"sentiment": "cat"}, np.array([1, 0], dtype=np.float32)),
        Example(2, {}, {"sentiment": "cat"}, np.array([2, 0.2], dtype=np.float32)),  # unnormalised
        Example(3, {}, {"sentiment": "dog"}, np.array([0, 1], dtype=np.float32)),
        Example(4, {}, {"sentiment": "dog"}, None),  # no vector: left out
        Example(5, {}, {}, np.array([0, 1], dtype=np.float32)),  # no label: left out
    ]
    version = backend.fit(examples)
    assert version.startswith("knn-")
    predictions = backend.predict(
        [Task(7, {}, np.array([1, 1], dtype=np.float32)), Task(8, {}, None)]
    )
    assert len(predictions) == 1
    (p,) = predictions
    c = 1 / np.sqrt(2)
    sim_cat = c + (2 * c + 0.2 * c) / np.hypot(2, 0.2)
    sim_dog = c
    assert p.probas is not None
    assert p.probas["cat"] == pytest.approx(sim_cat / (sim_cat + sim_dog), rel=1e-5)
    assert p.probas["bird"] == 0.0
    assert p.result == {"sentiment": "cat"} and p.score == p.probas["cat"]
    assert create_backend("knn", knn_spec(labels, k=3)).fit(list(reversed(examples))) == version


def test_knn_errors() -> None:
    backend = create_backend("knn", knn_spec(("a", "b")))
    with pytest.raises(BackendError) as exc:
        backend.predict([Task(1, {}, np.ones(3, dtype=np.float32))])
    assert detail(exc) == {"field": "version", "rule": "not_trained"}
    with pytest.raises(BackendError) as exc:
        backend.fit([Example(1, {}, {"sentiment": "a"})])
    assert detail(exc) == {"field": "examples", "rule": "no_vectors"}
    backend.fit([Example(1, {}, {"sentiment": "a"}, np.ones(3, dtype=np.float32))])
    with pytest.raises(BackendError, match="different lengths") as exc:
        backend.predict([Task(1, {}, np.ones(4, dtype=np.float32))])
    assert detail(exc) == {"field": "tasks", "rule": "vector_dimension"}
    with pytest.raises(BackendError) as exc:
        create_backend("knn", knn_spec(("a", "b"), k=0))
    assert detail(exc) == {"field": "config.k", "rule": "range"}
    with pytest.raises(BackendError) as exc:
        create_backend("knn", knn_spec(("a", "b"), weights="gaussian"))
    assert detail(exc) == {"field": "config.weights", "rule": "choice"}


def test_knn_searches_in_blocks(
    sst2_vectors: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    from accord.automation.backends import knn

    vectors, labels = sst2_vectors
    examples = [
        Example(i, {}, {"sentiment": lab}, vectors[i]) for i, lab in enumerate(labels[:2000])
    ]
    tasks = [Task(i, {}, vectors[i]) for i in range(2000, 2300)]
    whole = create_backend("knn", knn_spec(("negative", "positive")))
    whole.fit(examples)
    expected = whole.predict(tasks)
    monkeypatch.setattr(knn, "BLOCK_CELLS", 2000 * 7)  # 7 queries per block
    blocked = create_backend("knn", knn_spec(("negative", "positive")))
    blocked.fit(examples)
    predictions = blocked.predict(tasks)
    assert [p.result for p in predictions] == [p.result for p in expected]
    for got, want in zip(predictions, expected, strict=True):
        assert got.probas is not None and want.probas is not None
        assert got.probas == pytest.approx(want.probas, abs=1e-12)


@pytest.mark.parametrize(("m", "n", "k"), [(50, 1000, 10), (30, 1001, 7), (20, 95, 3), (5, 40, 2)])
def test_top_k_by_groups_equals_a_full_selection(m: int, n: int, k: int) -> None:
    from accord.automation.backends.knn import top_k

    sim = np.random.default_rng(n).standard_normal((m, n)).astype(np.float32)
    expected = np.sort(np.argpartition(sim, n - k, axis=1)[:, n - k :], axis=1)
    assert np.array_equal(np.sort(top_k(sim, k), axis=1), expected)
    assert np.array_equal(np.sort(top_k(sim, n), axis=1), np.tile(np.arange(n), (m, 1)))


@pytest.fixture(scope="module")
def sst2_vectors_6000(sst2: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """64-d TF-IDF/SVD vectors of the 6,000 SST-2 sentences (those with any term)."""
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(sst2["text"])
    vectors = TruncatedSVD(n_components=64, random_state=0).fit_transform(tfidf)
    keep = np.linalg.norm(vectors, axis=1) > 0
    return vectors[keep].astype(np.float32), sst2["label"].to_numpy()[keep]


def test_knn_beyond_the_exact_limit_searches_the_approximate_index(
    sst2_vectors_6000: tuple[np.ndarray, np.ndarray],
) -> None:
    """With the limit forced down to 1,000 labelled items, 5,000 SST-2 examples are searched
    through usearch's HNSW index: at least 98% of the labels (and the accuracy on the true
    labels within one point) are those of the exact search; at or under the limit nothing
    changes, the version included."""
    pytest.importorskip("usearch")
    vectors, labels = sst2_vectors_6000
    examples = [
        Example(i, {}, {"sentiment": lab}, vectors[i]) for i, lab in enumerate(labels[:5000])
    ]
    tasks = [Task(i, {}, vectors[i]) for i in range(5000, len(vectors))]
    truth = labels[5000:]
    assert len(tasks) > 900
    names = ("negative", "positive")
    exact = create_backend("knn", knn_spec(names, k=10))
    approximate = create_backend("knn", knn_spec(names, k=10, exact_limit=1000))
    at_limit = create_backend("knn", knn_spec(names, k=10, exact_limit=5000))
    versions = [b.fit(examples) for b in (exact, approximate, at_limit)]
    assert [b.search for b in (exact, approximate, at_limit)] == [
        "exact",
        "usearch",
        "exact",
    ]
    assert versions[0] == versions[2] != versions[1]

    expected = exact.predict(tasks)
    got = approximate.predict(tasks)
    assert [p.item_id for p in got] == [t.item_id for t in tasks]
    same = [a.result == b.result for a, b in zip(got, expected, strict=True)]
    assert sum(same) / len(same) >= 0.98

    def accuracy(predictions: list[ModelPrediction]) -> float:
        hits = [p.result["sentiment"] == t for p, t in zip(predictions, truth, strict=True)]
        return sum(hits) / len(hits)

    assert accuracy(expected) > 0.6
    assert abs(accuracy(got) - accuracy(expected)) <= 0.01
    for p in got:
        assert p.probas is not None and p.score == max(p.probas.values())
        assert sum(p.probas.values()) == pytest.approx(1.0)
    assert at_limit.predict(tasks) == expected


def test_knn_stays_exact_without_usearch(
    sst2_vectors: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the optional package the search beyond the limit is the exact one: the same
    answers and version as a model under the limit."""
    vectors, labels = sst2_vectors
    examples = [
        Example(i, {}, {"sentiment": lab}, vectors[i]) for i, lab in enumerate(labels[:2000])
    ]
    tasks = [Task(i, {}, vectors[i]) for i in range(2000, 2300)]
    exact = create_backend("knn", knn_spec(("negative", "positive")))
    version = exact.fit(examples)
    monkeypatch.setitem(sys.modules, "usearch.index", None)  # importing it now fails
    fallback = create_backend("knn", knn_spec(("negative", "positive"), exact_limit=100))
    assert fallback.fit(examples) == version
    assert fallback.search == "exact"
    assert fallback.predict(tasks) == exact.predict(tasks)


def test_knn_exact_limit_is_checked() -> None:
    with pytest.raises(BackendError) as exc:
        create_backend("knn", knn_spec(("a", "b"), exact_limit=-1))
    assert detail(exc) == {"field": "config.exact_limit", "rule": "range"}
    with pytest.raises(BackendError) as exc:
        create_backend("knn", knn_spec(("a", "b"), exact_limit="many"))
    assert detail(exc) == {"field": "config.exact_limit", "rule": "type"}
