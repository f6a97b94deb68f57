"""The one training loop: self-supervised pre-training of any :class:`~sslts.methods.SSLMethod`.

Read :func:`pretrain` top to bottom; it is the whole harness (no framework). Per step it draws a
batch, asks the method for its views, and calls the method's ``step`` hook, so methods with two
optimisers override a hook and the loop does not grow special cases. Around that it handles:

- device: CUDA when available, else CPU (``TrainConfig.device = "auto"``);
- mixed precision: float16 autocast with a gradient scaler, on CUDA only;
- reproducibility: one seed; separate ``torch.Generator`` s for shuffling and for augmentations;
  deterministic algorithms switched on, and the global RNG forked, only for the call's duration;
- schedule: linear warm-up then cosine decay, set per step (:func:`learning_rate`);
- a tqdm progress bar with the running loss; per-epoch histories of the loss and its terms;
- a NaN guard: a non-finite loss raises :class:`TrainingDiverged` naming the epoch and step;
- checkpoints: written atomically every epoch, loaded with ``weights_only=True``, and resumed when
  a checkpoint of the same run exists (same method config, train config, augmentations, data and
  initial weights).

Bit-for-bit reproducibility holds on the CPU for a fixed machine and thread count. On CUDA,
deterministic algorithms are requested with ``warn_only=True``; exact reruns additionally need the
environment variable ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` set before the process starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from tqdm import tqdm

from sslts.allocator import tune_cpu_allocator
from sslts.atomic import atomic_write_bytes
from sslts.methods.base import Augment, ConfigBase, SSLMethod, StepContext

__all__ = [
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "learning_rate",
    "pretrain",
    "resolve_device",
]

SCHEDULES = ("cosine", "constant")
CHECKPOINT_FORMAT = 1
# Fields that do not change the numbers a run produces; they stay out of the run's identity so
# that, e.g., turning the progress bar off does not prevent resuming.
_NOT_IDENTITY = ("checkpoint_dir", "checkpoint_every", "num_threads", "progress")



class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; raised instead of returning a silently broken model.

    Attributes:
        epoch: 1-based epoch in which the loss diverged.
        step: 1-based global optimisation step at which it diverged.
        last_finite_loss: the last finite loss seen in this call, or ``None``.
    """

    def __init__(self, message: str, epoch: int, step: int, last_finite_loss: float | None):
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.last_finite_loss = last_finite_loss


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


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` -> CUDA if available, else CPU; any other string is parsed by ``torch.device``."""
    if device == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def learning_rate(
    step: int, *, base_lr: float, total_steps: int, warmup_steps: int, schedule: str = "cosine"
) -> float:
    """Learning rate of 0-based optimisation ``step``: linear warm-up, then cosine (or constant).

    Formula, with ``W = warmup_steps`` and ``T = total_steps``::

        lr(s) = base_lr * (s + 1) / W                                   for s < W
        lr(s) = base_lr * 0.5 * (1 + cos(pi * (s - W) / (T - W)))       for s >= W  (cosine)

    So the first step already moves (``base_lr / W``), step ``W - 1`` uses ``base_lr``, and the
    cosine reaches 0 one step after the last (as in SGDR; Loshchilov & Hutter, ICLR 2017).

    Raises:
        ValueError: if ``step`` is outside ``[0, total_steps)``, ``warmup_steps`` outside
            ``[0, total_steps]``, or ``schedule`` unknown.

    Example:
        >>> learning_rate(0, base_lr=1.0, total_steps=10, warmup_steps=4)
        0.25
        >>> learning_rate(4, base_lr=1.0, total_steps=10, warmup_steps=4)
        1.0
    """
    if not 0 <= step < total_steps:
        raise ValueError(f"step must be in [0, {total_steps}), got {step}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"warmup_steps must be in [0, {total_steps}], got {warmup_steps}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return base_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # in [0, 1)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def pretrain(
    method: SSLMethod,
    X: np.ndarray,
    augment: Augment,
    config: TrainConfig | None = None,
    resume: bool = True,
    y: np.ndarray | None = None,
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
    device = resolve_device(config.device)
    if device.type == "cpu":
        tune_cpu_allocator()  # keeps each batch's freed blocks for the next; see sslts.allocator
    amp = config.amp and device.type == "cuda"
    n = X.shape[0]
    batch_size = min(config.batch_size, n)
    steps_per_epoch = n // batch_size  # drop_last: the incomplete final batch is skipped
    total_steps = config.epochs * steps_per_epoch
    warmup_steps = config.warmup_epochs * steps_per_epoch

    with _reproducible_scope(device, config.num_threads):
        torch.manual_seed(config.seed)  # global RNG (dropout); forked, so restored on exit
        shuffle_seed, augment_seed = np.random.SeedSequence(config.seed).generate_state(2)
        shuffle_gen = torch.Generator().manual_seed(int(shuffle_seed))  # on the CPU
        augment_gen = torch.Generator(device=device).manual_seed(int(augment_seed))

        run = _describe_run(method, X, augment, config, device, batch_size, steps_per_epoch, y)
        method.to(device).train()
        data = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)  # (n, C, L)
        labels = None if y is None else torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)  # (n,)
        optimizers = method.configure_optimizers(config.lr, config.weight_decay)
        for group in (g for opt in optimizers for g in opt.param_groups):
            group.setdefault("initial_lr", group["lr"])  # the schedule scales each group's own lr
        scaler = torch.amp.GradScaler(device.type, enabled=amp)
        ctx = StepContext(device.type, amp, scaler, config.max_grad_norm)

        ckpt_path = None
        if config.checkpoint_dir is not None:
            ckpt_path = Path(config.checkpoint_dir) / f"{method.name}-{run['run_id']}.pt"
        loss_history: list[float] = []
        term_histories: dict[str, list[float]] = {}
        start_epoch = 0
        resumed_from = None
        if ckpt_path is not None and resume and ckpt_path.exists():
            ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
            if ckpt.get("format") != CHECKPOINT_FORMAT or ckpt.get("run_id") != run["run_id"]:
                raise ValueError(f"{ckpt_path} is not a checkpoint of this run; delete or move it")
            method.load_state_dict(ckpt["model"])
            for opt, state in zip(optimizers, ckpt["optimizers"], strict=True):
                opt.load_state_dict(state)
            scaler.load_state_dict(ckpt["scaler"])
            _set_rng_states(ckpt["rng"], shuffle_gen, augment_gen, device)
            loss_history, term_histories = ckpt["loss_history"], ckpt["term_histories"]
            start_epoch = resumed_from = ckpt["epoch"]

        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        last_finite: tuple[int, float] | None = None  # (global step, loss)
        start_time = time.perf_counter()
        bar = tqdm(
            total=total_steps, initial=start_epoch * steps_per_epoch, disable=not config.progress,
            desc=f"pretrain {method.name}", unit="step",
        )  # fmt: skip
        with bar:
            for epoch in range(start_epoch, config.epochs):
                perm = torch.randperm(n, generator=shuffle_gen)  # (n,), on the CPU
                epoch_loss = 0.0
                epoch_terms: dict[str, float] = {}
                for i in range(steps_per_epoch):
                    step = epoch * steps_per_epoch + i
                    factor = learning_rate(
                        step, base_lr=1.0, total_steps=total_steps,
                        warmup_steps=warmup_steps, schedule=config.schedule,
                    )  # fmt: skip
                    for group in (g for opt in optimizers for g in opt.param_groups):
                        group["lr"] = group["initial_lr"] * factor

                    idx = perm[i * batch_size : (i + 1) * batch_size].to(device)
                    x = data[idx]  # (B, C, L)
                    if labels is None:
                        views = method.make_views(x, augment, augment_gen)
                    else:
                        views = method.make_views(x, augment, augment_gen, y=labels[idx])
                    loss, terms = method.step(views, optimizers, ctx)

                    value = loss.item()
                    if not math.isfinite(value):
                        raise _diverged(value, epoch, i, step, steps_per_epoch, last_finite, config)
                    last_finite = (step, value)
                    epoch_loss += value
                    for k, v in terms.items():
                        epoch_terms[k] = epoch_terms.get(k, 0.0) + float(v)
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{epoch_loss / (i + 1):.4f}")

                loss_history.append(epoch_loss / steps_per_epoch)
                for k, v in epoch_terms.items():
                    term_histories.setdefault(k, []).append(v / steps_per_epoch)
                done = epoch + 1
                if ckpt_path is not None and (
                    done % config.checkpoint_every == 0 or done == config.epochs
                ):
                    _save_checkpoint(
                        ckpt_path, run, done, method, optimizers, scaler,
                        loss_history, term_histories, shuffle_gen, augment_gen, device,
                    )  # fmt: skip

        if device.type == "cuda":
            torch.cuda.synchronize(device)
        wall = time.perf_counter() - start_time
        epochs_run = config.epochs - start_epoch
        samples = epochs_run * steps_per_epoch * batch_size

    method.eval()
    return TrainResult(
        loss_history=tuple(loss_history),
        term_histories={k: tuple(v) for k, v in term_histories.items()},
        epochs_run=epochs_run,
        resumed_from_epoch=resumed_from,
        wall_time_s=wall,
        samples_per_s=samples / wall if wall > 0 else 0.0,
        device=str(device),
        amp=amp,
        peak_memory_mb=_peak_memory_mb(device),
        checkpoint_path=None if ckpt_path is None else str(ckpt_path),
        config=run,
    )


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


@contextlib.contextmanager
def _reproducible_scope(device: torch.device, num_threads: int | None) -> Iterator[None]:
    """Deterministic algorithms, a forked global RNG and a thread count, for this block only."""
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.get_num_threads(),
    )
    # warn_only: an op without a deterministic kernel warns instead of stopping a long run.
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False  # autotuning picks kernels by timing: not reproducible
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=cuda_devices):
            yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]
        torch.set_num_threads(previous[3])


def _sha256_tensors(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key, t in tensors.items():
        digest.update(key.encode())
        digest.update(t.detach().cpu().contiguous().flatten().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _describe_run(
    method: SSLMethod,
    X: np.ndarray,
    augment: Augment,
    config: TrainConfig,
    device: torch.device,
    batch_size: int,
    steps_per_epoch: int,
    y: np.ndarray | None = None,
) -> dict[str, Any]:
    """The resolved run description (saved in checkpoints) and its ``run_id``.

    The id hashes everything that changes the numbers: the method and its config, the training
    config (device resolved), the augmentation pipeline, the data and the initial weights. A
    pipeline is identified by its ``describe()`` when it has one (:class:`sslts.augment.Compose`),
    otherwise by its qualified name; use separate checkpoint folders for ad-hoc callables.
    """
    train = config.to_dict()
    train["device"] = str(device)
    describe = getattr(augment, "describe", None)
    if callable(describe):
        aug_desc: Any = describe()
    else:
        aug_desc = getattr(augment, "__qualname__", type(augment).__qualname__)
    data = np.ascontiguousarray(X, dtype=np.float32)
    run: dict[str, Any] = {
        "method": method.name,
        "method_config": method.config.to_dict(),
        "train": train,
        "augment": aug_desc,
        "data": {"shape": list(X.shape), "sha256": hashlib.sha256(data.tobytes()).hexdigest()},
        "labels_sha256": None if y is None else hashlib.sha256(np.asarray(y, np.int64).tobytes()).hexdigest(),
        "initial_weights_sha256": _sha256_tensors(method.state_dict()),
        "batch_size": batch_size,
        "steps_per_epoch": steps_per_epoch,
    }
    identity = dict(run)
    identity["train"] = {k: v for k, v in train.items() if k not in _NOT_IDENTITY}
    blob = json.dumps(identity, sort_keys=True, default=str).encode()
    run["run_id"] = hashlib.sha256(blob).hexdigest()[:16]
    return run


def _rng_states(
    shuffle_gen: torch.Generator, augment_gen: torch.Generator, device: torch.device
) -> dict[str, torch.Tensor]:
    states = {
        "shuffle": shuffle_gen.get_state(),
        "augment": augment_gen.get_state(),
        "torch": torch.get_rng_state(),
    }
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def _set_rng_states(
    states: dict[str, torch.Tensor],
    shuffle_gen: torch.Generator,
    augment_gen: torch.Generator,
    device: torch.device,
) -> None:
    # map_location moved the ByteTensors to the device; generator states must be on the CPU.
    shuffle_gen.set_state(states["shuffle"].cpu())
    augment_gen.set_state(states["augment"].cpu())
    torch.set_rng_state(states["torch"].cpu())
    if device.type == "cuda":
        torch.cuda.set_rng_state(states["cuda"].cpu(), device)


def _diverged(
    value: float,
    epoch: int,
    i: int,
    step: int,
    steps_per_epoch: int,
    last_finite: tuple[int, float] | None,
    config: TrainConfig,
) -> TrainingDiverged:
    last = (
        f"the last finite loss was {last_finite[1]:.6g} at step {last_finite[0] + 1}"
        if last_finite is not None
        else "no finite loss was seen in this run"
    )
    message = (
        f"training diverged at epoch {epoch + 1} of {config.epochs} (step {i + 1} of "
        f"{steps_per_epoch} in the epoch, step {step + 1} overall): the loss is {value}; {last}. "
        f"Lower the learning rate (lr={config.lr:g}), set max_grad_norm, or check X for extreme "
        "values."
    )
    return TrainingDiverged(
        message, epoch + 1, step + 1, None if last_finite is None else last_finite[1]
    )


def _save_checkpoint(
    path: Path,
    run: dict[str, Any],
    epoch: int,
    method: SSLMethod,
    optimizers: list[torch.optim.Optimizer],
    scaler: torch.amp.GradScaler,
    loss_history: list[float],
    term_histories: dict[str, list[float]],
    shuffle_gen: torch.Generator,
    augment_gen: torch.Generator,
    device: torch.device,
) -> None:
    """Write everything a bit-exact resume needs; only tensors, dicts, lists and primitives, so
    ``torch.load(..., weights_only=True)`` can read it. Atomic: temp file, then one rename."""
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "run_id": run["run_id"],
        "config": run,
        "epoch": epoch,
        "model": method.state_dict(),
        "optimizers": [opt.state_dict() for opt in optimizers],
        "scaler": scaler.state_dict(),
        "loss_history": list(loss_history),
        "term_histories": {k: list(v) for k, v in term_histories.items()},
        "rng": _rng_states(shuffle_gen, augment_gen, device),
    }
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _peak_memory_mb(device: torch.device) -> float | None:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB else
