"""The policies both training loops share: pre-training (:func:`sslts.train.pretrain`) and
fine-tuning (:func:`sslts.evaluate.finetune`).

One place decides, for both loops:

- where they run: :func:`resolve_device` (``"auto"`` or ``None``: CUDA when available, else CPU),
  and :func:`training_device`, which also tunes the CPU allocator for a training loop;
- how they stay reproducible: :func:`forked_rng` (the caller's global RNG is restored on exit) and
  :func:`deterministic_algorithms` (deterministic kernels and a thread count, for one block);
- how the learning rate moves: :func:`learning_rate` and :class:`Schedule` (linear warm-up, then
  cosine decay or a constant rate), set on every optimiser before every step;
- what happens when the loss diverges: :class:`DivergenceGuard` raises :class:`TrainingDiverged`
  naming the epoch and step, before a non-finite loss updates a weight.

How one optimiser step is taken (autocast, gradient scaling, clipping) is
:class:`sslts.methods.base.StepContext`, which a method's ``step`` hook receives from the loop.
"""

from __future__ import annotations

import contextlib
import math
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator

import torch

from sslts.allocator import tune_cpu_allocator

__all__ = [
    "SCHEDULES",
    "DivergenceGuard",
    "Schedule",
    "TrainingDiverged",
    "deterministic_algorithms",
    "forked_rng",
    "learning_rate",
    "peak_memory_mb",
    "resolve_device",
    "training_device",
]

SCHEDULES = ("cosine", "constant")


# --- where the loops run ----------------------------------------------------------------------


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The device to compute on: ``"auto"`` or ``None`` give CUDA when available, else the CPU.

    Any other value is parsed by :class:`torch.device`; a CUDA device without an index gets the
    current one, so that it compares equal to the device of the parameters moved there.

    Raises:
        RuntimeError: if ``device`` is a string torch cannot parse.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is None or device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return dev


def training_device(device: str | torch.device | None = "auto") -> torch.device:
    """:func:`resolve_device`, and on the CPU :func:`sslts.allocator.tune_cpu_allocator`.

    A training step frees and allocates the same large tensors every batch; the tuned allocator
    keeps them in the process (see :mod:`sslts.allocator`). Results do not change.
    """
    dev = resolve_device(device)
    if dev.type == "cpu":
        tune_cpu_allocator()
    return dev


def peak_memory_mb(device: torch.device) -> float | None:
    """Peak memory in MiB: on CUDA ``max_memory_allocated``; on the CPU the process's peak RSS.

    The CPU figure covers the whole process so far (everything loaded before the loop included);
    ``None`` where neither is available (Windows without CUDA).
    """
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB else


# --- how they stay reproducible ---------------------------------------------------------------


@contextlib.contextmanager
def forked_rng(device: torch.device) -> Iterator[None]:
    """Fork the global torch RNG (and ``device``'s CUDA RNG) for the block: a loop may seed it for
    dropout and initialisation, and the caller's random state is restored on exit."""
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        yield


@contextlib.contextmanager
def deterministic_algorithms(num_threads: int | None = None) -> Iterator[None]:
    """Deterministic kernels, no cuDNN autotuning and ``num_threads`` CPU threads, for the block.

    Each setting is restored on exit. ``warn_only``: an op without a deterministic kernel warns
    instead of stopping a long run. ``num_threads=None`` leaves torch's thread count.
    """
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.get_num_threads(),
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False  # autotuning picks kernels by timing: not reproducible
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]
        torch.set_num_threads(previous[3])


# --- how the learning rate moves --------------------------------------------------------------


def default_warmup(epochs: int) -> int:
    """The book's warm-up: a tenth of training, at least one epoch (the one rule every caller uses).

    >>> default_warmup(5), default_warmup(40), default_warmup(200)
    (1, 4, 20)
    """
    return max(1, epochs // 10)


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


@dataclass(frozen=True)
class Schedule:
    """:func:`learning_rate` applied to optimisers: each parameter group follows it from its own
    learning rate (its ``initial_lr``, the rate the optimiser was built with).

    Attributes:
        total_steps: optimisation steps of the whole run.
        warmup_steps: steps of linear warm-up (0 for none).
        kind: one of :data:`SCHEDULES`.

    Example:
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.2)
        >>> schedule = Schedule(total_steps=4, warmup_steps=2).attach([opt])
        >>> schedule.apply([opt], 0); opt.param_groups[0]["lr"]
        0.1
    """

    total_steps: int
    warmup_steps: int = 0
    kind: str = "cosine"

    def attach(self, optimizers: Iterable[torch.optim.Optimizer]) -> Schedule:
        """Record each group's own rate as ``initial_lr`` (kept if already there); returns self."""
        for group in (g for opt in optimizers for g in opt.param_groups):
            group.setdefault("initial_lr", group["lr"])
        return self

    def apply(self, optimizers: Iterable[torch.optim.Optimizer], step: int) -> None:
        """Set every group's rate for 0-based ``step`` (call before the step; after :meth:`attach`)."""
        factor = learning_rate(step, base_lr=1.0, total_steps=self.total_steps,
                               warmup_steps=self.warmup_steps, schedule=self.kind)
        for group in (g for opt in optimizers for g in opt.param_groups):
            group["lr"] = group["initial_lr"] * factor


# --- what happens when the loss diverges ------------------------------------------------------


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


class DivergenceGuard:
    """Watches every step's loss; raises :class:`TrainingDiverged` at the first non-finite one.

    Args:
        what: the loop's name for the message (``"training"``, ``"fine-tuning"``).
        epochs: epochs of the run. steps_per_epoch: optimisation steps per epoch.
        advice: what to try, appended to the message.

    Example:
        >>> guard = DivergenceGuard("training", epochs=2, steps_per_epoch=4, advice="Lower lr.")
        >>> guard.check(0.5, epoch=0, i=0)
        0.5
        >>> guard.check(float("nan"), epoch=1, i=0)
        Traceback (most recent call last):
        ...
        sslts.policies.TrainingDiverged: training diverged at epoch 2 of 2 (step 1 of 4 in the epoch, step 5 overall): the loss is nan; the last finite loss was 0.5 at step 1. Lower lr.
    """

    def __init__(self, what: str, epochs: int, steps_per_epoch: int, advice: str) -> None:
        self.what, self.epochs, self.steps_per_epoch, self.advice = what, epochs, steps_per_epoch, advice
        self.last_finite: tuple[int, float] | None = None  # (0-based global step, loss)

    def check(self, value: float, epoch: int, i: int) -> float:
        """``value``, the loss of step ``i`` of 0-based ``epoch``, if finite; else raise.

        Raises:
            TrainingDiverged: if ``value`` is NaN or infinite.
        """
        step = epoch * self.steps_per_epoch + i
        if not math.isfinite(value):
            last = (f"the last finite loss was {self.last_finite[1]:.6g} at step {self.last_finite[0] + 1}"
                    if self.last_finite is not None else "no finite loss was seen in this run")
            message = (f"{self.what} diverged at epoch {epoch + 1} of {self.epochs} (step {i + 1} of "
                       f"{self.steps_per_epoch} in the epoch, step {step + 1} overall): the loss is {value}; "
                       f"{last}. {self.advice}")
            last_loss = None if self.last_finite is None else self.last_finite[1]
            raise TrainingDiverged(message, epoch + 1, step + 1, last_loss)
        self.last_finite = (step, value)
        return value
