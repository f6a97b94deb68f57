"""Classification metrics shared by every protocol: accuracy, macro F1, one-vs-rest AUROC, confusion.

Labels are integers ``0 .. k-1`` (the :mod:`sslts.data` contract). Scores, when given, are an
``(n, k)`` matrix whose column ``c`` scores class ``c`` (probabilities or raw decision values), or
an ``(n,)`` vector of decision values for class 1 in a binary problem.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score


def as_labels(y: Any, name: str = "y") -> np.ndarray:
    """Validate integer class labels and return them as a new 1-D ``int64`` array.

    Raises:
        ValueError: unless ``y`` is a non-empty 1-D array of non-negative integers.
    """
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of labels, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class labels 0..k-1, got dtype {arr.dtype}")
    if arr.min() < 0:
        raise ValueError(f"{name} must hold non-negative class labels, got minimum {arr.min()}")
    return arr.astype(np.int64)  # astype copies: callers may not be handed their own array back


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of an ``(n, k)`` score matrix (shifted by the row max for stability)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _looks_like_probabilities(scores: np.ndarray) -> bool:
    return bool(np.all(scores >= 0) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-6))


def macro_auroc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """One-vs-rest macro AUROC; NaN where it is not defined.

    A 1-D ``scores`` is a binary decision value for class 1. A 2-D ``scores`` is turned into
    probabilities with a softmax unless its rows already are non-negative and sum to one; then
    for each class ``c`` the AUROC of ``scores[:, c]`` against ``y_true == c`` is computed and the
    results are averaged. A class absent from ``y_true`` has no positives, so its AUROC is
    undefined: it is left out of the mean (not counted as 0 or 0.5). With fewer than two classes
    present in ``y_true`` the result is NaN. When every class is present this equals scikit-learn's
    ``roc_auc_score(..., multi_class="ovr", average="macro")``.
    """
    if scores.ndim == 1:
        present = np.unique(y_true)
        if not set(present.tolist()) <= {0, 1}:
            raise ValueError("1-D scores are binary decision values; y_true has labels beyond 0/1")
        return float(roc_auc_score(y_true, scores)) if present.size == 2 else float("nan")
    probs = scores if _looks_like_probabilities(scores) else softmax(scores)
    per_class = []
    for c in range(probs.shape[1]):
        positive = y_true == c
        if 0 < positive.sum() < y_true.size:  # both positives and negatives: AUROC defined
            per_class.append(roc_auc_score(positive, probs[:, c]))
    return float(np.mean(per_class)) if len(per_class) >= 2 else float("nan")


def classification_metrics(
    y_true: Any, y_pred: Any, scores: Any = None, n_classes: int | None = None
) -> dict[str, Any]:
    """Accuracy, macro F1, one-vs-rest macro AUROC and the confusion matrix of one prediction.

    Macro F1 averages the per-class F1 over the classes present in ``y_true`` or ``y_pred``
    (scikit-learn's default); a class never predicted has precision 0 (``zero_division=0``).
    AUROC follows :func:`macro_auroc` and is NaN when ``scores`` is None or it is undefined.

    Args:
        y_true: ``(n,)`` true labels. y_pred: ``(n,)`` predicted labels.
        scores: optional ``(n, k)`` class scores (probabilities or decision values; column ``c``
            belongs to class ``c``) or ``(n,)`` binary decision values for class 1.
        n_classes: number of classes ``k``; inferred from the labels and ``scores`` when None.

    Returns:
        ``{"accuracy": float, "macro_f1": float, "auroc": float, "confusion": list[list[int]]}``,
        where ``confusion[i][j]`` counts samples of true class ``i`` predicted as ``j`` (``k x k``).

    Raises:
        ValueError: on labels that are not 1-D non-negative integers, mismatched lengths, labels
            ``>= n_classes``, or scores of the wrong shape or holding NaN.

    Example:
        >>> m = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1])
        >>> m["accuracy"], m["confusion"]
        (0.75, [[1, 1], [0, 2]])
    """
    yt, yp = as_labels(y_true, "y_true"), as_labels(y_pred, "y_pred")
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred differ in length: {yt.size} vs {yp.size}")
    s = None if scores is None else np.asarray(scores, dtype=np.float64)
    if s is not None:
        if s.ndim not in (1, 2) or s.shape[0] != yt.size:
            raise ValueError(f"scores must have shape (n,) or (n, k) with n={yt.size}, got {s.shape}")
        if np.isnan(s).any():
            raise ValueError("scores contain NaN")
    k_labels = int(max(yt.max(), yp.max())) + 1
    k = k_labels if n_classes is None else int(n_classes)
    if n_classes is None and s is not None and s.ndim == 2:
        k = max(k, s.shape[1])
    if k < k_labels:
        raise ValueError(f"n_classes={k} but the labels go up to {k_labels - 1}")
    if s is not None and s.ndim == 2 and s.shape[1] != k:
        raise ValueError(f"scores has {s.shape[1]} columns but there are {k} classes")
    if s is not None and s.ndim == 1 and k > 2:
        raise ValueError(f"1-D scores are only meaningful for 2 classes, got {k}")
    return {
        "accuracy": float(accuracy_score(yt, yp)),
        "macro_f1": float(f1_score(yt, yp, average="macro", zero_division=0)),
        "auroc": float("nan") if s is None else macro_auroc(yt, s),
        "confusion": confusion_matrix(yt, yp, labels=np.arange(k)).tolist(),
    }
