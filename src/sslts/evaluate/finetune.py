"""End-to-end fine-tuning: a copy of the encoder plus a linear head, trained with labels.

The same function gives the supervised baseline: pass a freshly built (randomly initialised)
encoder instead of a pre-trained one. The test split is touched once, after the last epoch; there
is no early stopping or model selection on it.

It shares pre-training's policies (:mod:`sslts.policies`): the same device resolution, the same
forked global RNG, the same schedule machinery (here a constant rate, no warm-up), the same step
(:meth:`sslts.methods.base.StepContext.minimise`) and the same divergence error,
:class:`~sslts.policies.TrainingDiverged`.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

from ..methods.base import StepContext
from ..policies import DivergenceGuard, Schedule, forked_rng, training_device
from .embed import embed
from .fractions import label_fraction_indices
from .metrics import as_labels, classification_metrics, softmax


@dataclass(frozen=True)
class FinetuneResult:
    """Test metrics of a fine-tuned model and how training went.

    ``history`` is the mean training cross-entropy of each epoch; ``wall_time_s`` covers training
    and the test pass; ``n_train`` is the number of labelled series used; ``model`` is the
    fine-tuned copy (encoder then head), in eval mode.
    """

    accuracy: float
    macro_f1: float
    auroc: float
    confusion: list[list[int]]
    history: list[float]
    wall_time_s: float
    n_train: int
    y_pred: np.ndarray = field(repr=False, compare=False)
    model: nn.Module = field(repr=False, compare=False)

    def metrics(self) -> dict[str, float]:
        """The scalar test metrics as plain floats, for JSON run records."""
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1, "auroc": self.auroc}


def _check_series(X: Any, y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(X)
    if arr.ndim != 3 or arr.shape[0] == 0:
        raise ValueError(f"X_{name} must be a non-empty (n, C, L) array, got shape {arr.shape}")
    labels = as_labels(y, f"y_{name}")
    if labels.size != arr.shape[0]:
        raise ValueError(f"X_{name} has {arr.shape[0]} series but y_{name} has {labels.size} labels")
    return arr, labels


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_encoder(encoder: Any) -> int:
    """The encoder's ``out_dim``, after checking that it is a module that has one."""
    if not isinstance(encoder, nn.Module):
        raise TypeError(f"encoder must be an nn.Module, got {type(encoder).__name__}")
    out_dim = getattr(encoder, "out_dim", None)
    if isinstance(out_dim, bool) or not isinstance(out_dim, int) or out_dim < 1:
        raise ValueError(f"encoder must have a positive int attribute out_dim, got {out_dim!r}")
    return out_dim


def _check_settings(Xtr: np.ndarray, Xte: np.ndarray, epochs: Any, batch_size: Any) -> None:
    if Xtr.shape[1:] != Xte.shape[1:]:
        raise ValueError(
            f"train series are {Xtr.shape[1:]} (C, L) but test series are {Xte.shape[1:]}"
        )
    _positive_int(epochs, "epochs")
    _positive_int(batch_size, "batch_size")


def _shuffled_loader(X: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> DataLoader:
    """Batches of ``(x (b, C, L), y (b,))`` on the CPU, reshuffled every epoch by a generator seeded
    with ``seed``; a last batch of one series is dropped (BatchNorm cannot train on one sample)."""
    data = TensorDataset(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.from_numpy(y))
    drop_last = len(data) > batch_size and len(data) % batch_size == 1
    return DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=drop_last,
                      generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class _Loop:
    """What stays fixed while fine-tuning's epochs run: the model, its data and the policies."""

    model: nn.Module
    loader: DataLoader
    optimizer: torch.optim.Optimizer
    device: torch.device
    augment: Callable[[Tensor, torch.Generator], Tensor] | None
    augment_gen: torch.Generator
    ctx: StepContext
    schedule: Schedule
    guard: DivergenceGuard

    @classmethod
    def build(cls, model: nn.Module, loader: DataLoader, device: torch.device, epochs: int, lr: float,
              weight_decay: float, augment: Callable[[Tensor, torch.Generator], Tensor] | None,
              seed: int) -> _Loop:
        """AdamW over ``model`` at a constant ``lr``, plain float32 steps, augmentations seeded ``seed + 1``."""
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        schedule = Schedule(epochs * len(loader), warmup_steps=0, kind="constant").attach([optimizer])
        advice = f"Lower the learning rate (lr={lr:g}) or check X_train for extreme values."
        return cls(model, loader, optimizer, device, augment, torch.Generator().manual_seed(seed + 1),
                   StepContext.create(device.type), schedule,
                   DivergenceGuard("fine-tuning", epochs, len(loader), advice))

    def epoch(self, epoch: int) -> float:
        """One pass over the loader (0-based ``epoch``); returns the sample-weighted mean cross-entropy.

        Raises:
            TrainingDiverged: if the loss becomes NaN or infinite (before it updates a weight).
        """
        self.model.train()
        total, count = 0.0, 0
        for i, (xb, yb) in enumerate(self.loader):  # xb: (b, C, L), yb: (b,)
            if self.augment is not None:
                xb = self.augment(xb, self.augment_gen)
            self.schedule.apply([self.optimizer], epoch * len(self.loader) + i)
            logits = self.model(xb.to(self.device))  # (b, k)
            loss = F.cross_entropy(logits, yb.to(self.device))
            value = self.guard.check(loss.item(), epoch, i)
            self.ctx.minimise(loss, self.optimizer, self.model.parameters())
            self.ctx.scaler.update()
            total += value * yb.shape[0]
            count += yb.shape[0]
        return total / count


def epochs_for_min_steps(epochs: int, min_steps: int, n_train: int, batch_size: int = 64) -> int:
    """``epochs``, raised so that at least ``min_steps`` optimiser steps run on ``n_train`` series.

    A small training split (UWave: 120 series, two steps an epoch) would otherwise get too few
    updates from an epoch count that suits a large one (HAR: 7352 series).

    Example:
        >>> epochs_for_min_steps(10, 200, n_train=120, batch_size=64), epochs_for_min_steps(10, 200, 7352)
        (100, 10)
    """
    steps_per_epoch = max(1, -(-n_train // batch_size))
    return max(epochs, -(-min_steps // steps_per_epoch))


def finetune(
    encoder: nn.Module, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
    epochs: int, batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 1e-2, seed: int = 0,
    device: str | torch.device | None = None, augment: Callable[[Tensor, torch.Generator], Tensor] | None = None,
    progress: bool = True, train_fraction: float | None = None,
) -> FinetuneResult:
    """Fine-tune a copy of ``encoder`` with a linear head on the labels, then score the test split.

    The encoder is deep-copied (the caller's module and its weights are never touched), a
    ``nn.Linear(encoder.out_dim, k)`` head is added and both are trained end to end with AdamW on
    the cross-entropy. ``torch.manual_seed(seed)`` fixes the head's initialisation and any dropout
    inside a forked global RNG (the caller's random state is left as it was); dedicated generators
    drive the shuffling and the augmentations, so the same seed on the same device gives the same
    ``history`` (on CUDA, up to non-deterministic kernels).

    Args:
        encoder: ``nn.Module`` mapping ``(B, C, L) -> (B, D)`` with an ``out_dim`` attribute ``D``.
        X_train: ``(n_train, C, L)`` series. y_train: ``(n_train,)`` labels ``0..k-1``.
        X_test: ``(n_test, C, L)``. y_test: ``(n_test,)``.
        epochs: passes over the training data. batch_size: series per step; a last batch of one
            series is dropped, because BatchNorm cannot train on a single sample.
        lr, weight_decay: AdamW's (weight decay 1e-2 is AdamW's own default).
        seed: seeds the head, shuffling, augmentation and the label subset.
        device: CUDA when available and the CPU otherwise if None.
        augment: optional ``augment(x, generator) -> x`` (an :mod:`sslts.augment` pipeline)
            applied to each training batch on the CPU with a CPU generator seeded from ``seed``.
        progress: show a tqdm bar over epochs.
        train_fraction: if given, train on :func:`label_fraction_indices` of that fraction only.

    Returns:
        :class:`FinetuneResult`.

    Raises:
        TypeError: if ``encoder`` is not an ``nn.Module``.
        ValueError: on malformed arrays, train/test shapes that disagree, a missing or bad
            ``out_dim``, non-positive ``epochs``/``batch_size``, or a bad ``train_fraction``.
        sslts.policies.TrainingDiverged: if the training loss becomes NaN or infinite.
    """
    start = time.perf_counter()
    out_dim = _check_encoder(encoder)
    Xtr, ytr = _check_series(X_train, y_train, "train")
    Xte, yte = _check_series(X_test, y_test, "test")
    _check_settings(Xtr, Xte, epochs, batch_size)
    n_classes = int(max(ytr.max(), yte.max())) + 1
    if train_fraction is not None:
        idx = label_fraction_indices(ytr, train_fraction, seed)
        Xtr, ytr = Xtr[idx], ytr[idx]
    dev = training_device(device)
    loader = _shuffled_loader(Xtr, ytr, batch_size, seed)
    with forked_rng(dev):  # seeding the global RNG for the head and dropout must not leak to the caller
        torch.manual_seed(seed)
        model = nn.Sequential(copy.deepcopy(encoder), nn.Linear(out_dim, n_classes)).to(dev)
        loop = _Loop.build(model, loader, dev, epochs, lr, weight_decay, augment, seed)
        history: list[float] = []
        with tqdm(range(epochs), desc="fine-tune", disable=not progress, leave=False) as bar:
            for epoch in bar:
                history.append(loop.epoch(epoch))
                bar.set_postfix(loss=f"{history[-1]:.4f}")

    logits = embed(model, Xte, batch_size=max(batch_size, 256), device=dev)  # (n_test, k)
    model.eval()
    y_pred = logits.argmax(axis=1).astype(np.int64)
    m = classification_metrics(yte, y_pred, softmax(logits.astype(np.float64)), n_classes)
    return FinetuneResult(
        accuracy=m["accuracy"], macro_f1=m["macro_f1"], auroc=m["auroc"], confusion=m["confusion"],
        history=history, wall_time_s=time.perf_counter() - start, n_train=int(ytr.size),
        y_pred=y_pred, model=model,
    )
