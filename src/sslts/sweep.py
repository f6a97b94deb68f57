"""The paper-grade sweep: every method x dataset x seed in the ``full`` profile, resumable.

Each run writes one record under ``results/full``; runs whose record already exists are skipped,
so a sweep that takes hours on a CPU can be continued across sessions a few runs at a time
(``--max-runs``). A run stopped part-way resumes from its last epoch's checkpoint (kept under
``checkpoint_dir``, which git ignores), so an interrupted 20-minute pre-training loses one epoch,
not the run. The records are meant to be committed: the method chapters show them, with the
commit, hardware and wall time that produced them.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any, Iterator

from .wiring import METHOD_CHAPTER, experiment_config
from .experiment import ExperimentConfig, run_experiment
from .params import resolve
from .engine import run_tasks
from .results import record_path

FULL_METHODS = ("simclr", "vicreg", "barlow_twins", "vibcreg", "random_init")


def sweep_configs(methods: list[str], datasets: list[str], seeds: list[int], profile: str = "full",
                  overrides: dict[str, Any] | None = None) -> Iterator[ExperimentConfig]:
    """The experiment configs of a sweep, in dataset, seed, method order."""
    for dataset in datasets:
        for seed in seeds:
            for method in methods:
                chapter = METHOD_CHAPTER.get(method, "simclr")  # random_init: the shared settings
                P = resolve(chapter, profile, **(overrides or {}))
                P["dataset"] = [dataset]
                yield experiment_config(method, dataset, seed, P)


def run_sweep(methods: list[str], datasets: list[str], seeds: list[int], out_dir: str | Path,
              profile: str = "full", overrides: dict[str, Any] | None = None, max_runs: int | None = None,
              progress: bool = True, checkpoint_dir: str | Path | None = None, engine: str = "local",
              address: str | None = None) -> list[Path]:
    """Run the missing experiments of a sweep (at most ``max_runs``); return the records written.

    ``checkpoint_dir`` (``None``: no checkpoints) keeps each run's pre-training checkpoints, so that
    a run started again resumes where it stopped; see :func:`sslts.experiment.run_experiment`.
    ``engine="ray"`` runs each experiment as a Ray task (:mod:`sslts.engine`), on this machine's
    cores or on the cluster at ``address``, with the same records and resume rules.
    """
    written = []
    configs = list(sweep_configs(methods, datasets, seeds, profile, overrides))
    todo = [c for c in configs if not record_path(out_dir, c.to_dict()).is_file()]
    if engine != "local":
        def missing() -> list[ExperimentConfig]:
            return [c for c in configs if not record_path(out_dir, c.to_dict()).is_file()]

        run_tasks(missing, functools.partial(_run_one, out_dir=out_dir, checkpoint_dir=checkpoint_dir),
                  key=lambda c: record_path(out_dir, c.to_dict()), describe=_describe, engine=engine,
                  address=address, max_runs=max_runs, progress=progress)
        return [record_path(out_dir, c.to_dict()) for c in todo if record_path(out_dir, c.to_dict()).is_file()]
    print(f"[sweep] {len(configs)} runs, {len(configs) - len(todo)} already recorded, {len(todo)} to do", flush=True)
    for config in todo[: max_runs if max_runs is not None else len(todo)]:
        started = time.perf_counter()
        print(f"[sweep] {config.method} on {config.dataset}, seed {config.seed} ...", flush=True)
        result = run_experiment(config, out_dir, progress=progress, checkpoint_dir=checkpoint_dir)
        written.append(record_path(out_dir, config.to_dict()))
        accuracy = {e["protocol"]: round(e["accuracy"], 4) for e in result.record["evaluations"] if e["label_fraction"] == 1.0}
        resumed = result.record["timing"].get("resumed_from_epoch")
        note = "" if resumed is None else f" (resumed after epoch {resumed})"
        print(f"[sweep]   done in {time.perf_counter() - started:.0f} s{note}: {accuracy}", flush=True)
    return written


def _run_one(config: ExperimentConfig, out_dir: str | Path, checkpoint_dir: str | Path | None) -> dict[str, Any]:
    return run_experiment(config, out_dir, progress=False, checkpoint_dir=checkpoint_dir).record


def _describe(config: ExperimentConfig, record: dict[str, Any], seconds: float) -> str:
    accuracy = {e["protocol"]: round(e["accuracy"], 4) for e in record["evaluations"] if e["label_fraction"] == 1.0}
    return f"[sweep] {config.method} on {config.dataset}, seed {config.seed}: {accuracy} in {seconds:.0f} s"
