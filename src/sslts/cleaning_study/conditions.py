"""The conditions of the cleaning study: what is injected into the data and how it is cleaned.

A :class:`Condition` names one preprocessing pipeline, applied to the loaded training and test
splits before the usual run (:func:`prepare_splits`):

1. **inject** damage into both splits, seeded by the run's seed (:mod:`.inject`): missing values
   completely at random (``"mcar"``) or in contiguous gaps (``"gaps"``), and outlier spikes;
2. **detect outliers** (z-score or IQR bounds fitted on the training split) and ``"flag"`` (leave
   the values in), ``"clip"`` them to the bounds, or ``"drop"`` them (the value is removed and
   filled from its neighbours in time: a series must keep its length, and every test series must
   still be classified, so whole series are not dropped);
3. **impute** missing values: forward then backward fill (``"fill"``), the training mean of the
   channel (``"mean"``), or k-nearest training series (``"knn"``);
4. **drop correlated channels**: one of each pair whose within-series correlation on the training
   split is at least :data:`CORRELATION_THRESHOLD`;
5. **smooth** with a centred moving average of ``smoothing`` steps (1: off);
6. **scale**: per-channel z-score (the project's default), min-max, or none, fitted on training.

Every fitted step (detector, imputer, channel choice, scaler) sees the training split only and is
applied unchanged to the test split. The defaults of :class:`Condition` are the clean data under
the project's usual z-score, so the clean reference of the damage claims, the z-score arm of the
scaling claim, "keep" and "smoothing off" are one condition, run once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ..data import cleaning
from ..data.registry import TimeSeriesData
from .inject import inject_gaps, inject_mcar, inject_spikes

MISSING, IMPUTERS = ("none", "mcar", "gaps"), ("none", "fill", "mean", "knn")
DETECTORS, ACTIONS = ("none", "zscore", "iqr"), ("none", "flag", "clip", "drop")
# "drop": the later channel of a correlated pair goes; "drop-weaker": the one that separates the
# training split's classes less (sslts.data.cleaning.channel_separability) goes.
SCALINGS, CHANNELS = ("none", "zscore", "minmax"), ("keep", "drop", "drop-weaker")
# |r| of the within-series correlation above which one channel of a pair is dropped. On UCI HAR
# the three body/total acceleration pairs of one axis reach 0.92-0.94 and no other pair 0.25.
CORRELATION_THRESHOLD = 0.9
KNN_NEIGHBOURS = 5
# The split codes that seed injection, so train and test never share a draw.
_SPLIT_CODE = {"train": 0, "test": 1}


@dataclass(frozen=True)
class Condition:
    """One preprocessing pipeline of the study (its defaults: clean data, z-score)."""

    dataset: str = "uwave"
    missing: str = "none"
    missing_rate: float = 0.0
    imputer: str = "none"
    spike_rate: float = 0.0
    detector: str = "none"
    action: str = "none"
    scaling: str = "zscore"
    channels: str = "keep"
    smoothing: int = 1

    def __post_init__(self) -> None:
        for name, options in (("missing", MISSING), ("imputer", IMPUTERS), ("detector", DETECTORS),
                              ("action", ACTIONS), ("scaling", SCALINGS), ("channels", CHANNELS)):
            if getattr(self, name) not in options:
                raise ValueError(f"{name} must be one of {', '.join(options)}; got {getattr(self, name)!r}")
        if (self.missing == "none") != (self.missing_rate == 0.0) or (self.missing == "none") != (self.imputer == "none"):
            raise ValueError("missing values need a pattern, a rate in (0, 1) and an imputer, or none of them; "
                             f"got {self.missing!r}, {self.missing_rate!r}, {self.imputer!r}")
        if (self.action in ("clip", "drop")) != (self.detector != "none"):
            raise ValueError(f"action {self.action!r} needs a detector (clip, drop) or none (flag); got {self.detector!r}")
        if (self.spike_rate > 0) != (self.action != "none"):
            raise ValueError(f"spikes need an action (flag, clip, drop) and an action needs spikes; "
                             f"got spike_rate {self.spike_rate!r}, action {self.action!r}")
        if self.smoothing < 1 or self.smoothing % 2 == 0:
            raise ValueError(f"smoothing must be a positive odd window (1: off); got {self.smoothing!r}")

    @property
    def name(self) -> str:
        """A short readable name, e.g. ``"clean"``, ``"mcar20-knn"``, ``"spikes1-iqr-clip"``."""
        parts = []
        if self.missing != "none":
            parts.append(f"{self.missing}{round(100 * self.missing_rate)}-{self.imputer}")
        if self.spike_rate:
            parts.append("-".join([f"spikes{round(100 * self.spike_rate)}",
                                   *([self.detector] if self.detector != "none" else []), self.action]))
        if self.channels != "keep":
            parts.append("decorrelated" if self.channels == "drop" else "decorrelated-weaker")
        if self.smoothing > 1:
            parts.append(f"smooth{self.smoothing}")
        if self.scaling != "zscore":
            parts.append(f"scale-{self.scaling}")
        return "_".join(parts) or "clean"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class IdentityScaler:
    """The "no scaling" arm: ``transform`` returns a float copy of its input."""

    def fit(self, X: np.ndarray, y: Any = None) -> "IdentityScaler":
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.array(X, dtype=np.float32)


def _scaler(name: str) -> Any:
    return {"none": IdentityScaler, "zscore": cleaning.ChannelStandardScaler,
            "minmax": cleaning.ChannelMinMaxScaler}[name]()


def inject(condition: Condition, X: np.ndarray, split: str, seed: int) -> np.ndarray:
    """The damage of ``condition`` injected into one split ``(n, C, L)`` (a new array).

    The draw depends on the seed, the split and the damage (pattern, rate), not on the cleaning
    that follows, so the arms of one claim (mean vs k-NN at MCAR 20 %) see the same damage.
    """
    out = X
    if condition.spike_rate:
        rng = np.random.default_rng([seed, _SPLIT_CODE[split], 1, round(1e6 * condition.spike_rate)])
        out = inject_spikes(out, condition.spike_rate, rng)
    if condition.missing != "none":
        pattern = MISSING.index(condition.missing)
        rng = np.random.default_rng([seed, _SPLIT_CODE[split], 2, pattern, round(1e6 * condition.missing_rate)])
        out = (inject_mcar if condition.missing == "mcar" else inject_gaps)(out, condition.missing_rate, rng)
    return np.array(out, dtype=np.float32)


def _remove_outliers(condition: Condition, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    if condition.detector == "none":  # "flag" without a detector: the spikes stay in
        return train, test, {}
    action = "clip" if condition.action == "clip" else "nan"
    detector = cleaning.OutlierDetector(condition.detector, action=action).fit(train)  # training split only
    train, train_report = detector.transform_with_report(train)
    test, test_report = detector.transform_with_report(test)
    if condition.action == "drop":  # removed values are filled from their neighbours in time
        train, test = cleaning.fill_along_time(train), cleaning.fill_along_time(test)
    return train, test, {"outliers_train": train_report["n_flagged_points"],
                         "outliers_test": test_report["n_flagged_points"]}


def _impute(condition: Condition, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if condition.imputer == "fill":
        train, test = cleaning.fill_along_time(train), cleaning.fill_along_time(test)
    elif condition.imputer == "knn":
        imputer = cleaning.KNNSeriesImputer(n_neighbors=KNN_NEIGHBOURS).fit(train)  # training split only
        train, test = imputer.transform(train), imputer.transform(test)
    # The mean imputer also fills whatever another step left missing (a series-long gap).
    mean = cleaning.MeanImputer().fit(train)
    return mean.transform(train), mean.transform(test)


def prepare_arrays(condition: Condition, train: np.ndarray, test: np.ndarray,
                   seed: int, y_train: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, Any, dict[str, Any]]:
    """Inject and clean ``train`` and ``test`` ``(n, C, L)``; fit every step on ``train`` only
    (``y_train``, the training labels, only for the ``drop-weaker`` channel choice).

    Returns ``(train, test, scaler, report)``: the cleaned float32 arrays (new arrays, the inputs
    are not written), the scaler fitted on the cleaned training split (the run applies it to both),
    and what the pipeline did (injected fractions, outliers flagged, channels kept).
    """
    train, test = inject(condition, train, "train", seed), inject(condition, test, "test", seed)
    report: dict[str, Any] = {"missing_train": float(np.isnan(train).mean()), "missing_test": float(np.isnan(test).mean())}
    train, test, outliers = _remove_outliers(condition, train, test)
    report.update(outliers)
    train, test = _impute(condition, train, test)
    if condition.channels != "keep":
        scores = None
        if condition.channels == "drop-weaker":
            if y_train is None:
                raise ValueError("the drop-weaker channel choice needs the training labels (y_train)")
            scores = cleaning.channel_separability(train, y_train)
            report["channel_separability"] = [round(float(v), 3) for v in scores]
        keep = cleaning.decorrelated_channels(cleaning.series_channel_correlation(train), CORRELATION_THRESHOLD, scores)
        train, test = train[:, keep], test[:, keep]
        report["channels_kept"] = keep
    if condition.smoothing > 1:
        train, test = cleaning.moving_average(train, condition.smoothing), cleaning.moving_average(test, condition.smoothing)
    scaler = _scaler(condition.scaling).fit(train)  # training split only
    return train.astype(np.float32), test.astype(np.float32), scaler, report


def prepare_splits(condition: Condition, train: TimeSeriesData, test: TimeSeriesData,
                   seed: int) -> tuple[TimeSeriesData, TimeSeriesData, Any, dict[str, Any]]:
    """:func:`prepare_arrays` on two loaded splits; channel names follow a channel drop."""
    X_train, X_test, scaler, report = prepare_arrays(condition, train.X, test.X, seed, train.y)
    names = tuple(train.channel_names[c] for c in report.get("channels_kept", range(len(train.channel_names))))
    if "channels_kept" in report:
        report["channels_dropped"] = [n for n in train.channel_names if n not in names]
    return (replace(train, X=X_train, channel_names=names), replace(test, X=X_test, channel_names=names),
            scaler, report)
