"""One NC-VQVAE (or naive VQ-VAE) run, stage 1 then stage 2, as a JSON run record.

:func:`run_vqvae` standardises the series with a per-channel z-score fitted on the training split
(:class:`sslts.data.cleaning.ChannelStandardScaler`), trains the tokenizer, measures its latent
(probes), reconstruction and codebook, trains the prior, generates as many series per class as
the training split has, and scores them (FID, IS, CAS). The record holds the resolved config,
every measure, per-stage wall times, the environment (:func:`sslts.provenance.environment`) and
the data checksums; :func:`sslts.results.write_record` writes it atomically.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from sslts.data.cleaning import ChannelStandardScaler
from sslts.evaluate.fidelity import FidelityModel, fit_feature_extractor
from sslts.provenance import data_checksums, environment
from sslts.results import write_record

from .config import VQVAEConfig
from .evaluate import codebook_stats, latent_probes, reconstruction_error, sample_scores
from .train import generate, token_ids, train_prior, train_tokenizer

__all__ = ["HEADLINE_PROTOCOLS", "RECORD_KIND", "run_vqvae"]

RECORD_KIND = "vqvae"
# The thesis's probe (linear SVM) first: the headline of the chapter's tables; then the cosine k-NN.
HEADLINE_PROTOCOLS: tuple[str, ...] = ("linear_svm", "knn")


def _split(data: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of a :class:`~sslts.data.TimeSeriesData` or an ``(X, y)`` pair."""
    X, y = (data.X, data.y) if hasattr(data, "X") else data
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 3 or y.shape != X.shape[:1]:
        raise ValueError(f"{name} must hold X (n, C, L) and y (n,), got {X.shape} and {y.shape}")
    return X, y.astype(np.int64)


def run_vqvae(train: Any, test: Any, config: VQVAEConfig, dataset: str, profile: str = "cpu",
              protocols: tuple[str, ...] = HEADLINE_PROTOCOLS, extractor: FidelityModel | None = None,
              results_root: str | Path | None = None, stage2: bool = True, progress: bool = False,
              search_max: int | None = None) -> dict[str, Any]:
    """Train and evaluate one run; return (and, with ``results_root``, write) its record.

    Args:
        train, test: :class:`~sslts.data.TimeSeriesData` or ``(X, y)`` pairs (labels ``0..k-1``).
        config: :class:`VQVAEConfig`. dataset, profile: names for the record and its path.
        protocols: probes of the stage-1 latent (names of :data:`sslts.evaluate.protocols.PROTOCOLS`);
            the default is the thesis's linear SVM (the headline probe) and the cosine k-NN.
        extractor: the FID/IS feature extractor to reuse across runs on one dataset (it must have been
            trained on the same standardised training split); trained here when ``None``.
        stage2: train the prior and score samples (False: stage 1 only).
        search_max: cap on the training series the probes' hyper-parameter search sees
            (:func:`sslts.evaluate.evaluate_embeddings`); the chosen value is refitted on all of them.

    Returns:
        The record: ``kind``, ``config`` (with ``method``, ``dataset``, ``encoder``, ``profile``,
        ``seed`` for :func:`sslts.results.record_path`), ``stage1`` (``probes``, ``recon_mse_test``,
        ``codebook``, ``history``, ``wall_s``), ``stage2`` (``fid``, ``is``, ``cas`` and their
        floors, ``history``, ``wall_s``) or None, ``timing``, ``environment``, ``data_sha256``.

    Raises:
        ValueError: malformed splits or config; see the stage functions.
    """
    if not isinstance(config, VQVAEConfig):
        raise ValueError(f"config must be a VQVAEConfig, got {type(config).__name__}")
    start = time.perf_counter()
    X_train, y_train = _split(train, "train")
    X_test, y_test = _split(test, "test")
    scaler = ChannelStandardScaler().fit(X_train)
    X_train = scaler.transform(X_train).astype(np.float32)
    X_test = scaler.transform(X_test).astype(np.float32)
    num_classes = int(max(y_train.max(), y_test.max())) + 1

    tokenizer, log1 = train_tokenizer(X_train, config, progress=progress)
    t0 = time.perf_counter()
    stage1 = {
        "probes": latent_probes(tokenizer, X_train, y_train, X_test, y_test, protocols, seed=config.seed,
                                search_max=search_max),
        "recon_mse_test": reconstruction_error(tokenizer, X_test),
        "recon_mse_train": reconstruction_error(tokenizer, X_train),
        "codebook": codebook_stats(tokenizer, X_train),
        "tokens_per_series": tokenizer.num_tokens(X_train.shape[-1]),
        **log1, "eval_s": time.perf_counter() - t0,
    }
    stage2_record = None
    if stage2:
        prior, log2 = train_prior(token_ids(tokenizer, X_train), y_train, num_classes, config, progress=progress)
        t0 = time.perf_counter()
        y_gen = np.sort(y_train)  # as many series per class as the real training split
        X_gen = generate(tokenizer, prior, y_gen, X_train.shape[-1], config)
        if extractor is None:
            extractor = fit_feature_extractor(X_train, y_train, X_test, y_test, epochs=config.fidelity_epochs,
                                              seed=config.seed, device=None if config.device == "auto" else config.device)
        scores = sample_scores(extractor, X_gen, y_gen, X_train, X_test, y_test, config.cas_epochs, config.seed,
                               device=None if config.device == "auto" else config.device)
        stage2_record = {**scores, **log2, "eval_s": time.perf_counter() - t0, "n_generated": int(len(y_gen))}

    record = {
        "kind": RECORD_KIND,
        "config": {**config.to_dict(), "method": config.method, "dataset": dataset, "encoder": "conv",
                   "profile": profile, "protocols": list(protocols), "search_max": search_max},
        "stage1": stage1,
        "stage2": stage2_record,
        "timing": {"stage1_s": log1["wall_s"], "stage2_s": stage2_record["wall_s"] if stage2_record else None,
                   "total_s": time.perf_counter() - start},
        "environment": environment(None if config.device == "auto" else config.device),
        "data_sha256": data_checksums(*(d for d in (train, test) if hasattr(d, "provenance"))),
    }
    if results_root is not None:
        record["path"] = str(write_record(results_root, record))
    return record
