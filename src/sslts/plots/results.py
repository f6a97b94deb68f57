"""Figures of results across methods: label fractions, the full-profile overview, the suite."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def label_fraction_curves(frame: pd.DataFrame, title: str) -> plt.Figure:
    """Linear-probe accuracy against the fraction of labels, one line per method and dataset."""
    rows = frame[frame["protocol"] == "linear"]
    means = rows.groupby(["dataset", "method", "label_fraction"])["accuracy"].mean().reset_index()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for (dataset, method), part in means.groupby(["dataset", "method"]):
        ax.plot(part["label_fraction"] * 100, part["accuracy"], marker="o", label=f"{method} ({dataset})")
    ax.set(xscale="log", xlabel="labelled training series (%)", ylabel="test accuracy (linear probe)", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# --- Full-profile overview -----------------------------------------------------------------------
def full_profile_overview(frame: pd.DataFrame, bars: dict[str, float], title: str,
                          protocols: tuple[str, ...] = ("linear", "svm", "finetune")) -> plt.Figure:
    """Mean test accuracy over seeds (bars, std as whiskers) per method row, one panel per dataset.

    ``frame`` comes from :func:`sslts.report.full_profile.full_profile_frame` (all labels only); ``bars`` maps a
    dataset to a reference accuracy drawn as a dashed line (the peers' bar). A row is a method with
    its encoder and, when it is not the defaults, its setting; rows are sorted by their SVM mean.
    """
    rows = frame[frame["label_fraction"] == 1.0].copy()
    rows["row"] = rows["method"] + " (" + rows["encoder"] + ")" + np.where(
        rows["setting"] == "defaults", "", "\n" + rows["setting"])
    datasets = list(dict.fromkeys(rows["dataset"]))
    fig, axes = plt.subplots(1, max(1, len(datasets)), squeeze=False,
                             figsize=(5.0 * max(1, len(datasets)), 0.5 + 0.42 * rows["row"].nunique() * len(protocols) / 2))
    colors = dict(zip(protocols, ("tab:blue", "tab:orange", "tab:green", "tab:red")))
    height = 0.8 / len(protocols)
    for ax, dataset in zip(axes[0], datasets):
        stats = (rows[rows["dataset"] == dataset].groupby(["protocol", "row"])["accuracy"]
                 .agg(["mean", "std", "count"]))
        sort_by = "svm" if "svm" in stats.index else stats.index[0][0]
        order = stats.loc[sort_by]["mean"].sort_values().index  # best at the top
        for k, protocol in enumerate(p for p in protocols if p in stats.index):
            part = stats.loc[protocol].reindex(order)
            y = np.arange(len(order)) + ((len(protocols) - 1) / 2 - k) * height  # first protocol on top
            ax.barh(y, part["mean"], height=height, xerr=part["std"].fillna(0.0), color=colors[protocol],
                    label=protocol, error_kw={"linewidth": 0.8})
        seeds = stats.groupby(level="row")["count"].max()
        ax.set_yticks(np.arange(len(order)), [f"{r}  n={seeds[r]}" for r in order], fontsize=7)
        if dataset in bars:
            ax.axvline(bars[dataset], color="black", linestyle="--", linewidth=0.9, label=f"peer bar {bars[dataset]:.3f}")
        low = max(0.0, float(stats["mean"].min()) - 0.1)
        ax.set(xlim=(low, 1.0), xlabel="test accuracy (mean over seeds, whisker: std)", title=dataset)
    handles = {label: h for ax in axes[0] for h, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=len(handles), fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _accuracy_lines(table: pd.DataFrame, x: list[float], title: str, xlabel: str, ticks: tuple[list, list] | None,
                    log: bool = False):
    """Lines of mean accuracy (rows: methods) at ``x`` (one per column); baselines dashed and thicker."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for method, row in table.iterrows():
        baseline = method in ("MiniRocket", "supervised CNN", "1-NN DTW")
        ax.plot(x, row.to_numpy(dtype=float), marker="o", label=method,
                linestyle="--" if baseline else "-", linewidth=2.2 if baseline else 1.4)
    if log:
        ax.set_xscale("log")
    if ticks is not None:
        ax.set_xticks(*ticks)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean test accuracy")
    ax.set_title(title)
    ax.legend(fontsize=9, ncol=2, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def label_efficiency_figure(table, title: str = "Accuracy against the share of training labels"):
    """Lines of mean accuracy (rows: methods) against the label fraction (columns), log-scaled x."""
    return _accuracy_lines(table, [100 * f for f in table.columns], title,
                           "labelled training series (stratified, at least one per class)",
                           ([1, 5, 10, 100], ["1%", "5%", "10%", "100%"]), log=True)


def few_shot_figure(table: pd.DataFrame, title: str = "Accuracy with k labelled series per class"):
    """Lines of mean accuracy (rows: methods) against the labelled series per class (columns: 1, 2,
    5, ..., then "all"), evenly spaced."""
    x = list(range(len(table.columns)))
    return _accuracy_lines(table, x, title, "labelled training series per class", (x, [str(c) for c in table.columns]))


def suite_figure(means: pd.DataFrame, title: str = "Headline accuracy per dataset"):
    """Dots of mean accuracy (columns: methods) per dataset (rows), baselines as larger open markers."""
    fig, ax = plt.subplots(figsize=(max(7.5, 0.75 * len(means) + 3), 4.8))
    markers = "osD^v<>phX*P"
    x = np.arange(len(means))
    for i, method in enumerate(means.columns):
        baseline = method in ("MiniRocket", "supervised CNN", "1-NN DTW")
        ax.scatter(x + (i - len(means.columns) / 2) * 0.04, means[method], label=method, marker=markers[i % len(markers)],
                   s=70 if baseline else 30, facecolors="none" if baseline else None, linewidths=1.6, zorder=3)
    ax.set_xticks(x, means.index, rotation=30, ha="right")
    ax.set_ylabel("mean test accuracy over seeds")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncol=1, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig
