"""Which channels of a multivariate series say the same thing, and which of a redundant pair to keep.

Correlation between channels pooled over a dataset (:func:`channel_correlation`) or within each
series (:func:`series_channel_correlation`), the redundant pairs above a threshold, the channels kept
when one of each pair goes (:func:`decorrelated_channels`), and a training-split score to choose that
one by (:func:`channel_separability`). Series are ``(n_series, n_channels, length)``; NaN is missing.
"""

from __future__ import annotations

import numpy as np

from .arrays import as_3d as _as_3d


def channel_correlation(X) -> np.ndarray:
    """Pearson correlation ``(C, C)`` between channels, pooling all series and time steps.

    Only time points where every channel is observed are used (complete cases). Rows/columns of
    a constant channel (zero variance) are NaN, since its correlation is undefined."""
    X = _as_3d(X)
    M = X.transpose(1, 0, 2).reshape(X.shape[1], -1).astype(np.float64)
    M = M[:, ~np.isnan(M).any(axis=0)]
    if M.shape[1] < 2:
        raise ValueError("need at least 2 time points observed in every channel")
    Z = M - M.mean(axis=1, keepdims=True)
    norm = np.sqrt((Z ** 2).sum(axis=1))
    ok = norm > 0
    Z[ok] /= norm[ok, None]
    corr = np.clip(Z @ Z.T, -1.0, 1.0)
    corr[~ok, :] = np.nan
    corr[:, ~ok] = np.nan
    corr[np.diag_indices_from(corr)] = np.where(ok, 1.0, np.nan)
    return corr


def redundant_channels(corr, threshold: float = 0.95, names=None) -> list[tuple]:
    """Channel pairs ``(i, j, r)`` with ``i < j`` and ``|r| >= threshold`` (NaN ignored), sorted
    by decreasing ``|r|``; ``i`` and ``j`` are replaced by ``names[i]``, ``names[j]`` if given."""
    corr = np.asarray(corr, dtype=np.float64)
    if corr.ndim != 2 or corr.shape[0] != corr.shape[1]:
        raise ValueError(f"corr must be a square 2-D matrix; got shape {corr.shape}")
    if names is not None and len(names) != len(corr):
        raise ValueError(f"names has {len(names)} entries but corr has {len(corr)} channels")
    i, j = np.triu_indices(len(corr), k=1)
    r = corr[i, j]
    with np.errstate(invalid="ignore"):
        keep = np.abs(r) >= threshold
    pairs = sorted(zip(i[keep], j[keep], r[keep]), key=lambda p: (-abs(p[2]), p[0], p[1]))
    label = (lambda k: int(k)) if names is None else (lambda k: names[k])
    return [(label(a), label(b), float(v)) for a, b, v in pairs]


def series_channel_correlation(X) -> np.ndarray:
    """Mean over series of the within-series Pearson correlation between channels ``(C, C)``.

    Unlike :func:`channel_correlation` (pooled, so mixing levels that differ between series, such as
    HAR's gravity offset), this asks whether two channels move together *within* a series. A series
    with NaN or a constant channel is left out of that pair's mean; an unmeasurable pair is NaN."""
    X = _as_3d(X).astype(np.float64)
    Z = X - X.mean(axis=-1, keepdims=True)  # (n, C, L); NaN rows stay NaN
    norm = np.sqrt((Z ** 2).sum(axis=-1))  # (n, C)
    ok = np.isfinite(norm) & (norm > 0)
    Z = np.where(ok[..., None], Z / np.where(ok, norm, 1.0)[..., None], 0.0)
    both = ok[:, :, None] & ok[:, None, :]  # (n, C, C): pairs measurable in each series
    total = np.einsum("nct,ndt->cd", Z, Z)
    count = both.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(np.where(count > 0, total / count, np.nan), -1.0, 1.0)


def decorrelated_channels(corr, threshold: float = 0.9, scores=None) -> list[int]:
    """Channels to keep when one of each pair with ``|r| >= threshold`` is dropped.

    Pairs are visited by decreasing ``|r|`` (:func:`redundant_channels`); of a pair whose two
    channels are both still kept, the one with the lower score is dropped (``scores``, one per
    channel, e.g. :func:`channel_separability` on the training split), or without scores (and on a
    tie) the later channel (higher index), so the result does not depend on channel names. Returns
    the sorted indices kept, e.g. ``[0, 1, 2]`` of 6 channels whose last three copy the first three."""
    corr = np.asarray(corr, dtype=np.float64)
    scores = None if scores is None else np.asarray(scores, dtype=np.float64)
    if scores is not None and scores.shape != (len(corr),):
        raise ValueError(f"scores must give one value per channel ({len(corr)}); got shape {scores.shape}")
    dropped: set[int] = set()
    for i, j, _ in redundant_channels(corr, threshold):
        if i not in dropped and j not in dropped:
            weaker = max(i, j) if scores is None or scores[i] == scores[j] else (i if scores[i] < scores[j] else j)
            dropped.add(weaker)
    return [c for c in range(len(corr)) if c not in dropped]


def channel_separability(X, y) -> np.ndarray:
    """How well each channel alone separates the classes of a (training) split, ``(C,)``: the larger
    ANOVA F statistic (scikit-learn's ``f_classif``) of the per-series mean and of the per-series
    standard deviation of that channel. A level (HAR's gravity offset, which tells lying from
    standing) and a spread (how much a channel moves) both count; NaN values are ignored."""
    from sklearn.feature_selection import f_classif

    X = _as_3d(X).astype(np.float64)
    features = np.concatenate([np.nanmean(X, axis=2), np.nanstd(X, axis=2)], axis=1)  # (n, 2C)
    with np.errstate(divide="ignore", invalid="ignore"):
        f, _ = f_classif(np.nan_to_num(features), np.asarray(y))
    f = np.nan_to_num(f, nan=0.0, posinf=np.finfo(np.float64).max)
    channels = X.shape[1]
    return np.maximum(f[:channels], f[channels:])
