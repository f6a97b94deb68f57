"""Tables, figures and verdicts of the comparison chapter, from the records of ``sslts compare``.

The records (:mod:`sslts.comparison`) hold, per dataset and method, the seed-0 runs of the
method's grid and seeds 1-4 at the value the training split chose. :func:`load` keeps the chosen
value's runs (the grid's other runs only feed :func:`selection_table`); the rest of the module
turns them into the main table, ranks, the critical-difference diagram, label-efficiency curves,
the two hypotheses' verdicts and "what to use when".

The headline score of a run is TS2Vec's SVM protocol on the chosen read-out for the frozen
encoders, and the test accuracy of the classifier itself for the baselines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..comparison import (GRIDS, METHODS, PRETRAINS_WITH_LABELS, PROFILE, SEEDS, SKIPPED, SSL_METHODS, SUITE,
                          chosen_config)
from ..baselines import BASELINE_METHODS
from ..results import config_hash, load_records
from .stats import PairedTest, average_ranks, friedman, mean_interval, paired_test, pairwise_wilcoxon

LABELS = {"simclr": "SimCLR", "vicreg": "VICReg", "barlow_twins": "Barlow Twins", "vibcreg": "VIbCReg",
          "mae": "MAE (CNN)", "ssgan": "SS-GAN", "clip": "CLIP (tower A)", "ttt": "TTT (joint, labels)",
          "random_init": "untrained encoder", "minirocket": "MiniRocket", "dtw": "1-NN DTW",
          "supervised_cnn": "supervised CNN"}
ORDER = (*METHODS, *BASELINE_METHODS)
# Ranks, the critical-difference diagram and "the best SSL method" compare label-free pre-training:
# TTT's joint classifier trains on every training label, so it is shown apart, never ranked with them.
RANKED = tuple(m for m in ORDER if m not in PRETRAINS_WITH_LABELS)
FULL_SEEDS = len(SEEDS)  # a dataset is complete when every method has all of them
CITED_PATH = Path(__file__).with_name("cited.json")


def load(out_dir: str | Path) -> pd.DataFrame:
    """One row per evaluation of every record at its method's chosen setting.

    Columns: dataset, method, seed, protocol, label_fraction, n_labelled, accuracy, total_s, pools_pinned,
    readout (the read-out the training split chose; None for baselines), grid_value, and the
    diagnostics' effective_rank and std_normalized_mean (NaN for baselines).
    """
    rows = []
    chosen_hashes = {}
    for record in load_records(out_dir):
        config = record["config"]
        method, dataset = config["method"], config["dataset"]
        if config.get("profile") != PROFILE:  # e.g. the few-shot records (sslts.fewshot) in the same folder
            continue
        if method in METHODS:
            key = (method, dataset)
            if key not in chosen_hashes:
                chosen = chosen_config(method, dataset, out_dir)
                chosen_hashes[key] = None if chosen is None else config_hash(
                    {**chosen.to_dict(), "seed": 0})
            if chosen_hashes[key] is None or config_hash({**config, "seed": 0}) != chosen_hashes[key]:
                continue
        grid_name = GRIDS.get(method, (None, ()))[0]
        diagnostics = record.get("diagnostics", {})
        for evaluation in record["evaluations"]:
            rows.append({"dataset": dataset, "method": method, "seed": config["seed"],
                         "protocol": evaluation["protocol"], "label_fraction": evaluation["label_fraction"],
                         "n_labelled": evaluation.get("n_labelled"), "accuracy": evaluation["accuracy"],
                         "confusion": evaluation.get("confusion"),
                         "total_s": record["timing"]["total_s"],
                         # Records name their thread pools since numba's pool was pinned (05f8e20).
                         "pools_pinned": "thread_pools" in record,
                         "readout": record.get("readout", {}).get("chosen"),
                         "grid_value": None if grid_name is None else config["method_params"].get(grid_name),
                         "effective_rank": diagnostics.get("effective_rank", np.nan),
                         "std_normalized_mean": diagnostics.get("std_normalized_mean", np.nan),
                         "cpu": record.get("cpu", {}).get("model_name") if isinstance(record.get("cpu"), dict) else None})
    return pd.DataFrame(rows)


def headline(frame: pd.DataFrame) -> pd.DataFrame:
    """The headline accuracy of each run: SVM protocol (frozen encoders) or the classifier (baselines), all labels."""
    full = frame[frame["label_fraction"] == 1.0]
    keep = ((full["method"].isin(METHODS) & (full["protocol"] == "svm"))
            | (full["method"].isin(BASELINE_METHODS) & (full["protocol"] == "supervised")))
    return full[keep][["dataset", "method", "seed", "accuracy", "total_s", "readout", "grid_value"]]


def inventory(frame: pd.DataFrame) -> pd.DataFrame:
    """Seeds recorded per method (rows) and dataset (columns): what the chapter can show."""
    runs = headline(frame)
    table = runs.groupby(["method", "dataset"])["seed"].nunique().unstack(fill_value=0)
    table = table.reindex(index=[m for m in ORDER if m in table.index],
                          columns=[d for d in SUITE if d in table.columns], fill_value=0)
    return table.rename(index=LABELS)


def complete_datasets(frame: pd.DataFrame, methods: tuple[str, ...] = ORDER, min_seeds: int | None = None) -> list[str]:
    """Datasets on which every method in ``methods`` has ``min_seeds`` seeds (default: the full seed
    set, :data:`FULL_SEEDS`; DTW, deterministic, counts with one; a baseline left out of a dataset on
    purpose, :data:`sslts.comparison.SKIPPED`, is not required there)."""
    min_seeds = FULL_SEEDS if min_seeds is None else min_seeds
    runs = headline(frame)
    counts = runs.groupby(["dataset", "method"])["seed"].nunique()
    out = []
    for dataset in SUITE:
        need = [(m, 1 if m == "dtw" else min_seeds) for m in methods if m not in SKIPPED.get(dataset, {})]
        if all(counts.get((dataset, m), 0) >= k for m, k in need):
            out.append(dataset)
    return out


def _covering(frame: pd.DataFrame, methods: list[str], datasets: list[str]) -> list[str]:
    """The methods with a headline score on every one of ``datasets``."""
    have = set(map(tuple, headline(frame)[["dataset", "method"]].drop_duplicates().to_numpy()))
    return [m for m in methods if all((d, m) in have for d in datasets)]


def score_matrix(frame: pd.DataFrame, methods: list[str], datasets: list[str]) -> np.ndarray:
    """Mean headline accuracy over seeds, ``(n_datasets, n_methods)``."""
    means = headline(frame).groupby(["dataset", "method"])["accuracy"].mean()
    return np.array([[means[(d, m)] for m in methods] for d in datasets])


def main_table(frame: pd.DataFrame, datasets: list[str] | None = None) -> pd.DataFrame:
    """Rows: methods and baselines; columns: datasets (mean ± std over seeds, best per column in
    bold), then the mean accuracy over the complete datasets, the mean rank over them among the
    label-free rows (:data:`RANKED`; TTT's cell says "apart"), and the mean wall time of a run
    (seconds, same machine)."""
    runs = headline(frame)
    methods = [m for m in ORDER if m in set(runs["method"])]
    datasets = datasets or [d for d in SUITE if d in set(runs["dataset"])]
    stats_ = runs.groupby(["method", "dataset"])["accuracy"].agg(["mean", "std", "count"])
    table = pd.DataFrame(index=[LABELS[m] for m in methods])
    for dataset in datasets:
        column = {}
        best = max((stats_.loc[(m, dataset), "mean"] for m in methods if (m, dataset) in stats_.index), default=None)
        for m in methods:
            if (m, dataset) not in stats_.index:
                column[LABELS[m]] = "–"
                continue
            s = stats_.loc[(m, dataset)]
            cell = f"{s['mean']:.3f}" + ("" if s["count"] < 2 else f" ± {s['std']:.3f}")
            column[LABELS[m]] = f"**{cell}**" if np.isclose(s["mean"], best) else cell
        table[dataset] = pd.Series(column)
    common = complete_datasets(frame, tuple(methods))
    covering = _covering(frame, methods, common)
    if common:
        mean = dict(zip(covering, score_matrix(frame, covering, common).mean(axis=0)))
        ranked = [m for m in covering if m in RANKED]
        rank = dict(zip(ranked, average_ranks(score_matrix(frame, ranked, common))))
        table[f"mean ({len(common)} sets)"] = [f"{mean[m]:.3f}" if m in mean else "–" for m in methods]
        table["mean rank"] = [f"{rank[m]:.2f}" if m in rank else ("apart" if m in mean else "–") for m in methods]
    table["s / run"] = [f"{runs[runs['method'] == m]['total_s'].mean():.0f}" for m in methods]
    return table


# Column heads narrow enough for a table with one column per method to fit the page.
SHORT_LABELS = {"simclr": "SimCLR", "vicreg": "VICReg", "barlow_twins": "Barlow", "vibcreg": "VIbCReg",
                "mae": "MAE", "ssgan": "SS-GAN", "clip": "CLIP", "ttt": "TTT*", "random_init": "untrained",
                "minirocket": "MiniRocket", "dtw": "DTW", "supervised_cnn": "sup. CNN"}


def problems_table(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`main_table` turned for the page: problems in rows, one narrow column per method
    (:data:`SHORT_LABELS`), the mean over seeds only (the spread is in :func:`main_table`), best of a
    row in bold, "–" where a method has no record; then the mean, mean rank and seconds per run."""
    runs = headline(frame)
    methods = [m for m in ORDER if m in set(runs["method"])]
    means = runs.groupby(["dataset", "method"])["accuracy"].mean().unstack()
    rows = {}
    for dataset in [d for d in SUITE if d in means.index]:
        row = means.loc[dataset]
        best = row.max()
        rows[dataset] = {SHORT_LABELS[m]: "–" if pd.isna(row.get(m)) else
                         (f"**{row[m]:.3f}**" if np.isclose(row[m], best) else f"{row[m]:.3f}") for m in methods}
    table = pd.DataFrame.from_dict(rows, orient="index")
    summary = main_table(frame).rename(index={LABELS[m]: SHORT_LABELS[m] for m in methods})
    for column in [c for c in summary.columns if c.startswith("mean") or c == "s / run"]:
        table.loc[column] = summary[column].reindex(table.columns).fillna("–")
    return table


def rank_summary(frame: pd.DataFrame, methods: list[str] | None = None) -> dict[str, Any]:
    """Average ranks and the Friedman p-value over the complete datasets, among ``methods`` (default:
    the label-free methods and baselines recorded, :data:`RANKED`)."""
    runs = headline(frame)
    methods = methods or [m for m in RANKED if m in set(runs["method"])]
    datasets = complete_datasets(frame, tuple(methods))
    methods = _covering(frame, methods, datasets)  # a baseline skipped on one of them drops out
    if len(datasets) < 2:
        return {"datasets": datasets, "methods": methods, "ranks": {}, "friedman_p": float("nan")}
    scores = score_matrix(frame, methods, datasets)
    ranks = dict(zip(methods, average_ranks(scores)))
    return {"datasets": datasets, "methods": methods, "ranks": ranks, "friedman_p": friedman(scores),
            "scores": scores}


def cd_diagram(frame: pd.DataFrame, methods: list[str] | None = None):
    """aeon's critical-difference diagram over the complete datasets; returns ``(fig, summary)``.

    What aeon draws (0.x, ``test="wilcoxon", correction="holm"``, alpha 0.1): when the Friedman test
    is not significant at alpha, one bar joins every method; otherwise a bar joins methods whose
    pairwise Wilcoxon p-values all exceed alpha / (k - 1), one fixed threshold, not Holm's step-down
    procedure. :func:`pairwise_table` gives the step-down Holm results."""
    from aeon.visualisation import plot_critical_difference

    summary = rank_summary(frame, methods)
    if len(summary["datasets"]) < 2:
        return None, summary
    fig, _ = plot_critical_difference(summary["scores"], [LABELS[m] for m in summary["methods"]],
                                      test="wilcoxon", correction="holm", width=7, textspace=1.8)
    return fig, summary


def pairwise_table(frame: pd.DataFrame, methods: list[str] | None = None) -> pd.DataFrame:
    """Every pair of ranked methods over the complete datasets: Wilcoxon signed-rank on the mean
    accuracies, Holm-adjusted over all pairs (:func:`sslts.report.stats.pairwise_wilcoxon`)."""
    summary = rank_summary(frame, methods)
    if len(summary["datasets"]) < 2:
        return pd.DataFrame()
    return pairwise_wilcoxon(summary["scores"], [LABELS[m] for m in summary["methods"]])


def suite_test(frame: pd.DataFrame, a: str, b: str) -> PairedTest:
    """Wilcoxon over datasets (means over seeds) of method ``a`` against ``b``, on the datasets both cover."""
    means = headline(frame).groupby(["dataset", "method"])["accuracy"].mean().unstack()
    both = means[[a, b]].dropna() if a in means and b in means else pd.DataFrame(columns=[a, b])
    return paired_test(both[a].to_numpy(), both[b].to_numpy(), "wilcoxon")


def seed_test(frame: pd.DataFrame, dataset: str, a: str, b: str) -> PairedTest:
    """Paired t-test over the seeds both methods ran on ``dataset`` (headline accuracy)."""
    runs = headline(frame)
    runs = runs[runs["dataset"] == dataset].pivot_table(index="seed", columns="method", values="accuracy")
    both = runs[[a, b]].dropna() if a in runs and b in runs else pd.DataFrame(columns=[a, b])
    return paired_test(both[a].to_numpy(), both[b].to_numpy(), "t")


def interval_table(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Mean, std and the 95% t-interval over seeds of every method's headline accuracy on ``dataset``."""
    runs = headline(frame)
    rows = []
    for method in ORDER:
        values = runs[(runs["dataset"] == dataset) & (runs["method"] == method)]["accuracy"].to_numpy()
        if values.size:
            mean, std, low, high = mean_interval(values)
            rows.append({"method": LABELS[method], "seeds": values.size, "mean": round(mean, 3),
                         "std": round(std, 3), "95% interval": f"[{low:.3f}, {high:.3f}]"})
    return pd.DataFrame(rows).set_index("method") if rows else pd.DataFrame()


def selection_table(out_dir: str | Path, datasets: list[str] | None = None) -> pd.DataFrame:
    """What the training split chose, per dataset and method: the grid value and the seed-0 read-out,
    with the training-split score of each grid value (the test split played no part)."""
    rows = []
    for record in load_records(out_dir):
        config = record["config"]
        method = config["method"]
        if (method not in METHODS or config["seed"] != 0 or config.get("profile") != PROFILE
                or (datasets and config["dataset"] not in datasets)):
            continue
        choice = record["readout"]
        name = GRIDS.get(method, ("-", ()))[0]
        chosen = chosen_config(method, config["dataset"], out_dir)
        rows.append({"dataset": config["dataset"], "method": LABELS[method], "parameter": name,
                     "value": config["method_params"].get(name, "-"),
                     "read-out": choice["chosen"], "train-CV score": round(choice["scores"][choice["chosen"]] or np.nan, 3),
                     "kept": chosen is not None and config_hash({**chosen.to_dict(), "seed": 0}) == config_hash(config)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["dataset", "method", "value"]).set_index(["dataset", "method"])


def readout_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """How often the training split chose each read-out, per method (over datasets and seeds)."""
    runs = headline(frame)
    runs = runs[runs["method"].isin(METHODS)]
    table = runs.groupby(["method", "readout"]).size().unstack(fill_value=0)
    return table.rename(index=LABELS)


def _fraction_rows(frame: pd.DataFrame, datasets: list[str]) -> pd.DataFrame:
    rows = frame[frame["protocol"].isin(["linear", "supervised"]) & frame["dataset"].isin(datasets)]
    return rows[rows["label_fraction"].notna()]


def labelled_counts(frame: pd.DataFrame, datasets: list[str]) -> pd.DataFrame:
    """Labelled training series each label fraction gives, per dataset: "n (per class)". A fraction is
    rounded up to at least one series per class, so on small training splits several fractions give
    the same series."""
    rows = _fraction_rows(frame, datasets)
    classes = rows.dropna(subset=["confusion"]).groupby("dataset")["confusion"].first().map(len)
    counts = rows.groupby(["dataset", "label_fraction"])["n_labelled"].max().unstack()
    counts = counts.reindex([d for d in SUITE if d in counts.index])
    return counts.apply(lambda col: [f"{n:.0f} ({n / classes[d]:.3g})" for d, n in col.items()])


def distinct_fraction_datasets(frame: pd.DataFrame, datasets: list[str]) -> list[str]:
    """The datasets on which every label fraction gives more labelled series than the one before: only
    there is a label-efficiency curve not flat by construction."""
    counts = _fraction_rows(frame, datasets).groupby(["dataset", "label_fraction"])["n_labelled"].max()
    return [d for d in datasets if d in counts.index.get_level_values(0)
            and bool(np.all(np.diff(counts[d].sort_index().to_numpy()) > 0))]


def label_efficiency(frame: pd.DataFrame, datasets: list[str]) -> pd.DataFrame:
    """Mean accuracy over ``datasets`` (then seeds) per method and label fraction: the linear probe
    on the chosen read-out for frozen encoders, the classifier itself for the baselines. Methods
    whose pre-training saw every label (:data:`~sslts.comparison.PRETRAINS_WITH_LABELS`) are left out."""
    keep = ((frame["method"].isin(METHODS) & ~frame["method"].isin(PRETRAINS_WITH_LABELS)
             & (frame["protocol"] == "linear"))
            | (frame["method"].isin(BASELINE_METHODS) & (frame["protocol"] == "supervised")))
    sub = frame[keep & frame["dataset"].isin(datasets)]
    per_dataset = sub.groupby(["method", "label_fraction", "dataset"])["accuracy"].mean()
    table = per_dataset.groupby(["method", "label_fraction"]).mean().unstack()
    table = table.reindex([m for m in ORDER if m in table.index])
    return table.rename(index=LABELS)


def cited(dataset: str | None = None) -> pd.DataFrame:
    """Published accuracies (never measured here), with their sources, from ``cited.json``."""
    data = json.loads(CITED_PATH.read_text())
    rows = [{"dataset": row["dataset"], "method": row["method"], "accuracy": row["accuracy"], "source": row["source"]}
            for row in data["figures"] if dataset is None or row["dataset"] == dataset]
    return pd.DataFrame(rows)


def what_to_use(frame: pd.DataFrame) -> list[str]:
    """Recommendations derived from the records: the best frozen encoder, whether it beats
    MiniRocket and the supervised CNN over the suite, and who wins with 1% of the labels."""
    summary = rank_summary(frame)
    if not summary["ranks"]:
        return ["Too few datasets are complete to recommend anything yet."]
    ranks = summary["ranks"]  # TTT is not among them (RANKED)
    ssl = [m for m in ranks if m in SSL_METHODS]
    best_ssl = min(ssl, key=ranks.get) if ssl else None
    best = min(ranks, key=ranks.get)
    lines = [f"Best mean rank over {len(summary['datasets'])} datasets: {LABELS[best]} ({ranks[best]:.2f}); "
             f"Friedman p = {summary['friedman_p']:.3g}."]
    if best_ssl:
        lines.append(f"Best self-supervised method: {LABELS[best_ssl]} (mean rank {ranks[best_ssl]:.2f}).")
        for baseline in ("minirocket", "supervised_cnn", "random_init"):
            if baseline in ranks:
                lines.append(f"{LABELS[best_ssl]} against {LABELS[baseline]}: "
                             f"{suite_test(frame, best_ssl, baseline).sentence(LABELS[best_ssl], LABELS[baseline])}.")
    few = label_efficiency(frame, summary["datasets"])
    if 0.01 in few.columns:
        top = few[0.01].idxmax()
        lines.append(f"With 1% of the labels (at least one series per class) the highest mean accuracy over the same "
                     f"datasets is {top}'s ({few[0.01].max():.3f}).")
    return lines


def what_mattered(method: str = "vicreg", dataset: str = "uwave") -> pd.DataFrame:
    """The settings explored for ``method`` on ``dataset`` in the committed full-profile records
    (``results/full``): per setting, seeds, the SVM protocol's training-split CV score (what a
    choice may read), and the test accuracy of the SVM and linear probes (what a choice may not),
    sorted by the training-split score. These settings were explored with test scores in view:
    the table shows what mattered, the comparison's equal-terms rows are the results."""
    from .full_profile import full_profile_frame, full_profile_records

    records = full_profile_records([method])
    if not records:
        return pd.DataFrame()
    frame = full_profile_frame(records)
    rows = frame[(frame["dataset"] == dataset) & (frame["method"] == method) & (frame["label_fraction"] == 1.0)]
    svm = rows[rows["protocol"] == "svm"].assign(
        cv=lambda f: [p.get("cv_accuracy") if isinstance(p, dict) else np.nan for p in f["best_params"]])
    linear = rows[rows["protocol"] == "linear"].groupby("setting")["accuracy"].mean()
    table = svm.groupby("setting").agg(seeds=("seed", "nunique"), train_cv=("cv", "mean"),
                                       svm=("accuracy", "mean"), svm_std=("accuracy", "std"))
    table["linear"] = linear
    table = table.sort_values("train_cv", ascending=False).round(3)
    return table.rename(columns={"train_cv": "SVM train-CV", "svm": "SVM test", "svm_std": "SVM test std",
                                 "linear": "linear test"})


def dataset_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean headline accuracy over seeds: rows datasets (suite order), columns methods (labels)."""
    means = headline(frame).groupby(["dataset", "method"])["accuracy"].mean().unstack()
    means = means.reindex(index=[d for d in SUITE if d in means.index], columns=[m for m in ORDER if m in means.columns])
    return means.rename(columns=LABELS)
