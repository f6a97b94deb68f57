"""The one training loop: self-supervised pre-training of any :class:`~sslts.methods.SSLMethod`.

Read :func:`pretrain` top to bottom, then :meth:`_Loop.epoch`; they are the whole harness (no
framework). Per step the loop draws a batch, asks the method for its views, and calls the method's
``step`` hook, so methods with two optimisers override a hook and the loop does not grow special
cases. Around that it applies the policies it shares with fine-tuning (:mod:`sslts.policies`):

- device: CUDA when available, else CPU (``TrainConfig.device = "auto"``);
- mixed precision: float16 autocast with a gradient scaler, on CUDA only
  (:class:`~sslts.methods.base.StepContext`);
- reproducibility: one seed; separate ``torch.Generator`` s for shuffling and for augmentations;
  deterministic algorithms switched on, and the global RNG forked, only for the call's duration;
- schedule: linear warm-up then cosine decay, set per step (:func:`learning_rate`);
- a tqdm progress bar with the running loss; per-epoch histories of the loss and its terms;
- a NaN guard: a non-finite loss raises :class:`TrainingDiverged` naming the epoch and step;
- checkpoints (:mod:`sslts.checkpoint`): written atomically every epoch, loaded with
  ``weights_only=True``, and resumed when a checkpoint of the same run exists (same method config,
  train config, augmentations, data and initial weights).

Bit-for-bit reproducibility holds on the CPU for a fixed machine and thread count. On CUDA,
deterministic algorithms are requested with ``warn_only=True``; exact reruns additionally need the
environment variable ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` set before the process starts.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from sslts.checkpoint import TrainingState, checkpoint_path, describe_run
from sslts.methods.base import Augment, ConfigBase, SSLMethod, StepContext
from sslts.policies import (SCHEDULES, DivergenceGuard, Schedule, TrainingDiverged, default_warmup, deterministic_algorithms,
                            forked_rng, learning_rate, peak_memory_mb, resolve_device, training_device)

# TrainingDiverged, learning_rate and resolve_device live in sslts.policies (fine-tuning shares them).
__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "default_warmup", "learning_rate", "pretrain", "resolve_device"]

# Fields that do not change the numbers a run produces; they stay out of the run's identity so
# that, e.g., turning the progress bar off does not prevent resuming.
NOT_IDENTITY = ("checkpoint_dir", "checkpoint_every", "num_threads", "progress")


@dataclass(frozen=True)
class TrainConfig(ConfigBase):
    """Settings of :func:`pretrain` (one source of defaults; overrides via ``from_dict``).

    Attributes:
        epochs: passes over the data.
        batch_size: samples per step; capped at ``n``. When ``n > batch_size`` the last incomplete
            batch of each epoch is dropped (BatchNorm needs more than one sample, and equal batches
            keep the loss comparable across steps).
        lr: peak learning rate of AdamW (reached at the end of warm-up).
        weight_decay: AdamW decoupled weight decay (weight matrices and kernels only).
        warmup_epochs: epochs of linear warm-up from ``lr / warmup_steps`` to ``lr``.
        schedule: after warm-up, ``"cosine"`` decays to 0 at the end; ``"constant"`` keeps ``lr``.
        seed: seeds the global torch RNG (dropout), the shuffling and the augmentation generators.
        device: ``"auto"`` (CUDA if available, else CPU) or a torch device string.
        amp: use float16 mixed precision on CUDA (ignored on the CPU).
        checkpoint_dir: folder for checkpoints; ``None`` disables checkpointing and resuming.
        checkpoint_every: save every this many epochs (the last epoch is always saved).
        num_threads: CPU threads for this call (restored afterwards); ``None`` leaves torch's.
        progress: show a tqdm progress bar.
        max_grad_norm: clip the global gradient norm to this value; ``None`` for no clipping.

    Raises:
        ValueError: if a value is out of range (the message names the field).

    Example:
        >>> TrainConfig.from_dict({"epochs": 5, "lr": 3e-4}).warmup_epochs  # capped at epochs
        5
    """

    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 10
    schedule: str = "cosine"
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    checkpoint_dir: str | None = None
    checkpoint_every: int = 1
    num_threads: int | None = None
    progress: bool = True
    max_grad_norm: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.checkpoint_dir, Path):
            object.__setattr__(self, "checkpoint_dir", str(self.checkpoint_dir))  # accept a Path
        super().__post_init__()  # field types
        # Warm-up never outlasts training: a short run (e.g. the smoke profile) with the default
        # warm-up would otherwise never reach its learning rate.
        if self.warmup_epochs > self.epochs:
            object.__setattr__(self, "warmup_epochs", self.epochs)
        checks = {
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 2,
            "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0,
            "warmup_epochs": self.warmup_epochs >= 0,
            "checkpoint_every": self.checkpoint_every >= 1,
            "num_threads": self.num_threads is None or self.num_threads >= 1,
            "max_grad_norm": self.max_grad_norm is None or self.max_grad_norm > 0,
        }
        for name, ok in checks.items():
            if not ok:
                rule = {"batch_size": ">= 2 (BatchNorm needs two samples)"}.get(name, "positive")
                raise ValueError(f"TrainConfig.{name} must be {rule}, got {getattr(self, name)!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"TrainConfig.schedule must be one of {list(SCHEDULES)}, got {self.schedule!r}"
            )
        if self.device != "auto":
            try:
                torch.device(self.device)
            except RuntimeError as err:
                raise ValueError(
                    f"TrainConfig.device must be 'auto' or a torch device such as 'cpu' or "
                    f"'cuda:0', got {self.device!r}"
                ) from err


@dataclass(frozen=True)
class TrainResult:
    """What :func:`pretrain` reports; the trained weights are in the method itself.

    Attributes:
        loss_history: mean training loss of every completed epoch, including resumed ones.
        term_histories: the same per-epoch means for each named loss term.
        epochs_run: epochs trained in this call (0 when a finished checkpoint was loaded).
        resumed_from_epoch: completed epochs read from a checkpoint, or ``None`` for a fresh run.
        wall_time_s: seconds spent in this call's loop (checkpoint writes included).
        samples_per_s: training samples (per view) processed per second in this call.
        device: the device used, e.g. ``"cpu"`` or ``"cuda:0"``.
        amp: whether mixed precision was on.
        peak_memory_mb: on CUDA, ``torch.cuda.max_memory_allocated`` during this call; on the CPU,
            the peak resident set size of the whole process so far (``resource.getrusage``), which
            includes everything loaded before; ``None`` where neither is available.
        checkpoint_path: the checkpoint file, or ``None`` without ``checkpoint_dir``.
        config: the resolved run description saved in the checkpoint (JSON-ready).
    """

    loss_history: tuple[float, ...]
    term_histories: dict[str, tuple[float, ...]]
    epochs_run: int
    resumed_from_epoch: int | None
    wall_time_s: float
    samples_per_s: float
    device: str
    amp: bool
    peak_memory_mb: float | None
    checkpoint_path: str | None
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists when dumped), for run records."""
        return dataclasses.asdict(self)


def pretrain(
    method: SSLMethod,
    X: np.ndarray,
    augment: Augment,
    config: TrainConfig | None = None,
    resume: bool = True,
    y: np.ndarray | None = None,
    on_epoch_end: Callable[[int, SSLMethod], None] | None = None,
) -> TrainResult:
    """Pre-train ``method`` in place on series ``X`` (unlabelled unless the method needs labels).

    Args:
        method: an :class:`~sslts.methods.SSLMethod`; it is moved to the device, trained in place
            and left in eval mode (ready for ``encode``).
        X: ``(n, C, L)`` finite float array (not modified), ``n >= 2``; it is copied to the device
            once (time-series classification sets are small).
        augment: ``augment(x, generator) -> x_aug`` on ``(B, C, L)`` tensors, e.g.
            :func:`sslts.augment.build_pipeline`; the generator lives on the training device.
        config: :class:`TrainConfig`; its defaults when ``None``.
        resume: continue from this run's checkpoint in ``config.checkpoint_dir`` if one exists
            (a finished one just loads the weights); ``False`` starts afresh and overwrites it.
        y: ``(n,)`` integer labels of ``X``, only for methods with ``needs_labels`` (test-time
            training's joint classifier, the text tower of CLIP-style alignment); each batch's
            labels reach :meth:`~sslts.methods.SSLMethod.make_views`. Pass training labels only.
        on_epoch_end: optional ``on_epoch_end(epochs_completed, method)`` after each epoch trained
            here (checkpoint saved), e.g. a part-way evaluation (bench_time_to_accuracy.py); the run
            stays bit-identical if it leaves weights, train/eval flags and the global RNG as they were.

    Returns:
        :class:`TrainResult` with per-epoch histories, timing, throughput and memory.

    Raises:
        TypeError: if ``method``, ``X``, ``augment``, ``config`` or ``y`` has the wrong type.
        ValueError: if ``X`` is not a finite ``(n, C, L)`` array with ``n >= 2``, ``y`` is missing
            for a method that needs labels (or given to one that does not, or of the wrong length),
            or a checkpoint at this run's path belongs to another run.
        TrainingDiverged: if the loss becomes NaN or infinite (the weights are those of the last
            finite step and the last checkpoint is kept).

    Example:
        >>> from sslts.augment import build_pipeline
        >>> from sslts.encoders import build_encoder
        >>> from sslts.methods import build_method
        >>> encoder = build_encoder("cnn", in_channels=1)
        >>> method = build_method("simclr", encoder, {"proj_hidden": 32})
        >>> X = np.random.default_rng(0).normal(size=(16, 1, 32)).astype(np.float32)
        >>> cfg = TrainConfig(epochs=2, batch_size=8, warmup_epochs=1, progress=False)
        >>> result = pretrain(method, X, build_pipeline("jitter"), cfg)
        >>> len(result.loss_history)
        2
    """
    config = TrainConfig() if config is None else config
    _check_inputs(method, X, augment, config)
    _check_labels(method, X, y)
    device = training_device(config.device)
    amp = config.amp and device.type == "cuda"
    with deterministic_algorithms(config.num_threads), forked_rng(device):
        torch.manual_seed(config.seed)  # global RNG (dropout); forked, so restored on exit
        batches = _Batches.on(device, X, y, config.batch_size)
        state = _initial_state(method, X, y, augment, config, device, batches, amp)
        loop = _Loop.build(method, augment, batches, state, config)
        path = None if config.checkpoint_dir is None else checkpoint_path(config.checkpoint_dir, state.run)
        if path is not None and resume:
            state.resume(path)
        first_epoch, clock = state.epoch, _Stopwatch(device)
        steps = batches.steps_per_epoch
        with tqdm(total=config.epochs * steps, initial=first_epoch * steps, disable=not config.progress,
                  desc=f"pretrain {method.name}", unit="step") as bar:
            for _ in range(first_epoch, config.epochs):
                state.end_epoch(*loop.epoch(state, bar))
                if path is not None and (state.epoch % config.checkpoint_every == 0 or state.epoch == config.epochs):
                    state.save(path)
                if on_epoch_end is not None:
                    on_epoch_end(state.epoch, method)
        wall = clock.stop()
    method.eval()
    return _result(state, config.epochs - first_epoch, batches, wall, amp, path)


# --- helpers, in the order pretrain uses them -------------------------------------------------


def _check_inputs(method: Any, X: Any, augment: Any, config: Any) -> None:
    if not isinstance(method, SSLMethod):
        raise TypeError(f"method must be an SSLMethod, got {type(method).__name__}")
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X must be a numpy array of shape (n, C, L), got {type(X).__name__}")
    if X.ndim != 3 or X.shape[0] < 2 or X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(f"X must have shape (n, C, L) with n >= 2, got {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        raise TypeError(f"X must be a floating-point array, got dtype {X.dtype}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values; clean them at the data boundary")
    if not callable(augment):
        raise TypeError(f"augment must be callable as augment(x, generator), got {augment!r}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")


def _check_labels(method: SSLMethod, X: np.ndarray, y: Any) -> None:
    needs = getattr(method, "needs_labels", False)
    if y is None:
        if needs:
            raise ValueError(
                f"{type(method).__name__} trains with labels: pass the training split's labels as "
                "pretrain(..., y=train_labels)"
            )
        return
    if not needs:
        raise ValueError(
            f"{type(method).__name__} is self-supervised and must not see labels; drop the y argument"
        )
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must be an integer numpy array, got {type(y).__name__}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")


@dataclass(frozen=True)
class _Batches:
    """The training set on the device, cut into shuffled batches of one size.

    When ``n > batch_size`` the last incomplete batch of each epoch is dropped (``drop_last``).
    """

    data: Tensor  # (n, C, L)
    labels: Tensor | None  # (n,)
    batch_size: int

    @classmethod
    def on(cls, device: torch.device, X: np.ndarray, y: np.ndarray | None, batch_size: int) -> _Batches:
        """``X`` (and ``y``) copied to ``device`` once; batches of ``min(batch_size, n)``."""
        data = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)  # (n, C, L)
        labels = None if y is None else torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)  # (n,)
        return cls(data, labels, min(batch_size, X.shape[0]))

    @property
    def steps_per_epoch(self) -> int:
        return self.data.shape[0] // self.batch_size  # drop_last: the incomplete final batch is skipped

    def shuffled(self, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor | None]]:
        """One epoch of ``(x (B, C, L), y (B,) or None)``, in an order drawn from ``generator``."""
        perm = torch.randperm(self.data.shape[0], generator=generator)  # (n,), on the CPU
        for i in range(self.steps_per_epoch):
            idx = perm[i * self.batch_size : (i + 1) * self.batch_size].to(self.data.device)
            yield self.data[idx], None if self.labels is None else self.labels[idx]


def _initial_state(method: SSLMethod, X: np.ndarray, y: np.ndarray | None, augment: Augment,
                   config: TrainConfig, device: torch.device, batches: _Batches, amp: bool) -> TrainingState:
    """The run's identity, the method on the device in train mode, its optimisers, fresh generators."""
    run = describe_run(method, X, augment, {**config.to_dict(), "device": str(device)}, y=y,
                       batch_size=batches.batch_size, steps_per_epoch=batches.steps_per_epoch,
                       not_identity=NOT_IDENTITY)
    method.to(device).train()
    optimizers = method.configure_optimizers(config.lr, config.weight_decay)
    return TrainingState.start(run, method, optimizers, device, config.seed, amp)


@dataclass(frozen=True)
class _Loop:
    """What stays fixed while the epochs run: the method, its data, how to step, the policies."""

    method: SSLMethod
    augment: Augment
    batches: _Batches
    ctx: StepContext
    schedule: Schedule
    guard: DivergenceGuard

    @classmethod
    def build(cls, method: SSLMethod, augment: Augment, batches: _Batches, state: TrainingState,
              config: TrainConfig) -> _Loop:
        steps = batches.steps_per_epoch
        ctx = StepContext(state.device.type, state.scaler.is_enabled(), state.scaler, config.max_grad_norm,
                          augment=augment, generator=state.augment_gen)
        schedule = Schedule(config.epochs * steps, config.warmup_epochs * steps, config.schedule)
        advice = f"Lower the learning rate (lr={config.lr:g}), set max_grad_norm, or check X for extreme values."
        return cls(method, augment, batches, ctx, schedule.attach(state.optimizers),
                   DivergenceGuard("training", config.epochs, steps, advice))

    def epoch(self, state: TrainingState, bar: tqdm) -> tuple[float, dict[str, float]]:
        """Train epoch ``state.epoch``; returns its mean loss and the mean of each term."""
        steps = self.batches.steps_per_epoch
        total, sums = 0.0, {}
        for i, (x, y) in enumerate(self.batches.shuffled(state.shuffle_gen)):
            self.schedule.apply(state.optimizers, state.epoch * steps + i)
            if y is None:
                views = self.method.make_views(x, self.augment, state.augment_gen)
            else:
                views = self.method.make_views(x, self.augment, state.augment_gen, y=y)
            loss, terms = self.method.step(views, state.optimizers, self.ctx)
            total += self.guard.check(loss.item(), state.epoch, i)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            bar.update(1)
            bar.set_postfix(epoch=state.epoch + 1, loss=f"{total / (i + 1):.4f}")
        return total / steps, {k: v / steps for k, v in sums.items()}


class _Stopwatch:
    """Seconds since construction, CUDA work included; on CUDA it also restarts the peak memory."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        self.start = time.perf_counter()

    def stop(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter() - self.start


def _result(state: TrainingState, epochs_run: int, batches: _Batches, wall: float, amp: bool,
            path: Path | None) -> TrainResult:
    samples = epochs_run * batches.steps_per_epoch * batches.batch_size
    return TrainResult(
        loss_history=tuple(state.loss_history),
        term_histories={k: tuple(v) for k, v in state.term_histories.items()},
        epochs_run=epochs_run,
        resumed_from_epoch=state.resumed_from,
        wall_time_s=wall,
        samples_per_s=samples / wall if wall > 0 else 0.0,
        device=str(state.device),
        amp=amp,
        peak_memory_mb=peak_memory_mb(state.device),
        checkpoint_path=None if path is None else str(path),
        config=state.run,
    )
