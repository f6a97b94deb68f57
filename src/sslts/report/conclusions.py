"""What the conclusions chapter lists as still open, computed from the records under ``results/``."""

from __future__ import annotations

from pathlib import Path

from . import comparison as RC
from . import scarce as RS

SEEDS_PLANNED = 5
UCR_PLANNED = 30


def open_items(root: str | Path) -> list[str]:
    """Sentences naming what the records still lack (empty when nothing is missing).

    Reads ``root/comparison`` (is UCI HAR in the comparison?) and ``root/scarce`` (seeds per target
    of the label-scarce study, problems of its UCR benchmark), so a sentence disappears as soon as
    the records it names are committed.
    """
    root = Path(root)
    items = []
    comparison = RC.load(root / "comparison")
    if comparison.empty or "har" not in set(comparison["dataset"]):
        items.append("UCI HAR is not yet in the comparison: no `compare/har` records.")
    scarce = RS.load(root / "scarce")
    seeds = scarce.groupby("target")["seed"].nunique().to_dict() if not scarce.empty else {}
    for target, label in RS.TARGET_LABELS.items():
        if seeds.get(target, 0) < SEEDS_PLANNED:
            items.append(f"The label-scarce study has {seeds.get(target, 0)} of {SEEDS_PLANNED} seeds on {label}.")
    ucr = RS.load_ucr(root / "scarce")
    problems = ucr["problem"].nunique() if not ucr.empty else 0
    if problems < UCR_PLANNED:
        items.append(f"The UCR benchmark of the label-scarce study has records for {problems} of {UCR_PLANNED} problems.")
    return items
