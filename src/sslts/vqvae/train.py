"""The two training loops of NC-VQVAE, read top to bottom: stage 1 (tokenizer) and stage 2 (prior).

Both use the project's policies (:mod:`sslts.policies`): CUDA when present (``device="auto"``),
a forked global RNG seeded from the config (initialisation, dropout), dedicated generators for
shuffling, augmentations and masks (so the same seed gives the same numbers on one device), and
a :class:`~sslts.policies.DivergenceGuard` that stops at the first non-finite loss.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sslts.augment import build_pipeline
from sslts.policies import DivergenceGuard, forked_rng, training_device

from .config import VQVAEConfig
from .prior import MaskedTokenPrior
from .sampler import maskgit_sample
from .ssl_branch import SSLBranch
from .tokenizer import VQTokenizer, build_tokenizer

__all__ = ["generate", "train_prior", "train_tokenizer", "token_ids"]


def _check_series(X: Any, name: str = "X") -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] < 2:
        raise ValueError(f"{name} must be an (n, C, L) array with n >= 2, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} holds NaN or inf; clean or impute the series first")
    return np.ascontiguousarray(X, dtype=np.float32)


def _batches(n: int, batch_size: int, generator: torch.Generator) -> list[Tensor]:
    """Shuffled index batches; a last batch of one series is dropped (BatchNorm needs two)."""
    perm = torch.randperm(n, generator=generator)
    out = [perm[i : i + batch_size] for i in range(0, n, batch_size)]
    return [b for b in out if b.numel() > 1]


def _mean_terms(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {k: float(np.mean([float(r[k]) for r in rows])) for k in rows[0]}


def train_tokenizer(X: np.ndarray, config: VQVAEConfig, progress: bool = False) -> tuple[VQTokenizer, dict]:
    """Stage 1: train the naive VQ-VAE or NC-VQVAE tokenizer on series ``X`` ``(n, C, L)``.

    Adam at ``config.stage1_lr``, ``config.stage1_epochs`` passes. For NC-VQVAE each batch gets one
    augmented view from the project pipeline ``config.augmentation_spec()`` (its generator lives on
    the device and is seeded from ``config.seed``); the loss is :meth:`VQTokenizer.loss`.

    Returns:
        ``(tokenizer in eval mode, log)``; ``log`` has ``history`` (per-epoch mean terms),
        ``wall_s``, ``device``, ``augmentation`` (the resolved pipeline, NC only) and
        ``codebook_restarts`` (dead codes restarted, :class:`~sslts.vqvae.quantizer.VectorQuantizer`).

    Raises:
        ValueError: a malformed ``X``. sslts.policies.TrainingDiverged: a non-finite loss.
    """
    X = _check_series(X)
    device = training_device(config.device)
    start = time.perf_counter()
    with forked_rng(device):
        torch.manual_seed(config.seed)
        ssl = None
        if config.variant == "nc":
            ssl = SSLBranch(config.ssl_loss, config.latent_dim, config.proj_dim, config.proj_dim,
                            weight=config.ssl_weight, iternorm_groups=math.gcd(16, config.proj_dim))
        tokenizer = build_tokenizer(X.shape[1], config.num_codes, config.latent_dim, config.hidden,
                                    config.downsamples, config.beta, config.decay, ssl,
                                    config.recon_augmented, config.kmeans_init,
                                    config.dead_threshold).to(device).train()
        augment = build_pipeline(config.augmentation_spec(), shape=X.shape[1:]) if ssl is not None else None
        optimizer = torch.optim.Adam(tokenizer.parameters(), lr=config.stage1_lr)
        data = torch.from_numpy(X).to(device)  # (n, C, L)
        shuffle = torch.Generator().manual_seed(config.seed)
        aug_gen = torch.Generator(device=device).manual_seed(config.seed + 1)
        steps = len(_batches(len(X), config.batch_size, torch.Generator()))
        guard = DivergenceGuard("stage-1 training", config.stage1_epochs, steps,
                                "Lower stage1_lr or the SSL weight.")
        history = []
        for epoch in range(config.stage1_epochs):
            rows = []
            for i, idx in enumerate(_batches(len(X), config.batch_size, shuffle)):
                x = data[idx.to(device)]  # (b, C, L)
                loss, terms = tokenizer.loss(x, augment(x, aug_gen) if augment is not None else None)
                guard.check(loss.item(), epoch, i)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                rows.append({"loss": loss.item(), **{k: float(v.detach()) if hasattr(v, "detach") else float(v) for k, v in terms.items()}})
            history.append({"epoch": epoch + 1, **_mean_terms(rows)})
            if progress:
                print(f"stage 1 epoch {epoch + 1}: {history[-1]}", flush=True)
    log = {"history": history, "wall_s": time.perf_counter() - start, "device": str(device),
           "augmentation": augment.describe() if augment is not None else None,
           "codebook_restarts": tokenizer.quantizer.restarts}
    return tokenizer.eval(), log


@torch.no_grad()
def token_ids(tokenizer: VQTokenizer, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Token ids ``(n, T)`` int64 of series ``(n, C, L)`` (tokenizer in eval mode; state restored)."""
    X = _check_series(X)
    device = next(tokenizer.parameters()).device
    was_training = tokenizer.training
    tokenizer.eval()
    try:
        out = [tokenizer.tokens(torch.from_numpy(X[i : i + batch_size]).to(device)).cpu()
               for i in range(0, len(X), batch_size)]
    finally:
        tokenizer.train(was_training)
    return torch.cat(out).numpy()


def train_prior(tokens: np.ndarray, y: np.ndarray, num_classes: int, config: VQVAEConfig,
                progress: bool = False) -> tuple[MaskedTokenPrior, dict]:
    """Stage 2: train the class-conditional masked-token prior on token ids ``(n, T)`` and labels ``(n,)``.

    AdamW at ``config.stage2_lr`` for ``config.stage2_epochs`` passes; masks and class dropout come
    from a generator seeded by ``config.seed``.

    Returns:
        ``(prior in eval mode, log)`` with ``history`` (per-epoch ``loss``, ``accuracy``,
        ``masked_share``), ``wall_s``, ``device``.

    Raises:
        ValueError: tokens not ``(n, T)`` or labels that do not match. TrainingDiverged: non-finite loss.
    """
    tokens, y = np.asarray(tokens), np.asarray(y)
    if tokens.ndim != 2 or y.shape != tokens.shape[:1]:
        raise ValueError(f"tokens must be (n, T) and y (n,), got {tokens.shape} and {y.shape}")
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got [{y.min()}, {y.max()}]")
    device = training_device(config.device)
    start = time.perf_counter()
    with forked_rng(device):
        torch.manual_seed(config.seed)
        prior = MaskedTokenPrior(config.num_codes, tokens.shape[1], num_classes, config.prior_dim,
                                 config.prior_depth, config.prior_heads, class_dropout=config.class_dropout)
        prior = prior.to(device).train()
        optimizer = torch.optim.AdamW(prior.parameters(), lr=config.stage2_lr)
        t_all = torch.from_numpy(tokens.astype(np.int64)).to(device)  # (n, T)
        y_all = torch.from_numpy(y.astype(np.int64)).to(device)  # (n,)
        shuffle = torch.Generator().manual_seed(config.seed)
        mask_gen = torch.Generator(device=device).manual_seed(config.seed + 2)
        steps = len(_batches(len(y), config.batch_size, torch.Generator()))
        guard = DivergenceGuard("stage-2 training", config.stage2_epochs, steps, "Lower stage2_lr.")
        history = []
        for epoch in range(config.stage2_epochs):
            rows = []
            for i, idx in enumerate(_batches(len(y), config.batch_size, shuffle)):
                idx = idx.to(device)
                loss, terms = prior.training_loss(t_all[idx], y_all[idx], mask_gen)
                guard.check(loss.item(), epoch, i)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                rows.append({"loss": loss.item(), **terms})
            history.append({"epoch": epoch + 1, **_mean_terms(rows)})
            if progress:
                print(f"stage 2 epoch {epoch + 1}: {history[-1]}", flush=True)
    return prior.eval(), {"history": history, "wall_s": time.perf_counter() - start, "device": str(device)}


@torch.no_grad()
def generate(tokenizer: VQTokenizer, prior: MaskedTokenPrior, classes: np.ndarray, length: int,
             config: VQVAEConfig, batch_size: int = 256) -> np.ndarray:
    """Class-conditional series ``(n, C, length)`` float32: MaskGIT tokens, then the decoder.

    Sampling draws from one generator seeded by ``config.seed + 3`` on the prior's device.
    """
    device = next(prior.parameters()).device
    generator = torch.Generator(device=device).manual_seed(config.seed + 3)
    classes_t = torch.as_tensor(np.asarray(classes, dtype=np.int64), device=device)
    tokenizer.eval()
    out = []
    for i in range(0, len(classes_t), batch_size):
        ids = maskgit_sample(prior, classes_t[i : i + batch_size], steps=config.sample_steps,
                             temperature=config.temperature, guidance=config.guidance, generator=generator)
        out.append(tokenizer.decode_tokens(ids, length).float().cpu())
    return torch.cat(out).numpy()
