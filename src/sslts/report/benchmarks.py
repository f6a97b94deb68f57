"""The label-scarce study's benchmarks (:mod:`sslts.scarce.ucr`): the corpus encoder on problems it never saw.

Records ``<group>/<problem>/<system>-s0.json`` (groups ``ucr`` and ``suite``), one per problem and
system; tables with every label (ranks, a critical-difference diagram, pairwise Wilcoxon-Holm) and
with few labels (means, the corpus encoder against the per-dataset one and the untrained CNN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scarce.fewlabel import ALL, SHOTS
from ..scarce.records import read_all
from .scarce import _verdict
from .stats import holm, paired_test, pairwise_wilcoxon

UCR_LABELS = {"xd": "VICReg · cross-dataset", "own": "VICReg · own training split", "untrained": "untrained CNN",
              "minirocket": "MiniRocket"}
CITED_TS2VEC = "TS2Vec (published)"


def load_ucr(root, group: str = "ucr") -> pd.DataFrame:
    """One row per benchmark record row (``group``: ``ucr`` or ``suite``, :data:`sslts.scarce.ucr.GROUPS`):
    problem, system, seed, shots, read-out, accuracy."""
    rows = []
    for record in read_all(root, group):
        c = record["config"]
        rows += [{"problem": c["problem"], "system": UCR_LABELS[c["system"]], "seed": c["seed"],
                  **{k: r[k] for k in ("shots", "readout", "n_labelled", "accuracy")}} for r in record["rows"]]
    return pd.DataFrame(rows, columns=["problem", "system", "seed", "shots", "readout", "n_labelled", "accuracy"])


def cited_ucr() -> dict[str, float]:
    """TS2Vec's published UCR accuracies from ``cited.json`` (cited, never measured here)."""
    import json
    from importlib import resources

    figures = json.loads(resources.files("sslts.report").joinpath("cited.json").read_text())["ucr_figures"]
    return {f["dataset"]: f["accuracy"] for f in figures if f["method"] == CITED_TS2VEC}


def ucr_all_labels(frame: pd.DataFrame, cited: bool = True) -> pd.DataFrame:
    """Problems in rows; each system's accuracy with every label (encoders: SVM protocol; MiniRocket:
    its own classifier) in columns, then (``cited``) TS2Vec's published figure (not measured here)."""
    rows = frame[(frame["shots"] == ALL) & frame["readout"].isin(["svm", "own"])]
    if rows.empty:
        return pd.DataFrame()
    table = rows.pivot_table(index="problem", columns="system", values="accuracy")
    table = table[[c for c in UCR_LABELS.values() if c in table]]
    if cited:
        figures = cited_ucr()
        table[f"{CITED_TS2VEC}, not measured here"] = [figures.get(p, np.nan) for p in table.index]
    return table


# A column with fewer problems than this share of the best-covered column's is left out of ranks,
# diagrams and means (a system still running), instead of shrinking them to the problems it has.
MIN_COVERAGE = 0.9


def covered(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``table`` without its sparsely covered columns (see :data:`MIN_COVERAGE`), over the problems
    every remaining column covers; and the names of the columns left out."""
    counts = table.notna().sum()
    short = [c for c in table.columns if counts[c] < MIN_COVERAGE * counts.max()]
    return table.drop(columns=short).dropna(), short


def ucr_ranks(table: pd.DataFrame) -> pd.DataFrame:
    """Mean rank (1 = best) of each column over the problems every column covers, and the count
    (sparsely covered columns left out: :func:`covered`)."""
    complete, _ = covered(table)
    if complete.empty:
        return pd.DataFrame()
    ranks = complete.rank(axis=1, ascending=False).mean()
    return pd.DataFrame({"mean rank": ranks.round(2), "mean accuracy": complete.mean().round(3),
                         "problems": len(complete)}).sort_values("mean rank")


def ucr_cd_diagram(table: pd.DataFrame):
    """aeon's critical-difference diagram over the problems every column covers (None below 2 problems)."""
    from aeon.visualisation import plot_critical_difference

    complete, _ = covered(table)
    if len(complete) < 2 or complete.shape[1] < 3:
        return None
    fig, _ = plot_critical_difference(complete.to_numpy(), list(complete.columns), test="wilcoxon", correction="holm",
                                      width=7, textspace=1.8)
    return fig


def ucr_pairwise(table: pd.DataFrame) -> pd.DataFrame:
    """Every pair of columns over the problems every column covers: Wilcoxon, Holm's step-down correction."""
    complete, _ = covered(table)
    if len(complete) < 2 or complete.shape[1] < 2:
        return pd.DataFrame()
    return pairwise_wilcoxon(complete.to_numpy(), list(complete.columns))


def ucr_few_label(frame: pd.DataFrame, readout: str = "centroid") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean few-label accuracy over the problems every encoder covers (sparsely covered encoders left
    out: :func:`covered`), and Wilcoxon tests over problems of the cross-dataset encoder against the
    per-dataset one and the untrained CNN, each on the problems the pair shares (Holm over all)."""
    rows = frame[frame["shots"].isin(SHOTS) & (frame["readout"] == readout)]
    if rows.empty:
        return pd.DataFrame(), pd.DataFrame()
    wide = rows.pivot_table(index=["problem", "shots"], columns="system", values="accuracy")
    wide = wide[[c for c in UCR_LABELS.values() if c in wide]]
    complete, _ = covered(wide)
    means = complete.groupby("shots").mean().round(3)
    means["problems"] = complete.groupby("shots").size()
    tests = []
    xd = UCR_LABELS["xd"]
    for k, part in wide.groupby("shots"):
        for other in (UCR_LABELS["own"], UCR_LABELS["untrained"]):
            pair = part[[xd, other]].dropna() if xd in part and other in part else pd.DataFrame()
            if len(pair) >= 2:
                t = paired_test(pair[xd].to_numpy(), pair[other].to_numpy(), "wilcoxon")
                tests.append({"k": k, "against": other, "difference": t.mean_difference, "p": t.p_value,
                              "problems": t.n})
    tests = pd.DataFrame(tests)
    if not tests.empty:
        tests["Holm p"] = holm(tests["p"].to_numpy())
        tests["verdict"] = [_verdict(d, p).replace("SSL", "cross-dataset").replace("inconclusive", "no significant difference")
                            for d, p in zip(tests["difference"], tests["Holm p"])]
    return means, tests


def benchmark_findings(frame: pd.DataFrame, name: str) -> list[str]:
    """One sentence per comparison of :func:`ucr_few_label`'s tests: at which ``k`` the corpus encoder is
    higher, lower, or not shown to differ, after Holm's correction (none without tests)."""
    _, tests = ucr_few_label(frame)
    out = []
    if tests.empty:
        return out
    for against, part in tests.groupby("against", sort=False):
        higher = part.loc[part["verdict"] == "cross-dataset higher", "k"].tolist()
        lower = part.loc[part["verdict"] == "cross-dataset lower", "k"].tolist()
        gaps = ", ".join(f"{d:+.3f}" for d in part["difference"])
        where = (f"higher at k = {', '.join(map(str, higher))}" if higher else "not shown higher at any k") + (
            f", lower at k = {', '.join(map(str, lower))}" if lower else "")
        out.append(f"{name}: the cross-dataset encoder's few-label accuracy (nearest centroid) against {against} is "
                   f"{where} (Wilcoxon over {int(part['problems'].max())} problems, Holm; differences {gaps} at "
                   f"k = {', '.join(str(k) for k in part['k'])}).")
    return out
