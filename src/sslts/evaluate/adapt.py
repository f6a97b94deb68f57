"""Test-time training: adapt the encoder on each test batch or series, then predict.

Sun et al. (2020), "Test-Time Training with Self-Supervision for Generalization under Distribution
Shifts", ICML; Gandelsman et al. (2022), "Test-Time Training with Masked Autoencoders", NeurIPS.
A model trained jointly on classification and a self-supervised task (:class:`sslts.methods.ttt.TTT`)
can still compute its self-supervised loss on an unlabelled test input. Test-time training takes
a few gradient steps on that loss, updating the **encoder only** (classifier and decoder frozen,
as in TTT-MAE), and then classifies the input with the updated encoder. Three predictions:

- ``"none"``: the trained model as it is;
- ``"batch"``: per test batch of ``batch_size`` series, ``steps`` steps on the batch's masked
  reconstruction loss (one random mask per series and step), then predict the batch;
- ``"series"``: per single series, the batch being ``n_masks`` random masks of that one series
  (TTT-MAE's recipe), then predict it.

Adaptation is **episodic**: every batch or series starts again from the trained weights (weights,
optimiser state and BatchNorm buffers are reset), so predictions do not depend on the order of
the test set and errors cannot accumulate; the caller's model is never modified.

BatchNorm: with ``bn = "frozen"`` (default) the whole model stays in eval mode while adapting, so
BatchNorm normalises with the training split's running statistics, dropout is off, and a batch of
masked copies of one series is as valid as any other batch. ``bn = "test_batch"`` instead
normalises with the statistics of the current adaptation batch (and of the predicted batch), the
"test-time BatchNorm" adaptation (Schneider et al. 2020); for a single series these are the
statistics of that series alone.

Shapes::

    X (n, C, L) --predict--> logits (n, n_classes)
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Mapping, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from ..methods.base import ConfigBase
from .embed import _module_device

__all__ = [
    "MODES",
    "AdaptConfig",
    "AdaptResult",
    "EpisodicAdapter",
    "evaluate_adaptation",
    "evaluate_under_shifts",
    "predict_logits",
    "ttt_predict",
]

MODES = ("none", "batch", "series")
OPTIMIZERS = ("sgd", "adam")
BN_MODES = ("frozen", "test_batch")


class Adaptable(Protocol):
    """What test-time training needs from a method (:class:`sslts.methods.ttt.TTT` provides it)."""

    encoder: nn.Module

    def classify(self, x: Tensor) -> Tensor: ...  # (B, C, L) -> (B, n_classes)

    def draw_mask(self, batch: int, generator: torch.Generator) -> Tensor: ...  # (B, 1, L) bool

    def reconstruction_loss(self, x: Tensor, mask: Tensor) -> Tensor: ...  # scalar


@dataclass(frozen=True)
class AdaptConfig(ConfigBase):
    """Settings of test-time training.

    Attributes:
        steps: gradient steps per batch or series (Sun et al.: 1 in the standard version;
            TTT-MAE: 20). 0 gives the unadapted prediction.
        lr: learning rate of the test-time optimiser.
        optimizer: ``"sgd"`` (with ``momentum``, as TTT-MAE) or ``"adam"``.
        momentum: SGD momentum (0.9 in TTT-MAE).
        batch_size: test series per batch in ``"batch"`` mode (and per forward pass elsewhere).
        n_masks: random masks of the one series that form the batch in ``"series"`` mode.
        bn: ``"frozen"`` (BatchNorm in eval mode, training statistics) or ``"test_batch"``
            (BatchNorm normalises with the statistics of the current batch).
        seed: seeds the masks; the same seed gives the same predictions.
        num_threads: CPU threads for the call (restored afterwards); ``None`` leaves torch's. The
            per-series steps are small, so one thread is often as fast as several and is not
            slowed down by other processes competing for the cores.

    Raises:
        ValueError: if a value is out of range or a choice unknown (the message names the field).
    """

    steps: int = 1
    lr: float = 1e-3
    optimizer: str = "sgd"
    momentum: float = 0.9
    batch_size: int = 64
    n_masks: int = 16
    bn: str = "frozen"
    seed: int = 0
    num_threads: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()  # field types
        checks = {
            "steps": self.steps >= 0,
            "lr": self.lr > 0,
            "momentum": 0.0 <= self.momentum < 1.0,
            "batch_size": self.batch_size >= 1,
            "n_masks": self.n_masks >= 1,
            "seed": self.seed >= 0,
            "num_threads": self.num_threads is None or self.num_threads >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"AdaptConfig.{name} is out of range, got {getattr(self, name)!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"AdaptConfig.optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.bn not in BN_MODES:
            raise ValueError(f"AdaptConfig.bn must be one of {list(BN_MODES)}, got {self.bn!r}")


@dataclass(frozen=True)
class AdaptResult:
    """Predictions of one mode and what they cost.

    Attributes:
        mode: ``"none"``, ``"batch"`` or ``"series"``.
        logits: ``(n, n_classes)`` float32 class scores.
        seconds: wall time of the whole prediction (adaptation included).
        losses: mean reconstruction loss at the first and at the last step (before its update),
            over the batches or series (``nan`` without steps).
    """

    mode: str
    logits: np.ndarray
    seconds: float
    losses: tuple[float, float] = (float("nan"), float("nan"))

    @property
    def predictions(self) -> np.ndarray:
        return self.logits.argmax(axis=1)


def _check_method(method: Any) -> None:
    missing = [a for a in ("encoder", "classify", "draw_mask", "reconstruction_loss") if not hasattr(method, a)]
    if not isinstance(method, nn.Module) or missing:
        raise TypeError(
            "test-time training needs an nn.Module with encoder, classify, draw_mask and "
            f"reconstruction_loss (a TTT method); {type(method).__name__} lacks {missing or 'nn.Module'}"
        )


def _as_batch(X: Any) -> np.ndarray:
    arr = np.asarray(X)
    if arr.ndim != 3 or arr.shape[0] == 0:
        raise ValueError(f"X must be a non-empty (n, C, L) array, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


class EpisodicAdapter:
    """A private copy of a method whose encoder is adapted per episode and reset after each.

    Args:
        method: a trained :class:`~sslts.methods.ttt.TTT` (never modified).
        config: :class:`AdaptConfig`.

    Raises:
        TypeError: if ``method`` cannot do test-time training.
    """

    def __init__(self, method: Adaptable, config: AdaptConfig) -> None:
        _check_method(method)
        self.config = config
        self.model = copy.deepcopy(method)
        self.model.requires_grad_(False)
        encoder = self.model.encoder
        encoder.requires_grad_(True)  # heads frozen: only the encoder adapts
        self.device = _module_device(self.model) or torch.device("cpu")
        self.model.eval()  # dropout off; BatchNorm on the training statistics ...
        if config.bn == "test_batch":
            for m in self.model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.train()  # ... unless asked to normalise with the current batch's statistics
        # Weights *and* BatchNorm buffers are restored, so "test_batch" running averages reset too.
        # Copying tensors in place is several times faster than load_state_dict per series.
        self._live = [*encoder.parameters(), *encoder.buffers()]
        self._trained = [t.detach().clone() for t in self._live]
        params = list(encoder.parameters())
        self._optimizer = (torch.optim.Adam(params, lr=config.lr) if config.optimizer == "adam"
                           else torch.optim.SGD(params, lr=config.lr, momentum=config.momentum))

    @torch.no_grad()
    def reset(self) -> None:
        """Back to the trained encoder and a fresh optimiser state (start of an episode)."""
        for live, trained in zip(self._live, self._trained):
            live.copy_(trained)
        self._optimizer.state.clear()  # momentum buffers / Adam moments and step counts

    def adapt(self, x: Tensor, generator: torch.Generator) -> tuple[float, float]:
        """Reset, then ``steps`` steps on the masked reconstruction loss of ``x`` ``(B, C, L)``.

        Returns:
            The loss at the first step and at the last step, before its update (``nan`` for 0
            steps; equal for 1 step).
        """
        self.reset()
        if self.config.steps == 0:
            return float("nan"), float("nan")
        losses = []
        for _ in range(self.config.steps):
            mask = self.model.draw_mask(x.shape[0], generator)  # (B, 1, L)
            loss = self.model.reconstruction_loss(x, mask)
            self._optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self._optimizer.step()
            losses.append(loss.item())
        # No extra forward pass to score the final encoder: it would add to the time measured.
        return losses[0], losses[-1]

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        """Logits ``(B, n_classes)`` of ``x`` with the current (adapted) encoder."""
        return self.model.classify(x)


def predict_logits(method: Adaptable, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Logits ``(n, n_classes)`` of the trained model without adaptation (eval mode, no gradients)."""
    return ttt_predict(method, X, AdaptConfig(steps=0, batch_size=batch_size), "none").logits


def _predict_all(adapter: EpisodicAdapter, tensor: Tensor, mode: str,
                 generator: torch.Generator) -> tuple[list[Tensor], list[float], list[float]]:
    """The logits of every batch or series of ``tensor`` ``(n, C, L)``, and the adaptation losses."""
    config = adapter.config
    outputs, firsts, lasts = [], [], []
    if mode == "series":
        for i in range(tensor.shape[0]):
            one = tensor[i : i + 1]  # (1, C, L)
            first, last = adapter.adapt(one.expand(config.n_masks, -1, -1), generator)  # n_masks copies
            firsts.append(first)
            lasts.append(last)
            outputs.append(adapter.predict(one))
        return outputs, firsts, lasts
    for start in range(0, tensor.shape[0], config.batch_size):
        xb = tensor[start : start + config.batch_size]  # (b, C, L)
        if mode == "batch":
            first, last = adapter.adapt(xb, generator)
            firsts.append(first)
            lasts.append(last)
        else:
            adapter.reset()
        outputs.append(adapter.predict(xb))
    return outputs, firsts, lasts


def ttt_predict(method: Adaptable, X: np.ndarray, config: AdaptConfig | None = None,
                mode: str = "batch") -> AdaptResult:
    """Predict ``X`` ``(n, C, L)`` with test-time training in ``mode`` (see the module docstring).

    Raises:
        TypeError: if ``method`` cannot do test-time training.
        ValueError: if ``mode`` is unknown or ``X`` is not a non-empty ``(n, C, L)`` array.
    """
    config = AdaptConfig() if config is None else config
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    if mode == "none":
        config = replace(config, bn="frozen")  # no adaptation of any kind, BatchNorm included
    data = _as_batch(X)
    # Test sets are often sorted by class, so consecutive series would make nearly single-class
    # batches, and batch TTT (or test-batch BatchNorm) would adapt on what the labels group
    # together. Batches are drawn from a seeded shuffle instead; the logits come back in X's order.
    order = np.random.default_rng(config.seed).permutation(len(data)) if mode == "batch" else np.arange(len(data))
    adapter = EpisodicAdapter(method, config)
    generator = torch.Generator(device=adapter.device).manual_seed(config.seed)
    tensor = torch.from_numpy(data[order]).to(adapter.device)  # (n, C, L)
    previous_threads = torch.get_num_threads()
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    try:
        started = time.perf_counter()
        outputs, firsts, lasts = _predict_all(adapter, tensor, mode, generator)
        seconds = time.perf_counter() - started
    finally:
        torch.set_num_threads(previous_threads)
    logits = np.empty((len(data), outputs[0].shape[1]), dtype=np.float32)
    logits[order] = torch.cat(outputs).float().cpu().numpy()
    losses = (float(np.mean(firsts)), float(np.mean(lasts))) if firsts and config.steps else (float("nan"),) * 2
    return AdaptResult(mode, logits, seconds, losses)


def evaluate_adaptation(method: Adaptable, X: np.ndarray, y: np.ndarray, config: AdaptConfig | None = None,
                        modes: Iterable[str] = MODES,
                        variants: Mapping[str, AdaptConfig] | None = None) -> list[dict[str, Any]]:
    """Accuracy of each mode on ``X, y`` and its extra time per series over ``"none"``.

    ``variants`` adds batch-mode predictions with other settings, one row each with the variant's
    name as ``mode`` (e.g. ``{"bn_only": AdaptConfig(steps=0, bn="test_batch")}``), timed against
    the same unadapted prediction.

    Returns:
        One dict per mode: ``mode``, ``accuracy``, ``seconds``, ``extra_ms_per_series`` (wall time
        per series beyond the unadapted prediction, in milliseconds) and the mean reconstruction
        loss at the first and the last adaptation step (``loss_first``, ``loss_last``).

    Raises:
        ValueError: if ``y`` does not hold one label per series, or as :func:`ttt_predict`.
    """
    labels = np.asarray(y)
    modes = tuple(modes)
    if labels.shape != (len(X),):
        raise ValueError(f"y must hold one label per series ({len(X)}), got shape {labels.shape}")
    results = {m: ttt_predict(method, X, config, m) for m in ("none", *[m for m in modes if m != "none"])}
    base = results["none"].seconds
    results = {m: r for m, r in results.items() if m in modes}
    results.update({name: ttt_predict(method, X, cfg, "batch") for name, cfg in (variants or {}).items()})
    return [{"mode": m, "accuracy": float((r.predictions == labels).mean()), "seconds": r.seconds,
             "extra_ms_per_series": 1000 * (r.seconds - base) / len(labels) if m != "none" else 0.0,
             "loss_first": r.losses[0], "loss_last": r.losses[1]}
            for m, r in results.items()]


def evaluate_under_shifts(
    method: Adaptable,
    X: np.ndarray,
    y: np.ndarray,
    shifts: Iterable[str],
    severities: Iterable[int],
    preprocess: Callable[[np.ndarray], np.ndarray] | None = None,
    config: AdaptConfig | None = None,
    modes: Iterable[str] = MODES,
    seed: int = 0,
    variants: Mapping[str, AdaptConfig] | None = None,
) -> list[dict[str, Any]]:
    """:func:`evaluate_adaptation` on the clean series and on every (shift, severity) of them.

    Each corruption of :mod:`sslts.shifts` is applied to the series as recorded (``X``, e.g. the
    raw sensor values), *then* ``preprocess`` (e.g. the training split's z-score) gives the model
    input, as a corrupted sensor would reach a deployed pipeline. Corruption draws come from a
    generator seeded with ``seed`` afresh for each shift, so every severity of a shift is the same
    corruption at another strength.

    Returns:
        Rows of :func:`evaluate_adaptation` with ``shift`` (``"none"`` for the clean series, at
        severity 0) and ``severity`` added.

    Raises:
        ValueError: on an unknown shift or a severity outside ``1..5``.
    """
    from ..shifts import MAX_SEVERITY, SHIFTS, corrupt

    shifts, severities = list(shifts), list(severities)
    unknown = [s for s in shifts if s not in SHIFTS]
    if unknown:
        raise ValueError(f"unknown shift(s) {unknown}; known shifts are {', '.join(SHIFTS)}")
    if any(isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= MAX_SEVERITY for s in severities):
        raise ValueError(f"severities must be ints in 1..{MAX_SEVERITY}, got {severities}")
    prep = preprocess or (lambda a: a)
    clean = _as_batch(X)
    rows = [{"shift": "none", "severity": 0, **row}
            for row in evaluate_adaptation(method, prep(clean), y, config, modes, variants)]
    for shift in shifts:
        for severity in severities:
            generator = torch.Generator().manual_seed(seed)
            shifted = corrupt(torch.from_numpy(clean), shift, severity, generator).numpy()
            rows += [{"shift": shift, "severity": severity, **row}
                     for row in evaluate_adaptation(method, prep(shifted), y, config, modes, variants)]
    return rows
