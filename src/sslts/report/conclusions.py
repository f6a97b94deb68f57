"""What the conclusions chapter lists as still open, computed from the records under ``results/``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..scarce.ucr import N_PROBLEMS as UCR_PLANNED
from ..scarce.ucr import SUITE as SUITE_PROBLEMS
from ..scarce.ucr import SYSTEMS
from . import benchmarks as RB
from . import comparison as RC
from . import scarce as RS

SEEDS_PLANNED = 5


def open_items(root: str | Path) -> list[str]:
    """Sentences naming what the records still lack (empty when nothing is missing).

    Reads ``root/comparison`` (is UCI HAR in the comparison?) and ``root/scarce`` (seeds per target
    of the label-scarce study, problems of its UCR and suite benchmarks with every system), so a
    sentence disappears as soon as the records it names are committed.
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
    for group, name in (("ucr", "UCR benchmark"), ("suite", "suite benchmark")):
        records = RB.load_ucr(root / "scarce", group)
        planned = UCR_PLANNED if group == "ucr" else len(SUITE_PROBLEMS)
        systems = records.groupby("problem")["system"].nunique() if not records.empty else pd.Series(dtype=int)
        complete = int((systems == len(SYSTEMS)).sum())
        if complete < planned:
            items.append(f"The {name} of the label-scarce study has all {len(SYSTEMS)} systems on {complete} of "
                         f"{planned} problems.")
    return items
