"""What the method chapters share: turning chapter parameters into experiments and results.

A method chapter resolves its parameters, calls :func:`run_method_grid` once, and shows tables and
figures built from the returned results. Keeping this here leaves the chapters as prose plus a
few library calls, and makes every chapter run the same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .experiment import ExperimentConfig, ExperimentResult, run_experiment
from .paths import results_dir
from .results import records_frame

# How each chapter's method-specific parameters map onto method configs.
METHOD_PARAMS = {
    "simclr": lambda P: {"temperature": P["temperature"], "proj_hidden": P["proj_hidden"], "proj_dim": P["proj_dim"]},
    "vicreg": lambda P: {"sim_weight": P["sim_weight"], "var_weight": P["var_weight"], "cov_weight": P["cov_weight"],
                         "expander_dim": P["expander_dim"]},
    "barlow_twins": lambda P: {"lambda_offdiag": P["lambda_offdiag"], "proj_hidden": P["proj_dim"], "proj_dim": P["proj_dim"]},
    "vibcreg": lambda P: {"cov_weight": P["vibcreg_cov_weight"], "proj_hidden": P["proj_dim"], "proj_dim": P["proj_dim"]},
    "random_init": lambda P: {},
}


def experiment_config(method: str, dataset: str, seed: int, P: dict[str, Any]) -> ExperimentConfig:
    """The :class:`ExperimentConfig` of one (method, dataset, seed) cell of a chapter."""
    return ExperimentConfig(
        method=method, dataset=dataset, encoder=P["encoder"], seed=seed, profile=P["profile"],
        epochs=P["epochs"], batch_size=P["batch_size"], lr=P["lr"], augmentations=P["augmentations"],
        method_params=METHOD_PARAMS[method](P), extra_pool=P["extra_pool"] and dataset == "uwave",
        finetune_epochs=P["finetune_epochs"], max_train=P["max_train"], max_test=P["max_test"], device=P["device"],
    )


@dataclass
class GridResult:
    """Every experiment of a chapter run, and their evaluations as one flat table."""

    results: list[ExperimentResult]
    frame: pd.DataFrame

    def select(self, method: str, dataset: str) -> list[ExperimentResult]:
        return [r for r in self.results if r.record["config"]["method"] == method and r.record["config"]["dataset"] == dataset]


def run_method_grid(methods: list[str], P: dict[str, Any], baseline: bool = True, progress: bool = True) -> GridResult:
    """Run ``methods`` (plus the random-init/supervised baseline) on every dataset and seed of ``P``.

    Records go to ``results/runs/<profile>/<dataset>/`` (not committed); the committed full-profile
    records live in ``results/full`` and are written by ``sslts sweep``.
    """
    results = []
    for dataset in P["dataset"]:
        for seed in range(P["seed"], P["seed"] + P["n_seeds"]):
            for method in [*methods, *(["random_init"] if baseline else [])]:
                results.append(run_experiment(experiment_config(method, dataset, seed, P),
                                              results_dir() / "runs", progress=progress))
    return GridResult(results, records_frame(r.record for r in results))


def method_label(method: str) -> str:
    return {"simclr": "SimCLR", "vicreg": "VICReg", "barlow_twins": "Barlow Twins", "vibcreg": "VIbCReg",
            "random_init": "random init (probes) / supervised (fine-tune)"}.get(method, method)


def discussion(frame: pd.DataFrame, method: str) -> str:
    """A paragraph per dataset comparing ``method`` with the baseline, from the numbers of this run."""
    lines = []
    full = frame[frame["label_fraction"] == 1.0]
    for dataset, rows in full.groupby("dataset"):
        mean = rows.groupby(["method", "protocol"])["accuracy"].mean()
        if method not in mean.index.get_level_values(0):
            continue
        ours = mean[method]
        best_protocol = ours.idxmax()
        text = (f"On **{dataset}**, {method_label(method)}'s best protocol is {best_protocol} "
                f"({ours[best_protocol]:.3f} accuracy)")
        if "random_init" in mean.index.get_level_values(0):
            base = mean["random_init"]
            if "linear" in ours and "linear" in base:
                text += (f"; its linear probe is {ours['linear'] - base['linear']:+.3f} against a frozen random "
                         f"encoder ({base['linear']:.3f})")
            if "finetune" in ours and "finetune" in base:
                text += (f", and fine-tuning from it gives {ours['finetune']:.3f} against "
                         f"{base['finetune']:.3f} for the same encoder trained from scratch")
        lines.append(text + ".")
        low = frame[(frame["dataset"] == dataset) & (frame["method"] == method) & (frame["protocol"] == "linear")]
        by_fraction = low.groupby("label_fraction")["accuracy"].mean()
        if len(by_fraction) > 1:
            lines.append(f"With {by_fraction.index.min():.0%} of the labels its linear probe reaches "
                         f"{by_fraction.iloc[0]:.3f}, against {by_fraction.iloc[-1]:.3f} with all of them.")
    return " ".join(lines)
