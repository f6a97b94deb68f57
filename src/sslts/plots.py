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


def label_efficiency_figure(table, title: str = "Accuracy against the share of training labels"):
    """Lines of mean accuracy (rows: methods) against the label fraction (columns), log-scaled x."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for method, row in table.iterrows():
        baseline = method in ("MiniRocket", "supervised CNN", "1-NN DTW")
        ax.plot([100 * f for f in row.index], row.to_numpy(), marker="o", label=method,
                linestyle="--" if baseline else "-", linewidth=2.2 if baseline else 1.4)
    ax.set_xscale("log")
    ax.set_xticks([1, 5, 10, 100], ["1%", "5%", "10%", "100%"])
    ax.set_xlabel("labelled training series (stratified, at least one per class)")
    ax.set_ylabel("mean test accuracy")
    ax.set_title(title)
    ax.legend(fontsize=9, ncol=2, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


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
