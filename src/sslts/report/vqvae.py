"""NC-VQVAE's records as tables and sentences: probes, codebook, reconstruction, FID / IS / CAS.

The library (:mod:`sslts.vqvae`) makes the records; this module only reads them. The thesis's own
numbers (:data:`ANCHORS`) are *cited*, never mixed with measured ones: they come from another
code base, larger GPU models and, for FID / IS, another feature extractor, so only naive vs
NC-VQVAE *within* one extractor is a comparison.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dataclasses import replace

from .stats import PairedTest, holm, mean_interval, paired_test

__all__ = ["ANCHORS", "METRICS", "NAIVE", "anchors_table", "frame", "load", "method_label", "paired_table",
           "summary_table", "verdict"]

NAIVE = "vqvae-naive"
# column -> (label, higher is better)
METRICS: dict[str, tuple[str, bool]] = {
    "linear_svm": ("linear SVM (mean latent)", True),
    "linear_svm_flat": ("linear SVM (all tokens)", True),
    "knn": ("k-NN (mean latent)", True),
    "recon_mse": ("reconstruction MSE (test)", False),
    "perplexity": ("codebook perplexity", True),
    "codes_used": ("codes used (share)", True),
    "fid": ("FID (ours)", False),
    "is": ("IS (ours)", True),
    "cas": ("CAS", True),
    "stage1_s": ("stage 1 (s)", False),
    "stage2_s": ("stage 2 (s)", False),
    "extractor": ("FID/IS extractor accuracy (test)", True),
    "fid_real": ("FID, real vs real", False),
    "is_real": ("IS of the real test split", True),
}
# FID and IS read a classifier's features: they judge generation only where that extractor is
# clearly better than chance, i.e. at least this share of the way from chance (1 / classes) to a
# perfect test accuracy (mean over the dataset's records). Set after a review listed extractors at
# 0.47-0.70; CAS trains its own classifier and is judged everywhere.
EXTRACTOR_MARGIN = 0.5
FIDELITY_METRICS = ("fid", "is")

# Cited, not measured: Mathisen et al. (2024), arXiv:2408.16613, UWaveGestureLibraryAll, original UCR
# splits, their feature extractor for FID / IS; and TimeVQVAE (Lee et al. 2023). Mathisen et al.'s
# rows are the means of the 4 runs per variant in the authors' result files (github
# erlendlokna/Generative-SSL-VQVAE-modelling, results/UWaveGestureLibraryAll/{stage1,stage2,cas}/,
# read at 4b905c6; the means are computed here): the linear SVM and k-NN probes of stage 1, FID and IS
# of stage 2, CAS (val_acc_ema) on stage-2 samples. Each variant's numbers stay on its own row (an
# earlier version paired the warp variant's probe with the slice variant's generation scores). Their
# "warp" applies window warp and amplitude resize together; their "slice" is slice-and-shuffle,
# which none of our variants uses. ``ours`` names our variant that matches, if any.
ANCHORS: list[dict[str, Any]] = [
    {"source": "Mathisen et al. 2024", "model": "naive VQ-VAE", "ours": "vqvae-naive", "runs": 4,
     "linear SVM": 0.405, "k-NN": 0.311, "FID": 8.48, "IS": 2.13, "CAS": 0.333},
    {"source": "Mathisen et al. 2024", "model": "NC-VQVAE (VIbCReg, warp)", "ours": "nc-vqvae-vibcreg-window_warp",
     "runs": 4, "linear SVM": 0.733, "k-NN": 0.617, "FID": 6.80, "IS": 2.91, "CAS": 0.360},
    {"source": "Mathisen et al. 2024", "model": "NC-VQVAE (VIbCReg, slice-and-shuffle)", "ours": "", "runs": 4,
     "linear SVM": 0.658, "k-NN": 0.554, "FID": 6.49, "IS": 2.99, "CAS": 0.401},
    {"source": "Mathisen et al. 2024", "model": "NC-VQVAE (Barlow Twins, warp)",
     "ours": "nc-vqvae-barlow_twins-window_warp", "runs": 4,
     "linear SVM": 0.701, "k-NN": 0.619, "FID": 6.77, "IS": 2.86, "CAS": 0.300},
    {"source": "Mathisen et al. 2024", "model": "NC-VQVAE (Barlow Twins, slice-and-shuffle)", "ours": "", "runs": 4,
     "linear SVM": 0.634, "k-NN": 0.558, "FID": 6.64, "IS": 2.96, "CAS": 0.367},
    {"source": "Lee et al. 2023", "model": "TimeVQVAE", "ours": "", "runs": math.nan, "linear SVM": math.nan,
     "k-NN": math.nan, "FID": 4.5, "IS": 3.2, "CAS": 0.594},
]


def anchors_table() -> pd.DataFrame:
    """The cited numbers on UWaveGestureLibraryAll (NaN: not reported)."""
    return pd.DataFrame(ANCHORS).set_index(["source", "model"])


def method_label(method: str) -> str:
    """``vqvae-naive`` -> "naive VQ-VAE"; ``nc-vqvae-vibcreg-window_warp`` -> "NC (vibcreg, window_warp)"."""
    if method == NAIVE:
        return "naive VQ-VAE"
    parts = method.removeprefix("nc-vqvae-").split("-", 1)
    return f"NC ({parts[0]}, {parts[1]})" if len(parts) == 2 else method


def _probe(record: dict[str, Any], protocol: str, pooling: str) -> float:
    return next((r["accuracy"] for r in record["stage1"]["probes"]
                 if r["protocol"] == protocol and r["pooling"] == pooling), math.nan)


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per record: ``dataset``, ``method``, ``seed`` and every column of :data:`METRICS`."""
    rows = []
    for record in records:
        c, s1, s2 = record["config"], record["stage1"], record.get("stage2") or {}
        rows.append({"dataset": c["dataset"], "method": c["method"], "profile": c["profile"], "seed": c["seed"],
                     "linear_svm": _probe(record, "linear_svm", "mean"),
                     "linear_svm_flat": _probe(record, "linear_svm", "flatten"),
                     "knn": _probe(record, "knn", "mean"), "recon_mse": s1["recon_mse_test"],
                     "perplexity": s1["codebook"]["perplexity"], "codes_used": s1["codebook"]["used"],
                     "fid": s2.get("fid", math.nan), "is": s2.get("is", math.nan), "cas": s2.get("cas", math.nan),
                     "stage1_s": record["timing"]["stage1_s"], "stage2_s": record["timing"]["stage2_s"] or math.nan,
                     "extractor": s2.get("extractor_accuracy", math.nan), "fid_real": s2.get("fid_real_train", math.nan),
                     "is_real": s2.get("is_real_test", math.nan)})
    columns = ["dataset", "method", "profile", "seed", *METRICS]
    return pd.DataFrame(rows, columns=columns)


def load(root: str | Path) -> pd.DataFrame:
    """:func:`frame` of every NC-VQVAE record under ``root`` (empty when there are none)."""
    from sslts.vqvae.sweep import load_vqvae_records

    return frame(load_vqvae_records(root))


def _cell(values: pd.Series, digits: int) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    mean, _, low, high = mean_interval(values.to_numpy())
    return f"{mean:.{digits}f}" if len(values) == 1 else f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def summary_table(data: pd.DataFrame, dataset: str, metrics: tuple[str, ...] = tuple(METRICS),
                  digits: int = 3) -> pd.DataFrame:
    """Mean [95 % t-interval over seeds] per method on ``dataset``; the naive VQ-VAE first."""
    sub = data[data["dataset"] == dataset]
    methods = sorted(sub["method"].unique(), key=lambda m: (m != NAIVE, m))
    table = pd.DataFrame([{"method": method_label(m), "seeds": int((sub["method"] == m).sum()),
                           **{METRICS[k][0]: _cell(sub.loc[sub["method"] == m, k], digits) for k in metrics}}
                          for m in methods])
    return table.set_index("method") if not table.empty else table


def _pairs(data: pd.DataFrame, dataset: str, method: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    sub = data[data["dataset"] == dataset]
    a = sub[sub["method"] == method].set_index("seed")[metric].dropna()
    b = sub[sub["method"] == NAIVE].set_index("seed")[metric].dropna()
    seeds = sorted(set(a.index) & set(b.index))
    return a.loc[seeds].to_numpy(), b.loc[seeds].to_numpy()


def paired_table(data: pd.DataFrame, dataset: str, metric: str = "linear_svm") -> pd.DataFrame:
    """Each NC-VQVAE variant against the naive VQ-VAE on ``metric``: paired t-test over shared seeds,
    the verdict at 0.05 after Holm's correction over the table's variants ("Holm p")."""
    tests = {}
    for method in sorted(set(data.loc[data["dataset"] == dataset, "method"]) - {NAIVE}):
        a, b = _pairs(data, dataset, method, metric)
        if len(a) >= 2:
            tests[method] = paired_test(a, b, test="t")
    adjusted = holm([t.p_value for t in tests.values()])
    rows = [{"variant": method_label(method), "seeds": test.n, "mean difference": round(test.mean_difference, 4),
             "p": round(test.p_value, 4) if np.isfinite(test.p_value) else math.nan,
             "Holm p": round(float(q), 4) if np.isfinite(q) else math.nan,
             "verdict": _word(replace(test, p_value=float(q)), METRICS[metric][1])}
            for (method, test), q in zip(tests.items(), adjusted)]
    return pd.DataFrame(rows).set_index("variant") if rows else pd.DataFrame()


def _word(test: PairedTest, higher_better: bool) -> str:
    if not np.isfinite(test.p_value) or not test.significant:
        return "no significant difference"
    better = (test.mean_difference > 0) == higher_better
    return "better than naive" if better else "worse than naive"


def verdict(data: pd.DataFrame, dataset: str, method: str, metric: str) -> str:
    """One sentence: ``method`` against the naive VQ-VAE on ``metric`` (paired t-test over seeds)."""
    a, b = _pairs(data, dataset, method, metric)
    if len(a) < 2:
        return f"{method_label(method)} vs naive VQ-VAE on {dataset}: fewer than two paired seeds, no test"
    test = paired_test(a, b, test="t")
    return test.sentence(method_label(method), "the naive VQ-VAE", METRICS[metric][0]) + f" on {dataset}"


# The questions the chapter answers: does the SSL branch help the tokens (probe), generation, or both?
VERDICT_METRICS = ("linear_svm", "fid", "is", "cas")


SHORT_WORDS = {"better than naive": "better", "worse than naive": "worse", "no significant difference": "n.s."}
NOT_JUDGED = "not judged"


def extractor_table(data: pd.DataFrame, classes: dict[str, int]) -> pd.DataFrame:
    """Per dataset: the FID/IS extractor's test accuracy (mean over records) against chance, the bar
    it must clear (:data:`EXTRACTOR_MARGIN`), whether FID and IS are judged there, and the real data's
    own scores (FID of the real training split against the real test split, IS of the real test split):
    the controls that say what FID and IS can show."""
    rows = []
    for dataset, sub in data.groupby("dataset", sort=False):
        chance = 1.0 / classes[dataset]
        bar = chance + EXTRACTOR_MARGIN * (1.0 - chance)
        accuracy = float(sub["extractor"].mean())
        rows.append({"dataset": dataset, "classes": classes[dataset], "chance": round(chance, 3),
                     "extractor accuracy": round(accuracy, 3), "bar": round(bar, 3),
                     "FID and IS judged": bool(accuracy >= bar),
                     "FID real vs real": round(float(sub["fid_real"].mean()), 3),
                     "IS real test": round(float(sub["is_real"].mean()), 3)})
    return pd.DataFrame(rows).set_index("dataset") if rows else pd.DataFrame()


def classes_of(data: pd.DataFrame) -> dict[str, int]:
    """The number of classes of every dataset in ``data`` (read from its training split)."""
    from ..data import load_dataset

    return {d: load_dataset(d, "train").n_classes for d in dict.fromkeys(data["dataset"])}


def judged(table: pd.DataFrame) -> dict[str, bool]:
    """``{dataset: whether FID and IS are judged}`` from :func:`extractor_table`."""
    return {} if table.empty else table["FID and IS judged"].to_dict()


def verdict_cells(data: pd.DataFrame, metrics: tuple[str, ...] = VERDICT_METRICS,
                  judged_on: dict[str, bool] | None = None) -> pd.DataFrame:
    """One row per dataset, NC variant and metric: the paired t-test against the naive VQ-VAE.

    Columns: ``dataset``, ``variant``, ``metric`` (the metric's key), ``difference`` (mean over the
    seeds both have), ``holm_p`` (the t-test's p adjusted by Holm's method over every cell of the same
    metric, datasets and variants together) and ``word`` (better / worse / n.s. at alpha 0.05 on the
    adjusted p, lower FID being better; None where fewer than two seeds pair up, with
    ``difference`` NaN). With ``judged_on`` (:func:`judged`), FID and IS cells of a dataset whose
    extractor is not clearly better than chance say "not judged" and stay out of the Holm family.
    """
    rows, tests = [], []
    for dataset in dict.fromkeys(data["dataset"]) if not data.empty else []:
        for method in sorted(set(data.loc[data["dataset"] == dataset, "method"]) - {NAIVE}):
            for metric in metrics:
                a, b = _pairs(data, dataset, method, metric)
                test = paired_test(a, b, test="t") if len(a) >= 2 else None
                tests.append(test)
                rows.append({"dataset": dataset, "variant": method_label(method), "metric": metric,
                             "difference": np.nan if test is None else test.mean_difference,
                             "p": np.nan if test is None else test.p_value})
    cells = pd.DataFrame(rows, columns=["dataset", "variant", "metric", "difference", "p"])
    blind = cells["metric"].isin(FIDELITY_METRICS) & ~cells["dataset"].map(
        lambda d: True if judged_on is None else judged_on.get(d, False)).astype(bool)
    cells["holm_p"] = np.nan
    for metric, part in cells[~blind].groupby("metric"):
        cells.loc[part.index, "holm_p"] = holm(part["p"].to_numpy())
    cells["word"] = [None if test is None else NOT_JUDGED if unjudged else
                     SHORT_WORDS[_word(replace(test, p_value=float(q)), METRICS[m][1])]
                     for test, q, m, unjudged in zip(tests, cells["holm_p"], cells["metric"], blind)]
    return cells[["dataset", "variant", "metric", "difference", "holm_p", "word"]]


def verdict_grid(data: pd.DataFrame, metrics: tuple[str, ...] = VERDICT_METRICS,
                 judged_on: dict[str, bool] | None = None) -> pd.DataFrame:
    """:func:`verdict_cells` as a table: dataset x variant rows, ``+0.123 (better)`` per metric, "–"
    where fewer than two seeds pair up."""
    cells = verdict_cells(data, metrics, judged_on)
    if cells.empty:
        return pd.DataFrame()
    text = [("–" if word is None else f"{difference:+.3f} ({word})")
            for difference, word in zip(cells["difference"], cells["word"])]
    grid = cells.assign(text=text, column=[METRICS[m][0] for m in cells["metric"]])
    grid = grid.pivot(index=["dataset", "variant"], columns="column", values="text")
    order = list(dict.fromkeys(zip(cells["dataset"], cells["variant"])))
    return grid.loc[order, [METRICS[m][0] for m in metrics]].rename_axis(columns=None)


def answer(data: pd.DataFrame, probe: str = "linear_svm", generation: tuple[str, ...] = ("fid", "cas"),
           judged_on: dict[str, bool] | None = None) -> str:
    """Sentences from :func:`verdict_cells`: where the SSL branch helps the probe, generation, both,
    neither (FID not judged where its extractor is near chance: ``judged_on``)."""
    cells = verdict_cells(data, (probe, *generation), judged_on)
    if cells.empty:
        return "No dataset has paired naive and NC-VQVAE seeds yet."
    # cells with at least two paired seeds on the probe
    tested = cells.groupby(["dataset", "variant"], sort=False)["word"].transform(
        lambda words: words[cells.loc[words.index, "metric"] == probe].notna().any())
    cells = cells[tested.astype(bool)]
    if cells.empty:
        return "No dataset has two paired seeds of naive and NC-VQVAE yet."

    def where(word: str, metrics: tuple[str, ...]) -> list[str]:
        hits = cells[(cells["word"] == word) & cells["metric"].isin(metrics)]
        return [f"{d} ({v})" for d, v in dict.fromkeys(zip(hits["dataset"], hits["variant"]))]

    total = len(set(zip(cells["dataset"], cells["variant"])))
    probe_better, probe_worse = where("better", (probe,)), where("worse", (probe,))
    gen_better, gen_worse = where("better", generation), where("worse", generation)
    both = sorted(set(probe_better) & set(gen_better))
    names = " or ".join(METRICS[m][0] for m in generation)
    out = [f"Of {total} dataset × variant cells with paired seeds, the SSL branch significantly improves the "
           f"linear probe in {len(probe_better)} and harms it in {len(probe_worse)}"
           + (f" ({', '.join(probe_worse)})" if probe_worse else "") + ".",
           f"Generation ({names}) is significantly better in {len(gen_better)} cells and worse in "
           f"{len(gen_worse)}" + (f" ({', '.join(gen_worse)})" if gen_worse else "") + ".",
           f"Both improve together in {len(both)}" + (f": {', '.join(both)}" if both else "") + "."]
    return " ".join(out)
