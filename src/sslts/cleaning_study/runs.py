"""The study's runs: every condition x model x seed, one record each, resumable.

Two models per condition, on the comparison's terms (:mod:`sslts.comparison`):

- ``simclr``: SimCLR pre-trained on the (cleaned) training split with the comparison's budget of
  :data:`BUDGET` series passes (UWave: 120 series, 166 epochs, about 40 s on one CPU thread) at the
  paper's temperature 0.5, then frozen; the headline is the SVM probe on the read-out the training
  split chooses (:func:`sslts.comparison.base_config`);
- ``supervised_cnn``: the same encoder trained from scratch on the labels
  (:func:`sslts.baselines.run_baseline`), all labels only.

UWave carries every claim but one; the correlated-channel claim needs UCI HAR, capped at
:data:`CAPS` series per split (stratified, seeded per run) so that its 20 runs cost minutes, not
hours: full HAR (7,352 training series) costs the supervised CNN about 30 epochs x 115 batches.

Records go to ``<out>/<condition name>/cleaning/<dataset>/<model>-cnn-s<seed>-<hash>.json``: the
path of :func:`sslts.results.record_path` under the condition's folder, its hash over the model's
configuration *and* the condition, so a changed condition never reuses an old record.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_json
from ..baselines import BaselineConfig, run_baseline
from ..comparison import GRIDS, base_config
from ..engine import run_tasks
from ..experiment import ExperimentConfig, run_experiment, stratified_subset
from ..results import record_path
from .conditions import Condition, prepare_splits

PROFILE = "cleaning"
MODELS = ("simclr", "supervised_cnn")
SEEDS = (0, 1, 2, 3, 4)
BUDGET = 20_000  # the comparison's pre-training budget (series passes)
# (max_train, max_test) series per split; 0 keeps all. HAR: about a seventh of its training split.
CAPS: dict[str, tuple[int, int]] = {"uwave": (0, 0), "har": (1000, 1000)}
MISSING_RATES = (0.05, 0.2, 0.5)
SPIKE_RATE = 0.01
SMOOTHING_WINDOW = 5


def study_conditions(dataset: str = "uwave", correlated_dataset: str = "har") -> dict[str, list[Condition]]:
    """The conditions of each claim (their reference first), on ``dataset`` and, for the
    correlated channels, ``correlated_dataset``. A condition may serve several claims."""
    clean = Condition(dataset)
    spikes = Condition(dataset, spike_rate=SPIKE_RATE, action="flag")
    removed = [replace(spikes, detector=d, action=a) for d in ("zscore", "iqr") for a in ("clip", "drop")]
    return {
        "missing": [clean, *(Condition(dataset, missing=m, missing_rate=r, imputer=i)
                             for m in ("mcar", "gaps") for r in MISSING_RATES for i in ("fill", "mean", "knn"))],
        # Leaving the spikes in is not a removal: it is the reference of outliers_help, not a
        # treatment here (the damage it does shows there, against the clean means here).
        "outliers_recover": [clean, *removed],
        "outliers_help": [spikes, *removed],
        "scaling": [replace(clean, scaling="none"), clean, replace(clean, scaling="minmax")],
        "correlated": [Condition(correlated_dataset), Condition(correlated_dataset, channels="drop"),
                       Condition(correlated_dataset, channels="drop-weaker")],
        "smoothing": [clean, replace(clean, smoothing=SMOOTHING_WINDOW)],
    }


@dataclass(frozen=True)
class StudyRun:
    """One run of the study: a condition, a model and a seed."""

    condition: Condition
    method: str
    seed: int
    budget: int = BUDGET

    @property
    def dataset(self) -> str:
        return self.condition.dataset

    def config(self) -> ExperimentConfig | BaselineConfig:
        """The model's configuration (the comparison's, with this study's profile and caps)."""
        if self.method == "supervised_cnn":
            return BaselineConfig("supervised_cnn", self.dataset, self.seed, profile=PROFILE, label_fractions=(1.0,))
        max_train, max_test = CAPS.get(self.dataset, (0, 0))
        config = base_config(self.method, self.dataset, self.seed)
        name, values = GRIDS[self.method]  # the paper's value, the first of the comparison's grid
        return replace(config, method_params={**config.method_params, name: values[0]}, profile=PROFILE, pretrain_budget=self.budget, max_train=max_train, max_test=max_test,
                       label_fractions=(1.0,))

    def identity(self) -> dict[str, Any]:
        """What the record path hashes: the model's configuration and the condition."""
        return {**self.config().to_dict(), "condition": self.condition.to_dict()}

    def path(self, out_dir: str | Path) -> Path:
        return record_path(Path(out_dir) / self.condition.name, self.identity())


def _load(run: StudyRun, out_dir: str | Path) -> dict[str, Any] | None:
    path = run.path(out_dir)
    return json.loads(path.read_text()) if path.is_file() else None


def run_one(run: StudyRun, out_dir: str | Path) -> dict[str, Any]:
    """Make one run and write its record atomically; return the record.

    The record is the model's usual one (configuration, evaluations, timing, provenance) plus
    ``condition`` (its fields and ``name``) and ``cleaning`` (what the pipeline did: injected
    missing fractions, outliers flagged, channels kept, the series caps).
    """
    report: dict[str, Any] = {}

    def prepare(train, test):  # noqa: ANN001 - the hook's signature (sslts.experiment.Prepare)
        max_train, max_test = CAPS.get(run.dataset, (0, 0))
        if run.method == "supervised_cnn":  # run_experiment caps by its config; the baseline here
            train, test = stratified_subset(train, max_train, run.seed), stratified_subset(test, max_test, run.seed)
        train, test, scaler, what = prepare_splits(run.condition, train, test, run.seed)
        report.update(what, max_train=max_train, max_test=max_test)
        return train, test, scaler

    config = run.config()
    if isinstance(config, BaselineConfig):
        record = run_baseline(config, None, prepare=prepare)
    else:
        record = run_experiment(config, None, progress=False, prepare=prepare).record
    record = {**record, "condition": {**run.condition.to_dict(), "name": run.condition.name}, "cleaning": report}
    atomic_write_json(run.path(out_dir), record)
    return record


def all_runs(seeds: tuple[int, ...] | list[int] = SEEDS, models: tuple[str, ...] | list[str] = MODELS,
             dataset: str = "uwave", correlated_dataset: str = "har", budget: int = BUDGET,
             claims: tuple[str, ...] | list[str] | None = None) -> list[StudyRun]:
    """Every distinct run of the study (a condition shared by claims is listed once), cheapest
    claims first within each seed, so an interrupted sweep has every claim for the first seeds."""
    conditions: list[Condition] = []
    for claim, members in study_conditions(dataset, correlated_dataset).items():
        if claims is None or claim in claims:
            conditions += [c for c in members if c not in conditions]
    return [StudyRun(c, m, s, budget) for s in seeds for c in conditions for m in models]


def pending(runs: list[StudyRun], out_dir: str | Path) -> list[StudyRun]:
    """The runs without a record in ``out_dir``."""
    return [r for r in runs if not r.path(out_dir).is_file()]


def _describe(run: StudyRun, record: dict[str, Any], seconds: float) -> str:
    full = {e["protocol"]: round(e["accuracy"], 3) for e in record["evaluations"] if e["label_fraction"] == 1.0}
    return f"[cleaning] {run.condition.name} / {run.method} on {run.dataset}, seed {run.seed}: {full} in {seconds:.0f} s"


def run_study(out_dir: str | Path = "results/cleaning", runs: list[StudyRun] | None = None,
              max_runs: int | None = None, progress: bool = True, engine: str = "local",
              address: str | None = None) -> int:
    """Run what the study still lacks (default: :func:`all_runs`), resumably; return the runs made.

    Finished runs (their record exists) are skipped; a record is written atomically at the end of
    its run, so the sweep can be stopped at any time and started again. ``engine="ray"`` runs
    each run as a Ray task (:mod:`sslts.engine`).
    """
    runs = all_runs() if runs is None else runs
    return run_tasks(lambda: pending(runs, out_dir), functools.partial(run_one, out_dir=out_dir),
                     key=lambda run: run.path(out_dir), describe=_describe, engine=engine, address=address,
                     max_runs=max_runs, progress=progress)
