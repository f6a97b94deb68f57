"""Seeded damage for the cleaning study: missing values and outlier spikes, at exact rates.

Every function takes series ``(n, C, L)`` and a ``numpy`` generator, returns a new float array
(the input is never written) and hits its rate exactly: ``round(rate * size)`` values are
damaged, so 20 % MCAR on UWave's training split (120 x 3 x 315 values) masks exactly 22,680.
"""

from __future__ import annotations

import numpy as np

# A spike moves a value by this many standard deviations of its channel (in that split), with a
# random sign: far outside the bulk, as a loose contact or a transmission error would.
SPIKE_MAGNITUDE = 8.0


def _check(X: np.ndarray, rate: float) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"series must be 3-D (n, C, L); got shape {X.shape}")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must be in [0, 1); got {rate!r}")
    return np.array(X, dtype=np.float64)


def inject_mcar(X: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Missing completely at random: exactly ``round(rate * X.size)`` values, drawn uniformly
    without replacement over every series, channel and step, become NaN."""
    out = _check(X, rate)
    k = int(round(rate * out.size))
    out.reshape(-1)[rng.choice(out.size, size=k, replace=False)] = np.nan
    return out


def inject_gaps(X: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Contiguous gaps: each series loses one run of consecutive steps in every channel at once
    (a sensor that stops sending), at a uniform random start.

    The ``round(rate * n * L)`` missing steps are shared out as evenly as the integers allow
    (lengths differ by at most one; the longer gaps go to randomly chosen series), so exactly
    ``round(rate * n * L) * C`` values become NaN.
    """
    out = _check(X, rate)
    n, _, L = out.shape
    q, r = divmod(int(round(rate * n * L)), n)
    lengths = np.full(n, q)
    lengths[rng.permutation(n)[:r]] += 1
    for i, length in enumerate(lengths):
        start = int(rng.integers(0, L - length + 1))
        out[i, :, start:start + length] = np.nan
    return out


def inject_spikes(X: np.ndarray, rate: float, rng: np.random.Generator,
                  magnitude: float = SPIKE_MAGNITUDE) -> np.ndarray:
    """Outlier spikes: exactly ``round(rate * X.size)`` values, drawn uniformly without
    replacement, move by ``+/- magnitude`` times the standard deviation of their channel."""
    out = _check(X, rate)
    std = np.nanstd(out.transpose(1, 0, 2).reshape(out.shape[1], -1), axis=1)  # (C,)
    k = int(round(rate * out.size))
    flat = rng.choice(out.size, size=k, replace=False)
    channel = np.unravel_index(flat, out.shape)[1]
    out.reshape(-1)[flat] += rng.choice([-1.0, 1.0], size=k) * magnitude * std[channel]
    return out
