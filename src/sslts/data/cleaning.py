"""Preprocessing for multivariate time series shaped ``(n_series, n_channels, length)``.

Every step the book discusses is here as a small function (stateless: decoding, forward/backward
filling, smoothing, correlation) or as an sklearn-style transformer (stateful: imputers, outlier
detection, scalers). Transformers learn their statistics in ``fit`` from the *training split only*
and ``transform`` applies those frozen statistics to any split, so no test-split statistic can leak
into the model. ``transform`` never modifies its input, ``fit`` returns ``self``, fitted attributes
end in ``_``, and calling ``transform`` before ``fit`` raises sklearn's ``NotFittedError``.
NaN is the only missing-value marker; statistics ignore NaN (``np.nan*`` functions).
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import KNNImputer
from sklearn.utils.validation import check_is_fitted

from .arrays import as_3d as _as_3d
# The channel-correlation functions live in .channels; importable from here as before.
from .channels import (channel_correlation, channel_separability, decorrelated_channels,  # noqa: F401
                       redundant_channels, series_channel_correlation)

_MISSING_TOKENS = {"", "?", "nan", "na", "n/a", "null", "none"}


def _check_option(name: str, value, options) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}; got {value!r}")


def _per_channel(fn, X: np.ndarray, default: float) -> np.ndarray:
    """Apply a NaN-aware reduction ``fn(M, axis=1)`` to each channel pooled over series and time.

    Channels with no observed value get ``default`` instead of NaN (no warning)."""
    M = X.transpose(1, 0, 2).reshape(X.shape[1], -1).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Mean of empty slice" etc.
        stat = np.asarray(fn(M, axis=1), dtype=np.float64)
    return np.where(np.isnan(stat), default, stat)


# ----------------------------------------------------------------------------------- decoding
def decode_bytes(values) -> np.ndarray:
    """Decode byte strings / strings / numbers into a float32 array of the same shape.

    Accepts e.g. ``np.array([b"1.5", b"?"])`` or object arrays mixing ``bytes``, ``str``, ``float``
    and ``None``. Missing tokens (``""``, ``"?"``, ``"NaN"``, ``"NA"``, ``"N/A"``, ``"null"``,
    ``"None"``; case-insensitive, whitespace stripped) and ``None`` become NaN. Raises
    ``ValueError`` naming the first undecodable value and its index.
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float32)
    flat = arr.ravel()
    out = np.empty(flat.shape, dtype=np.float32)
    for i, v in enumerate(flat):
        try:
            if v is None:
                out[i] = np.nan
                continue
            if isinstance(v, (bytes, np.bytes_)):
                v = bytes(v).decode("utf-8")
            if isinstance(v, str):
                s = v.strip()
                out[i] = np.nan if s.lower() in _MISSING_TOKENS else float(s)
            else:
                out[i] = float(v)
        except (ValueError, TypeError, UnicodeDecodeError):
            idx = np.unravel_index(i, arr.shape) if arr.ndim > 1 else (i,)
            idx, bad = tuple(int(j) for j in idx), flat[i]
            bad = bad.item() if isinstance(bad, np.generic) else bad  # b'x', not np.bytes_(b'x')
            raise ValueError(f"cannot decode value {bad!r} at index "
                             f"{idx if len(idx) > 1 else idx[0]} as a float") from None
    return out.reshape(arr.shape)


# ----------------------------------------------------------------------------- missing values
def missing_summary(X) -> dict:
    """Count NaNs: ``total_nan``, ``per_channel`` (list), ``series_affected`` (series with at least
    one NaN), ``n_values`` and ``fraction`` (= total_nan / n_values)."""
    X = _as_3d(X)
    nan = np.isnan(X)
    return {"total_nan": int(nan.sum()),
            "per_channel": [int(c) for c in nan.sum(axis=(0, 2))],
            "series_affected": int(nan.any(axis=(1, 2)).sum()),
            "n_values": int(X.size),
            "fraction": float(nan.mean()) if X.size else 0.0}


def _ffill(X: np.ndarray) -> np.ndarray:
    idx = np.where(np.isnan(X), 0, np.arange(X.shape[-1]))
    np.maximum.accumulate(idx, axis=-1, out=idx)  # index of the last observed value so far
    return np.take_along_axis(X, idx, axis=-1)


def fill_along_time(X, method: str = "both", fallback: float | None = None) -> np.ndarray:
    """Fill NaNs along the time axis of each series and channel (vectorised, returns a new array).

    ``"ffill"`` carries the last observation forward (leading NaNs stay NaN), ``"bfill"`` carries
    the next observation backward (trailing NaNs stay NaN), ``"both"`` does ffill then bfill, so
    only all-NaN rows remain NaN. Whatever is still NaN afterwards is set to ``fallback`` if given.
    Stateless: uses only the series itself, so it is safe to apply to any split.
    """
    _check_option("method", method, {"ffill", "bfill", "both"})
    out = _as_3d(X)  # every branch below builds a new array, so X itself is never written
    if method in ("ffill", "both"):
        out = _ffill(out)
    if method in ("bfill", "both"):
        out = np.ascontiguousarray(_ffill(out[..., ::-1])[..., ::-1])
    if fallback is not None:
        out[np.isnan(out)] = fallback
    return out


class _ChannelTransformer(TransformerMixin, BaseEstimator):
    """Shared input checks: 3-D float input, channel count fixed at fit time."""

    def _fit_input(self, X) -> np.ndarray:
        X = _as_3d(X)
        self.n_channels_ = X.shape[1]
        return X

    def _transform_input(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = _as_3d(X)
        if X.shape[1] != self.n_channels_:
            raise ValueError(f"X has {X.shape[1]} channels but {type(self).__name__} was fitted "
                             f"with {self.n_channels_}")
        return X


class MeanImputer(_ChannelTransformer):
    """Replace NaN by the per-channel mean or median of the *training* values (``statistics_``).

    A channel with no observed training value gets statistic 0.0."""

    def __init__(self, strategy: str = "mean"):
        self.strategy = strategy

    def fit(self, X, y=None):
        _check_option("strategy", self.strategy, {"mean", "median"})
        X = self._fit_input(X)
        self.statistics_ = _per_channel(np.nanmean if self.strategy == "mean" else np.nanmedian,
                                        X, 0.0)
        return self

    def transform(self, X):
        X = self._transform_input(X)
        return np.where(np.isnan(X), self.statistics_[None, :, None], X).astype(X.dtype)


class KNNSeriesImputer(_ChannelTransformer):
    """k-nearest-neighbour imputation of whole series: each series is flattened to a vector of
    ``n_channels * length`` values and ``sklearn.impute.KNNImputer`` (nan-Euclidean distance) fills
    a NaN with the mean of that position over the ``n_neighbors`` closest *training* series."""

    def __init__(self, n_neighbors: int = 5, weights: str = "uniform"):
        self.n_neighbors = n_neighbors
        self.weights = weights

    def fit(self, X, y=None):
        X = self._fit_input(X)
        self.length_ = X.shape[2]
        self.imputer_ = KNNImputer(n_neighbors=self.n_neighbors, weights=self.weights,
                                   keep_empty_features=True).fit(X.reshape(len(X), -1))
        return self

    def transform(self, X):
        X = self._transform_input(X)
        if X.shape[2] != self.length_:
            raise ValueError(f"X has length {X.shape[2]} but KNNSeriesImputer was fitted with "
                             f"length {self.length_}")
        flat = self.imputer_.transform(X.reshape(len(X), -1).astype(np.float64))
        return flat.reshape(X.shape).astype(X.dtype)


# ----------------------------------------------------------------------------------- outliers
class OutlierDetector(_ChannelTransformer):
    """Per-channel outlier bounds learned on the training split.

    ``method="zscore"``: bounds ``mean -/+ threshold * std`` (population std, default threshold
    3.0); ``method="iqr"``: ``Q1 - threshold*IQR``, ``Q3 + threshold*IQR`` (default 1.5). A point
    is an outlier when strictly outside ``[lower_, upper_]``; NaN is never an outlier. A constant
    training channel (std 0 / IQR 0) flags every value that differs from that constant.

    ``action``: ``"flag"`` returns the data unchanged (use the report), ``"clip"`` clips to the
    bounds, ``"nan"`` replaces outliers by NaN (to impute later), ``"drop"`` removes every series
    containing an outlier. ``"drop"`` changes the number of series, so inside a ``Pipeline`` with
    labels use :meth:`transform_with_report` and index ``y`` with ``report["kept_mask"]``.
    """

    def __init__(self, method: str = "zscore", threshold: float | None = None,
                 action: str = "flag"):
        self.method = method
        self.threshold = threshold
        self.action = action

    def fit(self, X, y=None):
        _check_option("method", self.method, {"zscore", "iqr"})
        _check_option("action", self.action, {"flag", "clip", "nan", "drop"})
        X = self._fit_input(X)
        default = 3.0 if self.method == "zscore" else 1.5
        self.threshold_ = float(default if self.threshold is None else self.threshold)
        if not self.threshold_ >= 0:
            raise ValueError(f"threshold must be >= 0; got {self.threshold!r}")
        if self.method == "zscore":  # all-NaN training channel -> infinite bounds, never flagged
            lo = hi = _per_channel(np.nanmean, X, np.nan)
            spread = _per_channel(np.nanstd, X, np.inf)
        else:
            lo = _per_channel(lambda M, axis: np.nanpercentile(M, 25, axis=axis), X, np.nan)
            hi = _per_channel(lambda M, axis: np.nanpercentile(M, 75, axis=axis), X, np.nan)
            spread = np.where(np.isnan(hi - lo), np.inf, hi - lo)
        self.lower_ = np.nan_to_num(lo, nan=0.0) - self.threshold_ * spread
        self.upper_ = np.nan_to_num(hi, nan=0.0) + self.threshold_ * spread
        return self

    def outlier_mask(self, X) -> np.ndarray:
        """Boolean array, same shape as ``X``, True where a value lies outside the bounds."""
        X = self._transform_input(X)
        return (X < self.lower_[None, :, None]) | (X > self.upper_[None, :, None])

    def transform_with_report(self, X) -> tuple[np.ndarray, dict]:
        """Return ``(X_out, report)`` with report keys ``n_flagged_points``,
        ``n_series_affected``, ``kept_mask`` (bool per input series; all True unless
        ``action="drop"``) and ``outlier_mask``."""
        mask = self.outlier_mask(X)
        X = _as_3d(X)
        affected = mask.any(axis=(1, 2))
        kept = np.ones(len(X), dtype=bool)
        if self.action == "clip":
            out = np.clip(X, self.lower_[None, :, None], self.upper_[None, :, None]).astype(X.dtype)
        elif self.action == "nan":
            out = np.where(mask, np.nan, X).astype(X.dtype)
        elif self.action == "drop":
            kept = ~affected
            out = X[kept].copy()
        else:
            out = X.copy()
        report = {"n_flagged_points": int(mask.sum()), "n_series_affected": int(affected.sum()),
                  "kept_mask": kept, "outlier_mask": mask}
        return out, report

    def transform(self, X):
        return self.transform_with_report(X)[0]


# ---------------------------------------------------------------------------------- smoothing
def moving_average(X, window: int) -> np.ndarray:
    """Centred moving average along time with the same output length (vectorised).

    ``window`` must be a positive odd integer. Edges use a *shrinking window*: at time ``t`` the
    average is over the observed values in ``[t - window//2, t + window//2]`` clipped to the
    series, so ``[1, 2, 3, 4, 5]`` with ``window=3`` gives ``[1.5, 2, 3, 4, 4.5]``. NaN-safe: NaNs
    are skipped; a point whose whole window is NaN stays NaN. ``window=1`` is the identity.
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1 \
            or window % 2 == 0:
        raise ValueError(f"window must be a positive odd integer; got {window!r}")
    X = _as_3d(X)
    L, half = X.shape[-1], int(window) // 2
    obs = ~np.isnan(X)
    zeros = np.zeros(X.shape[:-1] + (1,))
    csum = np.concatenate([zeros, np.cumsum(np.where(obs, X, 0.0), axis=-1, dtype=np.float64)], -1)
    ccnt = np.concatenate([zeros, np.cumsum(obs, axis=-1, dtype=np.float64)], -1)
    t = np.arange(L)
    lo, hi = np.maximum(t - half, 0), np.minimum(t + half + 1, L)
    total, count = csum[..., hi] - csum[..., lo], ccnt[..., hi] - ccnt[..., lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 0, total / count, np.nan)
    return out.astype(X.dtype)


# ------------------------------------------------------------------------------------ scaling
class ChannelStandardScaler(_ChannelTransformer):
    """Per-channel z-score: ``(X - mean_) / scale_`` with mean and population std of each channel
    pooled over all training series and time steps (NaN ignored, NaN kept). A constant channel
    gets ``scale_ = 1`` (no division by zero); an all-NaN channel gets mean 0, scale 1."""

    def fit(self, X, y=None):
        X = self._fit_input(X)
        self.mean_ = _per_channel(np.nanmean, X, 0.0)
        std = _per_channel(np.nanstd, X, 1.0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        X = self._transform_input(X)
        return ((X - self.mean_[None, :, None]) / self.scale_[None, :, None]).astype(X.dtype)

    def inverse_transform(self, X):
        X = self._transform_input(X)
        return (X * self.scale_[None, :, None] + self.mean_[None, :, None]).astype(X.dtype)


class ChannelMinMaxScaler(_ChannelTransformer):
    """Per-channel affine map of the training ``[data_min_, data_max_]`` onto ``feature_range``.

    Values of other splits outside the training range map outside ``feature_range`` (no
    clipping). A constant training channel maps to ``feature_range[0]`` plus the offset."""

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)):
        self.feature_range = feature_range

    def fit(self, X, y=None):
        lo, hi = self.feature_range
        if not lo < hi:
            raise ValueError(f"feature_range must satisfy min < max; got {self.feature_range!r}")
        X = self._fit_input(X)
        self.data_min_ = _per_channel(np.nanmin, X, 0.0)
        self.data_max_ = _per_channel(np.nanmax, X, 1.0)
        rng = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / np.where(rng > 0, rng, 1.0)
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, X):
        X = self._transform_input(X)
        return (X * self.scale_[None, :, None] + self.min_[None, :, None]).astype(X.dtype)

    def inverse_transform(self, X):
        X = self._transform_input(X)
        return ((X - self.min_[None, :, None]) / self.scale_[None, :, None]).astype(X.dtype)
