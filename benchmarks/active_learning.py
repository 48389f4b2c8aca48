"""Active learning on SST-2: labels needed to reach 95% of the full-data accuracy, per strategy.

    python benchmarks/active_learning.py [--seeds 5] [--workers 2] [--no-write]
        [--strategies random,least_confidence,...] [--pool-sample 20000] [--checkpoints 100,...]
        [--model-config '{"C": 1.0}'] [--density-beta 1.0]

Only the default configuration (all strategies, default pool sample, checkpoints, model and
density beta) writes RESULTS.md and the PNG; the options serve sensitivity checks.

Data: the dataset's own splits. The pool is the train split (60,614 phrases); simulated
annotators answer with the gold label of each row they are asked about. Accuracy is measured
on the test split (872 full sentences: the primary figure, the held-out split) and on the dev
split (6,735 phrases), neither of which is ever selected from or used to choose settings. The
dev split is not held out from the pool in substance: SST-2's phrases are parts of its
sentences, and most dev phrases appear word for word inside a pool phrase (the output gives
the share), while no test sentence does.

Model: the built-in ``text_classifier`` backend with its defaults (TF-IDF word 1-2 grams with
sublinear tf, logistic regression with C chosen by cross-validation at every fit), refitted from
scratch on all labels at every checkpoint as a train job does.

Protocol, per seed: a random seed set of 100 labels (the same for every strategy), then
batches that grow with the labelled set, about a fifth of it per round (checkpoints 100, 125,
150, 200, ... 20,000, 22,000, 24,000: batches of 25 to 2,000 labels; the budget lets random
sampling reach 95% of the full-data accuracy on both splits). Each batch is
chosen with the model fitted at the previous checkpoint. To bound the cost, each round scores
a fresh uniform sample of 20,000 unlabelled rows (not the whole pool) and chooses within it.
k_center, hybrid and density_weighted use 128-d TF-IDF-SVD embeddings of the pool (fitted once
on all pool texts, without labels). density_weighted (information density, Settles & Craven
2008) scores each sampled row by its margin times its mean cosine similarity to the rows of the
same sample, to the power beta (1, the published default, unless --density-beta says
otherwise); the sample is a uniform sample of the unlabelled pool, so this estimates the mean
similarity to the whole unlabelled pool. On a two-class task least confidence, margin and
entropy are increasing functions of one another, so they pick the same rows: the benchmark
computes all three selections from the same probabilities at every round, runs them as one
when they agree (and separately if they ever differ), and says which happened.

Labels-to-95%: the first point where the seed-averaged learning curve reaches 0.95 x the
full-data accuracy, interpolated linearly between checkpoints. Writes the learning curves to
benchmarks/active_learning.png and the section "Active learning" of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import DATASETS, git_commit, machine, write_section
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from accord.automation.active_learning import queue_scores
from accord.automation.backends import BackendSpec, Example, Task, create_backend
from accord.automation.embeddings import TfidfSvdEmbedder

# about one fifth more labels per round: batches from 25 to 2,000 labels
CHECKPOINTS = (
    100, 125, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000,
    4000, 5000, 6000, 8000, 10000, 12000, 14000, 16000, 18000, 20000, 22000, 24000,
)  # fmt: skip
TABLE_AT = (100, 400, 1000, 2000, 4000, 8000, 16000, 24000)
SEED_SET = 100
POOL_SAMPLE = 20_000
TARGET_SHARE = 0.95
LABELS = ("negative", "positive")
UNCERTAINTY = ("least_confidence", "margin", "entropy")
STRATEGIES = ("random", *UNCERTAINTY, "k_center", "hybrid", "density_weighted")
EMBEDDED = ("k_center", "hybrid", "density_weighted")  # the strategies that use the vectors
PNG = Path(__file__).resolve().parent / "active_learning.png"


# -- the model ---------------------------------------------------------------------------------


class Model:
    """Fit on labelled pool rows, give P(label) for pool rows and accuracy on the eval sets."""

    def __init__(self, texts: list[str], gold: list[str], config: dict[str, Any]) -> None:
        self.description = (
            f'the built-in backend create_backend("text_classifier") with config {config}'
            if config
            else 'the built-in backend create_backend("text_classifier") with its default '
            "settings (C chosen at every fit by 3-fold cross-validated log-loss among 0.25, 1, "
            "4, 16)"
        )
        spec = BackendSpec("sentiment", "choices", "text", LABELS, config=config)
        self._backend = create_backend("text_classifier", spec)
        self._examples = [
            Example(item_id=i, data={"text": t}, result={"sentiment": g})
            for i, (t, g) in enumerate(zip(texts, gold, strict=True))
        ]
        self._tasks = [Task(item_id=i, data={"text": t}) for i, t in enumerate(texts)]
        self.fitted_c: list[float] = []

    def fit(self, rows: NDArray[np.int64]) -> None:
        self._backend.fit([self._examples[i] for i in rows])
        self.fitted_c.append(self._backend.fitted_C)

    def _probas_of(self, tasks: list[Task]) -> NDArray[np.float64]:
        predictions = self._backend.predict(tasks)
        return np.array([[p.probas[label] for label in LABELS] for p in predictions])

    def probas(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._probas_of([self._tasks[i] for i in rows])

    def accuracy(self, texts: list[str], gold: NDArray[np.int64]) -> float:
        tasks = [Task(item_id=i, data={"text": t}) for i, t in enumerate(texts)]
        return float(np.mean(self._probas_of(tasks).argmax(axis=1) == gold))


# -- data shared with the worker processes (inherited by fork) ----------------------------------


@dataclass
class Data:
    pool_texts: list[str]
    pool_gold: list[str]
    evals: dict[str, tuple[list[str], NDArray[np.int64]]]
    vectors: NDArray[np.float32]
    checkpoints: tuple[int, ...] = CHECKPOINTS
    pool_sample: int = POOL_SAMPLE  # 0: the whole unlabelled pool
    model_config: dict[str, Any] = field(default_factory=dict)  # the backend's config
    density_beta: float = 1.0  # density_weighted: the exponent of the density


DATA: Data | None = None


def load() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    frame = pd.read_csv(DATASETS / "text" / "sst2.csv")
    pool = frame[frame["split"] == "train"].reset_index(drop=True)
    return pool, {"test": frame[frame["split"] == "test"], "dev": frame[frame["split"] == "dev"]}


def gold_codes(labels: pd.Series) -> NDArray[np.int64]:
    return np.array([LABELS.index(label) for label in labels], dtype=np.int64)


# -- one simulated labelling run ------------------------------------------------------------------


@dataclass
class Run:
    strategy: str
    seed: int
    labels: list[int] = field(default_factory=list)
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    agree: dict[str, bool] = field(default_factory=dict)  # uncertainty runs: same picks?
    fitted_c: list[float] = field(default_factory=list)  # the C of each checkpoint's fit


def top(scores: NDArray[np.float64], count: int) -> NDArray[np.int64]:
    """The ``count`` highest scores, ties to the lower position."""
    return np.argsort(-scores, kind="stable")[:count].astype(np.int64)


def select(
    strategy: str,
    model: Model,
    labelled: NDArray[np.int64],
    count: int,
    rng: np.random.Generator,
    data: Data,
) -> tuple[NDArray[np.int64], dict[str, NDArray[np.int64]]]:
    """The next ``count`` pool rows, and (uncertainty) what each measure would pick."""
    n = len(data.pool_texts)
    unlabelled = np.setdiff1d(np.arange(n), labelled)
    if strategy == "random":
        return rng.choice(unlabelled, count, replace=False), {}
    size = data.pool_sample or len(unlabelled)
    sample = np.sort(rng.choice(unlabelled, min(size, len(unlabelled)), replace=False))
    if strategy in UNCERTAINTY:
        probas = model.probas(sample)
        picks = {
            method: sample[
                top(
                    queue_scores(
                        method,
                        probas=probas,
                        vectors=None,
                        labeled=np.zeros(len(sample), dtype=bool),
                    ),
                    count,
                )
            ]
            for method in UNCERTAINTY
        }
        return picks[strategy], picks
    if strategy == "density_weighted":
        scores = queue_scores(
            strategy,
            probas=model.probas(sample),
            vectors=data.vectors[sample],
            labeled=np.zeros(len(sample), dtype=bool),
            beta=data.density_beta,
        )
        return sample[top(scores, count)], {}
    rows = np.concatenate([labelled, sample])
    known = np.zeros(len(rows), dtype=bool)
    known[: len(labelled)] = True
    probas = None
    if strategy == "hybrid":
        probas = np.full((len(rows), len(LABELS)), 1.0 / len(LABELS))
        probas[len(labelled) :] = model.probas(sample)
    scores = queue_scores(
        strategy, probas=probas, vectors=data.vectors[rows], labeled=known, budget=count
    )
    return rows[top(scores, count)], {}


def simulate(job: tuple[str, int]) -> Run:
    strategy, seed = job
    assert DATA is not None
    data = DATA
    started = time.perf_counter()
    model = Model(data.pool_texts, data.pool_gold, data.model_config)
    seed_rng = np.random.default_rng(seed)
    labelled = seed_rng.choice(len(data.pool_texts), SEED_SET, replace=False)
    # selection randomness (pool samples, random batches) differs per strategy and seed
    rng = np.random.default_rng([seed, STRATEGIES.index(strategy)])
    run = Run(strategy, seed, accuracy={name: [] for name in data.evals})
    if strategy in UNCERTAINTY:
        run.agree = {method: True for method in UNCERTAINTY if method != strategy}
    for checkpoint in data.checkpoints:
        if checkpoint > len(labelled):
            chosen, alternatives = select(
                strategy, model, labelled, checkpoint - len(labelled), rng, data
            )
            for method in run.agree:
                run.agree[method] &= set(alternatives[method].tolist()) == set(chosen.tolist())
            labelled = np.concatenate([labelled, chosen])
        model.fit(labelled)
        run.labels.append(len(labelled))
        for name, (texts, gold) in data.evals.items():
            run.accuracy[name].append(model.accuracy(texts, gold))
    run.seconds = time.perf_counter() - started
    run.fitted_c = model.fitted_c
    return run


def limit_threads() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


# -- summary -------------------------------------------------------------------------------------


def labels_to_reach(labels: list[int], curve: NDArray[np.float64], target: float) -> float | None:
    for i, value in enumerate(curve):
        if value >= target:
            if i == 0:
                return float(labels[0])
            x0, x1, y0, y1 = labels[i - 1], labels[i], curve[i - 1], curve[i]
            return float(x0 + (target - y0) / (y1 - y0) * (x1 - x0))
    return None


def fmt_labels(value: float | None, budget: int) -> str:
    return f"{value:,.0f}" if value is not None else f"> {budget:,}"


def plot(
    checkpoints: tuple[int, ...],
    curves: dict[str, dict[str, NDArray[np.float64]]],
    targets: dict[str, float],
    path: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(targets)
    fig, axes = plt.subplots(1, len(names), figsize=(6.5 * len(names), 4.8))
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        for strategy, curve in curves.items():
            style = "--" if strategy in ("margin", "entropy") else "-"
            ax.plot(checkpoints, curve[name], style, marker=".", label=strategy)
        ax.axhline(targets[name], color="grey", linestyle=":", label="95% of full data")
        ax.set_xscale("log")
        ax.set_xlabel("labels")
        ax.set_ylabel("accuracy")
        ax.set_title(f"SST-2 {name} split")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_checkpoints(text: str) -> tuple[int, ...]:
    values = tuple(int(v.replace("_", "")) for v in text.split(","))
    if values[0] != SEED_SET or list(values) != sorted(set(values)):
        raise SystemExit(f"--checkpoints must rise from {SEED_SET}")
    return values


def main() -> None:
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--strategies",
        default=",".join(STRATEGIES),
        help="comma-separated subset of " + ", ".join(STRATEGIES),
    )
    parser.add_argument(
        "--pool-sample",
        type=int,
        default=POOL_SAMPLE,
        help="unlabelled rows scored per round (0: the whole pool)",
    )
    parser.add_argument(
        "--checkpoints",
        type=parse_checkpoints,
        default=CHECKPOINTS,
        help="label counts at which to refit and measure, from 100",
    )
    parser.add_argument(
        "--model-config",
        type=json.loads,
        default={},
        help="the text_classifier config as JSON, e.g. '{\"C\": 1.0}' (default: its defaults)",
    )
    parser.add_argument(
        "--density-beta",
        type=float,
        default=1.0,
        help="density_weighted: the exponent of the density (default 1)",
    )
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md and the PNG")
    args = parser.parse_args()
    strategies = [s for s in STRATEGIES if s in args.strategies.split(",")]
    checkpoints: tuple[int, ...] = args.checkpoints
    default_run = (
        args.pool_sample == POOL_SAMPLE
        and checkpoints == CHECKPOINTS
        and not args.model_config
        and args.density_beta == 1.0
    )
    total_started = time.perf_counter()

    pool, evals = load()
    texts = pool["text"].tolist()
    started = time.perf_counter()
    embedder = TfidfSvdEmbedder(dim=128)
    if set(EMBEDDED) & set(strategies):
        embedder.fit(texts)
        vectors = embedder.embed(texts)
    else:
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
    embed_seconds = time.perf_counter() - started
    DATA = Data(
        pool_texts=texts,
        pool_gold=pool["label"].tolist(),
        evals={name: (f["text"].tolist(), gold_codes(f["label"])) for name, f in evals.items()},
        vectors=vectors,
        checkpoints=checkpoints,
        pool_sample=args.pool_sample,
        model_config=args.model_config,
        density_beta=args.density_beta,
    )
    model = Model(DATA.pool_texts, DATA.pool_gold, args.model_config)
    print(f"model: {model.description}")
    started = time.perf_counter()
    model.fit(np.arange(len(texts)))
    full = {name: model.accuracy(t, g) for name, (t, g) in DATA.evals.items()}
    full_seconds = time.perf_counter() - started
    targets = {name: TARGET_SHARE * value for name, value in full.items()}
    print(
        f"pool {len(texts):,} (embedded in {embed_seconds:.1f} s); full-data accuracy "
        + ", ".join(f"{n} {v:.4f} (target {targets[n]:.4f})" for n, v in full.items())
        + f" ({full_seconds:.1f} s)"
    )

    pool_blob = "\n".join(texts)
    contained = {
        name: float(np.mean([text.strip() in pool_blob for text in f["text"]]))
        for name, f in evals.items()
    }
    seeds = list(range(args.seeds))
    # one least_confidence run stands for margin and entropy while they pick the same rows
    lead = next((m for m in UNCERTAINTY if m in strategies), None)
    followers = [m for m in UNCERTAINTY if m in strategies and m != lead]
    # the slowest runs first, so the workers finish together
    order = [
        s for s in ("k_center", "hybrid", "density_weighted", lead, "random") if s in strategies
    ]
    jobs = [(s, seed) for s in order for seed in seeds]
    runs: list[Run] = []
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(args.workers, mp_context=context, initializer=limit_threads) as ex:
        for run in ex.map(simulate, jobs):
            print(f"  {run.strategy} seed {run.seed}: {run.seconds:.0f} s")
            runs.append(run)
        lead_runs = [r for r in runs if r.strategy == lead]
        shared = {m: all(r.agree.get(m, False) for r in lead_runs) for m in followers}
        for run in ex.map(
            simulate, [(m, seed) for m in followers if not shared[m] for seed in seeds]
        ):
            print(f"  {run.strategy} seed {run.seed}: {run.seconds:.0f} s")
            runs.append(run)
    for method in followers:
        if shared[method]:
            runs += [
                Run(method, r.seed, r.labels, r.accuracy, r.seconds, fitted_c=r.fitted_c)
                for r in lead_runs
            ]
    notes = [
        f"{m}: the same picks as {lead} at every round of every seed, so it shares that run"
        if shared[m]
        else f"{m}: picks differed from {lead}'s, so it ran on its own"
        for m in followers
    ]

    curves: dict[str, dict[str, NDArray[np.float64]]] = {}
    seconds: dict[str, float] = {}
    for strategy in strategies:
        mine = [r for r in runs if r.strategy == strategy]
        curves[strategy] = {
            name: np.mean([r.accuracy[name] for r in mine], axis=0) for name in DATA.evals
        }
        seconds[strategy] = float(np.mean([r.seconds for r in mine]))
    reach = {
        name: {
            s: labels_to_reach(list(checkpoints), curves[s][name], targets[name])
            for s in strategies
        }
        for name in DATA.evals
    }
    total = time.perf_counter() - total_started
    budget = checkpoints[-1]
    sample = f"{args.pool_sample:,}" if args.pool_sample else "all"
    command = "python benchmarks/active_learning.py" + "".join(
        f" {a}" for a in sys.argv[1:] if a != "--no-write"
    )

    listed = ", ".join(f"{c:,}" for c in checkpoints)
    lines = [
        f"Machine: {machine()}. Command: `{command}` (commit {git_commit()}); "
        f"{total / 60:.1f} min in all with {args.workers} worker processes.",
        "",
        f"SST-2 with its own splits: pool = train ({len(texts):,} phrases; simulated annotators "
        f"answer with the gold label), accuracy on test ({len(DATA.evals['test'][0]):,} full "
        f"sentences, the primary figure) and dev ({len(DATA.evals['dev'][0]):,} phrases; "
        f"{contained['dev']:.1%} of them appear word for word inside a pool phrase, "
        f"{contained['test']:.1%} of the test sentences do). Model: "
        f"{model.description}, refitted on all labels at every checkpoint. {args.seeds} seeds "
        f"averaged. Each seed starts from the same {SEED_SET} random labels for every strategy; "
        f"batches grow with the labelled set (checkpoints {listed}); "
        f"each round chooses within a fresh uniform sample of {sample} unlabelled rows of the "
        "pool; k_center, hybrid (candidates = 10 x batch, margin) and density_weighted (margin x "
        f"mean cosine similarity to the round's sample ^ {args.density_beta:g}) use 128-d "
        "TF-IDF-SVD vectors of the pool. Labels-to-95%: where the seed-averaged curve first "
        "reaches 95% of the full-data accuracy, interpolated linearly between checkpoints. "
        "Curves: benchmarks/active_learning.png.",
        "",
        "Full-data accuracy (model fitted on the whole pool): "
        + ", ".join(f"{n} {v:.4f} (95%: {targets[n]:.4f})" for n, v in full.items())
        + ".",
    ]
    if notes:
        lines += ["", "Two classes: " + "; ".join(notes) + "."]
    if "random" in strategies:
        lines += ["", "### Target", ""]
        for name, method in (
            (name, m)
            for name in ("test", "dev")
            for m in (*UNCERTAINTY, "density_weighted")
            if m in strategies
        ):
            random_needs, needs = reach[name]["random"], reach[name][method]
            if random_needs is None or needs is None:
                ratio_text, verdict = "n/a", "not measurable within the budget"
            else:
                ratio = needs / random_needs
                ratio_text = f"{ratio:.2f}"
                verdict = "met" if ratio <= 0.5 else "**not met**"
            lines.append(
                f"- {method} reaches 95% of the full-data accuracy ({name}) with at most half the "
                f"labels random needs: {fmt_labels(needs, budget)} vs "
                f"{fmt_labels(random_needs, budget)}, ratio {ratio_text} — {verdict}"
            )
    columns = [c for c in TABLE_AT if c in checkpoints]
    for name in DATA.evals:
        lines += [
            "",
            f"### Accuracy on {name} by labels (mean of {args.seeds} seeds)",
            "",
            "| strategy | "
            + " | ".join(f"{c:,}" for c in columns)
            + " | labels to 95% | vs random | s per run |",
            "|---|" + "---|" * (len(columns) + 3),
        ]
        base = reach[name].get("random")
        for strategy in strategies:
            values = [curves[strategy][name][checkpoints.index(c)] for c in columns]
            needs = reach[name][strategy]
            ratio = f"{needs / base:.2f}" if needs is not None and base is not None else "n/a"
            lines.append(
                f"| {strategy} | "
                + " | ".join(f"{v:.4f}" for v in values)
                + f" | {fmt_labels(needs, budget)} | {ratio} | {seconds[strategy]:.0f} |"
            )
    chosen = {
        strategy: [
            float(
                np.median(
                    [r.fitted_c[checkpoints.index(c)] for r in runs if r.strategy == strategy]
                )
            )
            for c in columns
        ]
        for strategy in strategies
    }
    lines += [
        "",
        "C chosen by the model's cross-validation (median over seeds) at "
        + ", ".join(f"{c:,}" for c in columns)
        + " labels: "
        + "; ".join(f"{s} " + ", ".join(f"{v:g}" for v in chosen[s]) for s in strategies)
        + f"; on the whole pool {model.fitted_c[-1]:g}.",
        "",
        "s per run: wall seconds of one seed's run (selection, refits, evaluation) in a worker "
        "process limited to one thread; a strategy that shares another's run shows that run's "
        "time.",
    ]
    body = "\n".join(lines)
    print()
    print(body)
    if args.no_write:
        return
    if default_run and len(strategies) == len(STRATEGIES):
        plot(checkpoints, curves, targets, PNG)
        write_section("Active learning", body)
    else:
        print("(not the default configuration: RESULTS.md and the PNG left as they are)")


if __name__ == "__main__":
    main()
