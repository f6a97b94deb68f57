"""Label-scarce evaluation: probe with only a stratified fraction, or a few series per class, of the labels.

The semi-supervised tables of TS-TCC (Eldele et al., 2021, IJCAI) and TS2Vec report accuracy when
1%, 5%, 10% ... of the training labels are kept; few-shot studies keep 1, 2, 5 ... labelled series
per class instead. The subsets here are stratified, seeded and nested: for one seed, every class
is permuted once, and a smaller budget keeps a prefix of what a larger one keeps (fractions and
shots draw the same permutations).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Callable

import numpy as np
from threadpoolctl import threadpool_limits

from .metrics import as_labels
from .protocols import get_protocol


def _check_fraction(fraction: Any) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, Real) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    return float(fraction)


def label_fraction_indices(y: Any, fraction: float, seed: int = 0) -> np.ndarray:
    """Indices of a stratified, seeded subset holding about ``fraction`` of each class.

    A class with ``n_c`` samples keeps ``max(1, floor(fraction * n_c + 1/2))`` of them (rounded
    half up, and at least one, so no class disappears). Within each class a seeded permutation is
    drawn once and its first samples are kept, which makes subsets nested across fractions.

    Args:
        y: ``(n,)`` integer labels. fraction: share of labels to keep, in ``(0, 1]``; ``1.0``
            returns every index. seed: seeds the per-class permutations.

    Returns:
        Sorted ``(m,)`` int64 indices into ``y``.

    Raises:
        ValueError: if ``fraction`` is outside ``(0, 1]`` or ``y`` is not 1-D non-negative integers.

    Example:
        >>> label_fraction_indices(np.array([0, 0, 0, 0, 1, 1]), 0.5, seed=0).size  # 2 + 1
        3
    """
    f = _check_fraction(fraction)
    labels = as_labels(y)
    if f == 1.0:
        return np.arange(labels.size, dtype=np.int64)
    return _per_class_prefix(labels, lambda n_c: max(1, math.floor(f * n_c + 0.5)), seed)


def label_shot_indices(y: Any, shots: int, seed: int = 0) -> np.ndarray:
    """Indices of ``shots`` labelled series per class (all of a class that has fewer), seeded.

    The per-class permutations are those of :func:`label_fraction_indices` for the same seed, so
    the subsets are nested across shot counts and across fractions.

    Raises:
        ValueError: if ``shots`` is not a positive integer or ``y`` is not 1-D non-negative integers.

    Example:
        >>> label_shot_indices(np.array([0, 0, 0, 1, 1, 2]), 2, seed=0).size  # 2 + 2 + 1
        5
    """
    if isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 1:
        raise ValueError(f"shots must be a positive integer (labelled series per class), got {shots!r}")
    return _per_class_prefix(as_labels(y), lambda n_c: min(int(shots), n_c), seed)


def _per_class_prefix(labels: np.ndarray, n_keep: Callable[[int], int], seed: int) -> np.ndarray:
    """The first ``n_keep(n_c)`` members of each class in a seeded per-class permutation, sorted."""
    rng = np.random.default_rng(seed)
    kept = []
    for c in np.unique(labels):  # sorted order, so the draws do not depend on label order in y
        members = np.flatnonzero(labels == c)
        kept.append(rng.permutation(members)[:n_keep(members.size)])
    return np.sort(np.concatenate(kept)).astype(np.int64)


def evaluate_label_fractions(
    train_z: Any,
    train_y: Any,
    test_z: Any,
    test_y: Any,
    fractions: tuple[float, ...] = (0.01, 0.05, 0.1, 1.0),
    protocol: str = "linear",
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Probe the same embeddings with shrinking label budgets; the test split stays whole.

    Args:
        train_z: ``(n_train, D)``. train_y: ``(n_train,)``.
        test_z: ``(n_test, D)``. test_y: ``(n_test,)``.
        fractions: label fractions in ``(0, 1]``. protocol: a name from ``PROTOCOLS``.
        seed: seeds both the subset and the protocol.

    Returns:
        One flat row per fraction (ready for ``pandas.DataFrame``):
        ``{"fraction", "n_labelled", "protocol", "accuracy", "macro_f1", "auroc"}``.

    Raises:
        ValueError: for an unknown protocol, a fraction outside ``(0, 1]``, or malformed inputs.
    """
    probe = get_protocol(protocol)
    checked = [_check_fraction(f) for f in fractions]  # fail before any fitting
    z = np.asarray(train_z)
    labels = as_labels(train_y, "train_y")
    if z.ndim != 2 or z.shape[0] != labels.size:
        raise ValueError(f"train_z must be (n_train, D) with n_train={labels.size}, got {z.shape}")
    rows = []
    for f in checked:
        idx = label_fraction_indices(labels, f, seed)
        with threadpool_limits(limits=1, user_api="blas"):  # many small fits: see protocols.py
            result = probe(z[idx], labels[idx], test_z, test_y, seed=seed)
        rows.append({"fraction": f, "n_labelled": int(idx.size), "protocol": protocol,
                     **result.metrics()})
    return rows


def evaluate_label_shots(
    train_z: Any,
    train_y: Any,
    test_z: Any,
    test_y: Any,
    shots: tuple[int, ...] = (1, 2, 5),
    protocol: str = "linear",
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Probe the same embeddings with ``k`` labelled series per class, for each ``k`` in ``shots``.

    As :func:`evaluate_label_fractions` (the test split stays whole), with rows
    ``{"shots", "n_labelled", "protocol", "accuracy", "macro_f1", "auroc"}``.
    """
    probe = get_protocol(protocol)
    labels = as_labels(train_y, "train_y")
    subsets = [(k, label_shot_indices(labels, k, seed)) for k in shots]  # fail before any fitting
    z = np.asarray(train_z)
    if z.ndim != 2 or z.shape[0] != labels.size:
        raise ValueError(f"train_z must be (n_train, D) with n_train={labels.size}, got {z.shape}")
    rows = []
    for k, idx in subsets:
        with threadpool_limits(limits=1, user_api="blas"):
            result = probe(z[idx], labels[idx], test_z, test_y, seed=seed)
        rows.append({"shots": int(k), "n_labelled": int(idx.size), "protocol": protocol, **result.metrics()})
    return rows
