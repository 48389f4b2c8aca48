"""Quality engine: aggregation accuracy and speed on real crowd data, against crowd-kit 1.4.2;
Krippendorff's alpha on 1,000,000 labels against the `krippendorff` package; Fleiss' kappa against
statsmodels; label-error detection on SST-2 against cleanlab.

    python benchmarks/quality.py [--skip-slow-reference] [--label-errors-size 20000] [--no-write]

Accuracy is measured on the items of each data set that have a gold answer (truth.csv). Times
are wall-clock seconds of one `fit` (crowd-kit: one `fit_predict`), data already in memory.
`--skip-slow-reference` leaves out crowd-kit's GLAD and MACE (minutes on the larger sets); the
default run includes them.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import DATASETS, machine, write_section

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from accord.quality import (
    GLAD,
    MACE,
    DawidSkene,
    LabelData,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
    find_label_errors,
    fleiss_kappa,
    krippendorff_alpha,
    label_issue_mask,
    out_of_fold_probas,
)

CROWD = DATASETS / "crowd"
SLOW_REFERENCE = {"GLAD", "MACE"}


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def accuracy(predicted: pd.Series, truth: pd.Series) -> float:
    shared = truth.index.intersection(predicted.index)
    return float((predicted.loc[shared].to_numpy() == truth.loc[shared].to_numpy()).mean())


def crowdkit_methods(skip_slow: bool) -> dict[str, Callable[[pd.DataFrame], pd.Series]]:
    from crowdkit.aggregation import GLAD as CkGLAD
    from crowdkit.aggregation import MACE as CkMACE
    from crowdkit.aggregation import DawidSkene as CkDS
    from crowdkit.aggregation import MajorityVote as CkMV
    from crowdkit.aggregation import OneCoinDawidSkene as CkOneCoin
    from crowdkit.aggregation.utils import get_accuracy

    def wawa(df: pd.DataFrame) -> pd.Series:
        # crowd-kit's Wawa class fails under scikit-learn >= 1.6 (check_is_fitted needs
        # __sklearn_tags__); these are the same three steps with crowd-kit's own functions.
        mv = CkMV().fit(df)
        skills = get_accuracy(df, mv.labels_, by="worker")
        return CkMV().fit_predict(df, skills)

    methods: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
        "MajorityVote": lambda df: CkMV().fit_predict(df),
        "Wawa": wawa,
        "DawidSkene": lambda df: CkDS(n_iter=100).fit_predict(df),
        "OneCoinDawidSkene": lambda df: CkOneCoin(n_iter=100).fit_predict(df),
    }
    if not skip_slow:
        methods["GLAD"] = lambda df: CkGLAD().fit_predict(df)
        methods["MACE"] = lambda df: CkMACE().fit_predict(df)
    return methods


RESULTS: dict[tuple[str, str], dict[str, float]] = {}


def aggregation(skip_slow: bool) -> tuple[str, list[str]]:
    ours: dict[str, Callable[[], Any]] = {
        "MajorityVote": MajorityVote,
        "Wawa": Wawa,
        "DawidSkene": DawidSkene,
        "OneCoinDawidSkene": OneCoinDawidSkene,
        "GLAD": GLAD,
        "MACE": MACE,
    }
    reference = crowdkit_methods(skip_slow)
    rows = [
        "| data set | method | Accord accuracy | Accord s | crowd-kit accuracy | crowd-kit s "
        "| speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for folder in sorted(p for p in CROWD.iterdir() if (p / "labels.csv").exists()):
        name = folder.name
        raw = pd.read_csv(folder / "labels.csv")
        truth = pd.read_csv(folder / "truth.csv").set_index("task")["label"]
        frame = raw.rename(columns={"task": "item", "worker": "annotator"})
        data = LabelData.from_frame(frame)
        n_truth = len(truth.index.intersection(data.items))
        print(
            f"== {name}: {len(raw)} labels, {data.n_items} items, {n_truth} with truth", flush=True
        )
        for method, make in ours.items():
            model, seconds = timed(lambda make=make, data=data: make().fit(data))
            acc = accuracy(model.labels_, truth)
            ref_acc = ref_s = None
            if method in reference:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    predicted, ref_s = timed(lambda m=method, raw=raw: reference[m](raw))
                ref_acc = accuracy(predicted, truth)
            RESULTS[name, method] = {"acc": acc, "s": seconds}
            if ref_acc is not None and ref_s is not None:
                RESULTS[name, method].update({"ref_acc": ref_acc, "ref_s": ref_s})
            cells = [
                name,
                method,
                f"{acc:.4f}",
                f"{seconds:.3f}",
                "skipped" if ref_acc is None else f"{ref_acc:.4f}",
                "" if ref_s is None else f"{ref_s:.2f}",
                "" if ref_s is None else f"{ref_s / seconds:.0f}×",
            ]
            rows.append("| " + " | ".join(cells) + " |")
            print("  ", " | ".join(cells), flush=True)
        from crowdkit.aggregation import DawidSkene as CkDS

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ck_ds = CkDS(n_iter=100).fit(raw)
            ours_n = DawidSkene().fit(data).n_iter_
            theirs_n = len(ck_ds.loss_history_)
            # The same estimator stopped at the other's iteration count (every row counted, as
            # crowd-kit does): shows whether a difference comes from the model or the stop.
            kept = LabelData.from_frame(frame, duplicates="keep")
            ck_at_ours = CkDS(n_iter=ours_n, tol=-np.inf).fit_predict(raw)
            ours_at_theirs = DawidSkene(n_iter=theirs_n, tol=0.0).fit_predict(kept)
        notes.append(
            f"- {name}: Dawid-Skene EM iterations: Accord {ours_n} (log-likelihood change below "
            f"1e-6 per label), crowd-kit {theirs_n} (stops when its ELBO estimate stops rising "
            f"by 1e-5 per label); crowd-kit stopped after {ours_n}: "
            f"{accuracy(ck_at_ours, truth):.4f}, Accord stopped after {theirs_n}: "
            f"{accuracy(ours_at_theirs, truth):.4f}"
        )
        uniform = accuracy(MACE(fit_priors=False).fit_predict(data), truth)
        bayes = MACE(decide_with_priors=True).fit(data)
        shares = ", ".join(f"{label} {share:.3f}" for label, share in bayes.priors_.items())
        notes.append(
            f"- {name}: MACE label distribution fitted: {shares}; accuracy with it fixed to "
            f"uniform (`fit_priors=False`, the paper's model): {uniform:.4f}; deciding with the "
            f"fitted distribution (`decide_with_priors=True`): "
            f"{accuracy(bayes.labels_, truth):.4f}"
        )
        ties = MajorityVote().fit(data)
        by_rule = {
            rule: accuracy(MajorityVote(tie_break=rule).fit(data).labels_, truth)
            for rule in ("frequent", "first", "random")
        }
        notes.append(
            f"- {name}: {ties.n_ties_} tied items of {data.n_items} "
            f"({ties.n_ties_ / data.n_items:.1%}); MV accuracy by tie rule: "
            + ", ".join(f"{r} {a:.4f}" for r, a in by_rule.items())
            + f"; {data.n_repeated_pairs} label rows repeat an (item, annotator) pair"
        )
        if not skip_slow and name == "zheng_product":
            from crowdkit.aggregation import MACE as CkMACE

            ordered = raw.sort_values(["worker", "task"], kind="stable")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                predicted, _ = timed(lambda ordered=ordered: CkMACE().fit_predict(ordered))
            notes.append(
                f"- {name}: crowd-kit MACE on the same rows sorted by worker: "
                f"{accuracy(predicted, truth):.4f}"
            )
    return "\n".join(rows), notes


def krippendorff_section() -> list[str]:
    import krippendorff

    rng = np.random.default_rng(0)
    n_items, n_annotators = 200_000, 5
    truth = rng.integers(1, 6, n_items)
    noisy = rng.integers(1, 6, (n_annotators, n_items))
    matrix = np.where(rng.random((n_annotators, n_items)) < 0.7, truth, noisy).astype(np.float64)
    matrix[rng.random(matrix.shape) < 0.05] = np.nan
    seen = ~np.isnan(matrix)
    long = pd.DataFrame(
        {
            "item": np.broadcast_to(np.arange(n_items), matrix.shape)[seen],
            "annotator": np.broadcast_to(np.arange(n_annotators)[:, None], matrix.shape)[seen],
            "label": matrix[seen],
        }
    )
    rows = [
        f"{n_items:,} items × {n_annotators} annotators, 5% missing ({len(long):,} labels), "
        "values 1–5; best of 5 runs.",
        "",
        "| level | Accord alpha | krippendorff alpha | abs. difference | Accord s (matrix) "
        "| Accord s (long frame) | krippendorff s | speed-up (matrix) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for level in ("nominal", "ordinal", "interval", "ratio"):
        ref, ref_s = timed(
            lambda lv=level: krippendorff.alpha(reliability_data=matrix, level_of_measurement=lv),
            5,
        )
        ours, ours_s = timed(lambda lv=level: krippendorff_alpha(matrix, lv), 5)
        _, long_s = timed(lambda lv=level: krippendorff_alpha(long, lv), 5)
        RESULTS["krippendorff", level] = {"diff": abs(ours - ref), "speedup": ref_s / ours_s}
        rows.append(
            f"| {level} | {ours:.12f} | {ref:.12f} | {abs(ours - ref):.1e} | {ours_s:.4f} "
            f"| {long_s:.4f} | {ref_s:.4f} | {ref_s / ours_s:.1f}× |"
        )
        print("  ", rows[-1], flush=True)
    return rows


def fleiss_section() -> list[str]:
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    rows = [
        "| data set | Accord Fleiss kappa | statsmodels | abs. difference |",
        "|---|---|---|---|",
    ]
    for name in ("snow_rte", "zheng_dog", "zheng_product"):
        raw = pd.read_csv(CROWD / name / "labels.csv")
        frame = raw.rename(columns={"task": "item", "worker": "annotator"})
        ours = fleiss_kappa(frame)
        table = pd.crosstab(raw["task"], raw["label"]).to_numpy()
        ref = float(sm_fleiss(table, method="fleiss"))
        RESULTS["fleiss", name] = {"diff": abs(ours - ref)}
        rows.append(f"| {name} | {ours:.12f} | {ref:.12f} | {abs(ours - ref):.1e} |")
    return rows


def label_error_section(size: int) -> list[str]:
    from cleanlab.filter import find_label_issues

    text = pd.read_csv(DATASETS / "text" / "sst2.csv")
    sample = text[text["split"] == "train"].sample(size, random_state=0).reset_index(drop=True)
    rng = np.random.default_rng(0)
    flipped = rng.random(size) < 0.10
    classes = np.array(["negative", "positive"])
    clean = (sample["label"] == "positive").to_numpy().astype(np.int64)
    noisy = np.where(flipped, 1 - clean, clean)
    labels = pd.Series(classes[noisy])
    probas, oof_s = timed(lambda: out_of_fold_probas(sample["text"], labels))
    probs = probas.to_numpy()
    model_acc = float((probs.argmax(axis=1) == clean).mean())

    def prf(mask: np.ndarray[Any, np.dtype[np.bool_]], key: str = "") -> str:
        tp = int((mask & flipped).sum())
        precision = tp / max(int(mask.sum()), 1)
        recall = tp / int(flipped.sum())
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        if key:
            RESULTS["label_errors", key] = {"f1": f1}
        return f"{int(mask.sum())} | {precision:.3f} | {recall:.3f} | {f1:.3f}"

    cl_mask, cl_s = timed(lambda: find_label_issues(noisy, probs))
    ours, ours_s = timed(lambda: find_label_errors(labels, probas))
    ours_mask = np.zeros(size, dtype=bool)
    ours_mask[ours.index.to_numpy(dtype=np.int64)] = True
    same_rule, same_s = timed(
        lambda: label_issue_mask(noisy, probs, filter_by="prune_by_noise_rate")
    )
    return [
        f"SST-2 train split, {size:,} sentences sampled (seed 0), {int(flipped.sum()):,} labels "
        f"(10%) flipped at random (seed 0). Out-of-fold probabilities from Accord's baseline "
        f"(TF-IDF word 1–2-grams + char 2–5-grams, logistic regression, 5-fold): "
        f"{oof_s:.1f} s, accuracy against the clean labels {model_acc:.3f}. Both tools get the "
        "same probabilities.",
        "",
        "| method | flagged | precision | recall | F1 | s |",
        "|---|---|---|---|---|---|",
        f"| cleanlab `find_label_issues` (default: prune_by_noise_rate) | {prf(cl_mask, 'cl')} "
        f"| {cl_s:.3f} |",
        f"| Accord `find_label_errors` (default: confident_joint) | {prf(ours_mask, 'ours')} "
        f"| {ours_s:.3f} |",
        f"| Accord `label_issue_mask(filter_by='prune_by_noise_rate')` | {prf(same_rule)} "
        f"| {same_s:.3f} |",
    ]


def targets() -> list[str]:
    """Each target of the quality engine, checked against the figures measured above."""

    def mark(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = []
    for (name, method), r in sorted(RESULTS.items()):
        if "ref_acc" not in r:
            continue
        if method == "DawidSkene":
            ok = r["acc"] >= r["ref_acc"]
            lines.append(
                f"- Dawid-Skene accuracy >= crowd-kit on {name}: {r['acc']:.4f} vs "
                f"{r['ref_acc']:.4f} — {mark(ok)}"
            )
        if method in ("GLAD", "MACE"):
            close = r["acc"] >= r["ref_acc"] - 0.005
            fast = r["ref_s"] >= 20 * r["s"]
            lines.append(
                f"- {method} on {name} within 0.5 points of crowd-kit ({r['acc']:.4f} vs "
                f"{r['ref_acc']:.4f}) — {mark(close)}; >= 20× faster ({r['ref_s'] / r['s']:.0f}×)"
                f" — {mark(fast)}"
            )
    if ("gal_adult2", "DawidSkene") in RESULTS:
        seconds = RESULTS["gal_adult2", "DawidSkene"]["s"]
        lines.append(
            f"- Dawid-Skene < 0.3 s on gal_adult2: {seconds:.3f} s — {mark(seconds < 0.3)}"
        )
    kripp = [r for (kind, _), r in RESULTS.items() if kind == "krippendorff"]
    if kripp:
        diff = max(r["diff"] for r in kripp)
        speed = min(r["speedup"] for r in kripp)
        lines.append(
            f"- Krippendorff's alpha equal to the package within 1e-9 (max diff {diff:.1e}) — "
            f"{mark(diff < 1e-9)}; >= 3× faster (slowest level {speed:.1f}×) — {mark(speed >= 3)}"
        )
    fleiss = [r["diff"] for (kind, _), r in RESULTS.items() if kind == "fleiss"]
    if fleiss:
        lines.append(f"- Fleiss' kappa equal to statsmodels — {mark(max(fleiss) < 1e-12)}")
    if ("label_errors", "ours") in RESULTS:
        ours, theirs = RESULTS["label_errors", "ours"]["f1"], RESULTS["label_errors", "cl"]["f1"]
        lines.append(
            f"- Label-error F1 not below cleanlab's: {ours:.3f} vs {theirs:.3f} — "
            f"{mark(ours >= theirs)}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-slow-reference", action="store_true")
    parser.add_argument("--label-errors-size", type=int, default=20_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    command = "python benchmarks/quality.py" + (
        " --skip-slow-reference" if args.skip_slow_reference else ""
    )
    table, notes = aggregation(args.skip_slow_reference)
    print("== Krippendorff", flush=True)
    kripp = krippendorff_section()
    fleiss = fleiss_section()
    print("== label errors", flush=True)
    errors = label_error_section(args.label_errors_size)
    import crowdkit

    body = "\n".join(
        [
            f"Machine: {machine()}. Command: `{command}` "
            f"(crowd-kit {getattr(crowdkit, '__version__', '1.4.2')} run in the same process).",
            "",
            "### Targets",
            "",
            *targets(),
            "",
            "Dawid-Skene: Accord and crowd-kit fit the same estimator and, stopped after the "
            "same number of EM iterations, give the same accuracy on every data set (notes "
            "below); the remaining differences come from where each stops. crowd-kit stops "
            "when its ELBO estimate stops rising, and that estimate adds the class-prior term "
            "once per label instead of once per item: on gal_adult2 it falls after the second "
            "iteration (two EM steps from the majority vote) although EM keeps raising the "
            "likelihood; run to convergence, crowd-kit gives Accord's 0.748 (the published "
            "figure). On zheng_product the accuracy along the EM path moves by single items "
            "of 8,315. Dirichlet pseudo-counts on the confusion rows (symmetric, diagonal, "
            "pooled), variational Bayes, a Wawa start and the duplicate policies were tried "
            "(docs/quality.md): none reaches crowd-kit on gal_adult2 without falling below it "
            "elsewhere, so the default stays maximum likelihood and these two targets stay "
            "open. MACE: the label distribution is now "
            "estimated while fitting (see the MACE notes); crowd-kit's MACE pairs annotators "
            "with the wrong strategy vectors unless the rows are sorted by worker (its result "
            "is then close to the paper's model, see the zheng_product note below).",
            "",
            "### Aggregation: accuracy on items with a gold answer",
            "",
            table,
            "",
            "Majority-vote ties (default rule `frequent`: the tied label given most often in "
            "the whole data set, then label order) and repeated pairs (default policy "
            "`average`: each row of a repeated (item, annotator) pair weighs 1/rows):",
            "",
            *notes,
            "",
            "### Krippendorff's alpha, 1,000,000 labels",
            "",
            *kripp,
            "",
            "### Fleiss' kappa against statsmodels",
            "",
            *fleiss,
            "",
            "### Label errors",
            "",
            *errors,
        ]
    )
    print(body)
    if not args.no_write:
        write_section("Quality engine", body)


if __name__ == "__main__":
    main()
