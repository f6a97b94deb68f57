"""Figures of the data and augmentation chapters: classes, example series, correlations, cleaning, augmentations."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..data import cleaning
from ..data.registry import TimeSeriesData
from .matrices import similarity_heatmap


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
    return similarity_heatmap(corr, title, list(names), list(names), annotate=len(names) <= 10,
                              colorbar_label="Pearson r")


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


def augmentation_gallery(data: TimeSeriesData, index: int, seed: int, channel: int = 0) -> plt.Figure:
    """Every registered augmentation applied (default strength) to one series, against the original."""
    import torch

    from ..augment import AUGMENTATIONS

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
