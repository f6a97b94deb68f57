"""Re-runs of committed records on other machines, set against the originals.

A file ``results/reproducibility/<dataset>/<stem>-<machine>.json`` is a run record made from the
same configuration and data as ``results/full/full/<dataset>/<stem>.json`` on another machine
(``<machine>`` names it, e.g. ``amd-epyc-avx512`` or ``amd-epyc-avx512-onednn-avx2`` for the same
machine with oneDNN capped at AVX2). The appendix reads them to say when a record reproduces bit
for bit and how far it drifts when it does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

PROTOCOLS = ("linear", "svm", "knn", "finetune")


# What "the same numbers" covers: the loss history, the diagnostics and, per evaluation, these.
# Timings differ by nature. AUROC is reported apart: the fine-tuned model's differs in the fifth
# digit even where its predictions, and every other number, are the same (cause not yet known).
COMPARED = ("protocol", "label_fraction", "accuracy", "macro_f1", "confusion", "best_params")


def _same_numbers(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def evaluations(record: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: e.get(k) for k in COMPARED} for e in record["evaluations"]]

    return a["history"] == b["history"] and a["diagnostics"] == b["diagnostics"] and evaluations(a) == evaluations(b)


def _all_labels(record: dict[str, Any]) -> dict[str, float]:
    return {e["protocol"]: e["accuracy"] for e in record["evaluations"] if e["label_fraction"] == 1.0}


def _original(rerun: Path, full_root: Path) -> Path:
    """The committed record a re-run reproduces: its file name up to the config hash."""
    stem = "-".join(rerun.stem.split("-")[:4])  # <method>-<encoder>-s<seed>-<hash>
    return full_root / rerun.parent.name / f"{stem}.json"


def reproductions(root: str | Path, full_root: str | Path) -> pd.DataFrame:
    """One row per re-run: machine, seed, both first losses, whether everything matched, and the
    accuracy change per protocol (re-run minus original, all labels).

    >>> reproductions("/nonexistent", "/nonexistent").empty
    True
    """
    rows = []
    for path in sorted(Path(root).glob("*/*.json")):
        original_path = _original(path, Path(full_root))
        if not original_path.is_file():
            continue
        rerun, original = json.loads(path.read_text()), json.loads(original_path.read_text())
        same_data = rerun["data"].get("sha256") == original["data"].get("sha256")
        ours, theirs = _all_labels(rerun), _all_labels(original)
        rows.append({
            "dataset": path.parent.name, "record": original_path.stem, "seed": original["config"]["seed"],
            "machine": path.stem[len(original_path.stem) + 1:], "same data": same_data,
            "first loss (original)": original["history"]["loss"][0], "first loss (re-run)": rerun["history"]["loss"][0],
            "same numbers": _same_numbers(rerun, original),
            "max |Δ AUROC|": max(abs(a.get("auroc", 0.0) - b.get("auroc", 0.0))
                                 for a, b in zip(rerun["evaluations"], original["evaluations"])),
            **{f"Δ {p}": ours[p] - theirs[p] for p in PROTOCOLS if p in ours and p in theirs},
        })
    return pd.DataFrame(rows)


def seed_means(frame: pd.DataFrame, root: str | Path, full_root: str | Path, machine: str) -> pd.DataFrame:
    """Mean accuracy over the seeds re-run on ``machine``, original against re-run, per protocol."""
    rows = []
    for _, row in frame[frame["machine"] == machine].iterrows():
        rerun = json.loads((Path(root) / row["dataset"] / f"{row['record']}-{machine}.json").read_text())
        original = json.loads((Path(full_root) / row["dataset"] / f"{row['record']}.json").read_text())
        rows += [{"run": "original", **_all_labels(original)}, {"run": "re-run", **_all_labels(rerun)}]
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).groupby("run").agg(["mean", "count"]).swaplevel(axis=1)["mean"][list(PROTOCOLS)]
