"""Figures of the label-scarce study: accuracy against labels per class and against the budget."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..report.scarce import READOUT_LABELS, TARGET_LABELS, main_systems
from ..report.stats import mean_interval
from ..scarce.fewlabel import ALL, SHOTS

BASELINES = ("untrained CNN", "MiniRocket", "MiniRocket (ridge)", "supervised CNN")


def shots_figure(frame: pd.DataFrame, target: str, readouts: tuple[str, ...] = ("centroid", "spread")) -> plt.Figure:
    """Mean test accuracy (95 % interval over seeds as bars) against labelled series per class, one panel
    per read-out; the classifiers fitted on labels alone (``own``) appear in every panel, dashed."""
    sub = main_systems(frame)
    sub = sub[sub["target"] == target]
    columns = [*SHOTS, ALL]
    x = np.arange(len(columns))
    fig, axes = plt.subplots(1, len(readouts), figsize=(5.2 * len(readouts), 4.2), sharey=True, squeeze=False)
    for ax, readout in zip(axes[0], readouts):
        shown = sub[sub["readout"].isin([readout, "own"])]
        for name, part in shown.groupby("system", sort=True):
            stats = [mean_interval(part.loc[part["shots"] == c, "accuracy"].to_numpy())
                     if (part["shots"] == c).any() else (np.nan, 0, np.nan, np.nan) for c in columns]
            mean = np.array([s[0] for s in stats])
            half = np.array([(s[3] - s[2]) / 2 for s in stats])
            baseline = name in BASELINES
            ax.errorbar(x, mean, yerr=half, marker="o", capsize=3, label=name, linestyle="--" if baseline else "-",
                        linewidth=2.0 if baseline else 1.4)
        ax.set(xticks=x, xticklabels=[str(c) for c in columns], xlabel="labelled training series per class",
               title=f"{TARGET_LABELS[target]}: {READOUT_LABELS[readout]}")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def budget_figure(frame: pd.DataFrame, target: str, readout: str = "centroid", shots: tuple = (1, 5)) -> plt.Figure:
    """Accuracy against pre-training series passes (log scale), one line per SSL system and ``k``;
    the untrained CNN under the same read-out as a horizontal line per ``k``."""
    sub = frame[(frame["target"] == target) & (frame["readout"] == readout) & frame["shots"].isin(shots)
                & ~frame["corpus"].fillna("").str.match(r"uwave-pool-\d+")]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ssl = sub[sub["features"] == "ssl"]
    for (name, k), part in ssl.groupby(["system", "shots"]):
        means = part.groupby("passes")["accuracy"].mean()
        ax.plot(means.index, means.to_numpy(), marker="o", label=f"{name}, k = {k}")
    untrained = sub[sub["system"] == "untrained CNN"]
    for k, part in untrained.groupby("shots"):
        ax.axhline(part["accuracy"].mean(), color="grey", linestyle=":", linewidth=1.2)
        ax.annotate(f"untrained, k = {k}", (ax.get_xlim()[0], part["accuracy"].mean()), fontsize=7, color="grey",
                    va="bottom")
    ax.set(xscale="log", xlabel="pre-training series passes", ylabel=f"test accuracy ({READOUT_LABELS[readout]})",
           title=f"{TARGET_LABELS[target]}: accuracy against the pre-training budget")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def benchmark_figure(means: pd.DataFrame, title: str) -> plt.Figure:
    """Mean few-label accuracy over a benchmark's problems against labelled series per class, one line
    per system (``means``: :func:`sslts.report.benchmarks.ucr_few_label`'s first table)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    systems = [c for c in means.columns if c != "problems"]
    for name in systems:
        ax.plot(means.index.astype(str), means[name].to_numpy(), marker="o", label=name,
                linestyle="--" if name in BASELINES else "-")
    problems = means["problems"].iloc[0] if "problems" in means and len(means) else 0
    ax.set(xlabel="labelled training series per class", ylabel="mean test accuracy (nearest centroid)",
           title=f"{title} ({problems} problems)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def pool_size_figure(table: pd.DataFrame) -> plt.Figure:
    """Accuracy against the number of unlabelled pre-training series (log scale), one line per read-out
    and ``k`` (``table``: :func:`sslts.report.scarce.pool_size_table`)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for column in table.columns:
        ax.plot(table.index, table[column].to_numpy(), marker="o", label=column)
    ax.set(xscale="log", xlabel="unlabelled series in the pre-training pool", ylabel="UWave test accuracy",
           title="VICReg on UWave pools of growing size (seed 0)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
