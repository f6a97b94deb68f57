"""NC-VQVAE figures: the two stages, reconstructions, code usage, samples per class, and the records."""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = ["code_usage_bars", "records_by_method", "reconstructions", "samples_by_class", "two_stages"]


def _box(ax: plt.Axes, x: float, y: float, text: str, color: str, w: float = 0.17, h: float = 0.16) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.01", fc=color, ec="0.3"))
    ax.text(x, y, text, ha="center", va="center", fontsize=7)


def _arrow(ax: plt.Axes, a: tuple[float, float], b: tuple[float, float], style: str = "-|>") -> None:
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=8, color="0.3", lw=0.9))


def two_stages() -> plt.Figure:
    """A schematic of NC-VQVAE: stage 1 (tokenizer with the optional SSL branch) and stage 2 (prior)."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.set_xlim(0, 1), ax.set_ylim(0, 1), ax.axis("off")
    top, ssl, low = 0.78, 0.5, 0.15
    _box(ax, 0.07, top, "series x\n(B, C, L)", "#eeeeee", w=0.11)
    _box(ax, 0.26, top, "encoder\nz_e (B, D, T)", "#cfe2f3")
    _box(ax, 0.46, top, "quantiser\nnearest of K codes", "#fce5cd")
    _box(ax, 0.66, top, "decoder", "#cfe2f3", w=0.12)
    _box(ax, 0.88, top, "x̂: MSE(x, x̂)\n+ commitment", "#eeeeee")
    for a, b in ((0.125, 0.175), (0.345, 0.375), (0.545, 0.60), (0.72, 0.795)):
        _arrow(ax, (a, top), (b, top))
    _box(ax, 0.07, ssl, "view x'\n(augmented)", "#eeeeee", w=0.11)
    _box(ax, 0.26, ssl, "same encoder\nmean over T", "#cfe2f3")
    _box(ax, 0.50, ssl, "projector, then\nVIbCReg / Barlow Twins\n(pooled z_e, z_e')", "#d9ead3", w=0.22, h=0.18)
    _arrow(ax, (0.125, ssl), (0.175, ssl)), _arrow(ax, (0.345, ssl), (0.39, ssl))
    _arrow(ax, (0.26, top - 0.08), (0.42, ssl + 0.09))
    ax.text(0.66, ssl, "NC-VQVAE only\n(naive: no branch)", fontsize=7, va="center", style="italic")
    _box(ax, 0.10, low, "tokens (B, T)\n+ class y", "#fce5cd", w=0.14)
    _box(ax, 0.34, low, "mask a cosine-\nscheduled share", "#eeeeee")
    _box(ax, 0.58, low, "bidirectional\nTransformer prior", "#d9d2e9")
    _box(ax, 0.84, low, "MaskGIT decoding\n-> tokens -> decoder", "#d9d2e9", w=0.2)
    for a, b in ((0.17, 0.255), (0.425, 0.495), (0.665, 0.74)):
        _arrow(ax, (a, low), (b, low))
    ax.text(0.0, 0.97, "Stage 1: tokenizer (trained first)", fontsize=8, weight="bold")
    ax.text(0.0, 0.30, "Stage 2: class-conditional prior over the frozen tokenizer's tokens", fontsize=8, weight="bold")
    fig.tight_layout()
    return fig


def reconstructions(X: np.ndarray, X_hat: np.ndarray, n: int, title: str, channel: int = 0) -> plt.Figure:
    """``n`` series ``(n, C, L)`` (black) and their reconstructions (orange), one panel each."""
    n = min(n, len(X))
    fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 1.8), sharey=True, squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.plot(X[i, channel], color="black", lw=0.9, label="series")
        ax.plot(X_hat[i, channel], color="tab:orange", lw=0.9, label="reconstruction")
        ax.tick_params(labelsize=6)
    axes[0, 0].legend(fontsize=6, loc="best")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def code_usage_bars(usage: Mapping[str, np.ndarray], title: str) -> plt.Figure:
    """Share of tokens per code ``(K,)``, sorted, one panel per tokenizer."""
    fig, axes = plt.subplots(1, len(usage), figsize=(3.4 * len(usage), 2.2), sharey=True, squeeze=False)
    for ax, (name, shares) in zip(axes[0], usage.items()):
        shares = np.sort(np.asarray(shares))[::-1]
        ax.bar(np.arange(len(shares)), shares, color="tab:blue")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("code (by usage)", fontsize=7)
        ax.tick_params(labelsize=6)
    axes[0, 0].set_ylabel("share of tokens", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def samples_by_class(real_X: np.ndarray, real_y: np.ndarray, gen_X: np.ndarray, gen_y: np.ndarray,
                     class_names: tuple[str, ...], per_class: int, title: str, channel: int = 0) -> plt.Figure:
    """One row per class: real training series (left) next to series generated for that class (right)."""
    n = len(class_names)
    fig, axes = plt.subplots(n, 2, figsize=(7, 1.0 * n + 0.7), sharex=True, sharey=True, squeeze=False)
    for label, name in enumerate(class_names):
        axes[label, 0].plot(real_X[np.flatnonzero(real_y == label)[:per_class], channel].T, lw=0.8)
        axes[label, 1].plot(gen_X[np.flatnonzero(gen_y == label)[:per_class], channel].T, lw=0.8)
        axes[label, 0].set_ylabel(name, rotation=0, ha="right", fontsize=7)
        for ax in axes[label]:
            ax.tick_params(labelsize=6)
    axes[0, 0].set_title("real (training split)", fontsize=8)
    axes[0, 1].set_title("generated for the class (conditioning)", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def records_by_method(data: pd.DataFrame, metric: str, label: str, labeller=str) -> plt.Figure:
    """Each seed's ``metric`` (dots) and the mean (bar) per method, one panel per dataset."""
    datasets = list(dict.fromkeys(data["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.2), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        sub = data[data["dataset"] == dataset]
        methods = sorted(sub["method"].unique(), key=lambda m: (not m.startswith("vqvae"), m))
        for i, method in enumerate(methods):
            values = sub.loc[sub["method"] == method, metric].dropna().to_numpy()
            ax.bar(i, values.mean() if values.size else np.nan, color="0.85")
            ax.plot(np.full(values.size, i), values, "o", ms=3, color="tab:blue")
        ax.set_xticks(range(len(methods)), [labeller(m) for m in methods], rotation=60, ha="right", fontsize=6)
        ax.set_title(dataset, fontsize=8)
        ax.tick_params(labelsize=6)
    axes[0, 0].set_ylabel(label, fontsize=7)
    fig.tight_layout()
    return fig
