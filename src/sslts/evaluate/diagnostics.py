"""Label-free diagnostics of an embedding set: collapse, effective rank, alignment, uniformity, t-SNE.

These say *why* a probe scores what it does: a collapsed encoder has near-zero spread per
dimension and an effective rank near 1 long before its accuracy is measured.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import pdist
from scipy.special import logsumexp
from sklearn.manifold import TSNE


def _check_z(z: Any, name: str = "z", min_rows: int = 2) -> np.ndarray:
    arr = np.asarray(z, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < min_rows or arr.shape[1] == 0:
        raise ValueError(f"{name} must be an (n, D) array with n >= {min_rows}, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _l2_normalize(z: np.ndarray) -> np.ndarray:
    # A zero row stays zero instead of becoming NaN.
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


def per_dimension_std(z: Any, normalize: bool = True) -> np.ndarray:
    """Standard deviation of each embedding dimension over the samples.

    Chen & He (2021), "Exploring Simple Siamese Representation Learning", CVPR, Sec. 4.1: on
    L2-normalised outputs a collapsed encoder gives std 0, while unit vectors spread like an
    isotropic Gaussian give about ``1 / sqrt(D)`` per dimension. ``normalize=False`` gives the raw
    spread (the quantity VICReg's variance term pushes above 1).

    Args:
        z: ``(n, D)`` embeddings, ``n >= 2``. normalize: L2-normalise rows first.

    Returns:
        ``(D,)`` population standard deviations (``ddof=0``).

    Example:
        >>> per_dimension_std(np.array([[1.0, 0.0], [0.0, 1.0]])).tolist()
        [0.5, 0.5]
    """
    arr = _check_z(z)
    return (_l2_normalize(arr) if normalize else arr).std(axis=0)


def effective_rank(z: Any) -> float:
    """Effective rank: the exponential of the entropy of the normalised singular values.

    Roy & Vetterli (2007), "The effective rank: a measure of effective dimensionality", EUSIPCO.
    With singular values ``s_i`` of the (uncentred) ``(n, D)`` matrix::

        p_i = s_i / sum_j s_j,     erank = exp( -sum_i p_i log p_i )     (0 log 0 = 0)

    It is 1 for a rank-1 matrix and ``min(n, D)`` when all singular values are equal; an all-zero
    matrix (no direction at all) returns 0.

    Args:
        z: ``(n, D)`` embeddings, ``n >= 1``.

    Returns:
        A float in ``[0, min(n, D)]``.

    Example:
        >>> round(effective_rank(np.eye(3)), 6)
        3.0
    """
    s = np.linalg.svd(_check_z(z, min_rows=1), compute_uv=False)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s / total
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def alignment(z1: Any, z2: Any, alpha: float = 2.0) -> float:
    """Alignment of positive pairs, on L2-normalised embeddings (lower is better).

    Wang & Isola (2020), "Understanding Contrastive Representation Learning through Alignment and
    Uniformity on the Hypersphere", ICML::

        L_align = mean_i || f(x_i) - f(y_i) ||_2 ^ alpha

    Args:
        z1: ``(n, D)``. z2: ``(n, D)``; row ``i`` is the positive of ``z1[i]``. alpha: ``> 0``.

    Raises:
        ValueError: on different shapes, non-finite values or ``alpha <= 0``.

    Example:
        >>> alignment(np.array([[1.0, 0.0]]), np.array([[0.0, 3.0]]))  # |(1, -1)|^2
        2.0
    """
    a, b = _check_z(z1, "z1", min_rows=1), _check_z(z2, "z2", min_rows=1)
    if a.shape != b.shape:
        raise ValueError(f"z1 and z2 must have the same shape, got {a.shape} and {b.shape}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    sq = np.sum((_l2_normalize(a) - _l2_normalize(b)) ** 2, axis=1)  # (n,) squared distances
    return float(np.mean(sq ** (alpha / 2)))


def uniformity(z: Any, t: float = 2.0) -> float:
    """Uniformity on the unit hypersphere, on L2-normalised embeddings (lower is more uniform).

    Wang & Isola (2020), ICML: the log of the mean Gaussian potential over distinct pairs::

        L_unif = log mean_{i < j} exp( -t || f(x_i) - f(x_j) ||_2^2 )

    Ranges from ``-4t`` (two antipodal points) to 0 (all embeddings equal). Costs ``O(n^2)``.

    Args:
        z: ``(n, D)`` embeddings, ``n >= 2``. t: ``> 0``.

    Example:
        >>> uniformity(np.array([[1.0, 0.0], [-2.0, 0.0]]))  # -2 * |2|^2
        -8.0
    """
    arr = _check_z(z)
    if not t > 0:
        raise ValueError(f"t must be > 0, got {t}")
    sq = pdist(_l2_normalize(arr), metric="sqeuclidean")  # (n (n - 1) / 2,)
    # log-mean-exp via logsumexp: exp(-t d) underflows for well-spread embeddings.
    return float(logsumexp(-t * sq) - np.log(sq.size))


def tsne_2d(z: Any, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """Two-dimensional t-SNE map of the embeddings, for figures only (not for metrics).

    van der Maaten & Hinton (2008), "Visualizing Data using t-SNE", JMLR. scikit-learn's TSNE with
    PCA initialisation and ``learning_rate="auto"``. The perplexity is clipped to
    ``max(1, min(perplexity, (n - 1) / 3))`` because t-SNE looks at ``3 * perplexity`` neighbours.

    Args:
        z: ``(n, D)`` embeddings, ``n >= 2``. seed: t-SNE's random state. perplexity: ``> 0``.

    Returns:
        ``(n, 2)`` float64 coordinates; the same seed gives the same map.
    """
    arr = _check_z(z)
    if not perplexity > 0:
        raise ValueError(f"perplexity must be > 0, got {perplexity}")
    perp = max(1.0, min(float(perplexity), (arr.shape[0] - 1) / 3))
    tsne = TSNE(n_components=2, perplexity=perp, init="pca", learning_rate="auto",
                random_state=seed)
    return tsne.fit_transform(arr).astype(np.float64)


def representation_summary(z: Any, z_aug: Any = None, max_samples: int = 2048,
                           seed: int = 0) -> dict[str, float]:
    """The diagnostics above in one flat dict, for run records and comparison tables.

    Args:
        z: ``(n, D)`` embeddings. z_aug: optional ``(n, D)`` embeddings of augmented views of the
            same series (row-aligned), for the alignment; NaN without it.
        max_samples: uniformity is ``O(n^2)``, so it uses a seeded subsample of at most this many rows.
        seed: seeds that subsample.

    Returns:
        ``{"n", "dim", "effective_rank", "std_normalized_mean", "std_collapse_reference" (= 1/sqrt(D)),
        "std_raw_mean", "uniformity", "alignment"}`` as plain numbers.
    """
    arr = _check_z(z)
    n, d = arr.shape
    rows = np.arange(n)
    if n > max_samples:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=max_samples, replace=False))
    return {
        "n": n,
        "dim": d,
        "effective_rank": effective_rank(arr),
        "std_normalized_mean": float(per_dimension_std(arr).mean()),
        "std_collapse_reference": float(1.0 / np.sqrt(d)),
        "std_raw_mean": float(per_dimension_std(arr, normalize=False).mean()),
        "uniformity": uniformity(arr[rows]),
        "alignment": float("nan") if z_aug is None else alignment(arr, z_aug),
    }
