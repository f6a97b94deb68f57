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
