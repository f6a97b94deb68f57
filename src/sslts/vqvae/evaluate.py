"""NC-VQVAE's measures: expressiveness of the stage-1 latent, reconstruction, codebook use, and
the quality of stage-2 samples (FID, IS, CAS) in a supervised classifier's features.

Everything builds on the project's evaluation layer: the probes of
:mod:`sslts.evaluate.protocols` (on frozen latents, fitted on the training split only), the
Fréchet distance and feature extractor of :mod:`sslts.evaluate.fidelity`, and
:func:`sslts.evaluate.finetune` for the CAS classifier.

- **FID** (Heusel et al. 2017): Fréchet distance between Gaussians fitted to the extractor's
  features of generated series and of the real test split.
- **IS** (Salimans et al. 2016, "Improved Techniques for Training GANs"):
  ``exp(E_x KL(p(y|x) || p(y)))`` with ``p(y|x)`` the extractor's softmax; between 1 and the number
  of classes; high when each sample is confidently one class and the classes are balanced.
- **CAS** (Ravuri & Vinyals 2019, "Classification Accuracy Score for Conditional Generative
  Models"): a classifier trained on generated series only (labelled by their conditioning class),
  tested on the real test split.

FID and IS depend on the extractor: they compare variants within this extractor, never with
numbers from another paper's.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from sslts.evaluate.embed import embed
from sslts.evaluate.fidelity import FidelityModel, frechet_distance
from sslts.evaluate.finetune import finetune
from sslts.evaluate.metrics import softmax
from sslts.evaluate.protocols import evaluate_embeddings

from .quantizer import code_usage, perplexity
from .tokenizer import VQTokenizer
from .train import token_ids

__all__ = ["classification_accuracy_score", "codebook_stats", "inception_score", "latent_probes",
           "reconstruction_error", "sample_scores"]


def inception_score(probs: np.ndarray) -> float:
    """``exp(mean_i KL(p_i || mean_j p_j))`` of class probabilities ``(n, k)`` (rows sum to 1).

    Example:
        >>> round(inception_score(np.eye(4)), 9)  # four confident, distinct predictions: k
        4.0
        >>> round(inception_score(np.full((5, 4), 0.25)), 9)  # no confidence at all: 1
        1.0

    Raises:
        ValueError: if ``probs`` is not a finite ``(n, k)`` array of rows summing to 1.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or not np.isfinite(p).all() or not np.allclose(p.sum(1), 1.0, atol=1e-5):
        raise ValueError(f"probs must be a finite (n, k) array whose rows sum to 1, got shape {p.shape}")
    marginal = p.mean(axis=0, keepdims=True)  # (1, k)
    # 0 log 0 = 0; where p > 0 the marginal is > 0 too, so the ratio is finite
    ratio = np.divide(p, marginal, out=np.ones_like(p), where=p > 0)
    kl = (p * np.log(ratio)).sum(axis=1)  # (n,)
    return float(np.exp(kl.mean()))


def reconstruction_error(tokenizer: VQTokenizer, X: np.ndarray, batch_size: int = 256) -> float:
    """Mean squared error of the tokenizer's reconstructions of ``X`` ``(n, C, L)`` (eval mode)."""
    was_training = tokenizer.training
    tokenizer.eval()  # embed() sets eval mode only for modules; this is a function of one
    try:
        x_hat = embed(lambda x: tokenizer(x).flatten(1), X, batch_size=batch_size,
                      device=next(tokenizer.parameters()).device)  # (n, C * L)
    finally:
        tokenizer.train(was_training)
    return float(np.mean((x_hat - np.asarray(X, dtype=np.float32).reshape(len(X), -1)) ** 2))


def codebook_stats(tokenizer: VQTokenizer, X: np.ndarray) -> dict[str, float]:
    """Code usage over all tokens of ``X``: ``perplexity`` (effective codes), ``used`` (share of
    codes used at least once) and ``num_codes``."""
    usage = code_usage(torch.from_numpy(token_ids(tokenizer, X)), tokenizer.num_codes)
    return {"perplexity": perplexity(usage), "used": float((usage > 0).float().mean()),
            "num_codes": tokenizer.num_codes}


def _latents(tokenizer: VQTokenizer, X: np.ndarray, pooling: str) -> np.ndarray:
    if pooling not in ("mean", "flatten"):
        raise ValueError(f"pooling must be 'mean' or 'flatten', got {pooling!r}")
    was_training = tokenizer.training
    tokenizer.eval()  # embed() sets eval only for modules, and encode_flat is a bound method
    try:
        fn = tokenizer.encode if pooling == "mean" else tokenizer.encode_flat
        return embed(fn, X, device=next(tokenizer.parameters()).device)
    finally:
        tokenizer.train(was_training)


def latent_probes(tokenizer: VQTokenizer, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                  y_test: np.ndarray, protocols: Sequence[str] = ("svm", "knn"),
                  poolings: Sequence[str] = ("mean", "flatten"), seed: int = 0,
                  search_max: int | None = None) -> list[dict[str, Any]]:
    """The project's probes on the quantised stage-1 latent, for each pooling.

    ``mean``: the latent averaged over time ``(n, D)`` (what the SSL loss sees); ``flatten``: all
    tokens' codewords in order ``(n, D * T)`` (what the prior sees). ``search_max`` caps the
    series the SVM / linear hyper-parameter search sees (:func:`sslts.evaluate.evaluate_embeddings`):
    the SVM's grid (up to a hard margin) is the slow part on the 3,840-wide flattened latent.

    Returns:
        One row per (pooling, protocol): ``pooling``, ``protocol``, ``accuracy``, ``macro_f1``,
        ``auroc``, ``best_params``.
    """
    rows = []
    for pooling in poolings:
        z_train, z_test = _latents(tokenizer, X_train, pooling), _latents(tokenizer, X_test, pooling)
        results = evaluate_embeddings(z_train, y_train, z_test, y_test, protocols=tuple(protocols), seed=seed,
                                      search_max=search_max)
        rows += [{"pooling": pooling, "protocol": name, **r.metrics(), "best_params": r.best_params}
                 for name, r in results.items()]
    return rows


def classification_accuracy_score(X_gen: np.ndarray, y_gen: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                                  epochs: int, seed: int = 0, device: str | None = None) -> float:
    """CAS: test accuracy of a fresh ``cnn`` classifier trained on generated series only."""
    from sslts.encoders import build_encoder

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        encoder = build_encoder("cnn", int(np.asarray(X_gen).shape[1]))
    return finetune(encoder, X_gen, y_gen, X_test, y_test, epochs=epochs, seed=seed, device=device,
                    progress=False).accuracy


def _class_probs(extractor: FidelityModel, X: np.ndarray) -> np.ndarray:
    return softmax(embed(extractor.classifier, np.ascontiguousarray(X, dtype=np.float32)).astype(np.float64))


def sample_scores(extractor: FidelityModel, X_gen: np.ndarray, y_gen: np.ndarray, X_train: np.ndarray,
                  X_test: np.ndarray, y_test: np.ndarray, cas_epochs: int, seed: int = 0,
                  device: str | None = None) -> dict[str, float]:
    """FID, IS and CAS of generated series, with the real training split's FID and IS as the floor.

    Args:
        extractor: :func:`sslts.evaluate.fidelity.fit_feature_extractor` trained on the real training split.
        X_gen, y_gen: generated series ``(n, C, L)`` and their conditioning classes ``(n,)``; give as
            many as the real training split, so the two FIDs compare like with like.
        X_train: real training series. X_test, y_test: the real test split.

    Returns:
        ``fid``, ``fid_real_train``, ``is``, ``is_real_test``, ``cas``, ``extractor_accuracy``.
    """
    reference = extractor.features(X_test)
    return {
        "fid": frechet_distance(extractor.features(X_gen), reference),
        "fid_real_train": frechet_distance(extractor.features(X_train), reference),
        "is": inception_score(_class_probs(extractor, X_gen)),
        "is_real_test": inception_score(_class_probs(extractor, X_test)),
        "cas": classification_accuracy_score(X_gen, y_gen, X_test, y_test, cas_epochs, seed, device),
        "extractor_accuracy": extractor.test_accuracy,
    }
