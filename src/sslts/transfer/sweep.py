"""The transfer sweep: every (target, source, method, seed) run still missing, resumably.

The plan (:func:`pending`) names the runs whose record does not exist yet, seed by seed within a
target (UWave first), so an interrupted sweep leaves every cell with the same seeds done;
:func:`sslts.engine.run_tasks` runs it here or as Ray tasks, and skips what a finished run wrote.

Cost (measured on the project's 2-core CPU with one thread, while another sweep used the other
core; VICReg, seed 0): HAR -> UWave took 146 s (pre-training 20,000 series passes at 315 steps,
89 s; evaluation, i.e. 3 probes and 300 fine-tuning steps at each of 4 label budgets, 55 s); UWave
pool -> HAR took 179 s (79 s and 97 s: HAR's 2,947 test windows and 7,352 training series make its
probes dearer). The 100 runs of :func:`configs` then take about 4.2 hours on one core
(:func:`estimate_seconds`), about half that with ``--engine ray`` on two free cores.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Iterator

from ..engine import run_tasks
from ..results import record_path
from .run import SCRATCH, TransferConfig, run_transfer
from ..methods import METHODS as REGISTRY
from .sources import NO_PRETRAINING, SOURCES, TARGETS

# SimCLR and VICReg are the report's methods; VICReg is also the comparison's best SSL method
# over its complete datasets (results/comparison, SVM protocol; TTT, which trains with labels, aside).
METHODS = ("simclr", "vicreg")
SEEDS = (0, 1, 2, 3, 4)
# Methods a source can pre-train: every registered one that trains without labels.
LABEL_FREE = tuple(name for name, cls in REGISTRY.items() if not cls.needs_labels)
OUT_DIR = "results/transfer"
# Measured seconds per run (one thread, see the module docstring): pre-training and evaluation.
SECONDS = {"uwave": {"pretrain": 90.0, "eval": 55.0}, "har": {"pretrain": 80.0, "eval": 100.0}}


def configs(targets: list[str] | None = None, sources: list[str] | None = None, methods: list[str] | None = None,
            seeds: list[int] | None = None) -> list[TransferConfig]:
    """Every run of the experiment (or of the selection), in the order a sweep makes them.

    Raises:
        ValueError: an unknown target, source or method, or a method that trains with labels.
    """
    for name, chosen, known in (("target", targets, TARGETS), ("source", sources, SOURCES),
                                ("method", methods, LABEL_FREE)):
        unknown = [n for n in chosen or () if n not in known]
        if unknown:
            raise ValueError(f"unknown {name} {unknown[0]!r}; known: {', '.join(known)}")
    out = []
    for target in targets or list(TARGETS):
        for seed in SEEDS if seeds is None else seeds:
            for source in TARGETS[target].sources:
                if sources is not None and source not in sources:
                    continue
                for method in [SCRATCH] if source == NO_PRETRAINING else (methods or METHODS):
                    out.append(TransferConfig(method=method, source=source, target=target, seed=seed))
    return out


def load(out_dir: str | Path, config: TransferConfig) -> dict[str, Any] | None:
    """The record of ``config`` in ``out_dir``, or None."""
    path = record_path(out_dir, config.to_dict())
    return json.loads(path.read_text()) if path.is_file() else None


def pending(planned: list[TransferConfig], out_dir: str | Path) -> list[TransferConfig]:
    """The planned runs that have no record yet."""
    return [c for c in planned if not record_path(out_dir, c.to_dict()).is_file()]


def run_one(task: TransferConfig, out_dir: str | Path) -> dict[str, Any]:
    """Make one run and write its record (in this process or a Ray worker)."""
    return run_transfer(task, out_dir, progress=False)


def describe(task: TransferConfig, record: dict[str, Any], seconds: float) -> str:
    """The line printed when a run finished."""
    top = [e for e in record["evaluations"] if e["budget"] == max(TARGETS[task.target].budgets)]
    scores = {e["protocol"]: round(e["accuracy"], 3) for e in top}
    return f"[transfer] {task.method} from {task.source} to {task.target}, seed {task.seed}: {scores} in {seconds:.0f} s"


def estimate_seconds(planned: list[TransferConfig]) -> float:
    """Single-thread seconds the runs would take, from :data:`SECONDS`."""
    return sum(SECONDS[c.target]["eval"] + (0.0 if c.source == NO_PRETRAINING else SECONDS[c.target]["pretrain"])
               for c in planned)


def run_transfer_sweep(targets: list[str] | None = None, sources: list[str] | None = None,
                       methods: list[str] | None = None, seeds: list[int] | None = None,
                       out_dir: str | Path = OUT_DIR, max_runs: int | None = None, progress: bool = True,
                       engine: str = "local", address: str | None = None) -> int:
    """Run what the transfer experiment still lacks; return the number of runs made.

    Records are written atomically when a run finishes and finished runs are skipped, so the
    sweep can be stopped and started again.
    """
    planned = configs(targets, sources, methods, seeds)
    return run_tasks(lambda: pending(planned, out_dir), functools.partial(run_one, out_dir=out_dir),
                     key=lambda task: record_path(out_dir, task.to_dict()), describe=describe, engine=engine,
                     address=address, max_runs=max_runs, progress=progress)
