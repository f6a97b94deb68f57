"""Unlabelled pre-training corpora, loaded by name, each with a record of its members.

A corpus is a set of unlabelled series for self-supervised pre-training that never holds a series
any target problem tests on. Three kinds (:data:`CORPORA`):

- ``uwave-pool``: the full UWave set (4,478 gestures, UCR X/Y/Z stacked as 3 channels) less the 320
  gestures of the UEA test split: 4,158 series ``(3, 315)``. Its 120 UEA training gestures are in it.
- ``uwave-pool-500``, ``-1000``, ``-2000``: uniform draws (seed 0) from the UWave pool, for
  accuracy against the amount of unlabelled data;
- ``har-train``: the 7,352 windows of UCI HAR's training split ``(9, 128)``, labels dropped.
- ``xd-a`` and ``xd-b``: a **cross-dataset** corpus, the training splits of the mirror's UCR
  problems (``ucr_corpus.csv``) and of its UEA problems, *channel-independent* (each channel of
  each series becomes one univariate series), resampled to :data:`XD_LENGTH` steps and z-normalised
  per series. The problems are split into two folds (:func:`xd_fold`); ``xd-a`` holds fold A and is
  the encoder for the problems of fold B, and the other way round, so a target problem is never in
  the corpus it is evaluated with (leave-fold-out). UWave (every variant) and HAR are in neither
  fold: they are the book's two targets.

Per-corpus preprocessing is part of the corpus: the two single-dataset pools are z-scored per channel
with statistics of the pool itself (unlabelled, no test series); the cross-dataset corpus
z-normalises each univariate series, as the UCR archive does, so any target goes through the same
:func:`channel_independent` view.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from ..data import cleaning, load_dataset, unlabelled_pool
from ..data.registry import TimeSeriesData
from ..data.errors import MalformedFileError
from ..data.sources import extracted_archive, find_in_mirrors, uea_archive
from ..data.tsfile import read_ts
from ..provenance import data_checksums

XD_LENGTH = 128
UCR_LIST = "ucr_corpus.csv"
# The UEA problems of the mirror besides UWave (the book's suite).
UEA_PROBLEMS = ("ArticularyWordRecognition", "AtrialFibrillation", "BasicMotions", "ERing", "FingerMovements",
                "Libras", "LSST", "NATOPS", "PenDigits", "StandWalkJump")
TARGET_FAMILIES = ("UWave", "har")  # never in a cross-dataset corpus: the book's two targets


class CorpusError(ValueError):
    """An unknown corpus name or a corpus that cannot be built (the message says which and why)."""


@dataclass(frozen=True)
class Corpus:
    """One unlabelled pre-training corpus.

    Attributes:
        name: the corpus name (:data:`CORPORA`).
        X: float32 ``(n, C, L)``, preprocessed as the corpus says (no NaN).
        members: one entry per source split: dataset, split, series taken, sha256 of its files.
        channel_independent: whether targets are viewed one channel at a time (:func:`channel_independent`).
        scaler: the per-channel z-score fitted on the corpus (single-dataset pools), else ``None``.
    """

    name: str
    X: np.ndarray
    members: tuple[dict[str, Any], ...]
    channel_independent: bool
    scaler: Any = None
    excluded: tuple[str, ...] = field(default=())

    def describe(self) -> dict[str, Any]:
        """The corpus's record: size, shape, members and one checksum over all member checksums."""
        digest = hashlib.sha256(repr([(m["dataset"], m["split"], m["n_series"], sorted(m["sha256"].items()))
                                      for m in self.members]).encode()).hexdigest()
        return {"name": self.name, "n_series": int(len(self.X)), "series_shape": list(self.X.shape[1:]),
                "channel_independent": self.channel_independent, "n_members": len(self.members),
                "members_sha256": digest, "excluded": list(self.excluded)}

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """A target's series ``(n, C, L)`` as this corpus's encoder sees them (see :func:`channel_independent`)."""
        if self.channel_independent:
            return channel_independent(X)
        return self.scaler.transform(X).astype(np.float32)


def resample(x: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of a 1-D series onto ``length`` equally spaced points (NaNs dropped first).

    >>> resample(np.array([0.0, 1.0, np.nan]), 3).tolist()
    [0.0, 0.5, 1.0]
    """
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.zeros(length, dtype=np.float32)
    if x.size == 1:
        return np.full(length, x[0], dtype=np.float32)
    return np.interp(np.linspace(0, x.size - 1, length), np.arange(x.size), x).astype(np.float32)


def znorm(X: np.ndarray) -> np.ndarray:
    """Z-normalise each row of ``(n, L)`` (a constant row becomes zeros).

    >>> znorm(np.array([[1.0, 3.0], [2.0, 2.0]])).tolist()
    [[-1.0, 1.0], [0.0, 0.0]]
    """
    mean = X.mean(axis=1, keepdims=True)
    std = X.std(axis=1, keepdims=True)
    return ((X - mean) / np.where(std > 1e-8, std, 1.0)).astype(np.float32)


def channel_independent(X: np.ndarray, length: int = XD_LENGTH) -> np.ndarray:
    """``(n, C, L)`` -> ``(n * C, 1, length)``: each channel one univariate series, resampled, z-normalised.

    Row ``i * C + c`` is channel ``c`` of series ``i``, so embeddings ``(n * C, D)`` reshape to ``(n, C * D)``.
    """
    n, channels, _ = X.shape
    flat = X.reshape(n * channels, -1)
    out = np.stack([resample(row, length) for row in flat]) if len(flat) else np.zeros((0, length), np.float32)
    return znorm(out)[:, None, :]


def ucr_problems() -> list[str]:
    """The UCR problems of the mirror (``ucr_corpus.csv``), in file order."""
    path = find_in_mirrors(UCR_LIST)
    if path is None:
        raise CorpusError(f"'{UCR_LIST}' was not found in any mirror directory: set SSLTS_DATA_MIRROR to the "
                          "folder that holds the UCR archives (e.g. ../shared/data)")
    with open(path, newline="") as handle:
        return [row["name"] for row in csv.DictReader(handle)]


def xd_fold(problem: str) -> str:
    """The cross-dataset fold (``"a"`` or ``"b"``) of a problem: a fixed hash of its name, so adding a
    problem never moves another. A target family (UWave, HAR) has no fold (``""``).

    >>> xd_fold("UWaveGestureLibraryX"), xd_fold("har")
    ('', '')
    """
    if any(problem.lower().startswith(family.lower()) for family in TARGET_FAMILIES):
        return ""
    return "ab"[hashlib.sha256(problem.encode()).digest()[0] % 2]


def xd_members(fold: str) -> list[str]:
    """The problems whose training splits make corpus ``xd-<fold>``."""
    return [p for p in [*ucr_problems(), *UEA_PROBLEMS] if xd_fold(p) == fold]


def corpus_for(target: str) -> str:
    """The cross-dataset corpus a target is evaluated with: the fold it is not in (``xd-a`` for UWave and HAR).

    >>> corpus_for("uwave")
    'xd-a'
    """
    return "xd-b" if xd_fold(target) == "a" else "xd-a"


def _split_members(parts: list[TimeSeriesData]) -> tuple[dict[str, Any], ...]:
    return tuple({"dataset": p.name, "split": p.split, "n_series": int(len(p.X)), "sha256": data_checksums(p)}
                 for p in parts)


def _single(name: str, parts: list[TimeSeriesData]) -> Corpus:
    X = np.concatenate([p.X for p in parts]).astype(np.float32)
    scaler = cleaning.ChannelStandardScaler().fit(X)  # the unlabelled pool's own statistics
    return Corpus(name, scaler.transform(X).astype(np.float32), _split_members(parts), False, scaler)


def training_split(problem: str) -> TimeSeriesData:
    """A problem's training split; a variable-length one is read NaN-padded (labels kept as read)."""
    try:
        return load_dataset(problem, "train")
    except MalformedFileError as error:
        if "unequal-length" not in str(error):
            raise
    folder, record = extracted_archive(uea_archive(problem))
    filename = f"{problem}_TRAIN.ts"
    parsed = read_ts(folder / filename, pad_unequal=True)
    index = {label: i for i, label in enumerate(parsed.class_labels)}
    return TimeSeriesData(problem, "train", parsed.X, np.asarray([index[s] for s in parsed.labels], dtype=np.int64),
                          tuple(parsed.class_labels), tuple(f"dim_{i}" for i in range(parsed.X.shape[1])),
                          provenance={"archive": record["archive"], "files": {filename: record["files"][filename]}})


def _xd(fold: str) -> Corpus:
    from tqdm import tqdm

    parts, blocks = [], []
    for problem in tqdm(xd_members(fold), desc=f"corpus xd-{fold}", leave=False):
        train = training_split(problem)  # training splits only: no test series in a corpus
        parts.append(train)
        blocks.append(channel_independent(train.X))
    excluded = [p for p in [*ucr_problems(), *UEA_PROBLEMS] if xd_fold(p) != fold]
    return Corpus(f"xd-{fold}", np.concatenate(blocks), _split_members(parts), True, None, tuple(excluded))


def _subset(name: str, size: int) -> Corpus:
    """``size`` series of the UWave pool, a uniform draw (seed 0), in the full pool's z-score space."""
    full = load_corpus("uwave-pool")
    keep = np.sort(np.random.default_rng(0).choice(len(full.X), size, replace=False))
    members = tuple({**m, "drawn": f"{size} of {len(full.X)} pool series, uniform, seed 0"} for m in full.members)
    return Corpus(name, full.X[keep], members, False, full.scaler)


# Smaller UWave pools, for accuracy against the amount of unlabelled data at a fixed budget.
POOL_SIZES = (500, 1000, 2000)

CORPORA: dict[str, Callable[[], Corpus]] = {
    "uwave-pool": lambda: _single("uwave-pool", unlabelled_pool("uwave")),
    **{f"uwave-pool-{n}": (lambda n=n: _subset(f"uwave-pool-{n}", n)) for n in POOL_SIZES},
    "har-train": lambda: _single("har-train", [load_dataset("har", "train")]),
    "xd-a": lambda: _xd("a"),
    "xd-b": lambda: _xd("b"),
}
OWN_PREFIX = "train:"
# The unlabelled data of each target for the semi-supervised read-outs (the same for every method).
TARGET_POOLS = {"uwave": "uwave-pool", "har": "har-train"}


@lru_cache(maxsize=4)
def load_corpus(name: str) -> Corpus:
    """The corpus called ``name`` (cached per process).

    Raises:
        CorpusError: an unknown name (the message lists the known ones).
        sslts.data.DataError: a member cannot be loaded.
    """
    if name.startswith(OWN_PREFIX):  # one problem's own training split (the per-dataset SSL baseline)
        from .ucr import own_corpus

        return own_corpus(name[len(OWN_PREFIX):])
    if name not in CORPORA:
        raise CorpusError(f"unknown corpus {name!r}; known corpora: {', '.join(CORPORA)}, or {OWN_PREFIX}<problem>")
    return CORPORA[name]()
