"""One experiment: pre-train a method on a dataset, evaluate it with every protocol, record it.

This is the function the method chapters and the sweep call, so a number in a chapter and a number
in a committed full-profile record come from the same code path:

1. load both splits; fit the per-channel z-score on the training split only;
2. pre-train the method on unlabelled training series (optionally with an extra unlabelled pool
   that never contains the test split's series);
3. embed both splits with the frozen encoder and run the probes (linear, SVM, k-NN), fitted on the
   training split only; repeat the linear probe with 1, 5, 10, 100 percent of the labels;
4. fine-tune a copy of the encoder end to end; compute representation diagnostics;
5. write one JSON run record atomically.

The method ``random_init`` skips step 2: its probes measure a frozen random encoder, and its
fine-tuning row is the supervised-from-scratch baseline (same encoder, same budget).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .augment import build_pipeline
from .data import channel_groups, cleaning, load_dataset, unlabelled_pool
from .data.registry import TimeSeriesData
from .encoders import build_encoder
from .evaluate.readouts import feature_maps, readout, select_readout
from .evaluate import (embed, epochs_for_min_steps, evaluate_embeddings, evaluate_label_fractions,
                       evaluate_label_shots, finetune, label_fraction_indices, representation_summary)
from .methods import METHODS, MethodContext, build_method
from .provenance import data_checksums, environment
from .results import write_record
from .train import TrainConfig, default_warmup, pretrain

BASELINES = ("random_init",)
# epochs = 0 means "auto": about ``pretrain_budget`` series passes, between 5 and 200 epochs, so a
# small set (UWave, 120 series) gets many epochs and a large one (HAR, 7352) a few.
AUTO_MIN_EPOCHS, AUTO_MAX_EPOCHS = 5, 200


def auto_epochs(n_series: int, budget: int) -> int:
    """Epochs of the ``epochs = 0`` setting: ``budget`` series passes over ``n_series`` series, clipped."""
    return int(min(AUTO_MAX_EPOCHS, max(AUTO_MIN_EPOCHS, budget // max(n_series, 1))))
DEFAULT_AUGMENTATIONS = "jitter,scaling,time_warp,crop_resize"


ADDED_FIELDS = {"finetune_min_steps": 0, "readouts": (), "search_max": 0, "label_shots": ()}
# The same for method parameters added after records of that method were committed.
ADDED_METHOD_FIELDS = {"ssgan": {"diff_augment": False, "r1_gamma": 0.0, "minibatch_std": False}}


FINETUNE_BATCH_SIZE = 64


def finetune_epochs_for(config: "ExperimentConfig", n_train: int, batch_size: int = FINETUNE_BATCH_SIZE) -> int:
    """Fine-tuning epochs: ``finetune_epochs``, raised so that at least ``finetune_min_steps`` steps run."""
    return epochs_for_min_steps(config.finetune_epochs, config.finetune_min_steps, n_train, batch_size)


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines one experiment (it is stored in the run record)."""

    method: str
    dataset: str
    encoder: str = "cnn"
    seed: int = 0
    profile: str = "quick"
    epochs: int = 40
    pretrain_budget: int = 220_000
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    augmentations: str = DEFAULT_AUGMENTATIONS
    method_params: dict[str, Any] = field(default_factory=dict)
    encoder_params: dict[str, Any] = field(default_factory=dict)
    extra_pool: bool = False
    protocols: tuple[str, ...] = ("linear", "svm", "knn")
    label_fractions: tuple[float, ...] = (0.01, 0.05, 0.1, 1.0)
    finetune_epochs: int = 30
    finetune_min_steps: int = 0
    max_train: int = 0
    max_test: int = 0
    device: str = "auto"
    # Read-outs of the frozen feature map to choose from on the training split (empty: the
    # encoder's own pooling); the probes then all use the chosen one (see readout_embeddings).
    readouts: tuple[str, ...] = ()
    # Probes search their C on at most this many training series, then refit on all (0: all).
    search_max: int = 0
    # Few-shot rows: the linear probe on this many labelled training series per class.
    label_shots: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        known = (*METHODS, *BASELINES)
        if self.method not in known:
            raise ValueError(f"unknown method {self.method!r}; known: {', '.join(known)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExperimentConfig":
        """The config of a run record's ``config`` (inverse of :meth:`to_dict`)."""
        tuples = {"protocols": tuple(data["protocols"]), "label_fractions": tuple(data["label_fractions"]),
                  "readouts": tuple(data.get("readouts", ())), "label_shots": tuple(data.get("label_shots", ()))}
        return cls(**{**data, **tuples})

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        # Fields added after records were committed stay out of the identity at their neutral
        # value, so those records keep their paths (and a sweep still finds them).
        for name, neutral in ADDED_FIELDS.items():
            if out[name] == neutral:
                del out[name]
        for name, neutral in ADDED_METHOD_FIELDS.get(self.method, {}).items():
            if name in out["method_params"] and out["method_params"][name] == neutral:
                del out["method_params"][name]
        out["protocols"] = list(self.protocols)
        out["label_fractions"] = list(self.label_fractions)
        for name in ("readouts", "label_shots"):
            if name in out:
                out[name] = list(out[name])
        return out


@dataclass
class ExperimentResult:
    """The run record plus what chapters plot (not stored in the record)."""

    record: dict[str, Any]
    train_z: np.ndarray
    test_z: np.ndarray
    train: TimeSeriesData
    test: TimeSeriesData
    model: torch.nn.Module | None = None
    # The z-score fitted on the training split: model inputs are scaler.transform(train.X) etc.
    scaler: cleaning.ChannelStandardScaler | None = None

    def standardised(self, split: str) -> np.ndarray:
        """The ``"train"`` or ``"test"`` series as the model saw them ``(n, C, L)`` float32."""
        if self.scaler is None:
            raise ValueError("this result was loaded from a record; it has no fitted scaler")
        return self.scaler.transform(getattr(self, split).X).astype(np.float32)


def stratified_subset(data: TimeSeriesData, limit: int, seed: int) -> TimeSeriesData:
    """A stratified, seeded subsample of at most about ``limit`` series (``0`` keeps all)."""
    if limit <= 0 or len(data.y) <= limit:
        return data
    return data.subset(label_fraction_indices(data.y, limit / len(data.y), seed))


# An optional data hook: ``prepare(train, test) -> (train, test, scaler)`` transforms the loaded
# splits (a cleaning study injects damage and cleans it) and returns the scaler the model inputs
# go through, fitted on the training split only (anything with ``transform(X) -> X``).
Prepare = Callable[[TimeSeriesData, TimeSeriesData], tuple[TimeSeriesData, TimeSeriesData, Any]]


def load_splits(config: ExperimentConfig, prepare: Prepare | None = None) -> tuple[TimeSeriesData, TimeSeriesData, Any]:
    """The run's training and test splits (capped as configured) and the z-score fitted on training.

    With ``prepare``, the capped splits go through it and its scaler replaces the z-score.
    """
    train = stratified_subset(load_dataset(config.dataset, "train"), config.max_train, config.seed)
    test = stratified_subset(load_dataset(config.dataset, "test"), config.max_test, config.seed)
    if prepare is not None:
        return prepare(train, test)
    return train, test, cleaning.ChannelStandardScaler().fit(train.X)  # training split only


def pretrain_pool(config: ExperimentConfig, train: TimeSeriesData) -> tuple[np.ndarray, list[TimeSeriesData]]:
    """Unlabelled series for pre-training: the training split, plus the extra pool if asked."""
    if not config.extra_pool:
        return train.X, []
    parts = unlabelled_pool(config.dataset)
    extra = np.concatenate([p.X for p in parts])
    if 0 < config.max_train < len(extra):
        # max_train caps the unlabelled pool as it caps the labelled split, so the quick profile's
        # pool costs what its training split does. The pool is unlabelled, so the draw is uniform,
        # not stratified; the checksums still name the files the draw came from.
        keep = np.sort(np.random.default_rng(config.seed).choice(len(extra), config.max_train, replace=False))
        extra = extra[keep]
    return np.concatenate([train.X, extra]), parts


def build_model(config: ExperimentConfig, input_shape: tuple[int, int], n_classes: int | None = None) -> torch.nn.Module:
    """The untrained model of ``config``: its encoder (baselines) or its method around the encoder.

    Seeds the global RNG with ``config.seed`` first, so :func:`run_experiment` and a chapter that
    needs the same model before training (a random-weights baseline) get the same initial weights.

    Args:
        input_shape: ``(C, L)`` of the series. n_classes: the training labels' class count.
    """
    torch.manual_seed(config.seed)
    encoder = build_encoder(config.encoder, input_shape[0], **config.encoder_params)
    if config.method in BASELINES:
        return encoder
    context = MethodContext(tuple(input_shape),
                            lambda channels: build_encoder(config.encoder, channels, **config.encoder_params),
                            n_classes=n_classes, channel_groups=tuple(channel_groups(config.dataset).values()))
    return build_method(config.method, encoder, config.method_params, context)


def run_experiment(config: ExperimentConfig, results_root: str | Path | None = None,
                   progress: bool = True, checkpoint_dir: str | Path | None = None,
                   prepare: Prepare | None = None) -> ExperimentResult:
    """Run one experiment end to end and (if ``results_root``) write its record.

    With ``checkpoint_dir``, pre-training saves a checkpoint there after every epoch and resumes
    from it when the same run is started again (bit for bit, see :func:`sslts.train.pretrain`):
    an interrupted run loses at most one epoch, and a run that failed after pre-training skips
    straight to evaluation. The record then names the checkpoint file (``"checkpoint"``), which
    keeps the pre-trained model for later analysis. A resumed run's record says so with
    ``timing["resumed_from_epoch"]``; its ``pretrain_s`` and ``samples_per_s`` then cover only the
    epochs this process trained (``samples_per_s`` is ``None`` when it trained none).

    ``prepare`` (see :data:`Prepare`) transforms the loaded splits and supplies the scaler; the
    default (``None``) is the z-score of the training split. The record does not name it: a caller
    that passes one writes the record itself (``results_root=None``) with what it changed.

    Raises:
        ValueError / TypeError: invalid configuration (before any training).
        sslts.data.DataError: the data cannot be loaded.
        sslts.policies.TrainingDiverged: the pre-training loss became NaN or infinite.
    """
    started = time.perf_counter()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    augment = build_pipeline(config.augmentations)  # validates the spec before any work
    train, test, scaler = load_splits(config, prepare)
    pool, extra = pretrain_pool(config, train)
    X_train, X_test = scaler.transform(train.X), scaler.transform(test.X)
    X_pool = scaler.transform(pool).astype(np.float32)

    model = build_model(config, X_pool.shape[1:], train.n_classes)
    pretrained = pretrain_model(config, model, X_pool, train, augment, bool(extra), progress, checkpoint_dir)

    eval_started = time.perf_counter()
    if config.readouts:
        train_z, test_z, readout_choice = readout_embeddings(model, X_train, train.y, X_test,
                                                             config.readouts, config.seed)
    else:
        train_z, test_z, readout_choice = embed(model, X_train), embed(model, X_test), None
    evaluations = _probe_rows(config, train_z, train.y, test_z, test.y)
    if config.finetune_epochs > 0:
        encoder = model if config.method in BASELINES else model.encoder
        evaluations.append(_finetune_row(config, encoder, X_train, train.y, X_test, test.y, progress))
    diagnostics = _diagnostics(config, model, augment, X_train, train_z)
    eval_s = time.perf_counter() - eval_started

    record = {
        "kind": "experiment",
        "config": config.to_dict(),
        "evaluations": evaluations,
        "diagnostics": diagnostics,
        **({} if readout_choice is None else {"readout": readout_choice}),
        "history": pretrained.history,
        "timing": {"pretrain_s": round(pretrained.seconds, 2), "eval_s": round(eval_s, 2),
                   "total_s": round(time.perf_counter() - started, 2), **pretrained.timing()},
        "pretrain_epochs": pretrained.epochs,
        "data": {"train_shape": list(train.X.shape), "test_shape": list(test.X.shape),
                 "pretrain_series": int(X_pool.shape[0]), "sha256": data_checksums(train, test, *extra)},
        "started_at": started_at,
        **({} if pretrained.checkpoint is None else {"checkpoint": pretrained.checkpoint}),
        **environment(config.device if config.device != "auto" else None),
    }
    if results_root is not None:
        write_record(results_root, record)
    return ExperimentResult(record, train_z, test_z, train, test, model, scaler)


@dataclass(frozen=True)
class Pretrained:
    """What pre-training tells the record (nothing for a baseline, which is not pre-trained)."""

    epochs: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    samples_per_s: float | None = None
    peak_memory_mb: float | None = None
    resumed_from_epoch: int | None = None
    checkpoint: str | None = None

    def timing(self) -> dict[str, Any]:
        """The record's timing entries besides the durations."""
        resumed = {} if self.resumed_from_epoch is None else {"resumed_from_epoch": self.resumed_from_epoch}
        return {"samples_per_s": self.samples_per_s, "peak_memory_mb": self.peak_memory_mb, **resumed}


def train_config_for(config: ExperimentConfig, n_pool: int, progress: bool = False,
                     checkpoint_dir: str | Path | None = None, num_threads: int | None = None) -> TrainConfig:
    """The training loop's settings for ``config`` on a pool of ``n_pool`` series (epochs from the budget)."""
    epochs = config.epochs or auto_epochs(n_pool, config.pretrain_budget)
    return TrainConfig(epochs=epochs, batch_size=config.batch_size, lr=config.lr,
                       weight_decay=config.weight_decay, seed=config.seed, device=config.device,
                       progress=progress, warmup_epochs=default_warmup(epochs),
                       checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir), num_threads=num_threads)


def pretrain_model(config: ExperimentConfig, model: torch.nn.Module, X_pool: np.ndarray, train: TimeSeriesData,
                   augment: Any, extra: bool, progress: bool, checkpoint_dir: str | Path | None) -> Pretrained:
    """Pre-train ``model`` in place on the unlabelled pool ``X_pool`` (a baseline is left as it is)."""
    if config.method in BASELINES:
        return Pretrained()
    train_config = train_config_for(config, len(X_pool), progress, checkpoint_dir)
    epochs = train_config.epochs
    if model.needs_labels and extra:
        raise ValueError(f"{config.method} trains with labels; the unlabelled extra_pool cannot be used with it")
    # Only methods that train a classifier jointly (test-time training) or a text tower see
    # labels, and only the training split's.
    result = pretrain(model, X_pool, build_pipeline(augment, shape=X_pool.shape[1:]), train_config, y=train.y if model.needs_labels else None)
    return Pretrained(
        epochs=epochs,
        history={"loss": list(result.loss_history), **{k: list(v) for k, v in result.term_histories.items()}},
        seconds=result.wall_time_s,
        # After a finished checkpoint was loaded (no epoch trained) no throughput was measured.
        samples_per_s=None if result.epochs_run == 0 else result.samples_per_s,
        peak_memory_mb=result.peak_memory_mb,
        resumed_from_epoch=result.resumed_from_epoch,
        checkpoint=None if result.checkpoint_path is None else Path(result.checkpoint_path).name,
    )


def _probe_rows(config: ExperimentConfig, train_z: np.ndarray, y_train: np.ndarray, test_z: np.ndarray,
                y_test: np.ndarray) -> list[dict[str, Any]]:
    """The record's rows of the probes on all labels, then of the linear probe on few labels."""
    rows = []
    for name, probe in evaluate_embeddings(train_z, y_train, test_z, y_test, config.protocols, config.seed,
                                           search_max=config.search_max or None).items():
        rows.append({"protocol": name, "label_fraction": 1.0, **probe.metrics(),
                     "confusion": probe.confusion, "best_params": probe.best_params})
    few_labels = tuple(f for f in config.label_fractions if f < 1.0)  # 100 % is the row above
    fractions = evaluate_label_fractions(train_z, y_train, test_z, y_test, few_labels, "linear", config.seed) if few_labels else []
    for row in fractions:
        rows.append({"protocol": row["protocol"], "label_fraction": row["fraction"],
                     "n_labelled": row["n_labelled"], "accuracy": row["accuracy"],
                     "macro_f1": row["macro_f1"], "auroc": row["auroc"]})
    shots = evaluate_label_shots(train_z, y_train, test_z, y_test, config.label_shots, "linear", config.seed) if config.label_shots else []
    for row in shots:
        # label_fraction stays None: these rows are counted in series per class, not as a share.
        rows.append({"protocol": row["protocol"], "label_fraction": None, "label_shots": row["shots"],
                     "n_labelled": row["n_labelled"], "accuracy": row["accuracy"],
                     "macro_f1": row["macro_f1"], "auroc": row["auroc"]})
    return rows


def _finetune_row(config: ExperimentConfig, encoder: torch.nn.Module, X_train: np.ndarray, y_train: np.ndarray,
                  X_test: np.ndarray, y_test: np.ndarray, progress: bool) -> dict[str, Any]:
    """The record's row of end-to-end fine-tuning of a copy of ``encoder``."""
    finetune_epochs = finetune_epochs_for(config, len(y_train))
    tuned = finetune(encoder, X_train, y_train, X_test, y_test, epochs=finetune_epochs, batch_size=FINETUNE_BATCH_SIZE,
                     seed=config.seed, device=None if config.device == "auto" else config.device,
                     progress=progress)
    return {"protocol": "finetune", "label_fraction": 1.0, **tuned.metrics(),
            "confusion": tuned.confusion, "finetune_s": tuned.wall_time_s,
            "finetune_epochs": finetune_epochs}


def _diagnostics(config: ExperimentConfig, model: torch.nn.Module, augment: Any, X_train: np.ndarray,
                 train_z: np.ndarray) -> dict[str, Any]:
    """Representation diagnostics of the training split and of one augmented copy of it."""
    generator = torch.Generator().manual_seed(config.seed)
    X_augmented = augment(torch.from_numpy(X_train), generator).numpy()
    if config.readouts:
        # Diagnostics compare methods on one footing: the global mean of the feature map (one
        # tower for CLIP), whatever read-out the probes chose.
        return representation_summary(readout(feature_maps(model, X_train), "avg").numpy(),
                                      readout(feature_maps(model, X_augmented), "avg").numpy(),
                                      seed=config.seed)
    return representation_summary(train_z, embed(model, X_augmented), seed=config.seed)


def readout_embeddings(model: torch.nn.Module, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                       candidates: tuple[str, ...], seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Train and test embeddings ``(n, D)`` in the read-out that the training split chooses.

    The choice (:func:`sslts.evaluate.readouts.select_readout`) sees the training feature maps and
    labels only; the test maps are pooled the chosen way afterwards.
    """
    train_maps = feature_maps(model, X_train)  # (n_train, D', L')
    choice = select_readout(train_maps, y_train, tuple(candidates), seed)
    train_z = readout(train_maps, choice["chosen"]).numpy()
    test_z = readout(feature_maps(model, X_test), choice["chosen"]).numpy()
    return train_z, test_z, choice
