"""Figures of the network-dissection chapter: detector counts and the segments units fire on."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def detector_bars(counts: pd.DataFrame, title: str = "Detector units per concept type"):
    """Stacked bars: for each (dataset, method) row, how many units detect each concept type."""
    fig, ax = plt.subplots(figsize=(max(6.5, 0.7 * len(counts) + 2.5), 4.2))
    bottom = np.zeros(len(counts))
    labels = [f"{d}\n{m}" for d, m in counts.index]
    for column in counts.columns:
        color = "#d0d0d0" if column == "none" else None
        ax.bar(labels, counts[column].to_numpy(), bottom=bottom, label=column, color=color)
        bottom += counts[column].to_numpy()
    ax.set_ylabel("units of the last convolution")
    ax.set_title(title)
    ax.legend(frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=9)
    plt.setp(ax.get_xticklabels(), fontsize=8)
    fig.tight_layout()
    return fig


def unit_segments(X: np.ndarray, maps: np.ndarray, units: list[dict], title: str):
    """For each unit, the training series where it fires most, with the stretch of its strongest
    activation shaded (feature-map steps mapped back to input steps)."""
    fig, axes = plt.subplots(1, len(units), figsize=(4.2 * len(units), 3.0), squeeze=False)
    length, steps = X.shape[-1], maps.shape[-1]
    for ax, unit in zip(axes[0], units):
        u = unit["unit"]
        series = int(maps[:, u, :].max(axis=1).argmax())
        step = int(maps[series, u, :].argmax())
        for channel in range(X.shape[1]):
            ax.plot(X[series, channel], linewidth=1)
        ax.axvspan(step * length / steps, (step + 1) * length / steps, color="orange", alpha=0.3)
        ax.set_title(f"unit {u}: {unit['concept']} ({unit['concept_type']}), IoU {unit['iou']:.2f}", fontsize=9)
        ax.set_xlabel("time step")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
