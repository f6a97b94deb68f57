"""Read-outs of a frozen encoder's feature map, and an honest way to choose one.

An encoder's embedding is a pooling of its feature map ``(B, D, L')`` over time. Which pooling suits
a task (the global mean, the global maximum, or the mean or maximum over a few equal stretches of
time, which keeps the order of a gesture's strokes) can be chosen after pre-training, from the same
feature map. The choice is honest only if it looks at the training split alone, so
:func:`nested_svm_cv` scores a read-out by what TS2Vec's SVM protocol (:func:`svm_probe`, with its
own inner 5-fold choice of C) reaches on held-out training series: repeated stratified k-fold, each
outer fold rerunning the whole protocol on the remaining folds. The test split plays no part.

Read-out names: ``"avg"``, ``"max"`` (global), ``"bins<k>-avg"``, ``"bins<k>-max"`` (``k`` equal
stretches of time, as the CNN encoder's ``temporal_bins``/``pooling``), joined by ``+`` to
concatenate, e.g. ``"bins4-max+avg"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import torch
from sklearn.model_selection import (GridSearchCV, RepeatedStratifiedKFold, StratifiedKFold, cross_val_score,
                                     train_test_split)
from sklearn.svm import SVC
from torch import Tensor

from ..encoders import BIN_POOLS
from .metrics import as_labels
from .protocols import SVM_CS, svm_probe

# Scores closer than this are a tie: accuracies averaged over folds differ by float noise (about
# 2e-16) when the same counts are summed in another order, and noise must not overrule an order of
# preference (the paper's value first, the simplest read-out first).
TIE_TOLERANCE = 1e-9

_PART = re.compile(r"^(?:bins(\d+)-)?(avg|max)$")


def parse_readout(name: str) -> list[tuple[int, str]]:
    """The ``(bins, pooling)`` parts of a read-out name, e.g. ``"bins4-max+avg"`` -> ``[(4, "max"), (1, "avg")]``.

    Raises:
        ValueError: for an empty name, an unknown pooling or a bin count below 1.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a read-out name is needed, e.g. 'max' or 'bins4-max'; got {name!r}")
    parts = []
    for part in name.split("+"):
        match = _PART.match(part.strip())
        if match is None or (match.group(1) is not None and int(match.group(1)) < 1):
            raise ValueError(f"unknown read-out part {part!r} in {name!r}: use avg, max, bins<k>-avg or bins<k>-max "
                             "(k >= 1), joined by '+'")
        parts.append((int(match.group(1) or 1), match.group(2)))
    return parts


def readout(feature_map: Tensor, name: str) -> Tensor:
    """Pool a feature map ``(B, D, L')`` into ``(B, D * total bins)`` as ``name`` says.

    Each part gives ``(B, D, k)`` flattened dimension-major (``D`` blocks of ``k`` bins, as the CNN
    encoder flattens its bins); parts are concatenated in the order named.

    Example:
        >>> h = torch.arange(8.0).reshape(1, 1, 8)
        >>> readout(h, "bins2-max+avg").tolist()
        [[3.0, 7.0, 3.5]]
    """
    parts = parse_readout(name)
    if not isinstance(feature_map, Tensor) or feature_map.ndim != 3:
        raise ValueError(f"expected a feature map of shape (B, D, L'), got {getattr(feature_map, 'shape', type(feature_map))}")
    return torch.cat([BIN_POOLS[pool](feature_map, bins).flatten(1) for bins, pool in parts], dim=1)


def nested_svm_cv(z: np.ndarray, y: np.ndarray, seed: int = 0, folds: int = 5, repeats: int = 10) -> dict:
    """Accuracy of TS2Vec's SVM protocol on held-out *training* series, by repeated k-fold.

    Args:
        z: ``(n, D)`` training embeddings. y: ``(n,)`` training labels.
        seed: shuffles the outer folds. folds: outer folds per repeat. repeats: reshuffles.

    Returns:
        ``{"mean", "std", "scores"}``: the mean and standard deviation of the ``folds * repeats``
        outer-fold accuracies, and the accuracies themselves.

    Raises:
        ValueError: if a class has fewer than ``folds`` series (no stratified split exists).
    """
    z = np.asarray(z)
    labels = as_labels(y, "y")
    smallest = int(np.bincount(labels)[np.unique(labels)].min())
    if smallest < folds:
        raise ValueError(f"the smallest class has {smallest} series, fewer than folds={folds}; lower folds")
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    scores = [svm_probe(z[fit], labels[fit], z[held], labels[held], seed=seed).accuracy
              for fit, held in splitter.split(z, labels)]
    return {"mean": float(np.mean(scores)), "std": float(np.std(scores)), "scores": [float(s) for s in scores]}


# The read-outs every method is offered in the comparison, simplest first (a tie goes to the first).
COMPARISON_READOUTS: tuple[str, ...] = ("avg", "max", "bins4-avg", "bins4-max", "bins8-avg", "bins8-max")


def feature_maps(model: torch.nn.Module, X: np.ndarray, batch_size: int = 256,
                 through: Callable[[Tensor], Tensor] | None = None) -> Tensor:
    """The frozen feature maps ``(n, D', L')`` of series ``X`` ``(n, C, L)``, on the CPU.

    ``model`` is an SSL method (its ``feature_map``) or a bare convolutional encoder (its
    ``features``); it is put in eval mode for the call and given back in its former mode.
    ``through`` reads another map of the model instead (e.g. a prefix of its blocks).

    Raises:
        TypeError: if the model has neither (e.g. the patch Transformer, which has no time axis to pool).
    """
    fn = through or getattr(model, "feature_map", None) or getattr(model, "features", None)
    if fn is None:
        raise TypeError(f"{type(model).__name__} has no feature map to read out; use a convolutional encoder")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            maps = [fn(torch.from_numpy(np.ascontiguousarray(X[i:i + batch_size], dtype=np.float32)).to(device)).cpu()
                    for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(maps)


def training_cv_score(z: np.ndarray, y: np.ndarray, seed: int = 0, max_series: int = 1000) -> float | None:
    """How well TS2Vec's SVM protocol does on held-out *training* series: a score to choose by.

    The protocol's own rules decide the classifier: with at least 50 series and 5 per class on
    average it searches C over :data:`~sslts.evaluate.protocols.SVM_CS` and the score is the best
    mean accuracy of that search (choosing the read-out jointly with C); otherwise it is the mean
    accuracy of the hard-margin SVM it would fit. Folds: stratified, shuffled with ``seed``, at
    most 5 and at most the smallest class's size. Large training splits are scored on a stratified
    subsample of ``max_series`` series, which keeps the choice cheap on HAR-sized sets.

    Returns:
        The score, or ``None`` when a class has a single series (no stratified split exists).
    """
    z = np.asarray(z)
    labels = as_labels(y, "y")
    if labels.size > max_series:
        z, _, labels, _ = train_test_split(z, labels, train_size=max_series, random_state=seed, stratify=labels)
    counts = np.bincount(labels)[np.unique(labels)]
    folds = int(min(5, counts.min()))
    if folds < 2:
        return None
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    svm = SVC(C=float("inf"), kernel="rbf", gamma="scale", max_iter=10_000_000)
    if labels.size // counts.size < 5 or labels.size < 50:
        return float(cross_val_score(svm, z, labels, cv=splitter).mean())
    return float(GridSearchCV(svm, {"C": list(SVM_CS)}, cv=splitter).fit(z, labels).best_score_)


def first_best(scores: list[float | None], tolerance: float = TIE_TOLERANCE) -> int | None:
    """Index of the first score within ``tolerance`` of the highest (``None`` scores are skipped);
    ``None`` when no score is given. The earlier candidate wins a tie, float noise included."""
    given = [s for s in scores if s is not None]
    if not given:
        return None
    best = max(given)
    return next(i for i, s in enumerate(scores) if s is not None and s >= best - tolerance)


def select_readout(train_maps: Tensor, y: np.ndarray, candidates: tuple[str, ...] = COMPARISON_READOUTS,
                   seed: int = 0, max_series: int = 1000) -> dict:
    """Choose a read-out of the training feature maps ``(n, D', L')`` by :func:`training_cv_score`.

    Only training series and labels are used. A tie goes to the earlier candidate; if no candidate
    can be scored (a class with one series) the first one is taken. A single candidate is taken
    without scoring it.

    Returns:
        ``{"chosen": name, "scores": {name: score or None}, "candidates": [...], "by": "..."}``.
    """
    if not candidates:
        raise ValueError("select_readout needs at least one candidate read-out")
    if len(candidates) == 1:  # nothing to choose: no label is looked at
        return {"chosen": candidates[0], "scores": {candidates[0]: None}, "candidates": list(candidates),
                "by": "the only candidate"}
    scores = {name: training_cv_score(readout(train_maps, name).numpy(), y, seed, max_series) for name in candidates}
    index = first_best([scores[name] for name in candidates])
    chosen = candidates[0 if index is None else index]
    return {"chosen": chosen, "scores": scores, "candidates": list(candidates),
            "by": f"SVM protocol, stratified CV on the training split (at most {max_series} series)"}
