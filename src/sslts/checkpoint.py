"""Checkpoints of pre-training: a run's identity, and one state object that saves, loads and resumes.

A checkpoint holds everything a bit-exact resume needs: the method's weights, every optimiser's
and the gradient scaler's state, the random states of the shuffling, augmentation and global
generators, the completed epochs and the per-epoch histories, and the resolved run description.
It holds only tensors, dicts, lists and primitives, so it loads with ``weights_only=True``, and it
is written atomically (a temporary file, then one rename: an interrupted save leaves the previous
checkpoint intact).

A checkpoint belongs to one run: :func:`describe_run` hashes everything that changes the numbers
(the method and its config, the training settings, the augmentations, the data, the labels and
the initial weights) into a ``run_id``; the file is named after it, and a checkpoint of another
run is refused when loaded.

Example:
    >>> import tempfile
    >>> from sslts.augment import build_pipeline
    >>> from sslts.encoders import build_encoder
    >>> from sslts.methods import build_method
    >>> method = build_method("simclr", build_encoder("cnn", in_channels=1))
    >>> X = np.zeros((4, 1, 16), dtype=np.float32)
    >>> run = describe_run(method, X, build_pipeline("jitter"), {"epochs": 1}, batch_size=4,
    ...                    steps_per_epoch=1)
    >>> cpu = torch.device("cpu")
    >>> state = TrainingState.start(run, method, method.configure_optimizers(1e-3, 0.0), cpu, seed=0)
    >>> state.end_epoch(0.5, {"nt_xent": 0.5})
    >>> again = TrainingState.start(run, method, method.configure_optimizers(1e-3, 0.0), cpu, seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = state.save(checkpoint_path(folder, run))
    ...     print(again.resume(path), again.loss_history)
    1 [0.5]
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from sslts.atomic import atomic_write_bytes
from sslts.methods.base import Augment, SSLMethod

__all__ = ["CHECKPOINT_FORMAT", "TrainingState", "checkpoint_path", "describe_run"]

CHECKPOINT_FORMAT = 1


def _sha256_tensors(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key, t in tensors.items():
        digest.update(key.encode())
        digest.update(t.detach().cpu().contiguous().flatten().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _sha256_array(a: np.ndarray) -> str:
    return hashlib.sha256(a.tobytes()).hexdigest()


def describe_run(
    method: SSLMethod,
    X: np.ndarray,
    augment: Augment,
    train: dict[str, Any],
    *,
    batch_size: int,
    steps_per_epoch: int,
    y: np.ndarray | None = None,
    not_identity: Iterable[str] = (),
) -> dict[str, Any]:
    """The resolved, JSON-ready description of a run (saved in its checkpoints) and its ``run_id``.

    Args:
        method: an :class:`~sslts.methods.SSLMethod` (its name, config and initial weights).
        X: ``(n, C, L)`` training series. y: ``(n,)`` labels, for methods that train with them.
        augment: the pipeline, identified by its ``describe()`` when it has one
            (:class:`sslts.augment.Compose`), otherwise by its qualified name (use separate
            checkpoint folders for ad-hoc callables).
        train: the training settings as a dict, with the device resolved.
        batch_size, steps_per_epoch: the loop's resolved batching.
        not_identity: keys of ``train`` that do not change the numbers (the checkpoint folder, the
            progress bar): kept in the description, left out of the ``run_id``, so that turning
            the progress bar off does not prevent resuming.

    Returns:
        The description, with ``"run_id"``: 16 hex digits of a SHA-256 of the identity.
    """
    describe = getattr(augment, "describe", None)
    aug_desc = describe() if callable(describe) else getattr(augment, "__qualname__", type(augment).__qualname__)
    data = np.ascontiguousarray(X, dtype=np.float32)
    run: dict[str, Any] = {
        "method": method.name,
        "method_config": method.config.to_dict(),
        "train": dict(train),
        "augment": aug_desc,
        "data": {"shape": list(X.shape), "sha256": _sha256_array(data)},
        "labels_sha256": None if y is None else _sha256_array(np.asarray(y, np.int64)),
        "initial_weights_sha256": _sha256_tensors(method.state_dict()),
        "batch_size": batch_size,
        "steps_per_epoch": steps_per_epoch,
    }
    skip = set(not_identity)
    identity = {**run, "train": {k: v for k, v in run["train"].items() if k not in skip}}
    blob = json.dumps(identity, sort_keys=True, default=str).encode()
    run["run_id"] = hashlib.sha256(blob).hexdigest()[:16]
    return run


def checkpoint_path(folder: str | Path, run: dict[str, Any]) -> Path:
    """Where the checkpoint of ``run`` lives in ``folder``: ``<method>-<run_id>.pt``."""
    return Path(folder) / f"{run['method']}-{run['run_id']}.pt"


@dataclass
class TrainingState:
    """Everything that changes from step to step of pre-training, with the run it belongs to.

    The loop owns one; it records each finished epoch with :meth:`end_epoch`, and :meth:`save`,
    :meth:`load` and :meth:`resume` write and read it as one checkpoint.

    Attributes:
        run: the run's description, from :func:`describe_run` (with ``"run_id"``).
        method: the module being trained. optimizers: its optimisers, in the method's order.
        scaler: the loop's gradient scaler. device: the training device.
        shuffle_gen: CPU generator of the batch order. augment_gen: generator of the
            augmentations (and of any noise a method draws), on ``device``.
        epoch: completed epochs. loss_history, term_histories: per-epoch means so far.
        resumed_from: the epoch read from a checkpoint, or ``None`` for a fresh run.
    """

    run: dict[str, Any]
    method: nn.Module
    optimizers: list[torch.optim.Optimizer]
    scaler: torch.amp.GradScaler
    device: torch.device
    shuffle_gen: torch.Generator
    augment_gen: torch.Generator
    epoch: int = 0
    loss_history: list[float] = field(default_factory=list)
    term_histories: dict[str, list[float]] = field(default_factory=dict)
    resumed_from: int | None = None

    @classmethod
    def start(cls, run: dict[str, Any], method: nn.Module, optimizers: list[torch.optim.Optimizer],
              device: torch.device, seed: int, amp: bool = False) -> TrainingState:
        """A fresh state: its shuffling and augmentation generators seeded from ``seed``.

        The two seeds are drawn from ``numpy.random.SeedSequence(seed)``, so the batch order and
        the augmentations are independent streams; the global torch RNG is the caller's to seed.
        """
        shuffle_seed, augment_seed = np.random.SeedSequence(seed).generate_state(2)
        return cls(run, method, optimizers, torch.amp.GradScaler(device.type, enabled=amp), device,
                   shuffle_gen=torch.Generator().manual_seed(int(shuffle_seed)),  # on the CPU
                   augment_gen=torch.Generator(device=device).manual_seed(int(augment_seed)))

    def end_epoch(self, loss: float, terms: dict[str, float]) -> None:
        """Record a finished epoch's mean loss and mean terms."""
        self.loss_history.append(loss)
        for k, v in terms.items():
            self.term_histories.setdefault(k, []).append(v)
        self.epoch += 1

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint: only tensors, dicts, lists and primitives (``weights_only`` loads it)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "run_id": self.run["run_id"],
            "config": self.run,
            "epoch": self.epoch,
            "model": self.method.state_dict(),
            "optimizers": [opt.state_dict() for opt in self.optimizers],
            "scaler": self.scaler.state_dict(),
            "loss_history": list(self.loss_history),
            "term_histories": {k: list(v) for k, v in self.term_histories.items()},
            "rng": self._rng_states(),
        }

    def save(self, path: str | Path) -> Path:
        """Write the checkpoint to ``path`` atomically (temporary file, then one rename)."""
        buffer = io.BytesIO()
        torch.save(self.to_dict(), buffer)
        return atomic_write_bytes(path, buffer.getvalue())

    def load(self, path: str | Path) -> None:
        """Restore weights, optimisers, scaler, random states, epoch and histories from ``path``.

        Raises:
            ValueError: if the file is a checkpoint of another run (or of another format).
        """
        ckpt = torch.load(path, map_location=self.device, weights_only=True)
        if ckpt.get("format") != CHECKPOINT_FORMAT or ckpt.get("run_id") != self.run["run_id"]:
            raise ValueError(f"{path} is not a checkpoint of this run; delete or move it")
        self.method.load_state_dict(ckpt["model"])
        for opt, state in zip(self.optimizers, ckpt["optimizers"], strict=True):
            opt.load_state_dict(state)
        self.scaler.load_state_dict(ckpt["scaler"])
        self._set_rng_states(ckpt["rng"])
        self.loss_history, self.term_histories = ckpt["loss_history"], ckpt["term_histories"]
        self.epoch = self.resumed_from = ckpt["epoch"]

    def resume(self, path: str | Path) -> int | None:
        """:meth:`load` ``path`` if it exists; the completed epochs read, or ``None`` if there was none.

        Raises:
            ValueError: as :meth:`load`.
        """
        if not Path(path).exists():
            return None
        self.load(path)
        return self.epoch

    def _rng_states(self) -> dict[str, torch.Tensor]:
        states = {
            "shuffle": self.shuffle_gen.get_state(),
            "augment": self.augment_gen.get_state(),
            "torch": torch.get_rng_state(),
        }
        if self.device.type == "cuda":
            states["cuda"] = torch.cuda.get_rng_state(self.device)
        return states

    def _set_rng_states(self, states: dict[str, torch.Tensor]) -> None:
        # map_location moved the ByteTensors to the device; generator states must be on the CPU.
        self.shuffle_gen.set_state(states["shuffle"].cpu())
        self.augment_gen.set_state(states["augment"].cpu())
        torch.set_rng_state(states["torch"].cpu())
        if self.device.type == "cuda":
            torch.cuda.set_rng_state(states["cuda"].cpu(), self.device)
