"""Figures of the method chapters: pre-training curves, SS-GAN, MAE and TTT-MAE."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


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


# --- SS-GAN -----------------------------------------------------------------------------------

def gan_training_curves(results: list, title: str) -> plt.Figure:
    """Per-epoch SS-GAN histories: both players' losses, the transformation losses and accuracies.

    One panel each for ``d_loss``/``g_loss``, ``transform_real``/``transform_fake`` (cross-entropy;
    ``log 4`` is chance) and ``transform_acc_real``/``transform_acc_fake``/``d_accuracy``.
    """
    panels = [("players' losses", ("d_loss", "g_loss")),
              ("transformation cross-entropy", ("transform_real", "transform_fake")),
              ("accuracies", ("transform_acc_real", "transform_acc_fake", "d_accuracy"))]
    with_history = [r for r in results if r.record["history"].get("d_loss")]
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 2.9), squeeze=False)
    for ax, (name, terms) in zip(axes[0], panels):
        for r in with_history:
            cfg, history = r.record["config"], r.record["history"]
            for term, style in zip(terms, ("-", "--", ":")):
                if term in history:
                    ax.plot(range(1, len(history[term]) + 1), history[term], style, linewidth=1,
                            label=f"{term} {cfg['dataset']} s{cfg['seed']}")
        if name.startswith("transformation"):
            ax.axhline(np.log(4), color="grey", linewidth=0.6)  # chance: the head cannot tell
        ax.set(title=name, xlabel="epoch")
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def generated_vs_real(real_X: np.ndarray, real_y: np.ndarray, fake_X: np.ndarray, fake_y: np.ndarray,
                      confidence: np.ndarray, class_names: tuple[str, ...], per_class: int, title: str,
                      channel: int = 0) -> plt.Figure:
    """One row per class: real series (left) next to the generated series assigned to it (right).

    Generated series are drawn in order of decreasing classifier ``confidence``; a class no
    generated series was assigned to gets an empty right panel with a note.
    """
    n = len(class_names)
    fig, axes = plt.subplots(n, 2, figsize=(7, 1.2 * n + 0.6), sharex=True, sharey=True, squeeze=False)
    for label, name in enumerate(class_names):
        real = np.flatnonzero(real_y == label)[:per_class]
        fake = np.flatnonzero(fake_y == label)
        fake = fake[np.argsort(-confidence[fake])][:per_class]
        axes[label, 0].plot(real_X[real, channel].T, linewidth=0.8)
        if len(fake):
            axes[label, 1].plot(fake_X[fake, channel].T, linewidth=0.8)
        else:
            axes[label, 1].text(0.5, 0.5, "no generated series", ha="center", va="center",
                                transform=axes[label, 1].transAxes, fontsize=7)
        axes[label, 0].set_ylabel(name, rotation=0, ha="right", fontsize=7)
        for ax in axes[label]:
            ax.tick_params(labelsize=6)
    axes[0, 0].set_title("real (training split)", fontsize=8)
    axes[0, 1].set_title("generated, assigned by the classifier", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --- MAE (masked modelling) ------------------------------------------------------------------
def masked_reconstructions(series: np.ndarray, examples: list, title: str, channel: int = 0,
                           channel_name: str | None = None) -> plt.Figure:
    """One row per mask ratio: the original series, the visible (unmasked) input and the reconstruction.

    Args:
        series: ``(C, L)`` the original (standardised) series.
        examples: ``(ratio, hidden_steps (L,) bool, reconstruction (C, L))`` per mask ratio.
        channel: the channel drawn.
    """
    fig, axes = plt.subplots(len(examples), 1, figsize=(7.5, 1.6 * len(examples) + 0.6), sharex=True, squeeze=False)
    t = np.arange(series.shape[-1])
    for ax, (ratio, hidden, recon) in zip(axes[:, 0], examples):
        for start, stop in _runs(hidden):
            ax.axvspan(start - 0.5, stop - 0.5, color="0.9", linewidth=0)
        ax.plot(t, series[channel], color="0.55", linewidth=1, label="original")
        ax.plot(t, np.where(hidden, np.nan, series[channel]), color="black", linewidth=1.2, label="masked input (visible)")
        ax.plot(t, np.where(hidden, recon[channel], np.nan), color="tab:red", linewidth=1.2, label="reconstruction (hidden)")
        ax.set_ylabel(f"ratio {ratio:g}", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, ncol=3, loc="upper right")
    axes[-1, 0].set_xlabel("time step" + (f" ({channel_name})" if channel_name else ""))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in a 1-D boolean array."""
    padded = np.concatenate([[False], np.asarray(flags, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return list(zip(edges[::2], edges[1::2]))


def mask_ratio_curve(table: pd.DataFrame, title: str) -> plt.Figure:
    """Probe accuracy against MAE's mask ratio; random-init rows (ratio None) as dashed lines."""
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    colors = {"linear": "tab:blue", "svm": "tab:orange"}
    markers = {"transformer": "o", "cnn": "s", "dilated": "^"}
    for encoder, part in table.groupby("encoder", sort=False):
        trained = part[part["mask_ratio"].notna()].sort_values("mask_ratio")
        base = part[part["mask_ratio"].isna()]
        for protocol, color in colors.items():
            ax.plot(trained["mask_ratio"], trained[protocol], marker=markers.get(encoder, "x"), color=color,
                    linestyle="-" if len(trained) > 1 else "none", label=f"MAE {encoder} ({protocol})")
            for value in base[protocol]:
                ax.axhline(value, color=color, linestyle="--" if encoder == "transformer" else ":", linewidth=0.8,
                           label=f"random {encoder} ({protocol})")
    ax.set(xlabel="mask ratio", ylabel="test accuracy", title=title)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


# --- Test-time training (TTT-MAE) ----------------------------------------------------------------
TTT_MODE_LABELS = {"none": "no adaptation", "batch": "batch TTT", "series": "single-series TTT",
                   "bn_only": "test-batch BN only", "batch_bn": "batch TTT + test-batch BN"}


def ttt_shift_curves(frame: pd.DataFrame, title: str) -> plt.Figure:
    """Accuracy against severity, one panel per shift, one line per prediction mode.

    ``frame`` holds rows of :func:`sslts.evaluate.adapt.evaluate_under_shifts` for one dataset; the
    clean rows (shift ``"none"``, severity 0) start every panel's lines at severity 0.
    """
    shifts = [s for s in dict.fromkeys(frame["shift"]) if s != "none"]
    clean = frame[frame["shift"] == "none"]
    fig, axes = plt.subplots(1, max(1, len(shifts)), figsize=(2.6 * max(1, len(shifts)), 2.8),
                             sharey=True, squeeze=False)
    for ax, shift in zip(axes[0], shifts):
        part = pd.concat([clean, frame[frame["shift"] == shift]])
        for mode, rows in part.groupby("mode", sort=False):
            rows = rows.sort_values("severity")
            ax.plot(rows["severity"], rows["accuracy"], marker="o", markersize=3, linewidth=1,
                    label=TTT_MODE_LABELS.get(mode, mode), linestyle="--" if mode == "none" else "-")
        ax.set(title=shift.replace("_", " "), xlabel="severity")
        ax.set_xticks(sorted(part["severity"].unique()))
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("test accuracy")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
