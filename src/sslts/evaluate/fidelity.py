"""Sample quality of generated series: the Fréchet distance in a supervised classifier's features.

Heusel, Ramsauer, Unterthiner, Nessler & Hochreiter (2017), "GANs Trained by a Two Time-Scale
Update Rule Converge to a Local Nash Equilibrium", NeurIPS, score images by the Fréchet distance
between Gaussians fitted to Inception features of real and generated images (FID). There is no
Inception network for sensor series, so :func:`fit_feature_extractor` trains one: the ``cnn``
encoder plus a linear head, supervised on the *real training split* only. Its encoder output is
the feature space, and its head assigns generated series to classes.

The Fréchet distance of two feature sets is biased upwards when they are small (the covariances are
estimated from few samples), so only compare distances computed with the same set sizes: the
chapters give every generated set as many series as the real training split and measure all of
them, and the real training split itself (the floor), against the same real test split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
from torch import nn

from .embed import embed
from .finetune import epochs_for_min_steps, finetune
from .metrics import softmax

__all__ = [
    "FidelityModel",
    "fit_feature_extractor",
    "frechet_distance",
    "gaussian_frechet_distance",
    "sample_quality",
]


def _check_moments(mu: np.ndarray, cov: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    mu, cov = np.asarray(mu, dtype=np.float64), np.asarray(cov, dtype=np.float64)
    if mu.ndim != 1 or cov.shape != (mu.size, mu.size):
        raise ValueError(f"mu_{name} must be (D,) and cov_{name} (D, D), got {mu.shape} and {cov.shape}")
    if not (np.isfinite(mu).all() and np.isfinite(cov).all()):
        raise ValueError(f"mu_{name} and cov_{name} must be finite")
    return mu, cov


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (negative rounding clipped)."""
    eigenvalues, eigenvectors = np.linalg.eigh((cov + cov.T) / 2)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def gaussian_frechet_distance(mu_a: np.ndarray, cov_a: np.ndarray, mu_b: np.ndarray, cov_b: np.ndarray) -> float:
    """Fréchet (2-Wasserstein squared) distance between ``N(mu_a, cov_a)`` and ``N(mu_b, cov_b)``::

        d^2 = ||mu_a - mu_b||^2 + Tr(cov_a) + Tr(cov_b) - 2 Tr((cov_a cov_b)^{1/2})

    (Dowson & Landau 1982). ``cov_a cov_b`` is similar to the symmetric positive semi-definite
    ``S = cov_a^{1/2} cov_b cov_a^{1/2}``, so ``Tr((cov_a cov_b)^{1/2}) = sum_i sqrt(lambda_i(S))``:
    computed from symmetric eigen-decompositions, it stays real and finite when the covariances
    are singular (fewer samples than feature dimensions), where the general matrix square root of
    the reference FID code needs a diagonal offset.

    Args:
        mu_a, mu_b: ``(D,)`` means. cov_a, cov_b: ``(D, D)`` symmetric positive semi-definite.

    Returns:
        The squared distance, a float >= 0 (clipped at 0 against rounding).

    Raises:
        ValueError: on mismatched shapes or non-finite values.

    Example:
        >>> round(gaussian_frechet_distance(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1)), 6)
        2.0
    """
    mu_a, cov_a = _check_moments(mu_a, cov_a, "a")
    mu_b, cov_b = _check_moments(mu_b, cov_b, "b")
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"the two Gaussians have different dimensions: {mu_a.size} and {mu_b.size}")
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a  # (D, D), similar to cov_a @ cov_b
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula).

    Args:
        features_a: ``(n_a, D)`` features. features_b: ``(n_b, D)``; ``n_a, n_b >= 2``.

    Returns:
        :func:`gaussian_frechet_distance` of the sample means and (unbiased) sample covariances;
        0 for identical sets, symmetric in its arguments.

    Raises:
        ValueError: if a set is not a finite 2-D array with at least 2 rows, or the widths differ.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=(50, 3))
        >>> frechet_distance(a, a)
        0.0
    """
    sets = []
    for name, f in (("features_a", features_a), ("features_b", features_b)):
        arr = np.asarray(f, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] < 2:
            raise ValueError(f"{name} must be a 2-D array (n, D) with n >= 2, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        sets.append(arr)
    a, b = sets
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features_a and features_b must have the same width, got {a.shape[1]} and {b.shape[1]}")
    if a.shape == b.shape and np.array_equal(a, b):
        return 0.0  # exact, without the rounding of a matrix square root
    moments = [(x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))) for x in (a, b)]
    return gaussian_frechet_distance(*moments[0], *moments[1])


@dataclass(frozen=True)
class FidelityModel:
    """A supervised classifier of real series whose encoder defines the sample-quality features.

    Attributes:
        encoder: ``(B, C, L) -> (B, D)``, the features of :func:`frechet_distance`.
        classifier: ``(B, C, L) -> (B, n_classes)`` logits (encoder then linear head).
        test_accuracy: its accuracy on the real test split (how meaningful its features are).
    """

    encoder: nn.Module = field(repr=False)
    classifier: nn.Module = field(repr=False)
    test_accuracy: float

    def features(self, X: np.ndarray) -> np.ndarray:
        """Features ``(n, D)`` of series ``(n, C, L)``."""
        return embed(self.encoder, np.ascontiguousarray(X, dtype=np.float32))

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class ``(n,)`` and its softmax probability ``(n,)`` for series ``(n, C, L)``."""
        probs = softmax(embed(self.classifier, np.ascontiguousarray(X, dtype=np.float32)).astype(np.float64))
        return probs.argmax(axis=1), probs.max(axis=1)


def fit_feature_extractor(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                          epochs: int = 10, seed: int = 0, encoder: nn.Module | None = None,
                          device: str | None = None, min_steps: int = 0) -> FidelityModel:
    """Train the feature extractor: an encoder plus a linear head, supervised on the real training split.

    Uses :func:`sslts.evaluate.finetune` (AdamW, cross-entropy, seeded); the test split only
    measures the classifier's accuracy.

    Args:
        X_train: ``(n, C, L)`` real training series (standardised as the generator's data).
        y_train: ``(n,)`` labels. X_test, y_test: the real test split.
        epochs: training epochs, raised so that at least ``min_steps`` steps run (a small split
            gets few steps per epoch). seed: seeds the head, the shuffling and a fresh encoder.
        encoder: the encoder to train (a copy is trained); a fresh ``cnn`` encoder when ``None``.
        device: CUDA when available, else the CPU, if ``None``.

    Returns:
        :class:`FidelityModel`.

    Raises:
        ValueError, TypeError: as :func:`sslts.evaluate.finetune`.
    """
    if encoder is None:
        import torch

        from ..encoders import build_encoder

        with torch.random.fork_rng():
            torch.manual_seed(seed)
            encoder = build_encoder("cnn", int(np.asarray(X_train).shape[1]))
    epochs = epochs_for_min_steps(epochs, min_steps, len(X_train))
    result = finetune(encoder, X_train, y_train, X_test, y_test, epochs=epochs, seed=seed, device=device,
                      progress=False)
    return FidelityModel(encoder=result.model[0], classifier=result.model, test_accuracy=result.accuracy)


def sample_quality(model: FidelityModel, real_test: np.ndarray, candidates: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Fréchet distance of each candidate set to the real test split, in ``model``'s features.

    Args:
        model: the :class:`FidelityModel`.
        real_test: ``(n_test, C, L)`` real test series.
        candidates: name -> ``(n, C, L)`` series (generated sets and reference sets, e.g. the real
            training split as the floor and Gaussian noise); give them equal sizes.

    Returns:
        One row per candidate (in order): ``series`` (its size) and ``frechet_distance``.

    Raises:
        ValueError: if a candidate's shape differs from ``real_test``'s per-series shape.
    """
    reference = model.features(real_test)
    rows = []
    for name, X in candidates.items():
        X = np.asarray(X)
        if X.shape[1:] != np.asarray(real_test).shape[1:]:
            raise ValueError(f"candidate {name!r} has series of shape {X.shape[1:]}, the real ones "
                             f"{np.asarray(real_test).shape[1:]}")
        rows.append({"set": name, "series": int(X.shape[0]),
                     "frechet_distance": frechet_distance(model.features(X), reference)})
    return pd.DataFrame(rows).set_index("set")
