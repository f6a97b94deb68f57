"""The comparison chapter's two hypotheses, tested on the comparison's records (:mod:`.comparison`).

- **H1 (diversity)**: VICReg's embeddings are more diverse than SimCLR's (effective rank and
  per-dimension spread of the global mean of the feature map), Wilcoxon over datasets;
- **H2 (similar classes)**: SimCLR confuses UWave's most similar gestures less than the
  non-contrastive methods, paired t-test over seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..comparison import METHODS
from .stats import paired_test, verdict_word

NON_CONTRASTIVE = ("vicreg", "barlow_twins", "vibcreg")


def hypothesis_h1(frame: pd.DataFrame) -> dict[str, Any]:
    """H1: VICReg's embeddings are more diverse than SimCLR's (effective rank, per-dimension spread).

    Both measured on the global mean of the feature map (same encoder, budget and augmentations),
    per dataset averaged over seeds; Wilcoxon over the datasets both cover.
    """
    runs = frame[(frame["label_fraction"] == 1.0) & (frame["protocol"] == "svm")]
    out: dict[str, Any] = {}
    for metric in ("effective_rank", "std_normalized_mean"):
        means = runs.groupby(["dataset", "method"])[metric].mean().unstack()
        if "vicreg" not in means or "simclr" not in means:
            return {"verdict": "H1 cannot be checked yet: VICReg or SimCLR records are missing."}
        both = means[["vicreg", "simclr"]].dropna()
        out[metric] = {"test": paired_test(both["vicreg"].to_numpy(), both["simclr"].to_numpy()),
                       "vicreg": float(both["vicreg"].mean()), "simclr": float(both["simclr"].mean()),
                       "datasets": list(both.index)}
    rank, spread = out["effective_rank"], out["std_normalized_mean"]
    if rank["test"].n < 5:
        out["verdict"] = (f"H1 cannot be tested yet: VICReg and SimCLR share {rank['test'].n} datasets, and a "
                          "Wilcoxon test over datasets needs at least 5 to reach p < 0.05.")
        return out
    word = verdict_word([r["test"] for r in (rank, spread)])
    out["verdict"] = (
        f"H1 is **{word}** on {len(rank['datasets'])} datasets: mean effective rank {rank['vicreg']:.1f} (VICReg) "
        f"against {rank['simclr']:.1f} (SimCLR), {rank['test'].sentence('VICReg', 'SimCLR', 'effective rank')}; "
        f"mean normalised per-dimension std {spread['vicreg']:.3f} against {spread['simclr']:.3f}, "
        f"{spread['test'].sentence('VICReg', 'SimCLR', 'spread')}.")
    return out


def confused_pairs(frame: pd.DataFrame, dataset: str = "uwave", k: int = 3) -> list[tuple[int, int]]:
    """The ``k`` class pairs most confused with each other, summed over every frozen-encoder run's
    SVM confusion matrix on ``dataset`` (all methods alike, so no method defines its own pairs)."""
    rows = frame[(frame["dataset"] == dataset) & (frame["protocol"] == "svm") & (frame["label_fraction"] == 1.0)
                 & frame["method"].isin(METHODS)]
    total = sum(np.asarray(c, dtype=float) for c in rows["confusion"] if c is not None)
    symmetric = total + total.T
    pairs = sorted(((symmetric[i, j], (i, j)) for i in range(len(total)) for j in range(i + 1, len(total))), reverse=True)
    return [p for _, p in pairs[:k]]


def pair_confusion(confusion: list[list[int]], pairs: list[tuple[int, int]]) -> float:
    """Share of the test series of the given pairs' classes predicted as the pair's other class."""
    c = np.asarray(confusion, dtype=float)
    wrong = sum(c[i, j] + c[j, i] for i, j in pairs)
    total = sum(c[i].sum() + c[j].sum() for i, j in pairs)
    return float(wrong / total)


def hypothesis_h2(frame: pd.DataFrame, dataset: str = "uwave") -> dict[str, Any]:
    """H2: SimCLR confuses UWave's similar gestures less than the non-contrastive methods.

    The most-confused pairs come from all frozen-encoder runs together; each run's rate on them is
    compared, SimCLR against the mean of VICReg, Barlow Twins and VIbCReg, paired over seeds (t-test).
    """
    rows = frame[(frame["dataset"] == dataset) & (frame["protocol"] == "svm") & (frame["label_fraction"] == 1.0)]
    if rows.empty or "simclr" not in set(rows["method"]):
        return {"verdict": f"H2 cannot be checked yet: no SimCLR records on {dataset}."}
    pairs = confused_pairs(frame, dataset)
    rates = rows.assign(rate=[pair_confusion(c, pairs) for c in rows["confusion"]])
    table = rates.pivot_table(index="seed", columns="method", values="rate")
    others = [m for m in NON_CONTRASTIVE if m in table]
    if not others:
        return {"verdict": f"H2 cannot be checked yet: no non-contrastive records on {dataset}."}
    paired = table[["simclr", *others]].dropna()
    if len(paired) < 3:
        return {"verdict": f"H2 cannot be tested yet: {len(paired)} seeds have SimCLR and the non-contrastive "
                           f"methods on {dataset}."}
    non_contrastive = paired[others].mean(axis=1)
    test = paired_test(non_contrastive.to_numpy(), paired["simclr"].to_numpy(), "t")
    supported = test.significant and test.mean_difference > 0
    against = test.significant and test.mean_difference < 0
    word = "supported" if supported else ("contradicted" if against else "not supported")
    names = ", ".join(f"{i + 1}–{j + 1}" for i, j in pairs)
    verdict = (f"H2 is **{word}** on {dataset}: on the {len(pairs)} most-confused gesture pairs ({names}), "
               f"SimCLR misassigns {paired['simclr'].mean():.3f} of their test series, the non-contrastive "
               f"methods {non_contrastive.mean():.3f} on average; "
               f"{test.sentence('the non-contrastive methods', 'SimCLR', 'confusion rate')}.")
    return {"pairs": pairs, "rates": table, "test": test, "verdict": verdict}
