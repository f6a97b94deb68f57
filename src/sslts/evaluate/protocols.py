"""Evaluation protocols over frozen embeddings: linear probe, TS2Vec's RBF-SVM, linear SVM, cosine k-NN.

Every protocol is fitted on the training split only: feature scaling sits inside the pipeline and
hyper-parameters are chosen by cross-validation on the training split, so the test split is only
used for the final prediction (changing it cannot change ``best_params``). The SVM protocol follows
Yue et al. (2022), "TS2Vec: Towards Universal Representation of Time Series", AAAI, whose
comparison tables a UWave figure must match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler
from sklearn.svm import SVC, LinearSVC

from .metrics import as_labels, classification_metrics, softmax

LINEAR_CS: tuple[float, ...] = tuple(10.0**p for p in range(-4, 5))  # 1e-4 .. 1e4
# TS2Vec's grid. C = inf is a hard margin; scikit-learn's SVC accepts it (checked on 1.9).
SVM_CS: tuple[float, ...] = tuple(10.0**p for p in range(-4, 5)) + (float("inf"),)


@dataclass(frozen=True)
class ProbeResult:
    """What one protocol scored on the test split.

    ``confusion[i][j]`` counts test samples of class ``i`` predicted as ``j``; ``auroc`` is the
    one-vs-rest macro AUROC (NaN when undefined); ``best_params`` holds the hyper-parameters chosen
    on the training split and how they were chosen, with their mean cross-validated accuracy on
    the training split (``cv_accuracy``, ``None`` when no search ran): a score that can compare
    settings without looking at the test split. ``y_pred`` is the ``(n_test,)`` prediction.
    """

    protocol: str
    accuracy: float
    macro_f1: float
    auroc: float
    confusion: list[list[int]]
    best_params: dict[str, Any]
    y_pred: np.ndarray = field(repr=False, compare=False)

    def metrics(self) -> dict[str, float]:
        """The scalar metrics as plain floats, for JSON run records (NaN stays NaN)."""
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1, "auroc": self.auroc}


def _check_split(z: Any, y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(z)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name}_z must be a non-empty (n, D) array, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}_z contains NaN or inf; a collapsed or diverged encoder?")
    labels = as_labels(y, f"{name}_y")
    if labels.size != arr.shape[0]:
        raise ValueError(f"{name}_z has {arr.shape[0]} rows but {name}_y has {labels.size} labels")
    return arr, labels


def _check_inputs(train_z: Any, train_y: Any, test_z: Any, test_y: Any) -> tuple:
    tz, ty = _check_split(train_z, train_y, "train")
    ez, ey = _check_split(test_z, test_y, "test")
    if tz.shape[1] != ez.shape[1]:
        raise ValueError(f"train_z has D={tz.shape[1]} but test_z has D={ez.shape[1]}")
    if np.unique(ty).size < 2:
        raise ValueError("train_y holds a single class; a classifier needs at least two")
    n_classes = int(max(ty.max(), ey.max())) + 1
    return tz, ty, ez, ey, n_classes


def _result(protocol: str, clf: Any, test_z: np.ndarray, test_y: np.ndarray, n_classes: int,
            best_params: dict[str, Any], use_proba: bool) -> ProbeResult:
    if use_proba:
        raw = clf.predict_proba(test_z)  # (n, k_train)
    else:
        d = clf.decision_function(test_z)  # (n,) binary or (n, k_train)
        # Binary SVC gives one value for classes_[1]: scores [0, d] make softmax a sigmoid of d.
        raw = softmax(np.stack([np.zeros_like(d), d], axis=1) if d.ndim == 1 else d)
    # Columns follow clf.classes_; a class unseen in training gets probability 0.
    scores = np.zeros((test_z.shape[0], n_classes))
    scores[:, np.asarray(clf.classes_)] = raw
    y_pred = np.asarray(clf.predict(test_z), dtype=np.int64)
    m = classification_metrics(test_y, y_pred, scores, n_classes)
    return ProbeResult(protocol, m["accuracy"], m["macro_f1"], m["auroc"], m["confusion"],
                       best_params, y_pred)


def _check_search(cv: Any, Cs: Any) -> None:
    """The C search's settings: at least 2 folds, a non-empty grid of positive values."""
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
        raise ValueError(f"cv must be an int >= 2, got {cv!r}")
    if len(Cs) == 0 or min(Cs) <= 0:
        raise ValueError(f"Cs must be a non-empty sequence of positive values, got {Cs!r}")


def linear_probe(train_z: Any, train_y: Any, test_z: Any, test_y: Any, seed: int = 0,
                 cv: int = 5, Cs: tuple[float, ...] = LINEAR_CS,
                 max_iter: int = 10_000, search_max: int | None = None) -> ProbeResult:
    """Logistic-regression probe: ``StandardScaler`` then multinomial ``LogisticRegression`` (lbfgs).

    The inverse regularisation ``C`` is chosen from ``Cs`` by stratified ``cv``-fold
    cross-validation (shuffled with ``seed``) on the training split, scored by accuracy, then the
    pipeline is refitted on the whole training split. Tiny classes: the number of folds drops to
    the size of the smallest training class; if that class has a single sample there is no valid
    stratified split, so CV is skipped and scikit-learn's default ``C = 1`` is used
    (``best_params["cv_folds"] == 0`` records it).

    Args:
        train_z: ``(n_train, D)`` embeddings. train_y: ``(n_train,)`` labels.
        test_z: ``(n_test, D)`` embeddings. test_y: ``(n_test,)`` labels.
        seed: seeds the fold shuffling and the solver. cv: folds (>= 2). Cs: candidate values of C.
        max_iter: lbfgs iterations; generous so that weak regularisation still converges.
        search_max: if given and the training split is larger, C is searched on a stratified
            subsample of that many series (seeded), and the pipeline with that C is refitted on
            the whole split: the same choice rule at a fraction of the cost on large sets.

    Returns:
        :class:`ProbeResult` with
        ``best_params = {"C": float, "cv_folds": int, "cv_accuracy": float | None}`` (and
        ``"n_search"``, the series the search saw, when ``search_max`` subsampled).

    Raises:
        ValueError: on malformed inputs (see :func:`evaluate_embeddings`), ``cv < 2`` or a ``Cs``
            that is empty or not all positive.

    Example:
        >>> z = np.array([[0.0], [0.1], [0.2], [1.0], [1.1], [1.2]]); y = np.array([0, 0, 0, 1, 1, 1])
        >>> linear_probe(z, y, z, y, cv=3).accuracy
        1.0
    """
    tz, ty, ez, ey, k = _check_inputs(train_z, train_y, test_z, test_y)
    _check_search(cv, Cs)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=seed))
    folds = min(cv, int(np.bincount(ty)[np.unique(ty)].min()))
    extra: dict[str, Any] = {}
    if folds >= 2:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        search = GridSearchCV(pipe, {"logisticregression__C": list(Cs)}, cv=splitter)
        sz, sy = _search_subsample(tz, ty, search_max, seed)
        search.fit(sz, sy)
        C = search.best_params_["logisticregression__C"]
        clf = search.best_estimator_ if sy.size == ty.size else pipe.set_params(logisticregression__C=C).fit(tz, ty)
        cv_accuracy = float(search.best_score_)
        if sy.size != ty.size:
            extra = {"n_search": int(sy.size)}
    else:
        clf, C, folds = pipe.set_params(logisticregression__C=1.0).fit(tz, ty), 1.0, 0
        cv_accuracy = None
    best = {"C": float(C), "cv_folds": folds, "cv_accuracy": cv_accuracy, **extra}
    return _result("linear", clf, ez, ey, k, best, use_proba=True)


def _search_subsample(z: np.ndarray, y: np.ndarray, search_max: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified, seeded subsample of at most ``search_max`` rows for a hyper-parameter search."""
    if search_max is None or y.size <= search_max:
        return z, y
    sz, _, sy, _ = train_test_split(z, y, train_size=search_max, random_state=seed, stratify=y)
    return sz, sy


def svm_probe(train_z: Any, train_y: Any, test_z: Any, test_y: Any, seed: int = 0,
              cv: int = 5, Cs: tuple[float, ...] = SVM_CS,
              max_samples: int = 10_000, search_max: int | None = None) -> ProbeResult:
    """TS2Vec's SVM protocol: ``SVC(kernel="rbf", gamma="scale")`` with C searched on train.

    Faithful to TS2Vec's ``fit_svm``: the embeddings are *not* standardised (``gamma="scale"``
    adapts to their variance); if the training split has fewer than 50 samples or fewer than 5
    per class on average, no search is run and a hard-margin ``C = inf`` SVM is fitted; otherwise
    C is chosen from ``Cs`` (1e-4 .. 1e4 and inf) by ``cv``-fold stratified CV (unshuffled, as
    scikit-learn does for an integer ``cv``), and if there are more than ``max_samples`` training
    samples the search runs on a stratified random subsample of that size (seeded by ``seed``;
    TS2Vec used 0) and, as in TS2Vec, the returned model is the one refitted on that subsample.
    AUROC uses a softmax of the one-vs-rest decision values (a sigmoid for two classes).

    Args:
        train_z, train_y, test_z, test_y: as in :func:`linear_probe`.
        seed: seeds the subsample. cv: folds. Cs: candidate values of C (``inf`` allowed).
        max_samples: cap on the training samples used for the search (TS2Vec: 10000).
        search_max: if given and smaller than the (capped) training set, C is searched on a
            stratified subsample of that many series and the chosen C is refitted on the capped
            set (a cheaper search; TS2Vec searches on all of it).

    Returns:
        :class:`ProbeResult` with
        ``best_params = {"C": float, "cv_folds": int, "n_fit": int, "cv_accuracy": float | None}``
        (``cv_folds == 0`` and ``cv_accuracy is None`` when the search was skipped; ``n_fit``
        samples fitted the final model).

    Raises:
        ValueError: on malformed inputs or ``cv < 2``.
    """
    tz, ty, ez, ey, k = _check_inputs(train_z, train_y, test_z, test_y)
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
        raise ValueError(f"cv must be an int >= 2, got {cv!r}")
    svm = SVC(C=float("inf"), kernel="rbf", gamma="scale", max_iter=10_000_000)
    n, n_cls = ty.size, np.unique(ty).size
    if n // n_cls < 5 or n < 50:
        clf, C, folds, n_fit = svm.fit(tz, ty), float("inf"), 0, n
        cv_accuracy = None
    else:
        fz, fy = tz, ty
        if n > max_samples:
            fz, _, fy, _ = train_test_split(tz, ty, train_size=max_samples, random_state=seed,
                                            stratify=ty)
        sz, sy = _search_subsample(fz, fy, search_max, seed)
        search = GridSearchCV(svm, {"C": list(Cs)}, cv=cv).fit(sz, sy)
        C, folds, n_fit = search.best_params_["C"], cv, fy.size
        clf = search.best_estimator_ if sy.size == fy.size else svm.set_params(C=C).fit(fz, fy)
        cv_accuracy = float(search.best_score_)
    best = {"C": float(C), "cv_folds": folds, "n_fit": int(n_fit), "cv_accuracy": cv_accuracy,
            **({"n_search": int(sy.size)} if cv_accuracy is not None and sy.size != fy.size else {})}
    return _result("svm", clf, ez, ey, k, best, use_proba=False)


def linear_svm_probe(train_z: Any, train_y: Any, test_z: Any, test_y: Any, seed: int = 0,
                     cv: int = 5, Cs: tuple[float, ...] = LINEAR_CS, max_iter: int = 10_000,
                     search_max: int | None = None) -> ProbeResult:
    """Linear-SVM probe: ``StandardScaler`` then ``LinearSVC`` (one-vs-rest, squared hinge).

    The probe of the NC-VQVAE thesis (Mathisen et al. 2024, arXiv:2408.16613), whose anchors on
    UWaveGestureLibraryAll are linear-SVM accuracies of the stage-1 latent. The choice rule is the
    one of :func:`linear_probe`: ``C`` from ``Cs`` by stratified, shuffled (``seed``) ``cv``-fold
    cross-validation on the training split only, folds capped at the smallest class, CV skipped
    (``C = 1``, ``cv_folds == 0``) when a class has a single series, and ``search_max`` searching
    on a stratified subsample before refitting the chosen ``C`` on the whole split. AUROC uses a
    softmax of the one-vs-rest decision values (a sigmoid for two classes), as :func:`svm_probe`.

    Args:
        train_z, train_y, test_z, test_y: as in :func:`linear_probe`.
        seed: seeds the folds, the subsample and the solver. cv: folds (>= 2).
        Cs: candidate values of ``C`` (positive). max_iter: liblinear iterations.
        search_max: as in :func:`linear_probe`.

    Returns:
        :class:`ProbeResult` with
        ``best_params = {"C": float, "cv_folds": int, "cv_accuracy": float | None}`` (and
        ``"n_search"`` when ``search_max`` subsampled).

    Raises:
        ValueError: malformed inputs, ``cv < 2`` or a ``Cs`` that is empty or not all positive.

    Example:
        >>> z = np.array([[0.0], [0.1], [0.2], [1.0], [1.1], [1.2]]); y = np.array([0, 0, 0, 1, 1, 1])
        >>> linear_svm_probe(z, y, z, y, cv=3).accuracy
        1.0
    """
    tz, ty, ez, ey, k = _check_inputs(train_z, train_y, test_z, test_y)
    _check_search(cv, Cs)
    pipe = make_pipeline(StandardScaler(), LinearSVC(max_iter=max_iter, random_state=seed))
    folds = min(cv, int(np.bincount(ty)[np.unique(ty)].min()))
    extra: dict[str, Any] = {}
    cv_accuracy: float | None = None
    if folds >= 2:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        sz, sy = _search_subsample(tz, ty, search_max, seed)
        with warnings.catch_warnings():  # weak regularisation may stop at max_iter: CV judges it
            warnings.simplefilter("ignore", ConvergenceWarning)
            search = GridSearchCV(pipe, {"linearsvc__C": list(Cs)}, cv=splitter).fit(sz, sy)
            C = search.best_params_["linearsvc__C"]
            clf = search.best_estimator_ if sy.size == ty.size else pipe.set_params(linearsvc__C=C).fit(tz, ty)
        cv_accuracy = float(search.best_score_)
        if sy.size != ty.size:
            extra = {"n_search": int(sy.size)}
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf, C, folds = pipe.set_params(linearsvc__C=1.0).fit(tz, ty), 1.0, 0
    best = {"C": float(C), "cv_folds": folds, "cv_accuracy": cv_accuracy, **extra}
    return _result("linear_svm", clf, ez, ey, k, best, use_proba=False)


def knn_probe(train_z: Any, train_y: Any, test_z: Any, test_y: Any, seed: int = 0,
              k: int = 5) -> ProbeResult:
    """Cosine k-nearest-neighbour probe with a plain majority vote.

    Rows are L2-normalised, after which Euclidean distance orders neighbours exactly as cosine
    distance does (``|a - b|^2 = 2 - 2 cos(a, b)`` for unit vectors). Each of the ``k`` nearest
    training embeddings casts one vote (``weights="uniform"``: distance weighting is unstable when
    a test point coincides with a training point); a tied vote goes to the smallest label. ``k`` is
    capped at the fewest training series of any class: with 1 labelled series per class, 5 votes
    would let the other classes outvote the one right neighbour (the probe then falls to chance),
    so it becomes 1-NN. AUROC uses the vote fractions as scores. Nothing is tuned, so ``seed`` is
    unused and only kept for a uniform signature.

    Returns:
        :class:`ProbeResult` with
        ``best_params = {"k": int, "metric": "cosine", "weights": "uniform"}``.

    Raises:
        ValueError: on malformed inputs or ``k < 1``.
    """
    tz, ty, ez, ey, n_classes = _check_inputs(train_z, train_y, test_z, test_y)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    k_used = min(k, int(np.unique(ty, return_counts=True)[1].min()))
    clf = make_pipeline(Normalizer(), KNeighborsClassifier(n_neighbors=k_used)).fit(tz, ty)
    best = {"k": k_used, "metric": "cosine", "weights": "uniform"}
    return _result("knn", clf, ez, ey, n_classes, best, use_proba=True)


PROTOCOLS: dict[str, Callable[..., ProbeResult]] = {
    "linear": linear_probe,
    "svm": svm_probe,
    "knn": knn_probe,
    "linear_svm": linear_svm_probe,
}


def get_protocol(name: str) -> Callable[..., ProbeResult]:
    """The protocol function registered as ``name``; ValueError listing the known names otherwise."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; known protocols: {sorted(PROTOCOLS)}")
    return PROTOCOLS[name]


def evaluate_embeddings(train_z: Any, train_y: Any, test_z: Any, test_y: Any,
                        protocols: str | tuple[str, ...] = ("linear", "svm", "knn"),
                        seed: int = 0, search_max: int | None = None) -> dict[str, ProbeResult]:
    """Run several protocols on the same embeddings.

    Args:
        train_z: ``(n_train, D)`` embeddings, finite. train_y: ``(n_train,)`` labels ``0..k-1``
            (at least two classes). test_z: ``(n_test, D)``. test_y: ``(n_test,)``.
        protocols: names from :data:`PROTOCOLS` (a single name is accepted too).
        seed: passed to every protocol.
        search_max: passed to the protocols that search a hyper-parameter (linear, svm,
            linear_svm).

    Returns:
        ``{name: ProbeResult}`` in the order given.

    Raises:
        ValueError: for an unknown protocol name (listing the known ones), shapes that disagree,
            non-finite embeddings, labels that are not non-negative integers, or one training class.

    Example:
        >>> z = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]); y = np.array([0, 0, 1, 1])
        >>> evaluate_embeddings(z, y, z, y, protocols="linear")["linear"].accuracy
        1.0
    """
    names = (protocols,) if isinstance(protocols, str) else tuple(protocols)
    fns = [get_protocol(name) for name in names]  # fail on a bad name before any fitting
    # One BLAS thread: the probes run many small fits, where thread start-up costs more than it
    # gains (about 10x slower on a loaded 2-core machine); results do not depend on it.
    with threadpool_limits(limits=1, user_api="blas"):
        return {name: fn(train_z, train_y, test_z, test_y, seed=seed,
                         **({} if search_max is None or name == "knn" else {"search_max": search_max}))
                for name, fn in zip(names, fns)}
