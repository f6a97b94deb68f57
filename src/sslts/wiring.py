"""Chapter parameters into experiments: the wiring every chapter, the sweep and the comparison share.

A method chapter resolves its parameters (:func:`sslts.params.resolve`), calls
:func:`run_method_grid` once, and shows what :mod:`sslts.report` makes of the returned results.
:func:`experiment_config` is the one translation of a chapter's parameters into an
:class:`~sslts.experiment.ExperimentConfig`, so every chapter, ``sslts sweep``, ``sslts compare``
and the benchmarks run the same protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .data import has_unlabelled_pool
from .experiment import ExperimentConfig, ExperimentResult, run_experiment
from .params import CHAPTERS, chapter_schema, resolve
from .paths import results_dir
from .provenance import git_commit
from .results import record_path, records_frame

def method_params(method: str, P: dict[str, Any]) -> dict[str, Any]:
    """The config fields of ``method`` that the chapter parameters ``P`` set, read from the schema.

    Each method parameter of a chapter names the fields it sets (:func:`sslts.params.method_param`),
    so this mapping is derived, never typed: a parameter added to a chapter reaches its method.
    """
    schema = chapter_schema(METHOD_CHAPTER[method]) if method in METHOD_CHAPTER else {}
    return {field: P[name] for name, spec in schema.items() for owner, field in spec.targets if owner == method}


# The chapter that owns each method's parameters (their defaults apply when another chapter runs
# it): the one whose method parameters target the method's config fields.
METHOD_CHAPTER = {owner: chapter for chapter, schema in CHAPTERS.items() for spec in schema.values()
                  for owner, _ in spec.targets}


def experiment_config(method: str, dataset: str, seed: int, P: dict[str, Any]) -> ExperimentConfig:
    """The :class:`ExperimentConfig` of one (method, dataset, seed) cell of a chapter.

    A method run in another method's chapter (SimCLR next to VICReg) takes its own parameters
    from its chapter's defaults for the same profile.
    """
    if method in METHOD_CHAPTER:
        own = resolve(METHOD_CHAPTER[method], P["profile"])
        P = {**P, **{k: v for k, v in own.items() if k not in P}}
    return ExperimentConfig(
        method=method, dataset=dataset, encoder=P["encoder"], seed=seed, profile=P["profile"],
        epochs=P["epochs"], pretrain_budget=P["pretrain_budget"], batch_size=P["batch_size"], lr=P["lr"], augmentations=P["augmentations"],
        method_params=method_params(method, P), extra_pool=P["extra_pool"] and has_unlabelled_pool(dataset),
        finetune_epochs=P["finetune_epochs"], finetune_min_steps=P.get("finetune_min_steps", 0), max_train=P["max_train"], max_test=P["max_test"], device=P["device"],
        encoder_params=encoder_params(P),
    )


def encoder_params(P: dict[str, Any]) -> dict[str, Any]:
    """The encoder settings of a chapter's parameters (only those that differ from the defaults,
    so that records of default settings keep their paths)."""
    if P["encoder"] == "cnn":
        params = {"temporal_bins": P["temporal_bins"]} if P["temporal_bins"] > 1 else {}
        return {**params, "pooling": P["pooling"]} if P["pooling"] != "avg" else params
    if P["encoder"] == "transformer":
        # The patches must be MAE's, so a Transformer elsewhere takes the MAE chapter's settings.
        own = P if "patch_size" in P and "embed_dim" in P else resolve("mae", P["profile"])
        return {"patch_size": own["patch_size"], "dim": own["embed_dim"], "depth": own["encoder_depth"]}
    return {}


@dataclass
class GridResult:
    """Every experiment of a chapter run, and their evaluations as one flat table."""

    results: list[ExperimentResult]
    frame: pd.DataFrame

    def select(self, method: str, dataset: str) -> list[ExperimentResult]:
        return [r for r in self.results if r.record["config"]["method"] == method and r.record["config"]["dataset"] == dataset]


def run_method_grid(methods: list[str], P: dict[str, Any], compare: tuple[str, ...] = ("random_init",),
                    progress: bool = True) -> GridResult:
    """Run ``methods`` on every dataset and seed of ``P``, next to the ``compare`` methods.

    The ``compare`` runs (the random-init/supervised baseline, or another method) reuse a record of
    the identical configuration written at the same commit by an earlier chapter of the same build,
    and run only when there is none; their results carry the record but no embeddings. Records go
    to ``results/runs/<profile>/<dataset>/`` (not committed); the committed full-profile records live
    in ``results/full`` and are written by ``sslts sweep``.
    """
    root = results_dir() / "runs"
    results = []
    for dataset in P["dataset"]:
        for seed in range(P["seed"], P["seed"] + P["n_seeds"]):
            for method in methods:
                results.append(run_experiment(experiment_config(method, dataset, seed, P), root, progress=progress))
            for method in compare:
                config = experiment_config(method, dataset, seed, P)
                stored = _reusable_record(root, config)
                results.append(ExperimentResult(stored, None, None, results[-1].train, results[-1].test) if stored
                               else run_experiment(config, root, progress=progress))
    return GridResult(results, records_frame(r.record for r in results))


def _reusable_record(root: Path, config: ExperimentConfig) -> dict[str, Any] | None:
    """The stored record of ``config`` if it was written at this commit (a clean one), else None."""
    path = record_path(root, config.to_dict())
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    commit = git_commit()
    return record if record.get("git_commit") == commit and not commit.endswith("-dirty") and commit != "unknown" else None
