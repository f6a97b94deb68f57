"""What the transfer experiment pre-trains on (sources) and evaluates on (targets).

A *target* is a labelled problem with its UEA/UCI train/test split and its label budgets: UWave
(3 accelerometer axes x 315 steps) at 1, 2, 5 and 15 labelled series per class (15 is all of its
training labels), and UCI HAR on its three ``total_acc`` channels (x 128 steps, the axes a
UWave-trained encoder can read) at 1, 5, 10 and 100 % of its training labels.

A *source* is a pool of unlabelled series for pre-training, never holding a target test series:

- ``target``: the target's own training split (target-only pre-training);
- ``target-ci``: the same, channel-independent (the control for the multi-dataset pool);
- ``uwave-pool``: UWave's extra pool, the full 4,478-gesture set less the 320 UEA test gestures
  (:func:`sslts.data.unlabelled_pool`); in-domain for UWave, another device for HAR;
- ``har``: UCI HAR's training windows, ``total_acc`` channels (another accelerometer, rate, length);
- ``uea-pool``: the training splits of the other UEA problems of the mirror (:data:`POOL_PROBLEMS`),
  2 to 28 channels each, made channel-independent: every channel becomes one univariate series;
- ``none``: no pre-training (the untrained encoder; fine-tuned, the supervised CNN from scratch).

**Lengths** are matched by linear resampling of every source series to the target's length
(:func:`resample_length`): the CNN encoder ends in a global pool, so it would run at any length,
but its kernels (8 steps, three times pooled) would then span a different share of a gesture in
pre-training and in evaluation. **Channels:** a multichannel source must have the target's channel
count (3 accelerometer axes for both targets); a channel-independent encoder has one input
channel, and embeds a target series channel by channel (:class:`ChannelIndependent`), the
per-channel embeddings concatenated (``C x D``, so that which axis moved stays readable).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from ..data import cleaning, load_dataset, unlabelled_pool
from ..data.har import HAR_CHANNELS
from ..data.registry import TimeSeriesData

# UCI HAR's total acceleration (gravity included), as a phone's raw accelerometer reads it; its
# body_acc channels have gravity filtered out, unlike UWave's raw accelerometer.
HAR_TOTAL_ACC = tuple(HAR_CHANNELS.index(f"total_acc_{axis}") for axis in "xyz")
# The other UEA problems of the data mirror. PenDigits is left out: its 8 steps are pen
# coordinates, not a signal that resampling to 128 or 315 steps could turn into one.
POOL_PROBLEMS = ("ArticularyWordRecognition", "AtrialFibrillation", "BasicMotions", "ERing", "FingerMovements",
                 "Libras", "LSST", "NATOPS", "StandWalkJump")
NO_PRETRAINING = "none"


@dataclass(frozen=True)
class Target:
    """A labelled problem to transfer to: its dataset, channels kept and label budgets.

    ``budget_kind`` is ``"shots"`` (labelled series per class) or ``"fraction"`` (share of the
    training labels); ``sources`` are the sources that make sense for it, scratch first.
    """

    dataset: str
    channels: tuple[int, ...] | None
    budget_kind: str
    budgets: tuple[float, ...]
    sources: tuple[str, ...]


TARGETS: dict[str, Target] = {
    "uwave": Target("uwave", None, "shots", (1, 2, 5, 15),
                    (NO_PRETRAINING, "target", "target-ci", "uwave-pool", "har", "uea-pool")),
    "har": Target("har", HAR_TOTAL_ACC, "fraction", (0.01, 0.05, 0.1, 1.0),
                  (NO_PRETRAINING, "target", "target-ci", "uwave-pool", "uea-pool")),
}


def get_target(name: str) -> Target:
    """The target ``name``; ValueError listing the known ones otherwise."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; known targets: {', '.join(TARGETS)}")
    return TARGETS[name]


def select_channels(data: TimeSeriesData, channels: tuple[int, ...] | None) -> TimeSeriesData:
    """``data`` with only ``channels`` (in that order); all of them for ``None``."""
    if channels is None:
        return data
    return replace(data, X=np.ascontiguousarray(data.X[:, list(channels)]),
                   channel_names=tuple(data.channel_names[c] for c in channels))


def load_target(name: str, split: str) -> TimeSeriesData:
    """One split of target ``name``, restricted to its channels."""
    target = get_target(name)
    return select_channels(load_dataset(target.dataset, split), target.channels)


@dataclass(frozen=True)
class Source:
    """A pre-training pool: how to load its parts for a target, and how to encode its channels.

    ``parts(target_name)`` returns the unlabelled datasets (labels unused); with
    ``channel_independent`` each channel of each part becomes a univariate series and each part
    contributes at most an equal share of the pool (``balance_parts``), so that no problem (LSST:
    14,754 univariate series) dominates.
    """

    description: str
    parts: Callable[[str], list[TimeSeriesData]] | None
    channel_independent: bool = False
    balance_parts: bool = False
    control: str = "target"  # the target-only source it is paired with


def _har_total_acc(target: str) -> list[TimeSeriesData]:
    return [select_channels(load_dataset("har", "train"), HAR_TOTAL_ACC)]


def _uea_pool(target: str) -> list[TimeSeriesData]:
    return [load_dataset(problem, "train") for problem in POOL_PROBLEMS if problem != get_target(target).dataset]


SOURCES: dict[str, Source] = {
    NO_PRETRAINING: Source("no pre-training (untrained encoder; fine-tuned: supervised CNN from scratch)", None),
    "target": Source("the target's own training split", lambda t: [load_target(t, "train")]),
    "target-ci": Source("the target's own training split, channel-independent", lambda t: [load_target(t, "train")],
                        channel_independent=True, control="target-ci"),
    "uwave-pool": Source("UWave's extra pool: the full UWave set less the UEA test gestures",
                         lambda t: unlabelled_pool("uwave")),
    "har": Source("UCI HAR training windows, total_acc channels", _har_total_acc),
    "uea-pool": Source("the other UEA problems of the mirror, channel-independent", _uea_pool,
                       channel_independent=True, balance_parts=True, control="target-ci"),
}


def get_source(name: str) -> Source:
    """The source ``name``; ValueError listing the known ones otherwise."""
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; known sources: {', '.join(SOURCES)}")
    return SOURCES[name]


def resample_length(X: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of every series ``(n, C, L)`` onto ``length`` equally spaced steps.

    The first and last steps are kept; no anti-aliasing filter is applied when shrinking.

    >>> resample_length(np.arange(3, dtype=np.float32).reshape(1, 1, 3), 5)[0, 0].tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 3 or length < 1:
        raise ValueError(f"expected (n, C, L) series and a positive length, got {X.shape} and {length}")
    L = X.shape[-1]
    if L == length:
        return X.copy()
    position = np.linspace(0.0, L - 1, length)  # (length,) in input steps
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, L - 1)
    weight = (position - low).astype(np.float32)
    return X[..., low] * (1.0 - weight) + X[..., high] * weight  # (n, C, length)


def to_univariate(X: np.ndarray) -> np.ndarray:
    """``(n, C, L)`` -> ``(n * C, 1, L)``: row ``i * C + c`` is channel ``c`` of series ``i``.

    >>> to_univariate(np.zeros((4, 3, 7))).shape
    (12, 1, 7)
    """
    n, C, L = X.shape
    return np.ascontiguousarray(X).reshape(n * C, 1, L)


class ChannelIndependent(nn.Module):
    """A one-channel encoder applied to every channel of a series, embeddings concatenated.

    ``(B, C, L) -> (B, C * D)``: the columns ``c * D .. (c + 1) * D - 1`` are channel ``c``'s.

    >>> from sslts.encoders import build_encoder
    >>> ChannelIndependent(build_encoder("cnn", 1), 3)(torch.zeros(2, 3, 32)).shape
    torch.Size([2, 384])
    """

    def __init__(self, encoder: nn.Module, n_channels: int):
        super().__init__()
        self.encoder = encoder
        self.n_channels = int(n_channels)
        self.out_dim = encoder.out_dim * self.n_channels

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[1] != self.n_channels:
            raise ValueError(f"expected (B, {self.n_channels}, L) series, got shape {tuple(x.shape)}")
        b, c, length = x.shape
        z = self.encoder(x.reshape(b * c, 1, length))  # (B * C, D)
        return z.reshape(b, c * z.shape[1])  # (B, C * D)


def _finite_rows(X: np.ndarray) -> np.ndarray:
    """Drop series holding a NaN or infinite value (pre-training needs finite input)."""
    return X[np.isfinite(X).all(axis=(1, 2))]


def build_pool(source: str, target: str, length: int, n_channels: int, cap: int,
               seed: int) -> tuple[np.ndarray, list[TimeSeriesData]]:
    """The unlabelled pre-training series of ``source`` for ``target``, before the pool's z-score.

    Every part is resampled to ``length``; a channel-independent pool is first z-scored per part
    and channel (the problems' units differ: flux, EEG volts, pen pixels), then made univariate. A
    pool larger than ``cap`` series is drawn down uniformly with ``seed`` (each part to
    ``cap / parts`` with ``balance_parts``).

    Returns:
        ``(X (n, C', length) float32, parts)``: ``C' = 1`` for a channel-independent source, else
        ``n_channels``; ``parts`` are the datasets read (for the record's checksums).

    Raises:
        ValueError: ``source`` pre-trains nothing, or a multichannel part has another channel count.
    """
    spec = get_source(source)
    if spec.parts is None:
        raise ValueError(f"source {source!r} has no pre-training pool")
    parts = spec.parts(target)
    rng = np.random.default_rng(seed)
    share = cap // len(parts) if spec.balance_parts and cap > 0 else 0
    pieces = []
    for part in parts:
        X = resample_length(part.X, length)  # (n, C, length)
        if spec.channel_independent:
            X = to_univariate(cleaning.ChannelStandardScaler().fit(X).transform(X))  # (n * C, 1, length)
        elif X.shape[1] != n_channels:
            raise ValueError(f"source {source!r} part {part.name} has {X.shape[1]} channels, the target {n_channels}")
        X = _finite_rows(X)
        if share and len(X) > share:
            X = X[np.sort(rng.choice(len(X), share, replace=False))]
        pieces.append(X)
    pool = np.concatenate(pieces)
    if 0 < cap < len(pool):
        pool = pool[np.sort(rng.choice(len(pool), cap, replace=False))]
    return pool.astype(np.float32), parts
