"""Model backends: fit time and prediction throughput of the built-in kinds on SST-2.

    python benchmarks/prediction_throughput.py [--large 500000] [--no-write]

The ``text_classifier`` (TF-IDF word 1-2 grams + logistic regression) is fitted on SST-2's
training part (60,614 labelled sentences) and predicts all 68,221 sentences, then a set of
``--large`` items made by repeating the sentences in shuffled order. For comparison, ``knn``
(k = 10, 128-d TF-IDF/SVD vectors, exact search) and ``pattern_ner`` (a 2,000-word phrase list)
predict all 68,221 sentences. Items per second count every task handed to ``predict`` and the
building of its ``ModelPrediction`` objects; data is in memory. Seconds: best of 3 runs, except
the large set (one run).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import DATASETS, git_commit, machine, write_section

from accord.automation.backends import BackendSpec, Example, Task, create_backend

LABELS = ("negative", "positive")


def timed(run: Callable[[], Any], repeats: int = 3) -> tuple[Any, tuple[float, float]]:
    """The result and the (wall, CPU) seconds of the fastest run."""
    best, result = (float("inf"), float("inf")), None
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = run()
        best = min(best, (time.perf_counter() - start, time.process_time() - cpu))
    return result, best


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=500_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    frame = pd.read_csv(DATASETS / "text" / "sst2.csv")  # columns: text, label, split
    texts = frame["text"].tolist()
    train = frame[frame["split"] == "train"]
    examples = [
        Example(i, {"text": t}, {"sentiment": lab})
        for i, t, lab in zip(train.index, train["text"], train["label"], strict=True)
    ]
    tasks = [Task(i, {"text": t}) for i, t in enumerate(texts)]
    rows: list[tuple[str, str, int, tuple[float, float]]] = []

    spec = BackendSpec("sentiment", "choices", "text", LABELS, {})
    classifier = create_backend("text_classifier", spec)
    version, fit_seconds = timed(lambda: classifier.fit(examples))
    rows.append(("text_classifier", "fit on the training part", len(examples), fit_seconds))
    predictions, seconds = timed(lambda: classifier.predict(tasks))
    rows.append(("text_classifier", "predict all sentences", len(tasks), seconds))
    test = frame["split"].to_numpy() == "test"
    predicted = np.array([p.result["sentiment"] for p in predictions])
    test_accuracy = float(np.mean(predicted[test] == frame["label"].to_numpy()[test]))

    rng = random.Random(0)
    order = [i % len(texts) for i in range(args.large)]
    rng.shuffle(order)
    large = [Task(n, {"text": texts[i]}) for n, i in enumerate(order)]
    answered, seconds = timed(lambda: len(classifier.predict(large)), repeats=1)
    assert answered == len(large)
    rows.append(("text_classifier", f"predict {len(large):,} items", len(large), seconds))

    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit_transform(texts)
    vectors = TruncatedSVD(128, random_state=0).fit_transform(tfidf).astype(np.float32)
    knn = create_backend("knn", BackendSpec("sentiment", "choices", "text", LABELS, {"k": 10}))
    knn_examples = [Example(e.item_id, e.data, e.result, vectors[e.item_id]) for e in examples]
    _, seconds = timed(lambda: knn.fit(knn_examples))
    rows.append(("knn", "fit on the training part", len(knn_examples), seconds))
    knn_tasks = [Task(i, {"text": t}, vectors[i]) for i, t in enumerate(texts)]
    _, seconds = timed(lambda: knn.predict(knn_tasks), repeats=1)
    rows.append(("knn", "predict all sentences", len(knn_tasks), seconds))

    words = Counter(w for t in texts for w in t.split() if w.isalpha() and len(w) > 3)
    phrases = [w for w, _ in words.most_common(2000)]
    ner = create_backend(
        "pattern_ner",
        BackendSpec(
            "terms",
            "spans",
            "text",
            ("TERM",),
            {"patterns": [{"label": "TERM", "phrases": phrases}]},
        ),
    )
    ner_predictions, seconds = timed(lambda: ner.predict(tasks))
    spans = sum(len(p.result["terms"]) for p in ner_predictions)
    rows.append(("pattern_ner", "predict all sentences", len(tasks), seconds))

    lines = [
        f"Machine: {machine()}. Command: `python benchmarks/prediction_throughput.py "
        f"--large {args.large}` (commit {git_commit()}).",
        "",
        "SST-2 (`../shared/datasets/text/sst2.csv`): the text classifier (TF-IDF word 1-2 grams, "
        "sublinear tf, 200,000 features, logistic regression with C chosen by 3-fold "
        f"cross-validation: {classifier.fitted_C:g}) is fitted on the "
        f"{len(examples):,} training sentences (version `{version}`, test accuracy "
        f"{test_accuracy:.3f}; the fit includes choosing C) and predicts all "
        f"{len(texts):,} sentences, then "
        f"{args.large:,} items made by repeating the sentences in shuffled order (predicted "
        "in chunks of 20,000). knn: k=10, similarity-weighted, 128-d TF-IDF/SVD vectors, exact "
        f"numpy search. pattern_ner: one pattern of the {len(phrases):,} most frequent words "
        f"(longer than 3 letters), {spans:,} spans found. Items/s counts every task given to "
        "`predict`, including building the predictions. Seconds: wall-clock, best of 3 runs; the "
        f"{args.large:,}-item run and knn predict: one run. CPU seconds: the process's CPU "
        "time in the same run (all threads; below the wall time when other work shares the "
        f"machine). Peak memory of the process: {peak_rss_gib():.1f} GiB.",
        "",
        "| backend | step | items | seconds | CPU seconds | items/s |",
        "|---|---|---|---|---|---|",
    ]
    for kind, step, n, (wall, cpu) in rows:
        lines.append(f"| {kind} | {step} | {n:,} | {wall:.2f} | {cpu:.2f} | {n / wall:,.0f} |")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Prediction throughput", body)


if __name__ == "__main__":
    sys.exit(main())
