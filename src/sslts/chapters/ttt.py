"""The TTT chapter: accuracy under distribution shifts with and without test-time training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiment import ExperimentResult
from ..paths import results_dir
from ..wiring import GridResult

TTT_VARIANTS = ("none", "batch", "series", "bn_only", "batch_bn")

# What each corruption of sslts.shifts does, in the notation of the chapter: (name, formula with
# the strength symbol of severity n). The strengths themselves come from shifts.SEVERITY_TABLES.
SHIFT_FORMULAS = {
    "gaussian_noise": ("Gaussian noise", r"$x + s_n\,\sigma_c(x)\,\varepsilon$", "s_n"),
    "gain": ("gain", r"$x_c\,(1 + a_n)^{\pm 1}$ per channel", "a_n"),
    "offset_drift": ("offset drift", r"$x + d_n\,\sigma_c(x)\,(\pm 1)\,t / (L-1)$", "d_n"),
    "time_warp": ("time warp", r"$x(\phi(u)(L-1))$, $\phi(u) = u \pm w_n \sin(\pi u)/\pi$", "w_n"),
    "dead_channel": ("dead channel", "one channel reads 0 for the last $f_n$ of the series", "f_n"),
}


def corruption_table() -> str:
    """The Markdown table of the corruptions: formula and strength at each severity, the strengths
    read from :data:`sslts.shifts.SEVERITY_TABLES` (so the chapter cannot drift from the code)."""
    from ..shifts import MAX_SEVERITY, SEVERITY_TABLES

    lines = [f"| corruption | formula | strength at severity 1..{MAX_SEVERITY} |", "|---|---|---|"]
    for name, strengths in SEVERITY_TABLES.items():
        label, formula, symbol = SHIFT_FORMULAS[name]
        values = ", ".join(f"{v:g}" for v in strengths)
        lines.append(f"| {label} | {formula} | ${symbol} \\in \\{{{values}\\}}$ |")
    return "\n".join(lines)


def ttt_adapt_config(P: dict[str, Any], **changes: Any):
    """The :class:`~sslts.evaluate.adapt.AdaptConfig` of the TTT chapter's parameters."""
    from ..evaluate.adapt import AdaptConfig

    return AdaptConfig(**{"steps": P["adapt_steps"], "lr": P["adapt_lr"], "optimizer": P["adapt_optimizer"],
                          "batch_size": P["adapt_batch"], "n_masks": P["adapt_masks"], "seed": P["seed"],
                          "num_threads": 1, **changes})  # small steps: one thread, timed alike everywhere


def ttt_shift_evaluation(result: ExperimentResult, P: dict[str, Any]) -> pd.DataFrame:
    """Accuracy of a trained TTT model without and with test-time training, per shift and severity.

    The test split is subsampled (stratified, seeded) to ``P["shift_test_cap"]`` series; each
    corruption hits the recorded series before the training split's z-score. Modes: ``none``,
    ``batch`` and ``series`` TTT with frozen BatchNorm and, with ``P["compare_bn"]``, ``bn_only``
    (BatchNorm on the test batch's statistics, no gradient step) and ``batch_bn`` (both).
    """
    from ..evaluate.adapt import evaluate_under_shifts
    from ..experiment import stratified_subset

    seed = result.record["config"]["seed"]
    test = stratified_subset(result.test, P["shift_test_cap"], seed)
    variants = ({"bn_only": ttt_adapt_config(P, steps=0, bn="test_batch"),
                 "batch_bn": ttt_adapt_config(P, bn="test_batch")} if P["compare_bn"] else None)
    # Corruptions hit the series as recorded, then the training split's z-score (result.scaler).
    rows = evaluate_under_shifts(result.model, test.X, test.y, P["shifts"], P["severities"],
                                 result.scaler.transform, config=ttt_adapt_config(P), seed=seed, variants=variants)
    frame = pd.DataFrame(rows)
    frame.insert(0, "dataset", result.record["config"]["dataset"])
    frame["n_series"] = len(test.y)
    return frame


def ttt_shift_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per (dataset, shift, severity) and mode, with each TTT mode's gain over none."""
    table = frame.pivot_table(index=["dataset", "shift", "severity"], columns="mode", values="accuracy", sort=False)
    table = table[[m for m in TTT_VARIANTS if m in table.columns]]
    for mode in table.columns.drop("none"):
        table[f"{mode} gain"] = table[mode] - table["none"]
    return table


def ttt_clean_accuracy(grid: GridResult) -> pd.DataFrame:
    """Clean full-test accuracy: the joint classifier as trained, next to the fine-tuned encoders."""
    from ..evaluate.adapt import predict_logits

    rows = []
    for r in grid.results:
        cfg = r.record["config"]
        tuned = next((e for e in r.record["evaluations"] if e["protocol"] == "finetune"), {})
        finetuned = tuned.get("accuracy", np.nan)
        epochs = (r.record["pretrain_epochs"] if cfg["method"] == "ttt"
                  else tuned.get("finetune_epochs", cfg["finetune_epochs"]))
        row = {"dataset": cfg["dataset"], "seed": cfg["seed"], "method": cfg["method"], "epochs": epochs,
               "finetune": finetuned, "joint classifier": np.nan}
        if cfg["method"] == "ttt":
            logits = predict_logits(r.model, r.standardised("test"))
            row["joint classifier"] = float((logits.argmax(1) == r.test.y).mean())
        rows.append(row)
    return pd.DataFrame(rows).groupby(["dataset", "method"])[["epochs", "joint classifier", "finetune"]].mean()


def ttt_discussion(shifts: pd.DataFrame, clean: pd.DataFrame) -> str:
    """What this run says about joint training and test-time training, from its numbers only."""
    parts = []
    for dataset, rows in shifts.groupby("dataset", sort=False):
        joint = clean.loc[(dataset, "ttt"), "joint classifier"]
        baseline = (dataset, "random_init") in clean.index
        scratch = clean.loc[(dataset, "random_init"), "finetune"] if baseline else np.nan
        finetune_epochs = clean.loc[(dataset, "random_init"), "epochs"] if baseline else np.nan
        epochs = clean.loc[(dataset, "ttt"), "epochs"]
        text = (f"On **{dataset}**, the jointly trained classifier ({epochs:.0f} epochs) reaches {joint:.3f} on the "
                f"clean test split; the same encoder trained supervised from scratch for {finetune_epochs:.0f} epochs "
                f"reaches {scratch:.3f}, so in this run joint training with the reconstruction task "
                f"{'did better' if joint > scratch else 'did not do better'} on clean data ({joint - scratch:+.3f}; "
                "the training lengths differ, so this is not a controlled comparison). ")
        parts.append(text + shift_findings(rows))
    return "\n\n".join(parts)


def shift_findings(rows: pd.DataFrame) -> str:
    """The adaptation gains over the corrupted settings of one dataset's shift rows, in words."""
    acc = rows.pivot_table(index=["shift", "severity"], columns="mode", values="accuracy")
    ms = rows.groupby("mode")["extra_ms_per_series"].mean()
    text = ""
    shifted = acc.drop(index="none", level=0, errors="ignore")
    if len(shifted):
        for mode, name in (("batch", "batch TTT"), ("series", "single-series TTT")):
            if mode not in shifted:
                continue
            gain = shifted[mode] - shifted["none"]
            best, worst = gain.idxmax(), gain.idxmin()
            text += (f"Over the {len(gain)} corrupted settings, {name} changes accuracy by {gain.mean():+.3f} on "
                     f"average (no adaptation: {shifted['none'].mean():.3f}); it helps in {(gain > 0).sum()}, "
                     f"hurts in {(gain < 0).sum()}; its largest change is {gain[best]:+.3f} (shift `{best[0]}`, "
                     f"severity {best[1]}) and its smallest {gain[worst]:+.3f} (`{worst[0]}`, severity "
                     f"{worst[1]}). ")
        if "bn_only" in shifted:
            text += (f"Re-estimating BatchNorm statistics on the test batch alone changes it by "
                     f"{(shifted['bn_only'] - shifted['none']).mean():+.3f} on average. ")
    if "none" in acc.index.get_level_values(0):
        clean_row = acc.loc[("none", 0)]
        text += (f"On the uncorrupted subsample, batch TTT changes accuracy by "
                 f"{clean_row.get('batch', np.nan) - clean_row['none']:+.3f}. ")
    return text + (f"Extra time per series: {ms.get('batch', np.nan):.1f} ms for batch TTT and "
                   f"{ms.get('series', np.nan):.1f} ms for single-series TTT.")


def shift_benchmark(path: str | Path | None = None) -> tuple[pd.DataFrame | None, str]:
    """The committed full-budget shift benchmark (``benchmarks/bench_ttt_shifts.py``):
    ``(its rows, Markdown note with provenance and findings)``; ``(None, note)`` when missing."""
    file = Path(path) if path is not None else results_dir() / "benchmarks" / "ttt_shifts.json"
    if not file.is_file():
        return None, ("No full-budget shift record yet: `python benchmarks/bench_ttt_shifts.py` writes "
                      "`results/benchmarks/ttt_shifts.json`.")
    record = json.loads(file.read_text())
    frame = pd.DataFrame(record["rows"])
    S = record["settings"]
    load = record["load_average_1min"]
    sizes = ", ".join(f"{d}: {int(rows['n_series'].iloc[0])} test series, {int(rows['pretrain_epochs'].iloc[0])} "
                      f"epochs of joint training ({rows['pretrain_s'].iloc[0] / 60:.1f} min)"
                      for d, rows in frame.groupby("dataset", sort=False))
    note = (f"From the committed record `results/benchmarks/{file.name}`, written at commit `{record['git_commit']}` "
            f"on {record['device']} ({record['created_utc']}; 1-minute load average when it started "
            f"{load['before']:.1f}, which also counts work that ended within the minute before; other work on the "
            f"CPU lengthens the times per series), seed {S['seed']}, "
            f"{S['pretrain_budget']:,} series passes ({sizes}). Adaptation: {S['adapt_steps']} "
            f"{S['adapt_optimizer'].upper()} step(s), learning rate {S['adapt_lr']:g}, batches of {S['adapt_batch']} "
            f"series, {S['adapt_masks']} masks per single series; severities "
            f"{', '.join(map(str, S['severities']))}.")
    findings = " ".join(f"On **{d}**: {shift_findings(rows)}" for d, rows in frame.groupby("dataset", sort=False))
    return frame, f"{note}\n\n{findings}"
