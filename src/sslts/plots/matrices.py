"""Figures of embeddings and matrices: t-SNE scatter, confusion matrix, similarity heatmap."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns


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


# ----------------------------------------------------------------------------- CLIP chapter
def similarity_heatmap(matrix: np.ndarray, title: str, row_labels: list[str] | None = None,
                       col_labels: list[str] | None = None, xlabel: str = "", ylabel: str = "",
                       annotate: bool = False, colorbar_label: str = "") -> plt.Figure:
    """A matrix of values in [-1, 1]: cosine similarities (CLIP's pair matrix, class texts against
    each other) or correlations."""
    matrix = np.asarray(matrix, dtype=float)
    size = min(7.0, 2.0 + 0.35 * matrix.shape[0])
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    sns.heatmap(matrix, cmap="RdBu_r", center=0, vmin=-1, vmax=1, square=True, ax=ax, annot=annotate,
                fmt=".2f", annot_kws={"fontsize": 7},
                xticklabels=col_labels if col_labels is not None else False,
                yticklabels=row_labels if row_labels is not None else False, cbar_kws={"label": colorbar_label})
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig
