"""The comparison: every SSL method on equal terms, next to the baselines, over a dataset suite.

Equal terms means one procedure, the same for every method (and for the untrained encoder):

- the same encoder (the TS-TCC CNN, trained with its global average pool), the same pre-training
  budget in series passes (:data:`BUDGET`), batch size, learning rate, schedule and augmentations;
  every method keeps its own paper defaults otherwise;
- the same read-out choices: each frozen encoder's feature map is offered six read-outs
  (:data:`~sslts.evaluate.readouts.COMPARISON_READOUTS`: global mean or max, or the mean or max
  over 4 or 8 stretches of time), and the training split chooses one (stratified CV of the SVM
  protocol on training series); these choices need no re-training;
- the same small grid for each method's own key hyper-parameter (:data:`GRIDS`, two values: the
  paper's and one other), which does need re-training: each value is pre-trained with seed 0 and
  the value whose chosen read-out has the best training-split score is kept; seeds 1-4 then run
  at that value only. The seed-0 run of the kept value is the seed-0 row.

No step looks at the test split. The test split is scored in every record, but the choice reads
only the ``readout.scores`` the training split produced. The baselines
(:mod:`sslts.baselines`) run on the same splits and seeds.
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

from .baselines import BASELINE_METHODS, DETERMINISTIC, BaselineConfig, run_baseline
from .wiring import METHOD_CHAPTER, experiment_config
from .data import load_dataset
from .engine import run_tasks
from .evaluate.readouts import COMPARISON_READOUTS, first_best
from .experiment import ExperimentConfig, run_experiment
from .methods import METHODS as SSL_REGISTRY
from .params import ParameterError, resolve
from .results import record_path

PROFILE = "compare"
# UWave and HAR, then every equal-length UEA problem in the data mirror.
SUITE = ("uwave", "har", "ArticularyWordRecognition", "AtrialFibrillation", "BasicMotions", "ERing",
         "FingerMovements", "Libras", "LSST", "NATOPS", "PenDigits", "StandWalkJump")
# The order a sweep runs them: cheapest first (StandWalkJump: 12 series, but 2,500 steps each), so
# that an interrupted sweep has covered most datasets.
RUN_ORDER = ("AtrialFibrillation", "ERing", "BasicMotions", "Libras", "NATOPS", "uwave", "StandWalkJump",
             "ArticularyWordRecognition", "FingerMovements", "LSST", "PenDigits", "har")
SSL_METHODS = tuple(SSL_REGISTRY)  # every registered method
# Methods whose pre-training sees every training label (test-time training's joint classifier):
# they have no label-scarce regime, so label-efficiency results leave them out.
PRETRAINS_WITH_LABELS = tuple(m for m, cls in SSL_REGISTRY.items() if cls.needs_labels)
METHODS = (*SSL_METHODS, "random_init")
SEEDS = (0, 1, 2, 3, 4)
SELECTION_SEED = 0
# Series passes of pre-training (epochs = BUDGET / training series, clipped to 5..200), the same
# for every method: a tenth of the full profile's, so that the whole suite fits on a CPU.
BUDGET = 20_000
# The probes search C on at most this many training series (then refit on all): on the three
# large sets (HAR, PenDigits, LSST) a full search cost several minutes a run, pre-training seconds.
SEARCH_MAX = 1000
# Baselines left out where they would not finish on a 2-core CPU in a session, and why (the book
# lists them). 1-NN DTW on HAR: 7352 x 2947 full-window alignments of 128 x 128 steps, 9 channels.
SKIPPED: dict[str, dict[str, str]] = {"har": {"dtw": "21.7 million full-window DTW alignments of 9 x 128 steps: hours on 2 cores"}}
# Each method's key hyper-parameter: the paper's value first, then one alternative.
GRIDS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "simclr": ("temperature", (0.5, 0.1)),
    "vicreg": ("sim_weight", (25.0, 10.0)),
    "barlow_twins": ("lambda_offdiag", (5e-3, 2e-2)),
    "vibcreg": ("cov_weight", (200.0, 50.0)),
    "mae": ("mask_ratio", (0.75, 0.5)),
    "ssgan": ("alpha", (0.2, 1.0)),
    "clip": ("init_temperature", (0.07, 0.2)),
    "ttt": ("recon_weight", (1.0, 0.5)),
}


def base_config(method: str, dataset: str, seed: int) -> ExperimentConfig:
    """The comparison's configuration of ``method`` before its grid value is set."""
    chapter = METHOD_CHAPTER.get(method, "simclr")
    P = resolve(chapter, "full", encoder="cnn", temporal_bins=1, pooling="avg", epochs=0, pretrain_budget=BUDGET,
                batch_size=128, lr=1e-3, finetune_epochs=0, max_train=0, max_test=0,
                **({"extra_pool": False} if "extra_pool" in resolve(chapter, "full") else {}))
    P["dataset"] = [dataset]
    config = experiment_config(method, dataset, seed, P)
    if "patch_size" in config.method_params:
        # Masking needs at least 2 patches: PenDigits' series have 8 steps, one default patch.
        patch = min(config.method_params["patch_size"], max(1, series_length(dataset) // 4))
        config = replace(config, method_params={**config.method_params, "patch_size": patch})
    return replace(config, profile=PROFILE, protocols=("svm", "linear", "knn"),
                   label_fractions=(0.01, 0.05, 0.1, 1.0), readouts=COMPARISON_READOUTS, search_max=SEARCH_MAX)


@functools.lru_cache(maxsize=None)
def series_length(dataset: str) -> int:
    """Time steps of the dataset's series (read once per process)."""
    return int(load_dataset(dataset, "train").X.shape[-1])


def grid_configs(method: str, dataset: str, seed: int = SELECTION_SEED) -> list[ExperimentConfig]:
    """One configuration per value of the method's grid (one for the untrained encoder)."""
    config = base_config(method, dataset, seed)
    if method not in GRIDS:
        return [config]
    name, values = GRIDS[method]
    return [replace(config, method_params={**config.method_params, name: value}) for value in values]


def _load(out_dir: str | Path, config: ExperimentConfig | BaselineConfig) -> dict[str, Any] | None:
    path = record_path(out_dir, config.to_dict())
    return json.loads(path.read_text()) if path.is_file() else None


def selection_score(record: dict[str, Any]) -> float:
    """The training-split score of a record's chosen read-out (``-inf`` when none could be scored)."""
    choice = record["readout"]
    score = choice["scores"].get(choice["chosen"])
    return float("-inf") if score is None else float(score)


def chosen_config(method: str, dataset: str, out_dir: str | Path) -> ExperimentConfig | None:
    """The grid value the training split chose (its seed-0 config), or None while grid runs are missing.

    A tie, float noise included (:func:`~sslts.evaluate.readouts.first_best`), keeps the earlier
    value (the paper's).
    """
    configs = grid_configs(method, dataset)
    records = [_load(out_dir, c) for c in configs]
    if any(r is None for r in records):
        return None
    return configs[first_best([selection_score(r) for r in records]) or 0]


def _tasks(methods: list[str], datasets: list[str], seeds: list[int], out_dir: str | Path) -> Iterator[Any]:
    """Configurations still to run, in order: per dataset, baselines, then per method its grid
    (seed 0) and its other seeds at the chosen value (only once the grid is complete)."""
    for dataset in datasets:
        for method in methods:
            if method in BASELINE_METHODS:
                if method in SKIPPED.get(dataset, ()):
                    continue
                for seed in ([SELECTION_SEED] if method in DETERMINISTIC else seeds):
                    config = BaselineConfig(method, dataset, seed)
                    if _load(out_dir, config) is None:
                        yield config
                continue
            yield from (c for c in grid_configs(method, dataset) if _load(out_dir, c) is None)
            chosen = chosen_config(method, dataset, out_dir)
            if chosen is None:
                continue  # the grid's runs were just yielded; the caller asks again afterwards
            for seed in seeds:
                config = replace(chosen, seed=seed)
                if seed != SELECTION_SEED and _load(out_dir, config) is None:
                    yield config


def pending(methods: list[str], datasets: list[str], seeds: list[int], out_dir: str | Path) -> list[Any]:
    """Every configuration still to run that can be named now (see :func:`_tasks`)."""
    return list(_tasks(methods, datasets, seeds, out_dir))


def run_one(task: ExperimentConfig | BaselineConfig, out_dir: str | Path) -> dict[str, Any]:
    """Make one run of the comparison and write its record (in this process or a Ray worker)."""
    if isinstance(task, BaselineConfig):
        return run_baseline(task, out_dir)
    return run_experiment(task, out_dir, progress=False).record


def describe(task: Any, record: dict[str, Any], seconds: float) -> str:
    """The line printed when a run finished."""
    full = {e["protocol"]: round(e["accuracy"], 3) for e in record["evaluations"] if e["label_fraction"] == 1.0}
    return f"[compare] {task.method} on {task.dataset}, seed {task.seed}: {full} in {seconds:.0f} s"


def selection(methods: list[str] | None, datasets: list[str] | None, seeds: list[int] | None,
              default_datasets: tuple[str, ...]) -> tuple[list[str], list[str], list[int]]:
    """What a sweep runs: the given methods, datasets and seeds, or every one; an unknown method is an error."""
    methods = list(methods or (*METHODS, *BASELINE_METHODS))
    unknown = [m for m in methods if m not in (*METHODS, *BASELINE_METHODS)]
    if unknown:
        raise ParameterError(f"unknown method {unknown[0]!r}; known: {', '.join((*METHODS, *BASELINE_METHODS))}")
    return methods, list(datasets or default_datasets), list(SEEDS if seeds is None else seeds)


def run_comparison(methods: list[str] | None = None, datasets: list[str] | None = None, seeds: list[int] | None = None,
                   out_dir: str | Path = "results/comparison", max_runs: int | None = None,
                   progress: bool = True, engine: str = "local", address: str | None = None) -> int:
    """Run what the comparison still lacks, resumably; return the number of runs made.

    A run's record is written atomically when it finishes, and finished runs are skipped, so the
    command can be stopped at any time and started again. The grid of a method must be complete
    before its seeds 1-4 can be named, so the plan is recomputed after every run; the progress bar
    counts them from the start and estimates the time left. ``engine="ray"`` runs each run as a
    Ray task (:mod:`sslts.engine`), on this machine's cores or on the cluster at ``address``.
    """
    methods, datasets, seeds = selection(methods, datasets, seeds, RUN_ORDER)
    # Seeds 1-4 of each SSL method are named once its grid is done: count them in the total now.
    later = sum(len([s for s in seeds if s != SELECTION_SEED]) for d in datasets for m in methods
                if m in METHODS and chosen_config(m, d, out_dir) is None)
    return run_tasks(lambda: pending(methods, datasets, seeds, out_dir), functools.partial(run_one, out_dir=out_dir),
                     key=lambda task: record_path(out_dir, task.to_dict()), describe=describe, engine=engine,
                     address=address, max_runs=max_runs, progress=progress, expected=later)
