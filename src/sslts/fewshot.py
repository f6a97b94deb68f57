"""The comparison's few-shot runs: 1, 2 and 5 labelled series per class, and no other label anywhere.

The main comparison (:mod:`sslts.comparison`) chooses each method's grid value and read-out with
every training label, which is fair when every label is used, but not when only a few are: in the
label-scarce regime those labels would not exist. So the few-shot runs use **no choice made with
labels**:

- every SSL method whose pre-training sees no label (test-time training's joint classifier sees
  every training label, so it has no few-shot regime and is left out), and the untrained encoder,
  at its paper's value (the first of its grid in
  :data:`sslts.comparison.GRIDS`) and the encoder's own global average pool (CLIP: tower A's),
  pre-trained on the
  training series without labels, the same budget as the comparison;
- the linear probe then sees only ``k`` labelled series per class (:data:`SHOTS`), a stratified,
  seeded draw (:func:`sslts.evaluate.label_shot_indices`); each seed draws its own subset;
- MiniRocket, 1-NN DTW and the supervised CNN are fitted on the same ``k`` series per class.

It runs on the suite's problems whose training split has more than 5 series in every class
(:data:`DATASETS`); with 5 or fewer, 5 shots would be every label, which the main comparison has.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .baselines import BASELINE_METHODS, BaselineConfig
from .comparison import GRIDS, PRETRAINS_WITH_LABELS, _load, base_config, describe, run_one, selection
from .data import load_dataset
from .engine import run_tasks
from .experiment import ExperimentConfig
from .params import ParameterError
from .results import record_path

PROFILE = "fewshot"
# A two-tower method's ``encode`` concatenates both towers, twice as wide as any other method's
# embedding; the few-shot probe reads tower A's global mean instead, as the main comparison does
# (a single read-out: nothing is chosen, no label is looked at).
ONE_TOWER_READOUT = {"clip": ("avg",)}
SHOTS = (1, 2, 5)
# Cheapest first; all have more than 5 training series in every class.
DATASETS = ("NATOPS", "BasicMotions", "Libras", "ArticularyWordRecognition", "uwave")


def min_class_count(dataset: str) -> int:
    """The fewest training series any class of ``dataset`` has."""
    return int(np.bincount(load_dataset(dataset, "train").y).min())


def config(method: str, dataset: str, seed: int) -> ExperimentConfig | BaselineConfig:
    """The few-shot run of ``method`` on ``dataset`` with ``seed`` (no setting chosen with labels)."""
    if method in BASELINE_METHODS:
        return BaselineConfig(method, dataset, seed, profile=PROFILE, label_fractions=(1.0,), label_shots=SHOTS)
    paper = base_config(method, dataset, seed)
    if method in GRIDS:  # the paper's value is the first of the grid
        name, values = GRIDS[method]
        paper = replace(paper, method_params={**paper.method_params, name: values[0]})
    return replace(paper, profile=PROFILE, readouts=ONE_TOWER_READOUT.get(method, ()), protocols=("linear",),
                   label_fractions=(1.0,), label_shots=SHOTS)


def _tasks(methods: list[str], datasets: list[str], seeds: list[int], out_dir: str | Path) -> Iterator[Any]:
    for dataset in datasets:
        for method in methods:
            if method in PRETRAINS_WITH_LABELS:  # its pre-training would see every label
                continue
            for seed in seeds:
                task = config(method, dataset, seed)
                if _load(out_dir, task) is None:
                    yield task


def run_few_shot(methods: list[str] | None = None, datasets: list[str] | None = None, seeds: list[int] | None = None,
                 out_dir: str | Path = "results/comparison", max_runs: int | None = None, progress: bool = True,
                 engine: str = "local", address: str | None = None) -> int:
    """Run the few-shot records still missing (resumably, as :func:`sslts.comparison.run_comparison`)."""
    methods, datasets, seeds = selection(methods, datasets, seeds, DATASETS)
    for dataset in datasets:
        if min_class_count(dataset) <= max(SHOTS):
            raise ParameterError(f"{dataset} has a class with {min_class_count(dataset)} training series: "
                                 f"{max(SHOTS)} shots would be every label; choose from {', '.join(DATASETS)}")
    return run_tasks(lambda: list(_tasks(methods, datasets, seeds, out_dir)), functools.partial(run_one, out_dir=out_dir),
                     key=lambda task: record_path(out_dir, task.to_dict()), describe=describe, engine=engine,
                     address=address, max_runs=max_runs, progress=progress)
