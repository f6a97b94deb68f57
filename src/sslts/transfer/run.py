"""One transfer run: pre-train a method on a source, evaluate it on a target, write the record.

1. load the target's splits; fit its z-score on the training split only;
2. build the source's pool (:func:`~sslts.transfer.sources.build_pool`), resampled to the target's
   length, fit a second z-score on the pool itself, and pre-train with the project's one loop
   (the pieces of :mod:`sslts.experiment`: ``build_model``, its pre-training step and ``auto_epochs``);
3. for every label budget of the target (a stratified, seeded draw of the training split, the
   same draw for every source and method of one seed): the frozen probes (linear, SVM, k-NN) and
   fine-tuning of a copy of the encoder; the test split is scored after each fit and chooses
   nothing;
4. write one JSON record atomically.

Method settings are the comparison's at each method's paper value (no choice made with labels:
with one label per class there would be none to make), with the encoder's own global pool.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..augment import build_pipeline
from ..comparison import BUDGET, GRIDS, base_config
from ..data import cleaning
from ..evaluate import embed, epochs_for_min_steps, evaluate_embeddings, finetune, label_fraction_indices, label_shot_indices
from ..experiment import BASELINES, FINETUNE_BATCH_SIZE, ExperimentConfig, pretrain_model, build_model
from ..provenance import data_checksums, environment
from ..results import write_record
from .sources import NO_PRETRAINING, ChannelIndependent, build_pool, get_source, get_target, load_target

PROFILE = "transfer"
SCRATCH = "random_init"  # the untrained encoder; fine-tuned, the supervised CNN from scratch


@dataclass(frozen=True)
class TransferConfig:
    """Everything that defines one transfer run (stored in its record; its hash names the file)."""

    method: str
    source: str
    target: str
    seed: int = 0
    profile: str = PROFILE
    encoder: str = "cnn"
    # Series passes of pre-training (epochs = passes / pool series, 5 to 200), the comparison's.
    pretrain_budget: int = BUDGET
    # Distinct series a pool keeps at most (a seeded uniform draw): 5 epochs of the budget.
    pool_cap: int = 4000
    protocols: tuple[str, ...] = ("linear", "svm", "knn")
    # Fine-tuning steps per label budget (batch 64; epochs raised until this many steps run).
    finetune_steps: int = 300
    search_max: int = 1000
    max_test: int = 0  # cap on test series (stratified; 0 = all), for tests and previews
    device: str = "auto"
    method_params: dict[str, Any] | None = None  # overrides of the paper's settings (tests)
    encoder_params: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        target = get_target(self.target)
        get_source(self.source)
        if self.source not in target.sources:
            raise ValueError(f"source {self.source!r} is not one of target {self.target!r}'s: {', '.join(target.sources)}")
        if (self.source == NO_PRETRAINING) != (self.method == SCRATCH):
            raise ValueError(f"source {NO_PRETRAINING!r} goes with method {SCRATCH!r} and only with it, "
                             f"got {self.method!r} on {self.source!r}")

    @property
    def dataset(self) -> str:
        return self.target

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["dataset"] = self.target  # record_path's folder
        out["protocols"] = list(self.protocols)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TransferConfig":
        fields = {k: v for k, v in data.items() if k != "dataset"}
        return cls(**{**fields, "protocols": tuple(data["protocols"])})


def method_config(config: TransferConfig) -> ExperimentConfig:
    """The :class:`ExperimentConfig` of the run's method: the comparison's, at the paper's value."""
    target = get_target(config.target)
    method = base_config(config.method, target.dataset, config.seed)
    params = dict(method.method_params)
    if config.method in GRIDS:  # the paper's value is the first of the grid
        name, values = GRIDS[config.method]
        params[name] = values[0]
    return replace(method, profile=PROFILE, readouts=(), pretrain_budget=config.pretrain_budget, device=config.device,
                   method_params={**params, **(config.method_params or {})},
                   encoder_params={**method.encoder_params, **(config.encoder_params or {})})


def label_budget_indices(kind: str, y: np.ndarray, budget: float, seed: int) -> np.ndarray:
    """The stratified, seeded training subset of one label budget (shots per class or a fraction)."""
    if kind == "shots":
        return label_shot_indices(y, int(budget), seed)
    return label_fraction_indices(y, float(budget), seed)


def run_transfer(config: TransferConfig, results_root: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Make one transfer run and (if ``results_root``) write its record; return the record.

    Raises:
        ValueError: invalid configuration, or a method that trains with labels.
        sslts.data.DataError: the data cannot be loaded.
    """
    started, started_at = time.perf_counter(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    target, source = get_target(config.target), get_source(config.source)
    experiment = method_config(config)
    augment = build_pipeline(experiment.augmentations)
    train, test = load_target(config.target, "train"), load_target(config.target, "test")
    if 0 < config.max_test < len(test.y):
        test = test.subset(label_fraction_indices(test.y, config.max_test / len(test.y), config.seed))
    scaler = cleaning.ChannelStandardScaler().fit(train.X)  # the target's training split only
    X_train, X_test = scaler.transform(train.X), scaler.transform(test.X)
    n_channels, length = train.X.shape[1:]

    parts, pool_size, pretrained = [], 0, None
    if config.source == NO_PRETRAINING:
        model = build_model(experiment, (n_channels, length), train.n_classes)
    else:
        pool, parts = build_pool(config.source, config.target, length, n_channels, config.pool_cap, config.seed)
        pool = cleaning.ChannelStandardScaler().fit(pool).transform(pool)  # z-score fitted on the pool
        pool_size = len(pool)
        model = build_model(experiment, pool.shape[1:])
        # extra=True: a method that trains with labels is refused (the pool has none to give).
        pretrained = pretrain_model(experiment, model, pool, train, augment, True, progress, None)
    encoder = model if config.method in BASELINES else model.encoder
    if source.channel_independent:
        encoder = ChannelIndependent(encoder, n_channels)
    eval_started = time.perf_counter()
    frozen = encoder if source.channel_independent else model
    train_z, test_z = embed(frozen, X_train), embed(frozen, X_test)  # (n, D)
    evaluations = []
    for budget in target.budgets:
        idx = label_budget_indices(target.budget_kind, train.y, budget, config.seed)
        evaluations += _budget_rows(config, target.budget_kind, budget, idx, encoder, train_z, train.y, test_z,
                                    test.y, X_train, X_test, progress)
    record = {
        "kind": "transfer",
        "config": config.to_dict(),
        "method_config": experiment.to_dict(),
        "evaluations": evaluations,
        "history": {} if pretrained is None else pretrained.history,
        "pretrain_epochs": 0 if pretrained is None else pretrained.epochs,
        "timing": {"pretrain_s": 0.0 if pretrained is None else round(pretrained.seconds, 2),
                   "eval_s": round(time.perf_counter() - eval_started, 2),
                   "total_s": round(time.perf_counter() - started, 2),
                   **({} if pretrained is None else pretrained.timing())},
        "data": {"train_shape": list(train.X.shape), "test_shape": list(test.X.shape), "pretrain_series": pool_size,
                 "embedding_dim": int(train_z.shape[1]), "sha256": data_checksums(train, test, *parts)},
        "started_at": started_at,
        **environment(config.device if config.device != "auto" else None),
    }
    if results_root is not None:
        write_record(results_root, record)
    return record


def _budget_rows(config: TransferConfig, kind: str, budget: float, idx: np.ndarray, encoder: torch.nn.Module,
                 train_z: np.ndarray, y_train: np.ndarray, test_z: np.ndarray, y_test: np.ndarray,
                 X_train: np.ndarray, X_test: np.ndarray, progress: bool) -> list[dict[str, Any]]:
    """The record's rows of one label budget: each probe on the frozen embeddings, then fine-tuning."""
    common = {"budget_kind": kind, "budget": budget, "n_labelled": int(idx.size)}
    rows = []
    probes = evaluate_embeddings(train_z[idx], y_train[idx], test_z, y_test, config.protocols, config.seed,
                                 search_max=config.search_max or None)
    for name, probe in probes.items():
        rows.append({"protocol": name, **common, **probe.metrics(), "best_params": probe.best_params})
    if config.finetune_steps > 0:
        epochs = epochs_for_min_steps(1, config.finetune_steps, int(idx.size), FINETUNE_BATCH_SIZE)
        tuned = finetune(encoder, X_train[idx], y_train[idx], X_test, y_test, epochs=epochs,
                         batch_size=FINETUNE_BATCH_SIZE, seed=config.seed,
                         device=None if config.device == "auto" else config.device, progress=progress)
        rows.append({"protocol": "finetune", **common, **tuned.metrics(), "finetune_epochs": epochs,
                     "finetune_s": round(tuned.wall_time_s, 2)})
    return rows
