"""The few-shot records (:mod:`sslts.fewshot`) as tables and paired tests.

A row of :func:`load` is one evaluation: the linear probe on a frozen encoder, or a baseline fitted
on the same ``k`` labelled series per class (the same seed draws the same series for every
method, so runs with one seed on one dataset are paired).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..comparison import PRETRAINS_WITH_LABELS
from ..fewshot import PROFILE
from ..results import load_records
from .comparison import LABELS, ORDER
from .stats import PairedTest, paired_test

ALL = "all"  # the column of the runs' full-label row


def load(out_dir: str | Path) -> pd.DataFrame:
    """Columns: dataset, method, seed, shots (an int, or ``"all"``), n_labelled, accuracy."""
    rows = []
    for record in load_records(out_dir):
        config = record["config"]
        if config.get("profile") != PROFILE or config["method"] in PRETRAINS_WITH_LABELS:
            continue  # (records of such a method, made before it was left out, are not few-shot results)
        for evaluation in record["evaluations"]:
            shots = evaluation.get("label_shots") or (ALL if evaluation["label_fraction"] == 1.0 else None)
            if shots is None:
                continue
            rows.append({"dataset": config["dataset"], "method": config["method"], "seed": config["seed"],
                         "shots": shots, "n_labelled": evaluation.get("n_labelled"), "accuracy": evaluation["accuracy"]})
    return pd.DataFrame(rows, columns=["dataset", "method", "seed", "shots", "n_labelled", "accuracy"])


def complete_datasets(frame: pd.DataFrame, methods: tuple[str, ...], seeds: int = 5) -> list[str]:
    """Datasets where every one of ``methods`` has ``seeds`` seeds."""
    counts = frame.drop_duplicates(["dataset", "method", "seed"]).groupby(["dataset", "method"]).size()
    return sorted(d for d in frame["dataset"].unique()
                  if all(counts.get((d, m), 0) >= seeds for m in methods))


def table(frame: pd.DataFrame, datasets: list[str]) -> pd.DataFrame:
    """Mean accuracy over ``datasets`` (each first averaged over seeds): methods x shots (1, 2, 5, all)."""
    sub = frame[frame["dataset"].isin(datasets)]
    per_dataset = sub.groupby(["method", "shots", "dataset"])["accuracy"].mean()
    out = per_dataset.groupby(["method", "shots"]).mean().unstack()
    columns = sorted(c for c in out.columns if c != ALL) + ([ALL] if ALL in out.columns else [])
    out = out.reindex(index=[m for m in ORDER if m in out.index], columns=columns)
    return out.rename(index=LABELS)


def paired(frame: pd.DataFrame, datasets: list[str], a: str, b: str, shots: Any) -> PairedTest:
    """Wilcoxon signed-rank test of ``a`` against ``b`` at ``shots``, over (dataset, seed) pairs.

    The pairs share the labelled series; they are not independent across the seeds of one dataset,
    so read the p-value as indicative and the effect size (matched-pairs rank-biserial r) first.
    """
    sub = frame[frame["dataset"].isin(datasets) & (frame["shots"] == shots)]
    wide = sub.pivot_table(index=["dataset", "seed"], columns="method", values="accuracy")
    both = wide[[a, b]].dropna() if a in wide and b in wide else pd.DataFrame(columns=[a, b])
    return paired_test(both[a].to_numpy(dtype=float), both[b].to_numpy(dtype=float))


def best_ssl(frame: pd.DataFrame, datasets: list[str], shots: Any, candidates: tuple[str, ...]) -> str | None:
    """The SSL method with the highest mean accuracy at ``shots`` over ``datasets`` (None without records)."""
    sub = frame[frame["dataset"].isin(datasets) & (frame["shots"] == shots) & frame["method"].isin(candidates)]
    if sub.empty:
        return None
    means = sub.groupby(["method", "dataset"])["accuracy"].mean().groupby("method").mean()
    return str(means.idxmax()) if np.isfinite(means.max()) else None
