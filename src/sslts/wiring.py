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
from .params import resolve
from .paths import results_dir
from .provenance import git_commit
from .results import record_path, records_frame

# How each chapter's method-specific parameters map onto method configs.
METHOD_PARAMS = {
    "simclr": lambda P: {"temperature": P["temperature"], "proj_hidden": P["proj_hidden"], "proj_dim": P["proj_dim"]},
    "vicreg": lambda P: {"sim_weight": P["sim_weight"], "var_weight": P["var_weight"], "cov_weight": P["cov_weight"],
                         "expander_dim": P["expander_dim"]},
    "barlow_twins": lambda P: {"lambda_offdiag": P["lambda_offdiag"], "proj_hidden": P["proj_dim"], "proj_dim": P["proj_dim"]},
    "vibcreg": lambda P: {"cov_weight": P["vibcreg_cov_weight"], "proj_hidden": P["proj_dim"], "proj_dim": P["proj_dim"]},
    "mae": lambda P: {"mask_ratio": P["mask_ratio"], "patch_size": P["patch_size"], "decoder_dim": P["decoder_dim"],
                      "decoder_depth": P["decoder_depth"], "normalize_target": P["normalize_target"],
                      "augment": P["mae_augment"]},
    # The sample-quality parameters of the SS-GAN chapter stay in the chapter.
    "ssgan": lambda P: {"latent_dim": P["latent_dim"], "alpha": P["alpha"], "beta": P["beta"],
                        "gan_loss": P["gan_loss"], "lr_d": P["lr_d"], "lr_g": P["lr_g"],
                        "adam_beta1": P["adam_beta1"], "spectral_norm": P["spectral_norm"],
                        "batch_fraction": P["batch_fraction"], "diff_augment": P["diff_augment"],
                        "r1_gamma": P["r1_gamma"], "minibatch_std": P["minibatch_std"]},
    # "auto" modalities are chosen per dataset from the channel count (9 = UCI HAR: accelerometer
    # against gyroscope; otherwise time against spectrum).
    "clip": lambda P: {"view_a": P["view_a"], "view_b": P["view_b"], "proj_dim": P["proj_dim"],
                       "init_temperature": P["init_temperature"], "augment_views": P["augment_views"]},
    "ttt": lambda P: {"recon_weight": P["recon_weight"], "mask_ratio": P["mask_ratio"], "patch_size": P["patch_size"]},
    "random_init": lambda P: {},
}
# The chapter that owns each method's parameters (their defaults apply when another chapter runs it).
METHOD_CHAPTER = {"simclr": "simclr", "vicreg": "vicreg", "barlow_twins": "barlow", "vibcreg": "barlow",
                  "mae": "mae", "ssgan": "ssgan", "clip": "clip", "ttt": "ttt"}


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
        method_params=METHOD_PARAMS[method](P), extra_pool=P["extra_pool"] and has_unlabelled_pool(dataset),
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
