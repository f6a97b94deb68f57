"""Figures of the transfer chapter: label-efficiency curves per source, one panel per protocol."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def transfer_curves(curves: dict[str, pd.DataFrame], budget_kind: str, title: str) -> plt.Figure:
    """Mean test accuracy against the label budget, one line per ``source · method``, 95% band.

    Args:
        curves: panel title (a protocol) -> :func:`sslts.report.transfer.curves` frame.
        budget_kind: ``"shots"`` (x axis: labelled series per class) or ``"fraction"`` (share, log axis).
        title: the figure's title.
    """
    panels = [(name, frame) for name, frame in curves.items() if not frame.empty]
    fig, axes = plt.subplots(1, max(1, len(panels)), squeeze=False, figsize=(5.2 * max(1, len(panels)), 3.8),
                             sharey=True)
    # One colour per source, one marker and line style per method; scratch dashed black.
    sources = list(dict.fromkeys(s for _, frame in panels for s in frame["source"] if s != "none"))
    colors = {s: plt.cm.tab10(i % 10) for i, s in enumerate(sources)}
    methods = sorted({m for _, frame in panels for m in frame[frame["source"] != "none"]["method"]})
    styles = {m: (("o", "-"), ("s", ":"), ("^", "-."))[i % 3] for i, m in enumerate(methods)}
    for ax, (name, frame) in zip(axes[0], panels):
        for row, part in frame.groupby("row"):
            part = part.sort_values("budget")
            x = part["budget"] * (100 if budget_kind == "fraction" else 1)
            source, method = part["source"].iloc[0], part["method"].iloc[0]
            color = "black" if source == "none" else colors[source]
            marker, line = ("x", "--") if source == "none" else styles[method]
            ax.plot(x, part["mean"], linestyle=line, marker=marker, markersize=3.5, color=color, label=row)
            ax.fill_between(x, part["low"], part["high"], color=color, alpha=0.10, linewidth=0)
        ax.set(xscale="log", title=name, ylabel="test accuracy (mean, 95% interval)",
               xlabel="labelled series per class" if budget_kind == "shots" else "labelled training series (%)")
        ax.set_xticks(sorted(set(frame["budget"] * (100 if budget_kind == "fraction" else 1))))
        ax.get_xaxis().set_major_formatter(plt.matplotlib.ticker.ScalarFormatter())
    handles = {label: h for ax in axes[0] for h, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(4, max(1, len(handles))), fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.06 + 0.035 * ((len(handles) - 1) // 4), 1, 1))
    return fig
