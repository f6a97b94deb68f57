"""From the study's records to a verdict per claim: paired tests over seeds, words from numbers.

Each claim compares *treatment* conditions with one *reference* condition, for each model, paired
by seed (same seed: same initial weights, same injected damage). The test is the paired t-test
of :func:`sslts.stats.paired_test` with Cohen's d_z as effect size: with 5 seeds the
smallest two-sided p-value Wilcoxon's signed-rank test can reach is 2/32 = 0.0625, so it could
never reject at 0.05; its p-value is shown next to the t-test's. Each (treatment, model) cell gets
:func:`~sslts.stats.verdict_word` of its test, and the claim's verdict follows from the
cells (:func:`claim_verdict`):

- a claim that a step **raises** accuracy holds in a cell whose difference is significantly
  positive; one that a cleaning step **recovers** the reference's accuracy holds in a cell shown
  equivalent to it within :data:`EQUIVALENCE_MARGIN` (paired TOST at 0.05) or significantly above
  it. "Not significantly worse" would not do: with 5 seeds it rewards low power (a drop of 0.029
  counted as recovered);
- "confirmed" when it holds in every cell; when it holds in none, "contradicted" if every cell goes
  significantly the other way (lower), "not confirmed" otherwise, with the count of cells that go
  the other way; "depends on <factor>" when it holds in some, naming the first factor (the model,
  the rate, the imputer, ...) whose levels split the cells cleanly, and "depends on the condition"
  when none does.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..stats import ALPHA, holm, paired_test, tost, verdict_word
from .conditions import Condition
from .runs import study_conditions

# What each claim says, and whether the treatments must beat the reference or only match it.
CLAIMS: dict[str, tuple[str, str]] = {
    "missing": ("imputing injected missing values recovers the accuracy of the clean data", "recovers"),
    "outliers_recover": ("removing injected spikes recovers the accuracy of the clean data", "recovers"),
    "outliers_help": ("removing injected spikes raises accuracy over leaving them in", "raises"),
    "scaling": ("scaling each channel raises accuracy over no scaling", "raises"),
    "correlated": ("dropping one of each highly correlated channel pair raises accuracy", "raises"),
    "smoothing": ("a moving average raises accuracy", "raises"),
}
# Accuracy within which a cleaned condition counts as recovering the reference (TOST), fixed before
# the records were read against it: about 2 test series of UWave's 320, and the margin of the
# label-scarce study.
EQUIVALENCE_MARGIN = 0.02
# Condition fields that can explain a "depends on", in the order they are tried, and their words.
FACTORS = {"method": "the model", "missing_rate": "the missing rate", "missing": "the missing pattern",
           "imputer": "the imputer", "action": "the action", "detector": "the detector",
           "scaling": "the scaling", "channels": "the channel choice"}


def headline(record: dict[str, Any]) -> float:
    """The accuracy a record is judged by: the SVM probe of a frozen encoder, or the classifier's."""
    for evaluation in record["evaluations"]:
        if evaluation["label_fraction"] == 1.0 and evaluation["protocol"] in ("svm", "supervised"):
            return float(evaluation["accuracy"])
    raise ValueError(f"record of {record['config']['method']} has no SVM or supervised row at all labels")


def headline_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per record: the condition's name and fields, the model, the seed and its accuracy."""
    rows = []
    for record in records:
        condition = {k: v for k, v in record["condition"].items() if k != "name"}
        rows.append({"condition": record["condition"]["name"], **condition, "method": record["config"]["method"],
                     "seed": record["config"]["seed"], "accuracy": headline(record)})
    return pd.DataFrame(rows)


def claim_table(frame: pd.DataFrame, claim: str, conditions: dict[str, list[Condition]] | None = None) -> pd.DataFrame:
    """One row per (treatment condition, model) of ``claim``: means, paired tests, the cell's word.

    ``conditions`` defaults to :func:`sslts.cleaning_study.study_conditions` of the frame's
    datasets. Columns: ``condition``, the varying condition fields, ``method``, ``reference``,
    ``n``, ``reference_mean``, ``treatment_mean``, ``mean_difference``, ``p_value`` (paired t),
    ``cohens_dz``, ``wilcoxon_p``, ``tost_p`` (equivalence within :data:`EQUIVALENCE_MARGIN`),
    ``word`` (:func:`~sslts.stats.verdict_word`, and "equivalent" where the TOST shows it
    with no significant difference), ``holds`` (whether the claim holds in the cell, by its kind:
    see :func:`holds`), and
    ``holm_p``: the t-test's p adjusted by Holm's method over the claim's cells (the verdicts use
    the unadjusted test at 0.05; this column shows which cells would stand a family-wise correction).
    """
    members = (conditions or _conditions_of(frame))[claim]
    reference, treatments = members[0], members[1:]
    rows = []
    for treatment in treatments:
        for method in sorted(frame["method"].unique()):
            a = _accuracies(frame, treatment, method)
            b = _accuracies(frame, reference, method)
            seeds = sorted(set(a) & set(b))
            x, y = [a[s] for s in seeds], [b[s] for s in seeds]
            t = paired_test(x, y, test="t")
            equivalent = tost(x, y, EQUIVALENCE_MARGIN) if len(seeds) >= 2 else np.nan
            word = verdict_word([t]) if len(seeds) >= 2 else "untested"
            if word == "not supported" and equivalent < ALPHA:
                word = "equivalent"
            rows.append({"condition": treatment.name, **_fields(treatment, members), "method": method,
                         "reference": reference.name, "n": len(seeds),
                         "reference_mean": float(np.mean(y)) if y else np.nan,
                         "treatment_mean": float(np.mean(x)) if x else np.nan,
                         "mean_difference": t.mean_difference, "p_value": t.p_value, "cohens_dz": t.effect,
                         "wilcoxon_p": paired_test(x, y, test="wilcoxon").p_value, "tost_p": equivalent,
                         "word": word})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.assign(holds=holds(table, CLAIMS[claim][1]), holm_p=holm(table["p_value"].to_numpy()))


def holds(table: pd.DataFrame, kind: str) -> pd.Series:
    """Per cell, whether a claim of ``kind`` holds: for "raises" the treatment is significantly
    better ("supported"); for "recovers" it is shown equivalent within the margin or better."""
    if kind not in ("raises", "recovers"):
        raise ValueError(f"kind must be 'raises' or 'recovers'; got {kind!r}")
    if kind == "raises":
        return table["word"] == "supported"
    # A significant loss smaller than the margin still recovers the reference within it.
    return (table["tost_p"] < ALPHA) | (table["word"] == "supported")


def failing_cells(table: pd.DataFrame, kind: str) -> list[str]:
    """``"condition (model)"`` for each tested cell of :func:`claim_table` where the claim fails."""
    if table.empty:
        return []
    fails = table[~holds(table, kind) & (table["word"] != "untested")]
    return [f"{c} ({m})" for c, m in zip(fails["condition"], fails["method"])]


def claim_verdict(table: pd.DataFrame, kind: str) -> str:
    """The claim's verdict from its cells (see the module docstring); "untested" if a cell is."""
    if kind not in ("raises", "recovers"):
        raise ValueError(f"kind must be 'raises' or 'recovers'; got {kind!r}")
    if table.empty or (table["word"] == "untested").any():
        return "untested"
    cells = holds(table, kind)
    if cells.all():
        return "confirmed"
    if not cells.any():
        against = int((table["word"] == "contradicted").sum())
        if against == len(table):
            return "contradicted"
        return "not confirmed" + (f" ({against} of {len(table)} cells significantly the other way)" if against else "")
    for column, words in FACTORS.items():
        if column not in table or table[column].nunique() < 2:
            continue
        by_level = cells.groupby(table[column]).agg(["all", "any"])
        if (by_level["all"] == by_level["any"]).all():  # every level holds everywhere or nowhere
            yes = [_level(v) for v in by_level.index[by_level["all"]]]
            no = [_level(v) for v in by_level.index[~by_level["all"]]]
            return f"depends on {words} (holds for {', '.join(yes)}; not for {', '.join(no)})"
    return f"depends on the condition (holds in {int(cells.sum())} of {len(cells)} cells)"


def verdicts(frame: pd.DataFrame, conditions: dict[str, list[Condition]] | None = None) -> pd.DataFrame:
    """One row per claim with records: the claim, its reference, the cells tested and the verdict."""
    conditions = conditions or _conditions_of(frame)
    rows = []
    for claim, (statement, kind) in CLAIMS.items():
        if claim not in conditions:
            continue
        table = claim_table(frame, claim, conditions)
        rows.append({"claim": claim, "statement": statement, "reference": conditions[claim][0].name,
                     "cells": len(table), "verdict": claim_verdict(table, kind)})
    return pd.DataFrame(rows)


def _conditions_of(frame: pd.DataFrame) -> dict[str, list[Condition]]:
    datasets = list(dict.fromkeys(frame["dataset"]))
    main = next((d for d in datasets if d != "har"), "uwave")
    return study_conditions(main, "har")


def _accuracies(frame: pd.DataFrame, condition: Condition, method: str) -> dict[int, float]:
    rows = frame[(frame["condition"] == condition.name) & (frame["dataset"] == condition.dataset)
                 & (frame["method"] == method)]
    return dict(zip(rows["seed"].astype(int), rows["accuracy"].astype(float)))


def _fields(condition: Condition, members: list[Condition]) -> dict[str, Any]:
    """The condition fields that vary among ``members`` (the claim's factors)."""
    varying = [k for k in FACTORS if k != "method" and len({getattr(c, k) for c in members}) > 1]
    return {k: getattr(condition, k) for k in varying}


def _level(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, float) and 0 < value < 1 else str(value)
