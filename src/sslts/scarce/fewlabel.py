"""Few-label read-outs: classifiers fitted on ``k`` labelled series per class, one with unlabelled data.

Every read-out gets the same inputs: embeddings ``(k * classes, D)`` of the labelled series, their
labels, embeddings ``(m, D)`` of the target's unlabelled pool and ``(n_test, D)`` of the test split.
No setting is chosen with labels; all are fixed here, before any run:

- features are **CL2N** (Wang et al. 2019, "SimpleShot: Revisiting Nearest-Neighbor Classification
  for Few-Shot Learning", arXiv:1911.04623): centred on the mean of the unlabelled pool's embeddings,
  then scaled to unit length. The pool mean uses no label and no test series;
- ``centroid``: nearest class mean (SimpleShot's classifier);
- ``logreg``: multinomial logistic regression, ``C = 1``;
- ``spread``: label spreading (Zhou, Bousquet, Lal, Weston & Schoelkopf 2004, "Learning with Local
  and Global Consistency", NeurIPS) over the labelled series and the unlabelled pool, on a
  10-nearest-neighbour graph, ``alpha = 0.99`` (Zhou et al.'s value: a label travels far along the
  graph; scikit-learn's default of 0.2 clamps so hard that a label reaches a few hops only, and failed
  the test that one labelled point per arc labels two interleaved arcs); test series take the label
  of the spread distribution of their neighbours in that graph (inductive: test series are not in it).

:data:`SHOTS` are the labelled series per class; :func:`sslts.evaluate.label_shot_indices` draws
them per seed, so every method of a seed sees the same series.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.semi_supervised import LabelSpreading

from ..evaluate.fractions import label_shot_indices
from ..evaluate.protocols import svm_probe

SHOTS = (1, 2, 5, 10)
READOUTS = ("centroid", "logreg", "spread")
ALL = "all"  # the ``shots`` of the row that uses every training label
# The every-label rows (and TS2Vec's SVM protocol among them) are made up to this many training
# series: on UCI HAR's 7,352 they would cost more than every few-label row together.
ALL_MAX_TRAIN = 1000
SPREAD_NEIGHBOURS, SPREAD_ALPHA = 10, 0.99


def cl2n(Z: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Centre ``Z`` ``(n, D)`` on ``centre`` ``(D,)`` and scale each row to unit length (a zero row stays zero).

    >>> cl2n(np.array([[3.0, 4.0], [1.0, 1.0]]), np.array([0.0, 0.0])).round(2).tolist()
    [[0.6, 0.8], [0.71, 0.71]]
    """
    centred = np.asarray(Z, dtype=np.float64) - centre
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.where(norms > 0, norms, 1.0)


def nearest_centroid(Zl: np.ndarray, yl: np.ndarray, Zu: np.ndarray, Zt: np.ndarray) -> np.ndarray:
    """The label of the nearest class mean (Euclidean) for each test row."""
    classes = np.unique(yl)
    centroids = np.stack([Zl[yl == c].mean(axis=0) for c in classes])  # (classes, D)
    distances = ((Zt[:, None, :] - centroids[None]) ** 2).sum(-1)  # (n_test, classes)
    return classes[distances.argmin(axis=1)]


def logistic(Zl: np.ndarray, yl: np.ndarray, Zu: np.ndarray, Zt: np.ndarray) -> np.ndarray:
    return LogisticRegression(C=1.0, max_iter=2000).fit(Zl, yl).predict(Zt)


def spread(Zl: np.ndarray, yl: np.ndarray, Zu: np.ndarray, Zt: np.ndarray) -> np.ndarray:
    """Label spreading over the labelled and unlabelled rows, then the test rows by their neighbours."""
    X = np.concatenate([Zl, Zu])
    y = np.concatenate([yl, -np.ones(len(Zu), dtype=np.int64)])  # -1: unlabelled
    model = LabelSpreading(kernel="knn", n_neighbors=SPREAD_NEIGHBOURS, alpha=SPREAD_ALPHA, max_iter=1000)
    # A test row whose neighbours no label reached (a graph component without a labelled row) has an
    # all-zero label distribution; scikit-learn divides by its zero sum and predicts the first class.
    with np.errstate(invalid="ignore", divide="ignore"):
        return model.fit(X, y).predict(Zt)


CLASSIFIERS: dict[str, Callable[..., np.ndarray]] = {"centroid": nearest_centroid, "logreg": logistic,
                                                     "spread": spread}


def few_label_rows(Z_train: np.ndarray, y_train: np.ndarray, Z_pool: np.ndarray, Z_test: np.ndarray,
                   y_test: np.ndarray, seed: int, shots: tuple[int, ...] = SHOTS,
                   readouts: tuple[str, ...] = READOUTS) -> list[dict[str, Any]]:
    """Accuracy of each read-out at each ``k`` in ``shots`` on the draw of ``seed``.

    Args:
        Z_train: ``(n_train, D)`` embeddings of the labelled training split (only the drawn rows are used).
        Z_pool: ``(m, D)`` embeddings of the target's unlabelled pool (its mean centres the features).
        Z_test, y_test: the test split, scored once per read-out.

    Returns:
        One row per ``(k, read-out)``: ``shots``, ``readout``, ``n_labelled``, ``accuracy``; then, where
        the training split has at most :data:`ALL_MAX_TRAIN` series, the rows on every training label
        (``shots = "all"``) with TS2Vec's SVM protocol on the raw embeddings beside them.
    """
    centre = np.asarray(Z_pool, dtype=np.float64).mean(axis=0)
    train, pool, test = cl2n(Z_train, centre), cl2n(Z_pool, centre), cl2n(Z_test, centre)
    rows = []
    draws = [(k, label_shot_indices(y_train, k, seed)) for k in shots]
    if len(y_train) <= ALL_MAX_TRAIN:
        draws.append((ALL, np.arange(len(y_train))))
    for k, picked in draws:
        for name in readouts:
            predicted = CLASSIFIERS[name](train[picked], y_train[picked], pool, test)
            rows.append({"shots": k, "readout": name, "n_labelled": int(picked.size),
                         "accuracy": float(np.mean(predicted == y_test))})
    if len(y_train) <= ALL_MAX_TRAIN:
        result = svm_probe(np.asarray(Z_train), y_train, np.asarray(Z_test), y_test, seed=seed)
        rows.append({"shots": ALL, "readout": "svm", "n_labelled": int(len(y_train)), "accuracy": float(result.accuracy)})
    return rows
