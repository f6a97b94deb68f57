"""Tables that describe a dataset and what each cleaning step does to it.

Every statistic of a cleaning step is fitted on the training split only and then applied to the
test split, exactly as a model pipeline would use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import cleaning
from .registry import TimeSeriesData


def overview(train: TimeSeriesData, test: TimeSeriesData) -> pd.DataFrame:
    """Sizes of both splits: series, channels, length, classes, groups, missing values."""
    rows = []
    for data in (train, test):
        rows.append({
            "split": data.split,
            "series": data.X.shape[0],
            "channels": data.X.shape[1],
            "length": data.X.shape[2],
            "classes": data.n_classes,
            "groups": "-" if data.groups is None else len(np.unique(data.groups)),
            "missing values": int(np.isnan(data.X).sum()),
        })
    return pd.DataFrame(rows).set_index("split")


def class_balance(train: TimeSeriesData, test: TimeSeriesData) -> pd.DataFrame:
    """Series per class in each split, with the imbalance ratio (largest / smallest class)."""
    table = pd.DataFrame(
        {"train": train.class_counts(), "test": test.class_counts()},
        index=pd.Index(train.class_names, name="class"),
    )
    return table


def channel_statistics(data: TimeSeriesData) -> pd.DataFrame:
    """Per-channel mean, std, min, max and missing count, pooled over series and time."""
    X = data.X.astype(np.float64)
    return pd.DataFrame(
        {
            "mean": np.nanmean(X, axis=(0, 2)),
            "std": np.nanstd(X, axis=(0, 2)),
            "min": np.nanmin(X, axis=(0, 2)),
            "max": np.nanmax(X, axis=(0, 2)),
            "missing": np.isnan(X).sum(axis=(0, 2)),
        },
        index=pd.Index(data.channel_names, name="channel"),
    ).round(4)


def outlier_report(train: TimeSeriesData, test: TimeSeriesData, zscore: float = 3.0, iqr: float = 1.5) -> pd.DataFrame:
    """Points and series flagged by the z-score and IQR rules (bounds fitted on train)."""
    rows = []
    for method, threshold in (("zscore", zscore), ("iqr", iqr)):
        detector = cleaning.OutlierDetector(method=method, threshold=threshold, action="drop").fit(train.X)
        for data in (train, test):
            _, report = detector.transform_with_report(data.X)
            rows.append({
                "rule": f"{method} > {threshold:g}",
                "split": data.split,
                "flagged points": report["n_flagged_points"],
                "% of points": round(100 * report["n_flagged_points"] / data.X.size, 3),
                "series affected": report["n_series_affected"],
                "series kept if dropped": int(report["kept_mask"].sum()),
            })
    return pd.DataFrame(rows)


def scaling_report(train: TimeSeriesData, test: TimeSeriesData) -> pd.DataFrame:
    """Per-channel mean and std of both splits after a z-score scaler fitted on train."""
    scaler = cleaning.ChannelStandardScaler().fit(train.X)
    rows = {}
    for data in (train, test):
        scaled = scaler.transform(data.X).astype(np.float64)
        rows[(data.split, "mean")] = scaled.mean(axis=(0, 2))
        rows[(data.split, "std")] = scaled.std(axis=(0, 2))
    return pd.DataFrame(rows, index=pd.Index(train.channel_names, name="channel")).round(3)


def smoothing_report(data: TimeSeriesData, window: int) -> pd.DataFrame:
    """How much a centred moving average changes each channel: residual std and noise share."""
    smoothed = cleaning.moving_average(data.X, window).astype(np.float64)
    residual = data.X.astype(np.float64) - smoothed
    return pd.DataFrame(
        {
            "std before": data.X.std(axis=(0, 2)),
            "std after": smoothed.std(axis=(0, 2)),
            "removed std": residual.std(axis=(0, 2)),
        },
        index=pd.Index(data.channel_names, name="channel"),
    ).round(4)


def imputation_benchmark(train: TimeSeriesData, fraction: float, n_series: int, seed: int) -> pd.DataFrame:
    """RMSE of each imputer on values hidden at random from real training series.

    ``n_series`` series are drawn from the training split; ``fraction`` of their values is hidden;
    imputers are fitted on the rest of the training split (never on the hidden values) and
    scored on the hidden values only.
    """
    rng = np.random.default_rng(seed)
    n = train.X.shape[0]
    pick = rng.choice(n, size=min(n_series, n), replace=False)
    fit_pool = np.setdiff1d(np.arange(n), pick)[: max(n_series, 10)]
    if len(fit_pool) < 2:  # tiny datasets: fit on the probed series' visible values only
        fit_pool = pick
    truth = train.X[pick].astype(np.float64)
    hidden = rng.random(truth.shape) < fraction
    corrupted = np.where(hidden, np.nan, truth)
    candidates = {
        "forward/backward fill": lambda: cleaning.fill_along_time(corrupted, "both"),
        "channel mean": lambda: cleaning.MeanImputer("mean").fit(train.X[fit_pool]).transform(corrupted),
        "channel median": lambda: cleaning.MeanImputer("median").fit(train.X[fit_pool]).transform(corrupted),
        "k-NN (k=5)": lambda: cleaning.KNNSeriesImputer(5).fit(train.X[fit_pool]).transform(corrupted),
    }
    rows = []
    for name, impute in candidates.items():
        filled = impute()
        error = filled[hidden] - truth[hidden]
        rows.append({"imputer": name, "RMSE": float(np.sqrt(np.nanmean(error**2))),
                     "still missing": int(np.isnan(filled[hidden]).sum())})
    table = pd.DataFrame(rows).set_index("imputer")
    table.attrs["hidden_values"] = int(hidden.sum())
    return table.round(4)


def redundancy(data: TimeSeriesData, threshold: float = 0.9) -> tuple[np.ndarray, list[tuple]]:
    """Channel correlation matrix (train) and channel pairs with ``|r| >= threshold``."""
    corr = cleaning.channel_correlation(data.X)
    return corr, cleaning.redundant_channels(corr, threshold=threshold, names=list(data.channel_names))
