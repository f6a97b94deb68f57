"""Network dissection over seeds: one record per (dataset, encoder, seed), made resumably.

The dissection chapter dissects one seed's encoders in its own build (and shows their units on real
series); this sweep makes the records behind its seed-averaged table. Each run trains one encoder as
:func:`sslts.chapters.dissection.trained_encoder` does (the method's full-profile settings, a
CPU-sized pre-training budget), dissects the last two convolution blocks on the *training* series
(:mod:`sslts.evaluate.dissection`; Bau et al. compare layers too: do concepts change with depth?)
and writes every unit's best concept and IoU, with the detector counts per concept type, to ``results/dissection/dissect/<dataset>/`` (atomically; a finished run is
skipped, so a stopped sweep resumes). No test series is used.

Budget (:data:`SETTINGS`): 20,000 series passes of pre-training (the transfer experiment's budget),
30 epochs for the supervised CNN, and at most 1,000 training series (stratified; UWave has 120, so
only HAR is capped, which also bounds the short-time spectra the band concepts need).
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .augment import build_pipeline
from .engine import run_tasks
from .evaluate import finetune
from .evaluate.dissection import DETECTOR_IOU, TOP_QUANTILE, block_maps, concept_masks, detector_counts, dissect
from .experiment import auto_epochs, build_model, load_splits
from .params import resolve
from .provenance import data_checksums, environment
from .results import record_path, write_record
from .train import TrainConfig, default_warmup, pretrain
from .wiring import METHOD_CHAPTER, experiment_config

SUPERVISED = "supervised"


def trained_encoder(method: str, dataset: str, P: dict[str, Any]) -> tuple[torch.nn.Module, np.ndarray, Any]:
    """The CNN encoder ``method`` trains on ``dataset`` with the chapter parameters ``P``, the
    z-scored training series it saw, and their dataset (labels, class names, provenance)."""
    base = "random_init" if method == SUPERVISED else method
    chapter = METHOD_CHAPTER.get(base, "simclr")
    Q = {**resolve(chapter, P["profile"], encoder="cnn"), "dataset": [dataset], "max_train": P["max_train"],
         "pretrain_budget": P["pretrain_budget"], "extra_pool": False}
    config = replace(experiment_config(base, dataset, P["seed"], Q), finetune_epochs=0)
    train, _, scaler = load_splits(config)
    X = scaler.transform(train.X).astype(np.float32)
    model = build_model(config, X.shape[1:], train.n_classes)
    if method == SUPERVISED:
        tuned = finetune(model, X, train.y, X, train.y, epochs=P["supervised_epochs"], seed=P["seed"], progress=False)
        encoder = tuned.model[0]
    elif method == "random_init":
        encoder = model
    else:
        epochs = config.epochs or auto_epochs(len(X), config.pretrain_budget)
        pretrain(model, X, build_pipeline(config.augmentations, shape=X.shape[1:]),
                 TrainConfig(epochs=epochs, batch_size=config.batch_size, lr=config.lr, seed=P["seed"],
                             warmup_epochs=default_warmup(epochs), progress=False),
                 y=train.y if model.needs_labels else None)
        encoder = model.encoder if method != "clip" else model
    return encoder, X, train


__all__ = ["BLOCKS", "DATASETS", "ENCODERS", "OUT_DIR", "SEEDS", "SETTINGS", "DissectionTask", "run_dissection_sweep", "tasks"]

DATASETS = ("uwave", "har")
# The report's two methods, the untrained encoder and the supervised CNN (the chapter's defaults).
ENCODERS = ("random_init", SUPERVISED, "simclr", "vicreg")
SEEDS = (0, 1, 2, 3, 4)
SETTINGS = {"pretrain_budget": 20_000, "supervised_epochs": 30, "max_train": 1_000,
            "quantile": TOP_QUANTILE, "iou_threshold": DETECTOR_IOU}
BLOCKS = (2, 3)  # the CNN's last two convolution blocks (64 and 128 units)
OUT_DIR = "results/dissection"
RECORD_KIND = "dissection"


@dataclass(frozen=True)
class DissectionTask:
    """One run: an encoder (``method``) trained on ``dataset`` with ``seed``, then dissected."""

    method: str
    dataset: str
    seed: int
    pretrain_budget: int = SETTINGS["pretrain_budget"]
    supervised_epochs: int = SETTINGS["supervised_epochs"]
    max_train: int = SETTINGS["max_train"]
    quantile: float = SETTINGS["quantile"]
    iou_threshold: float = SETTINGS["iou_threshold"]
    blocks: tuple[int, ...] = BLOCKS

    def record_config(self) -> dict[str, Any]:
        """The record's ``config`` (its path follows from it): the method settings are the full profile's."""
        return {**asdict(self), "blocks": list(self.blocks), "encoder": "cnn", "profile": "dissect",
                "method_profile": "full"}

    def path(self, out_dir: str | Path) -> Path:
        return record_path(out_dir, self.record_config())


def tasks(datasets: list[str] | None = None, methods: list[str] | None = None,
          seeds: list[int] | None = None) -> list[DissectionTask]:
    """Every run, dataset by dataset and seed by seed (so an early stop leaves whole seeds).

    Raises:
        ValueError: an unknown encoder name.
    """
    from .params.chapters import CHAPTERS

    known = CHAPTERS["dissection"]["methods"].choices
    unknown = [m for m in methods or () if m not in known]
    if unknown:
        raise ValueError(f"unknown encoder {unknown[0]!r}; known: {', '.join(known)}")
    return [DissectionTask(method, dataset, seed) for dataset in datasets or DATASETS
            for seed in (SEEDS if seeds is None else seeds) for method in methods or ENCODERS]


def run_one(task: DissectionTask, out_dir: str | Path) -> dict[str, Any]:
    """Train, dissect and write the record of ``task``; return the record."""
    started, started_at = time.perf_counter(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    P = {"profile": "full", "seed": task.seed, "max_train": task.max_train, "pretrain_budget": task.pretrain_budget,
         "supervised_epochs": task.supervised_epochs}
    encoder, X, train = trained_encoder(task.method, task.dataset, P)
    trained_s = time.perf_counter() - started
    layers = []
    for block in task.blocks:
        maps = block_maps(encoder, X, block)                             # (N, U, L')
        concepts = concept_masks(X, train.y, maps.shape[-1], list(train.class_names))
        rows = dissect(maps, concepts, task.quantile, task.iou_threshold)
        layers.append({"block": block, "units": rows, "counts": detector_counts(rows),
                       "feature_steps": int(maps.shape[-1]), "concepts": len(concepts)})
    record = {
        "kind": RECORD_KIND,
        "config": task.record_config(),
        "layers": layers,
        "data": {"train_shape": list(X.shape), "sha256": data_checksums(train)},
        "timing": {"train_s": round(trained_s, 2), "dissect_s": round(time.perf_counter() - started - trained_s, 2)},
        "started_at": started_at,
        **environment(),
    }
    write_record(out_dir, record)
    return record


def describe(task: DissectionTask, record: dict[str, Any], seconds: float) -> str:
    last = record["layers"][-1]
    counts = {k: v for k, v in sorted(last["counts"].items()) if k != "none"}
    return (f"[dissection] {task.method} on {task.dataset}, seed {task.seed}: block {last['block']} detectors "
            f"{counts} ({seconds:.0f} s)")


def run_dissection_sweep(planned: list[DissectionTask], out_dir: str | Path = OUT_DIR, max_runs: int | None = None,
                         progress: bool = True, engine: str = "local", address: str | None = None) -> int:
    """Make the planned runs that have no record yet; return how many ran."""
    return run_tasks(lambda: [t for t in planned if not t.path(out_dir).is_file()],
                     functools.partial(run_one, out_dir=out_dir), key=lambda t: t.path(out_dir),
                     describe=describe, engine=engine, address=address, max_runs=max_runs, progress=progress)
