"""Adaptive overlap against fixed overlap, replayed on the real crowd data sets.

    python benchmarks/adaptive_overlap.py [--seeds 10] [--no-write]

Every data set in ../shared/datasets/crowd/ is replayed as if its recorded labels were
annotators arriving one after another. Each item's labels are put in a seeded random order
(``frame.sample(frac=1, random_state=seed)``: within an item, the rows are then in random order);
that order is the arrival order of both arms:

* fixed overlap takes the first N labels of every item;
* adaptive overlap takes labels in the same order while
  ``AdaptiveOverlap(max_labels=N, ...).needs_more`` says the item needs another one
  (``AdaptiveOverlap.replay``).

N per data set is the median number of labels per item (the overlap the data was collected with:
every item of snow_rte and zheng_dog has 10 labels, every item of zheng_product 3, and gal_adult2
has 10 for most items); items with fewer than N labels use what they have in both arms. A
repeated (item, annotator) pair (2,922 rows of gal_adult2) is one arrival: the platform never
gives an item to the same annotator twice, so only the pair's first row in the file is replayed.

Accuracy is measured on the items with a gold answer (truth.csv), aggregating the chosen labels
with MajorityVote (tie rule ``frequent``) and DawidSkene (defaults). The main table is seed 0;
the spread over ``--seeds`` arrival orders and the alternatives (mean over the same seeds) follow.
The policy's parameters are the same on every data set.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from _common import DATASETS, machine, write_section

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from accord.quality import AdaptiveOverlap, DawidSkene, MajorityVote, OneCoinDawidSkene

CROWD = DATASETS / "crowd"
MIN_SAVED = 0.30  # the project's target: at least 30% fewer labels ...
MAX_LOSS = 0.005  # ... for no more than 0.5 points of accuracy lost
DEFAULT = AdaptiveOverlap(max_labels=10)  # only its min_labels and threshold are used
DEFAULT_LABEL = f"vote share, k={DEFAULT.min_labels}, threshold {DEFAULT.threshold} (default)"


@dataclass(frozen=True)
class DataSet:
    name: str
    frame: pd.DataFrame  # item, annotator, label; one row per (item, annotator)
    truth: pd.Series
    n: int  # fixed overlap N
    n_classes: int
    n_repeats: int


@dataclass(frozen=True)
class Arm:
    labels: int
    mv: float
    ds: float


def load(name: str) -> DataSet:
    raw = pd.read_csv(CROWD / name / "labels.csv")
    frame = raw.rename(columns={"task": "item", "worker": "annotator"})[
        ["item", "annotator", "label"]
    ]
    first = ~frame.duplicated(["item", "annotator"], keep="first")
    frame = frame[first].reset_index(drop=True)
    truth = pd.read_csv(CROWD / name / "truth.csv").set_index("task")["label"]
    n = int(frame.groupby("item").size().median())
    return DataSet(name, frame, truth, n, int(frame["label"].nunique()), int((~first).sum()))


def accuracy(predicted: pd.Series, truth: pd.Series) -> float:
    shared = truth.index.intersection(predicted.index)
    return float((predicted.loc[shared].to_numpy() == truth.loc[shared].to_numpy()).mean())


def evaluate(chosen: pd.DataFrame, truth: pd.Series) -> Arm:
    mv = accuracy(MajorityVote().fit_predict(chosen), truth)
    ds = accuracy(DawidSkene().fit_predict(chosen), truth)
    return Arm(len(chosen), mv, ds)


def ds_with_fixed_parameters(
    fixed: pd.DataFrame, adaptive: pd.DataFrame, truth: pd.Series
) -> float:
    """Dawid–Skene accuracy on the adaptive labels with the confusion matrices and class priors
    fitted on the fixed-overlap labels: what is left of the loss comes from the labels the
    items never got, not from annotators estimated on fewer labels."""
    model = DawidSkene().fit(fixed)
    labels = pd.Index(model.priors_.index)
    k = len(labels)
    annotators = pd.Index(model.confusions_.index.get_level_values(0).unique())
    assert list(model.confusions_.columns) == list(labels)
    log_pi = np.log(np.maximum(model.confusions_.to_numpy(), 1e-10)).reshape(-1, k, k)
    a = annotators.get_indexer(adaptive["annotator"])
    answered = labels.get_indexer(adaptive["label"])
    codes, items = pd.factorize(adaptive["item"])
    scores = np.zeros((len(items), k))
    np.add.at(scores, codes, log_pi[a, :, answered])
    scores += np.log(model.priors_.to_numpy())
    predicted = pd.Series(labels.to_numpy()[scores.argmax(axis=1)], index=items)
    return accuracy(predicted, truth)


def arrival(data: DataSet, seed: int) -> pd.DataFrame:
    return data.frame.sample(frac=1.0, random_state=seed)


def fixed_arm(ordered: pd.DataFrame, n: int) -> pd.DataFrame:
    return ordered[ordered.groupby("item").cumcount().to_numpy() < n]


Rule = Callable[[DataSet, pd.DataFrame], pd.DataFrame]


def share_rule(k: int, threshold: float) -> Rule:
    def run(data: DataSet, ordered: pd.DataFrame) -> pd.DataFrame:
        policy = AdaptiveOverlap(max_labels=data.n, min_labels=k, threshold=threshold)
        return ordered[policy.replay(ordered).to_numpy()]

    return run


def equal_posterior_rule(k: int, threshold: float, reliability: float) -> Rule:
    def run(data: DataSet, ordered: pd.DataFrame) -> pd.DataFrame:
        policy = AdaptiveOverlap(
            max_labels=data.n,
            min_labels=k,
            threshold=threshold,
            reliabilities={},
            default_reliability=reliability,
            n_classes=data.n_classes,
        )
        return ordered[policy.replay(ordered).to_numpy()]

    return run


def fitted_posterior_rule(k: int, threshold: float, batches: int = 10) -> Rule:
    """Items arrive in batches; before each batch the annotators' reliabilities are refitted
    (OneCoinDawidSkene skills) on the labels collected so far, as a live project would do.
    Annotators not seen yet get the default reliability (0.7)."""

    def run(data: DataSet, ordered: pd.DataFrame) -> pd.DataFrame:
        items = ordered["item"].drop_duplicates().to_numpy()
        parts: list[pd.DataFrame] = []
        for batch in np.array_split(items, batches):
            reliabilities = (
                OneCoinDawidSkene().fit(pd.concat(parts)).skills_
                if parts
                else pd.Series(dtype=np.float64)
            )
            policy = AdaptiveOverlap(
                max_labels=data.n,
                min_labels=k,
                threshold=threshold,
                reliabilities=reliabilities,
                n_classes=data.n_classes,
            )
            part = ordered[ordered["item"].isin(batch)]
            parts.append(part[policy.replay(part).to_numpy()])
        return pd.concat(parts)

    return run


def alternatives() -> list[tuple[str, Rule]]:
    rules: list[tuple[str, Rule]] = []
    grid = [(2, t) for t in (0.7, 0.75, 0.8, 0.85, 0.9)]
    grid += [(3, t) for t in (0.7, 0.75, 0.8, 0.85, 0.9, 1.0)] + [(4, 0.8), (4, 0.9)]
    for k, threshold in grid:
        label = f"vote share, k={k}, threshold {threshold}"
        if (k, threshold) == (DEFAULT.min_labels, DEFAULT.threshold):
            label = DEFAULT_LABEL
        rules.append((label, share_rule(k, threshold)))
    rules.append(
        (
            "posterior, every annotator 0.7, k=3, threshold 0.95",
            equal_posterior_rule(3, 0.95, 0.7),
        )
    )
    for threshold in (0.95, 0.99):
        rules.append(
            (
                f"posterior, reliabilities refitted every 10% of items, k=3, threshold {threshold}",
                fitted_posterior_rule(3, threshold),
            )
        )
    return rules


def met(saved: float, loss: float) -> bool:
    return saved >= MIN_SAVED and loss <= MAX_LOSS + 1e-12


def mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def signed(x: float) -> str:
    return f"{round(100 * x, 2) + 0.0:+.2f}"  # + 0.0: no "-0.00"


def speed(data: DataSet) -> str:
    policy = AdaptiveOverlap(max_labels=10)
    weighted = AdaptiveOverlap(
        max_labels=10, reliabilities={"a": 0.9, "b": 0.6}, n_classes=data.n_classes
    )
    labels, annotators = ["G", "G", "P", "G"], ["a", "b", "c", "d"]
    calls = 100_000
    start = time.perf_counter()
    for _ in range(calls):
        policy.needs_more(labels)
    plain = (time.perf_counter() - start) / calls
    start = time.perf_counter()
    for _ in range(calls):
        weighted.needs_more(labels, annotators)
    posterior = (time.perf_counter() - start) / calls
    ordered = arrival(data, 0)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        AdaptiveOverlap(max_labels=data.n).replay(ordered)
        best = min(best, time.perf_counter() - start)
    return (
        f"`needs_more` on one item with 4 labels: {plain * 1e6:.1f} µs (vote share), "
        f"{posterior * 1e6:.1f} µs (posterior with reliabilities); `replay` of all "
        f"{len(ordered):,} labels of {data.name}: {best:.3f} s (best of 3)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    command = "python benchmarks/adaptive_overlap.py" + (
        f" --seeds {args.seeds}" if args.seeds != 10 else ""
    )
    names = sorted(p.name for p in CROWD.iterdir() if (p / "labels.csv").exists())
    sets = [load(name) for name in names]
    rules = alternatives()

    main_rows: list[str] = []
    targets: list[str] = []
    spread: list[str] = []
    ds_notes: list[str] = []
    default_rule = share_rule(DEFAULT.min_labels, DEFAULT.threshold)
    # (rule, data set) -> per seed (saved, MV loss, DS loss)
    outcomes: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for data in sets:
        print(f"== {data.name} (N={data.n})", flush=True)
        per_seed: list[tuple[float, float, float]] = []
        for seed in range(args.seeds):
            ordered = arrival(data, seed)
            fixed = evaluate(fixed_arm(ordered, data.n), data.truth)
            arms = {label: evaluate(rule(data, ordered), data.truth) for label, rule in rules}
            for label, arm in arms.items():
                outcome = (1 - arm.labels / fixed.labels, fixed.mv - arm.mv, fixed.ds - arm.ds)
                outcomes.setdefault((label, data.name), []).append(outcome)
            adaptive = arms[DEFAULT_LABEL]
            saved = 1 - adaptive.labels / fixed.labels
            per_seed.append(outcomes[DEFAULT_LABEL, data.name][-1])
            if seed == 0:
                n_gold = int(data.truth.index.isin(data.frame["item"]).sum())
                main_rows.append(
                    f"| {data.name} | {data.frame['item'].nunique():,} ({n_gold:,}) | {data.n} "
                    f"| {fixed.labels:,} | {adaptive.labels:,} | {saved:.1%} "
                    f"| {fixed.mv:.4f} | {adaptive.mv:.4f} | {fixed.ds:.4f} | {adaptive.ds:.4f} |"
                )
                print("  ", main_rows[-1], flush=True)
                fixed_params = ds_with_fixed_parameters(
                    fixed_arm(ordered, data.n), default_rule(data, ordered), data.truth
                )
                ds_notes.append(
                    f"- {data.name}: Dawid–Skene fixed {fixed.ds:.4f}, adaptive refitted "
                    f"{adaptive.ds:.4f}, adaptive with the fixed-overlap parameters "
                    f"{fixed_params:.4f}"
                )
                targets.append(
                    f"- {data.name}: {saved:.1%} fewer labels; majority vote "
                    f"{signed(adaptive.mv - fixed.mv)} points — "
                    f"{mark(met(saved, fixed.mv - adaptive.mv))}; Dawid–Skene "
                    f"{signed(adaptive.ds - fixed.ds)} points — "
                    f"{mark(met(saved, fixed.ds - adaptive.ds))}"
                )
        arr = np.array(per_seed)
        mean = arr.mean(axis=0)
        orders_met = sum(met(saved, mv_loss) for saved, mv_loss, _ in per_seed)
        spread.append(
            f"| {data.name} | {mean[0]:.1%} ({arr[:, 0].min():.1%}–{arr[:, 0].max():.1%}) "
            f"| {signed(-mean[1])} ({signed(-arr[:, 1].max())} to {signed(-arr[:, 1].min())}) "
            f"| {signed(-mean[2])} ({signed(-arr[:, 2].max())} to {signed(-arr[:, 2].min())}) "
            f"| {mark(met(mean[0], mean[1]))} ({orders_met} of {len(per_seed)} orders) "
            f"| {mark(met(mean[0], mean[2]))} |"
        )

    alt_rows = []
    score: dict[str, tuple[int, float]] = {}
    for label, _ in rules:
        cells = []
        n_met = 0
        savings = []
        for data in sets:
            saved, mv_loss, ds_loss = np.array(outcomes[label, data.name]).mean(axis=0)
            n_met += met(saved, mv_loss)
            savings.append(saved)
            cells.append(f"{saved:.0%} / {signed(-mv_loss)} / {signed(-ds_loss)}")
        alt_rows.append(f"| {label} | " + " | ".join(cells) + f" | {n_met} of {len(sets)} |")
        score[label] = (n_met, float(np.mean(savings)))
    picked = max(score, key=lambda label: score[label])
    choice = (
        "Selection rule for the default, one set of parameters for all data sets: the rule "
        "that meets the target with majority vote on the most data sets (means over the "
        f"arrival orders), then the largest mean saving. On this run it picks *{picked}*"
        + (
            " — the default."
            if picked == DEFAULT_LABEL
            else f", not the default ({DEFAULT_LABEL})."
        )
    )

    header = " | ".join(d.name for d in sets)
    body = "\n".join(
        [
            f"Machine: {machine()}. Command: `{command}`.",
            "",
            "Recorded labels replayed as arriving annotators: each item's labels in a seeded "
            "random order (seed 0 below); fixed overlap takes the first N of every item, "
            "adaptive overlap takes them in the same order until "
            f"`AdaptiveOverlap(max_labels=N)` (defaults `min_labels={DEFAULT.min_labels}`, "
            f"`threshold={DEFAULT.threshold}`: stop once the leading label holds at least "
            f"{DEFAULT.threshold:.0%} of at least {DEFAULT.min_labels} votes, or at N) says "
            "the item needs no more. N is the median number of labels per item; items with "
            "fewer than N labels use what they have in both arms; a repeated (item, annotator) "
            f"pair is replayed once (first row; {sum(d.n_repeats for d in sets):,} rows of "
            "gal_adult2 dropped). Accuracy on the gold items: majority vote (tie rule "
            "`frequent`) and Dawid–Skene on the labels each arm collected. Target: at least "
            f"{MIN_SAVED:.0%} fewer labels for no more than {100 * MAX_LOSS:.1f} points of "
            "accuracy lost.",
            "",
            "| data set | items (gold) | N | labels fixed | labels adaptive | saved "
            "| MV fixed | MV adaptive | DS fixed | DS adaptive |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *main_rows,
            "",
            "### Target, seed 0",
            "",
            *targets,
            "",
            f"### Over {args.seeds} arrival orders (seeds 0–{args.seeds - 1}), default policy",
            "",
            "Mean (min–max) share of labels saved and accuracy change in points (adaptive - "
            "fixed); the target judged on the means.",
            "",
            "| data set | saved | MV change | DS change | target (MV) | target (DS) |",
            "|---|---|---|---|---|---|",
            *spread,
            "",
            "### Alternatives",
            "",
            f"Mean over the {args.seeds} arrival orders; each cell is labels saved / majority-"
            "vote change / Dawid–Skene change (points, adaptive - fixed). The same parameters "
            "on every data set. *Vote share* is the default rule with other k and thresholds; "
            "*posterior* is the rule with `reliabilities` (one-coin posterior): with every "
            "annotator at 0.7, or with reliabilities refitted by `OneCoinDawidSkene` on the "
            "labels collected so far before each tenth of the items (the first tenth at the "
            "default 0.7), as a live project would do.",
            "",
            f"| rule | {header} | target met (MV) |",
            "|---|" + "---|" * len(sets) + "---|",
            *alt_rows,
            "",
            choice,
            "",
            "Findings. Stopping at an agreeing pair (k=2) is what costs accuracy: on snow_rte and "
            "zheng_dog two agreeing annotators are wrong often enough to lose about 2 (zheng_dog) "
            "to 3 (snow_rte) points of majority-vote accuracy at any threshold, so the default "
            "asks 3 annotators first. With N=3 (zheng_product) k=3 leaves nothing to save, and k=2 "
            "saves at most a third of the labels (every first pair agreeing), so the 30% "
            "target cannot be met there with k=3 and is only approached with k=2. Dawid–Skene "
            "loses more than the vote under every rule that saves 30%; k=4 or a higher "
            "threshold narrow the gap at a smaller saving. How much of the loss comes from the "
            "labels the items never got, and how much from annotators estimated on fewer "
            "labels, differs by data set: Dawid–Skene on the adaptive labels (seed 0), refitted "
            "and with the confusion matrices and priors fitted on the fixed-overlap labels:",
            "",
            *ds_notes,
            "",
            "The "
            "posterior with one-coin reliabilities refitted as labels come in stops too early: "
            "the model treats answers as independent, so a few agreeing answers by annotators "
            "fitted as reliable already reach 0.95–0.99, and it loses more than the vote share "
            "at both thresholds tried.",
            "",
            "### Speed",
            "",
            speed(next(d for d in sets if d.name == "gal_adult2")),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("Adaptive overlap", body)


if __name__ == "__main__":
    main()
