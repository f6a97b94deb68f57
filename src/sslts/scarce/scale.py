"""Pre-training at scale on a named corpus, through the one training loop, with budget snapshots.

One run pre-trains a method on a corpus (:mod:`sslts.scarce.corpora`) for ``budget`` series passes
(epochs x corpus size) and saves the encoder's weights each time the passes reach one of
``snapshots``, so one run gives the whole budget curve. That is only fair to the short budgets if
the learning rate does not depend on the total budget, so the schedule is **constant** after a
one-epoch warm-up (a cosine decay would anneal the 2M-pass run at a point the 100k-pass snapshot
never reaches). Budgets are rounded up to whole epochs; the record keeps the passes each snapshot
actually had.

Checkpointed and resumable: the loop's own checkpoint resumes an interrupted run bit for bit, and a
snapshot already on disk is not written again.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_write_bytes, atomic_write_json
from ..augment import build_pipeline
from ..encoders import build_encoder
from ..experiment import DEFAULT_AUGMENTATIONS
from ..methods import METHODS, MethodContext, build_method
from ..provenance import environment
from ..train import TrainConfig, pretrain
from .corpora import CORPORA, OWN_PREFIX, load_corpus

# Encoders of the study: the book's CNN, a wider CNN and the dilated residual encoder (TS2Vec's).
ENCODERS: dict[str, tuple[str, dict[str, Any]]] = {
    "cnn": ("cnn", {}),
    "cnn-wide": ("cnn", {"channels": [64, 128, 256]}),
    "dilated": ("dilated", {"hidden_dim": 64, "out_dim": 320, "depth": 6}),
}


@dataclass(frozen=True)
class ScaleRun:
    """One pre-training run of the study (its identity is everything but ``threads``).

    Attributes:
        method: an SSL method that needs no labels (``vicreg``, ``simclr``, ``barlow_twins``, ...).
        corpus: a key of :data:`sslts.scarce.corpora.CORPORA`.
        encoder: a key of :data:`ENCODERS`.
        seed: seeds the initial weights, the shuffling and the augmentations.
        budget: series passes to train for (rounded up to whole epochs).
        snapshots: passes at which the encoder's weights are kept (each rounded up to a whole epoch).
    """

    method: str
    corpus: str
    encoder: str = "cnn"
    seed: int = 0
    budget: int = 500_000
    snapshots: tuple[int, ...] = (20_000, 100_000, 500_000)
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    augmentations: str = DEFAULT_AUGMENTATIONS
    threads: int = field(default=1, compare=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS or METHODS[self.method].needs_labels:
            raise ValueError(f"method must be an SSL method that needs no labels, one of "
                             f"{', '.join(m for m, c in METHODS.items() if not c.needs_labels)}; got {self.method!r}")
        if self.corpus not in CORPORA and not self.corpus.startswith(OWN_PREFIX):
            raise ValueError(f"unknown corpus {self.corpus!r}; known: {', '.join(CORPORA)}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {self.encoder!r}; known: {', '.join(ENCODERS)}")
        if self.budget < 1 or not self.snapshots or max(self.snapshots) > self.budget or min(self.snapshots) < 1:
            raise ValueError(f"snapshots must be positive and at most the budget ({self.budget}); got {self.snapshots}")

    def identity(self) -> dict[str, Any]:
        out = asdict(self)
        del out["threads"]
        out["snapshots"] = list(self.snapshots)
        return out

    @property
    def name(self) -> str:
        """A readable, unique folder name: ``<method>-<encoder>-<corpus>-s<seed>-<8 hex>``."""
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.method}-{self.encoder}-{self.corpus.replace(':', '-')}-s{self.seed}-{digest}"


def snapshot_epochs(run: ScaleRun, n_series: int) -> dict[int, int]:
    """``{epoch: requested passes}``: the first epoch at which each snapshot's passes are reached.

    >>> snapshot_epochs(ScaleRun("vicreg", "uwave-pool", budget=100, snapshots=(30, 100)), 40)
    {1: 30, 3: 100}
    """
    return {max(1, math.ceil(s / n_series)): s for s in sorted(run.snapshots)}


def snapshot_path(folder: str | Path, run: ScaleRun, passes: int) -> Path:
    return Path(folder) / run.name / f"passes-{passes}.pt"


def build(run: ScaleRun, input_shape: tuple[int, int]) -> torch.nn.Module:
    """The untrained method of ``run`` around its encoder (initial weights from ``run.seed``)."""
    torch.manual_seed(run.seed)
    kind, params = ENCODERS[run.encoder]
    encoder = build_encoder(kind, input_shape[0], **params)
    context = MethodContext(tuple(input_shape), lambda c: build_encoder(kind, c, **params))
    return build_method(run.method, encoder, {}, context)


def untrained_encoder(encoder: str, in_channels: int, seed: int) -> torch.nn.Module:
    """The study's encoder with the initial weights of seed ``seed`` (the untrained control)."""
    torch.manual_seed(seed)
    kind, params = ENCODERS[encoder]
    return build_encoder(kind, in_channels, **params).eval()


def load_snapshot(path: str | Path, encoder: str, in_channels: int) -> torch.nn.Module:
    """An encoder with the weights a snapshot saved (loaded with ``weights_only=True``)."""
    model = untrained_encoder(encoder, in_channels, 0)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


class _Pause(Exception):
    """Raised after the epoch at which a staged run stops for now (its checkpoint is already saved)."""


def run_pretraining(run: ScaleRun, out_dir: str | Path, records: str | Path | None = None,
                    progress: bool = True, until: int | None = None) -> dict[str, Any]:
    """Pre-train ``run`` (resuming), keep its snapshots under ``out_dir`` and return its record.

    With ``until`` (one of the run's snapshots), training stops for now once that snapshot is written
    and returns ``{"paused_at": until, ...}``; a later call resumes the same run from its checkpoint,
    so one long run serves an early budget first and is carried on later (the learning rate is
    constant, so where a run pauses changes nothing it computes). Otherwise the run goes to its budget
    and the record (written under ``records`` when given) names the corpus and its members' checksums,
    each snapshot's file, passes and the cumulative training time at which it was reached (a resumed
    run adds the time of earlier calls; an interrupted epoch's time is lost), and the loss per epoch.
    """
    corpus = load_corpus(run.corpus)
    n = len(corpus.X)
    epochs = max(1, math.ceil(run.budget / n))
    wanted = snapshot_epochs(run, n)
    if until is not None and until not in run.snapshots:
        raise ValueError(f"until must be one of the run's snapshots {run.snapshots}, got {until}")
    if until is not None and snapshot_path(out_dir, run, until).with_suffix(".json").exists():
        return {"paused_at": until, "run": run.name}  # that stage is done
    model = build(run, corpus.X.shape[1:])
    folder = Path(out_dir) / run.name
    config = TrainConfig(epochs=epochs, batch_size=run.batch_size, lr=run.lr, weight_decay=run.weight_decay,
                         warmup_epochs=1, schedule="constant", seed=run.seed, progress=progress,
                         checkpoint_dir=str(folder), num_threads=run.threads)
    clock = folder / "train_seconds.json"  # cumulative over calls, as of the last checkpoint
    before = json.loads(clock.read_text())["seconds"] if clock.exists() else 0.0
    # a checkpoint older than the clock (written before this file existed) hides earlier calls' time
    clock_complete = clock.exists() or not any(folder.glob("*.pt"))
    started, reached = time.perf_counter(), {}

    def keep(epoch: int, method: Any) -> None:
        elapsed = round(before + time.perf_counter() - started, 1)
        atomic_write_json(clock, {"epoch": epoch, "seconds": elapsed})
        if epoch in wanted:
            path = snapshot_path(out_dir, run, wanted[epoch])
            reached[wanted[epoch]] = {"epoch": epoch, "passes": epoch * n, "file": str(path), "wall_s": elapsed}
            if not path.exists():
                buffer = io.BytesIO()
                torch.save(method.encoder.state_dict(), buffer)
                atomic_write_bytes(path, buffer.getvalue())
                # the sidecar last: a reader that sees it finds the weights complete
                atomic_write_json(path.with_suffix(".json"), reached[wanted[epoch]])
        if until is not None and epoch >= math.ceil(until / n):
            raise _Pause

    try:
        result = pretrain(model, corpus.X, build_pipeline(run.augmentations, shape=corpus.X.shape[1:]), config,
                          on_epoch_end=keep)
    except _Pause:
        return {"paused_at": until, "run": run.name}
    for epoch, passes in wanted.items():  # snapshots a resumed run had already written
        path = snapshot_path(out_dir, run, passes)
        if passes not in reached and path.with_suffix(".json").exists():
            reached[passes] = json.loads(path.with_suffix(".json").read_text())
        if not path.exists():
            raise RuntimeError(f"snapshot at {passes} passes is missing ({path}): delete {folder} and run again")
    record = {"kind": "scale-pretrain", "config": run.identity(), "run": run.name, "corpus": corpus.describe(),
              "epochs": epochs, "snapshots": {str(k): v for k, v in sorted(reached.items())},
              "loss": [round(x, 5) for x in result.loss_history],
              "timing": {"pretrain_s": json.loads(clock.read_text())["seconds"] if clock.exists() else None,
                         "this_call_s": round(result.wall_time_s, 1), "resumed_from_epoch": result.resumed_from_epoch,
                         "clock_complete": clock_complete,
                         "samples_per_s": round(result.samples_per_s, 1) if result.epochs_run else None,
                         "threads": run.threads},
              "corpus_members": list(corpus.members), **environment("cpu" if not torch.cuda.is_available() else None)}
    if records is not None:
        from .records import write
        write(records, f"pretrain/{run.name}.json", record)
    return record
