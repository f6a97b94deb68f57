"""What a method chapter shows from its own run: labels, diagnostics, figures and verdict sentences.

Everything here reads the results of :func:`sslts.wiring.run_method_grid` (records, and the
embeddings of the runs made in this build) and returns tables, figures or Markdown; nothing trains.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..experiment import ExperimentResult
from ..wiring import GridResult

def method_label(method: str) -> str:
    return {"simclr": "SimCLR", "vicreg": "VICReg", "barlow_twins": "Barlow Twins", "vibcreg": "VIbCReg",
            "mae": "MAE", "ssgan": "SS-GAN", "clip": "CLIP", "ttt": "TTT (joint training)",
            "random_init": "random init (probes) / supervised (fine-tune)"}.get(method, method)



def diagnostics_table(results: list[ExperimentResult]) -> pd.DataFrame:
    """The representation diagnostics of each run (rounded), indexed by dataset, method and seed."""
    rows = [{"dataset": r.record["config"]["dataset"], "method": r.record["config"]["method"],
             "seed": r.record["config"]["seed"], **{k: round(v, 4) for k, v in r.record["diagnostics"].items()}}
            for r in results]
    return pd.DataFrame(rows).set_index(["dataset", "method", "seed"])


# t-SNE costs about 19 s for HAR's 2947 test series on this 2-core CPU and 5 s for 1000; a
# stratified 1000 shows the same class structure.
TSNE_POINTS = 1000


def embedding_figures(grid: GridResult, method: str, P: dict[str, Any]) -> Iterator[Any]:
    """Per dataset of ``P``, the t-SNE of ``method``'s test embeddings (first seed; a stratified,
    seeded subsample of at most :data:`TSNE_POINTS` series) and the confusion matrix of its linear
    probe with all labels."""
    from .. import plots
    from ..evaluate import label_fraction_indices, tsne_2d

    for dataset in P["dataset"]:
        result = grid.select(method, dataset)[0]
        z, y = result.test_z, result.test.y
        what = "test embeddings"
        if len(y) > TSNE_POINTS:
            keep = label_fraction_indices(y, TSNE_POINTS / len(y), P["seed"])
            z, y, what = z[keep], y[keep], f"{len(keep)} of {len(result.test.y)} test embeddings"
        coords = tsne_2d(z, seed=P["seed"])
        yield plots.embedding_tsne(coords, y, result.test.class_names,
                                   f"{method_label(method)} on {dataset}: t-SNE of {what}")
        linear = next(e for e in result.record["evaluations"] if e["protocol"] == "linear" and e["label_fraction"] == 1.0)
        yield plots.confusion(linear["confusion"], result.test.class_names, f"{dataset}: linear probe confusion (test)")

def discussion(frame: pd.DataFrame, method: str) -> str:
    """A paragraph per dataset comparing ``method`` with the baseline, from the numbers of this run."""
    lines = []
    full = frame[frame["label_fraction"] == 1.0]
    for dataset, rows in full.groupby("dataset"):
        mean = rows.groupby(["method", "protocol"])["accuracy"].mean()
        if method not in mean.index.get_level_values(0):
            continue
        ours = mean[method]
        best_protocol = ours.idxmax()
        text = (f"On **{dataset}**, {method_label(method)}'s best protocol is {best_protocol} "
                f"({ours[best_protocol]:.3f} accuracy)")
        if "random_init" in mean.index.get_level_values(0):
            base = mean["random_init"]
            if "linear" in ours and "linear" in base:
                text += (f"; its linear probe is {ours['linear'] - base['linear']:+.3f} against a frozen random "
                         f"encoder ({base['linear']:.3f})")
            if "finetune" in ours and "finetune" in base:
                text += (f", and fine-tuning from it gives {ours['finetune']:.3f} against "
                         f"{base['finetune']:.3f} for the same encoder trained from scratch")
        lines.append(text + ".")
        low = frame[(frame["dataset"] == dataset) & (frame["method"] == method) & (frame["protocol"] == "linear")]
        by_fraction = low.groupby("label_fraction")["accuracy"].mean()
        if len(by_fraction) > 1:
            lines.append(f"With {by_fraction.index.min():.0%} of the labels its linear probe reaches "
                         f"{by_fraction.iloc[0]:.3f}, against {by_fraction.iloc[-1]:.3f} with all of them.")
    return " ".join(lines)


def hypothesis_diversity(frame: pd.DataFrame, results: list[ExperimentResult], a: str, b: str) -> str:
    """Hypothesis 1 from the numbers of this run: does ``a`` give more diverse features than ``b``?

    Diversity is measured on the training embeddings by the effective rank and by the mean
    per-dimension standard deviation of the L2-normalised embeddings (relative to ``1/sqrt(D)``,
    its value for perfectly spread embeddings, since the two methods may have other widths).
    """
    rows = []
    for r in results:
        cfg, diag = r.record["config"], r.record["diagnostics"]
        if cfg["method"] in (a, b):
            rows.append({"dataset": cfg["dataset"], "method": cfg["method"], "rank": diag["effective_rank"],
                         "spread": diag["std_normalized_mean"] / diag["std_collapse_reference"]})
    if not rows:
        return ""
    means = pd.DataFrame(rows).groupby(["dataset", "method"]).mean()
    parts = []
    for dataset in means.index.get_level_values(0).unique():
        if (dataset, a) not in means.index or (dataset, b) not in means.index:
            continue
        ra, rb = means.loc[(dataset, a)], means.loc[(dataset, b)]
        verdict = "supports" if ra["rank"] > rb["rank"] and ra["spread"] > rb["spread"] else (
            "contradicts" if ra["rank"] < rb["rank"] and ra["spread"] < rb["spread"] else "is mixed on")
        parts.append(
            f"On **{dataset}**, {method_label(a)} embeddings have effective rank {ra['rank']:.1f} and relative spread "
            f"{ra['spread']:.2f}, against {rb['rank']:.1f} and {rb['spread']:.2f} for {method_label(b)}: this run "
            f"{verdict} the hypothesis that {method_label(a)} gives more diverse features."
        )
    return " ".join(parts)


def most_confused_pairs(confusion: list[list[int]], k: int = 3) -> list[tuple[int, int]]:
    """The ``k`` unordered class pairs with the most errors between them (both directions)."""
    matrix = np.asarray(confusion)
    symmetric = matrix + matrix.T
    pairs = [(i, j) for i in range(len(matrix)) for j in range(i + 1, len(matrix))]
    return sorted(pairs, key=lambda p: -symmetric[p])[:k]


def hypothesis_similar_classes(results: list[ExperimentResult], a: str = "simclr", b: str = "vicreg",
                               dataset: str = "uwave", k: int = 3) -> str:
    """Hypothesis 2 from this run: does ``a`` confuse similar classes less often than ``b``?

    "Similar classes" are chosen without looking at ``a`` or ``b``: the ``k`` pairs the linear probe
    on the frozen *random* encoder confuses most. For each method the error rate between those
    pairs is the share of their test series predicted as the other class of the pair.
    """
    def linear_confusion(method: str) -> list[np.ndarray]:
        return [np.asarray(next(e["confusion"] for e in r.record["evaluations"]
                                if e["protocol"] == "linear" and e["label_fraction"] == 1.0))
                for r in results if r.record["config"]["method"] == method and r.record["config"]["dataset"] == dataset]

    base, ca, cb = linear_confusion("random_init"), linear_confusion(a), linear_confusion(b)
    if not (base and ca and cb):
        return ""
    pairs = most_confused_pairs(sum(base).tolist(), k)

    def pair_error(matrices: list[np.ndarray]) -> float:
        m = sum(matrices)
        wrong = sum(m[i, j] + m[j, i] for i, j in pairs)
        total = sum(m[i].sum() + m[j].sum() for i, j in pairs)
        return wrong / max(total, 1)

    names = next(r.test.class_names for r in results if r.record["config"]["dataset"] == dataset)
    listed = ", ".join(f"{names[i]}/{names[j]}" if names else f"{i}/{j}" for i, j in pairs)
    ea, eb = pair_error(ca), pair_error(cb)
    verdict = "supports" if ea < eb else "does not support"
    return (f"On **{dataset}**, the class pairs a random encoder confuses most are {listed}. Between them, "
            f"{method_label(a)}'s linear probe errs on {ea:.1%} of the series and {method_label(b)}'s on {eb:.1%}: "
            f"this run {verdict} the hypothesis that {method_label(a)} separates similar classes better.")


def table_outline(table: pd.DataFrame | None) -> str:
    """The rows and columns of ``table`` (its shape of contents, not its values), for nbval checks.

    A results table whose values depend on floating-point details of the platform can still be
    checked for what it lists: a lost method, seed or protocol changes the outline.

    >>> table_outline(pd.DataFrame({"svm": [0.9]}, index=pd.Index(["simclr"], name="method")))
    "rows (method): ['simclr']; columns: ['svm']"
    >>> table_outline(None)
    'no table'
    """
    if table is None:
        return "no table"
    names = ", ".join(str(n) for n in table.index.names if n is not None)
    columns = [c if isinstance(c, str) else " / ".join(map(str, c)) for c in table.columns]
    return f"rows ({names}): {[r if isinstance(r, str) else tuple(map(str, r)) for r in table.index]}; columns: {columns}"
