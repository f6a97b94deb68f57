"""Figures the chapters share. Each function draws on a new figure and returns it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .data import cleaning
from .data.registry import TimeSeriesData


def class_balance(table: pd.DataFrame, title: str) -> plt.Figure:
    """Grouped bars of series per class and split (``table`` from ``describe.class_balance``)."""
    fig, ax = plt.subplots(figsize=(7, 3))
    table.plot.bar(ax=ax, width=0.8)
    ax.set(title=title, xlabel="class", ylabel="series")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


def examples_per_class(data: TimeSeriesData, per_class: int, seed: int, max_channels: int = 3) -> plt.Figure:
    """A grid: one row per class, one column per channel, ``per_class`` random series overlaid."""
    rng = np.random.default_rng(seed)
    channels = list(range(min(max_channels, data.X.shape[1])))
    fig, axes = plt.subplots(data.n_classes, len(channels), figsize=(3.2 * len(channels), 1.3 * data.n_classes),
                             sharex=True, squeeze=False)
    for label, name in enumerate(data.class_names):
        members = np.flatnonzero(data.y == label)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for col, channel in enumerate(channels):
            ax = axes[label, col]
            ax.plot(data.X[chosen, channel].T, linewidth=0.8)
            if col == 0:
                ax.set_ylabel(name, rotation=0, ha="right", fontsize=8)
            if label == 0:
                ax.set_title(data.channel_names[channel], fontsize=9)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"{data.name}: {per_class} random {data.split} series per class", fontsize=10)
    fig.tight_layout()
    return fig


def correlation_heatmap(corr: np.ndarray, names: list[str], title: str) -> plt.Figure:
    """Annotated heatmap of a channel correlation matrix."""
    size = 1.0 + 0.55 * len(names)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    sns.heatmap(pd.DataFrame(corr, index=names, columns=names), vmin=-1, vmax=1, cmap="vlag", annot=len(names) <= 10,
                fmt=".2f", square=True, ax=ax, cbar_kws={"label": "Pearson r"})
    ax.set_title(title)
    fig.tight_layout()
    return fig


def cleaning_steps(train: TimeSeriesData, index: int, window: int, threshold: float) -> plt.Figure:
    """One training series through the cleaning steps: raw, outliers clipped, smoothed, scaled."""
    detector = cleaning.OutlierDetector("zscore", threshold=threshold, action="clip").fit(train.X)
    scaler = cleaning.ChannelStandardScaler().fit(train.X)
    raw = train.X[index : index + 1]
    clipped = detector.transform(raw)
    smoothed = cleaning.moving_average(clipped, window)
    scaled = scaler.transform(smoothed)
    stages = [("raw", raw), (f"clipped at |z| > {threshold:g}", clipped), (f"moving average ({window})", smoothed),
              ("z-scored (train statistics)", scaled)]
    fig, axes = plt.subplots(1, len(stages), figsize=(13, 2.6), sharex=True)
    for ax, (title, series) in zip(axes, stages):
        ax.plot(series[0, : min(3, series.shape[1])].T, linewidth=0.9)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].legend(train.channel_names[:3], fontsize=7)
    fig.suptitle(f"{train.name}: training series {index} ({train.class_names[train.y[index]]})", fontsize=10)
    fig.tight_layout()
    return fig


def training_curves(results: list, title: str) -> plt.Figure:
    """Per-epoch pre-training loss (and its named terms) of each experiment with a history."""
    with_history = [r for r in results if r.record["history"]]
    terms = sorted({k for r in with_history for k in r.record["history"]})
    fig, axes = plt.subplots(1, max(1, len(terms)), figsize=(3.4 * max(1, len(terms)), 2.8), squeeze=False)
    for ax, term in zip(axes[0], terms):
        for r in with_history:
            cfg = r.record["config"]
            if term in r.record["history"]:
                ax.plot(range(1, len(r.record["history"][term]) + 1), r.record["history"][term],
                        label=f"{cfg['method']} {cfg['dataset']} s{cfg['seed']}", linewidth=1)
        ax.set(title=term, xlabel="epoch")
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def embedding_tsne(coords: np.ndarray, y: np.ndarray, class_names: tuple[str, ...], title: str, ax=None) -> plt.Figure:
    """Scatter of 2-D t-SNE coordinates coloured by class."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.8))
    palette = sns.color_palette("tab10", len(class_names))
    for label, name in enumerate(class_names):
        members = y == label
        ax.scatter(coords[members, 0], coords[members, 1], s=6, color=palette[label % 10], label=name)
    ax.set(title=title, xticks=[], yticks=[])
    ax.legend(fontsize=6, markerscale=2, loc="best")
    return fig if fig is not None else ax.figure


def confusion(matrix: list[list[int]], class_names: tuple[str, ...], title: str) -> plt.Figure:
    """Row-normalised confusion matrix (rows: true class)."""
    counts = np.asarray(matrix, dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 1.5 + 0.45 * len(class_names)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    sns.heatmap(pd.DataFrame(rates, index=class_names, columns=class_names), vmin=0, vmax=1, cmap="Blues",
                annot=len(class_names) <= 10, fmt=".2f", square=True, ax=ax, cbar=False)
    ax.set(title=title, xlabel="predicted", ylabel="true")
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


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


def augmentation_gallery(data: TimeSeriesData, index: int, seed: int, channel: int = 0) -> plt.Figure:
    """Every registered augmentation applied (default strength) to one series, against the original."""
    import torch

    from .augment import AUGMENTATIONS

    x = torch.from_numpy(np.ascontiguousarray(data.X[index : index + 1]))  # (1, C, L)
    names = list(AUGMENTATIONS)
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.0 * rows), sharex=True, squeeze=False)
    for ax, name in zip(axes.flat, names):
        generator = torch.Generator().manual_seed(seed)
        augmented = AUGMENTATIONS[name](x, generator)
        ax.plot(x[0, channel].numpy(), color="0.6", linewidth=1, label="original")
        ax.plot(augmented[0, channel].numpy(), color="C3", linewidth=1, label="augmented")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{data.name}: series {index} ({data.class_names[data.y[index]]}), channel "
                 f"{data.channel_names[channel]}", fontsize=10)
    fig.tight_layout()
    return fig
