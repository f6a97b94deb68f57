"""Tables of the dissection sweep's records: detector units per concept type, over seeds.

Reads the records of :mod:`sslts.dissection_sweep` (one per dataset, encoder and seed, each with the
dissection of two convolution blocks); every number is a count of units of one block, averaged over
the seeds present, with Student's t interval, and paired t-tests over seeds against the untrained
encoder of the same seed.

Two criteria: the records' own (Bau et al.'s IoU > 0.04, :func:`load`), under which most of an
untrained encoder's units already count as detectors on UCI HAR, and a null-calibrated one
(:func:`load_calibrated`): the IoU that only :data:`NULL_SHARE` of the untrained encoder's units
exceed, per dataset and block, so that the untrained encoder is a known floor.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .stats import holm, mean_interval, paired_test

CONCEPT_TYPES = ["class", "phase", "channel", "band", "motion", "none"]
KEYS = ["dataset", "method", "seed", "block"]
UNTRAINED = "random_init"


def _layers(out_dir: str | Path):
    """``(config, layer)`` for every block of every dissection record under ``out_dir``."""
    for path in sorted(Path(out_dir).rglob("*.json")):
        record = json.loads(path.read_text())
        if record.get("kind") == "dissection":
            for layer in record["layers"]:
                yield record["config"], layer


def load(out_dir: str | Path) -> pd.DataFrame:
    """One row per record and block: ``dataset, method, seed, block``, the units per concept type and
    ``detectors`` (all but none)."""
    rows = [{"dataset": c["dataset"], "method": c["method"], "seed": c["seed"], "block": layer["block"],
             **{t: layer["counts"].get(t, 0) for t in CONCEPT_TYPES}} for c, layer in _layers(out_dir)]
    frame = pd.DataFrame(rows, columns=KEYS + CONCEPT_TYPES)
    frame["detectors"] = frame[CONCEPT_TYPES[:-1]].sum(axis=1)
    return frame


def load_units(out_dir: str | Path) -> pd.DataFrame:
    """One row per unit of every record and block: ``dataset, method, seed, block, unit``, its best
    concept's type and that concept's IoU (what any stricter threshold needs: a unit's best concept
    stays its best, only whether it counts as a detector changes)."""
    rows = [{"dataset": c["dataset"], "method": c["method"], "seed": c["seed"], "block": layer["block"],
             "unit": u["unit"], "concept_type": u["concept_type"], "iou": u["iou"]}
            for c, layer in _layers(out_dir) for u in layer["units"]]
    return pd.DataFrame(rows, columns=[*KEYS, "unit", "concept_type", "iou"])


# The null-calibrated criterion: a unit detects its best concept when that IoU beats all but this
# share of the untrained encoder's units (same dataset and block, all seeds), and Bau et al.'s 0.04.
NULL_SHARE = 0.10
BAU_THRESHOLD = 0.04


def null_thresholds(units: pd.DataFrame, share: float = NULL_SHARE) -> pd.Series:
    """Per (dataset, block): the IoU that only ``share`` of the untrained encoder's units exceed (at
    least :data:`BAU_THRESHOLD`), so the untrained encoder is a floor of about ``share`` detectors by
    construction and a trained encoder's count above it means something."""
    untrained = units[units["method"] == UNTRAINED]
    return untrained.groupby(["dataset", "block"])["iou"].quantile(1.0 - share).clip(lower=BAU_THRESHOLD).rename("threshold")


def recount(units: pd.DataFrame, thresholds: pd.Series) -> pd.DataFrame:
    """:func:`load`'s frame (units per concept type, ``detectors``) under per-(dataset, block) ``thresholds``."""
    limit = units.join(thresholds, on=["dataset", "block"])["threshold"]
    kind = units["concept_type"].where(units["iou"] > limit, "none")
    counts = units.assign(kind=kind).groupby([*KEYS, "kind"]).size().unstack("kind", fill_value=0)
    counts = counts.reindex(columns=CONCEPT_TYPES, fill_value=0).reset_index()
    counts.columns.name = None
    counts["detectors"] = counts[CONCEPT_TYPES[:-1]].sum(axis=1)
    return counts.sort_values(KEYS, kind="stable").reset_index(drop=True)


def load_calibrated(out_dir: str | Path, share: float = NULL_SHARE) -> tuple[pd.DataFrame, pd.Series]:
    """:func:`load`'s frame under the null-calibrated criterion (:func:`null_thresholds`), and the thresholds."""
    units = load_units(out_dir)
    if units.empty:
        return load(out_dir), pd.Series(dtype=float, name="threshold")
    thresholds = null_thresholds(units, share)
    return recount(units, thresholds), thresholds


def inventory(frame: pd.DataFrame) -> pd.DataFrame:
    """Seeds recorded per dataset (rows) and encoder (columns)."""
    if frame.empty:
        return pd.DataFrame()
    seeds = frame.drop_duplicates(["dataset", "method", "seed"]).groupby(["dataset", "method"]).size()
    return seeds.rename("seeds").unstack("method").fillna(0).astype(int)


def last_block(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the deepest block dissected (the last convolution)."""
    return frame[frame["block"] == frame["block"].max()] if not frame.empty else frame


def by_depth(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean share of units (%) per concept type, by block and encoder, over datasets and seeds: do concepts change with depth?"""
    types = [t for t in CONCEPT_TYPES if frame[t].any()]
    shares = frame[types].div(frame[types].sum(axis=1), axis=0) * 100
    table = pd.concat([frame[["method", "block"]], shares], axis=1).groupby(["method", "block"], sort=False).mean()
    return table.round(1)


def _one_block(frame: pd.DataFrame) -> None:
    if frame["block"].nunique() > 1:
        raise ValueError(f"expected the rows of one block, got blocks {sorted(frame['block'].unique())}; "
                         "select one, e.g. with last_block(frame)")


def mean_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean units per concept type over seeds, indexed by ``(dataset, method)`` (for the stacked bars); one block."""
    _one_block(frame)
    present = [t for t in CONCEPT_TYPES if frame[t].any()] or CONCEPT_TYPES
    return frame.groupby(["dataset", "method"], sort=False)[present].mean()


def interval_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``mean ± half-width`` (95 % t interval over seeds) of units per concept type and of all detectors; one block."""
    _one_block(frame)
    columns = [t for t in CONCEPT_TYPES if frame[t].any()] + ["detectors"]
    out = {}
    for key, group in frame.groupby(["dataset", "method"], sort=False):
        cells = {}
        for column in columns:
            mean, _, low, high = mean_interval(group[column].to_numpy())
            cells[column] = f"{mean:.1f} ± {(high - low) / 2:.1f}"
        cells["seeds"] = len(group)
        out[key] = cells
    table = pd.DataFrame.from_dict(out, orient="index")
    table.index.names = ["dataset", "method"]
    return table


def against_untrained(frame: pd.DataFrame, column: str = "detectors") -> pd.DataFrame:
    """Paired t-test over seeds of each trained encoder's ``column`` against the untrained encoder's; one block."""
    _one_block(frame)
    rows = []
    for dataset, sub in frame.groupby("dataset", sort=False):
        base = sub[sub["method"] == UNTRAINED].set_index("seed")[column]
        for method, group in sub[sub["method"] != UNTRAINED].groupby("method", sort=False):
            paired = group.set_index("seed")[column].to_frame("trained").join(base.rename("untrained"), how="inner")
            if len(paired) < 2:
                continue
            test = paired_test(paired["trained"].to_numpy(float), paired["untrained"].to_numpy(float), test="t")
            rows.append({"dataset": dataset, "method": method, "seeds": test.n,
                         "difference": round(test.mean_difference, 1),
                         "p": np.nan if not np.isfinite(test.p_value) else round(test.p_value, 4),
                         "verdict": _verdict(test)})
    return pd.DataFrame(rows, columns=["dataset", "method", "seeds", "difference", "p", "verdict"])


def _verdict(test) -> str:
    if not np.isfinite(test.p_value) or not test.significant:
        return "no significant difference"
    return "more than untrained" if test.mean_difference > 0 else "fewer than untrained"


def shift_sentences(frame: pd.DataFrame, types: tuple[str, ...] = ("class", "channel", "phase")) -> list[str]:
    """Per dataset and trained encoder, how its units' concept types differ from the untrained encoder's.

    One sentence each, naming the significant differences (paired t-test over seeds, alpha 0.05) with
    their mean and p-value, or saying there are none; one block.
    """
    tests = {t: against_untrained(frame, t).set_index(["dataset", "method"]) for t in types if t in frame}
    keys = next(iter(tests.values())).index if tests else []
    lines = []
    for dataset, method in keys:
        parts = [f"{t} {row['difference']:+.1f} units (p = {row['p']:.2g})" for t, table in tests.items()
                 for row in [table.loc[(dataset, method)]] if row["verdict"] != "no significant difference"]
        lines.append(f"On {dataset}, {method} against the untrained encoder: "
                     + (", ".join(parts) if parts else "no significant difference in any concept type") + ".")
    return lines


def rise_against_untrained(frame: pd.DataFrame, concept: str = "class") -> pd.DataFrame:
    """Does ``concept``'s share of units rise with depth more in a trained encoder than in the untrained one?

    Per dataset, trained encoder and seed, the rise is the share (%) of the last block's units whose
    best concept is of type ``concept`` minus that share in the first block dissected; it is paired
    with the untrained encoder's rise of the same seed (t-test over seeds), Holm-corrected over the
    table. A rise the untrained encoder shows too is the architecture's, not the training's.
    """
    if frame.empty or frame["block"].nunique() < 2:
        return pd.DataFrame()
    first, last = frame["block"].min(), frame["block"].max()
    units = frame[CONCEPT_TYPES].sum(axis=1)
    share = frame.assign(share=100 * frame[concept] / units)
    wide = share.pivot_table(index=["dataset", "method", "seed"], columns="block", values="share")
    rise = (wide[last] - wide[first]).rename("rise").reset_index()
    rows = []
    for dataset, sub in rise.groupby("dataset", sort=False):
        base = sub[sub["method"] == UNTRAINED].set_index("seed")["rise"]
        for method, group in sub[sub["method"] != UNTRAINED].groupby("method", sort=False):
            paired = group.set_index("seed")["rise"].to_frame("trained").join(base.rename("untrained"), how="inner")
            if len(paired) < 2:
                continue
            test = paired_test(paired["trained"].to_numpy(float), paired["untrained"].to_numpy(float), test="t")
            rows.append({"dataset": dataset, "method": method, "seeds": test.n,
                         "rise (trained)": round(float(paired["trained"].mean()), 1),
                         "rise (untrained)": round(float(paired["untrained"].mean()), 1),
                         "difference": round(test.mean_difference, 1), "p": test.p_value})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["Holm p"] = holm(table["p"].to_numpy())
    table["verdict"] = [("no significant difference" if not (np.isfinite(q) and q < 0.05) else
                         "rises more than untrained" if d > 0 else "rises less than untrained")
                        for d, q in zip(table["difference"], table["Holm p"])]
    return table
