"""The SS-GAN chapter: the plain-GAN comparison and the generated series with their quality."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiment import ExperimentResult, run_experiment
from ..params import resolve
from ..paths import results_dir
from ..wiring import experiment_config
from ..report.full_profile import setting_label

def plain_gan_run(dataset: str, seed: int, P: dict[str, Any]) -> ExperimentResult:
    """The SS-GAN chapter's GAN without the auxiliary task (``alpha = beta = 0``), pre-trained exactly
    like SS-GAN; only the linear probe (all labels) and the diagnostics are evaluated."""

    config = experiment_config("ssgan", dataset, seed, {**P, "alpha": 0.0, "beta": 0.0})
    config = replace(config, protocols=("linear",), label_fractions=(1.0,), finetune_epochs=0)
    return run_experiment(config, results_dir() / "runs", progress=False)


@dataclass
class GeneratedSamples:
    """What the SS-GAN chapter shows about a generator: samples, their classes and their quality.

    ``real_train`` and ``generated`` are standardised like the training data ``(n_train, C, L)``;
    ``table`` holds the Fréchet distance of each set to the real test split
    (:func:`sslts.evaluate.fidelity.sample_quality`); ``class_shares`` the share of each class among
    the real training series and among the generated ones (as the classifier assigns them).
    """

    real_train: np.ndarray
    generated: np.ndarray
    generated_classes: np.ndarray
    generated_confidence: np.ndarray
    classifier_accuracy: float
    table: pd.DataFrame
    class_shares: pd.DataFrame


def ssgan_samples(result: ExperimentResult, plain: ExperimentResult | None, fidelity_epochs: int,
                  seed: int, min_steps: int = 0, extractor: Any = None) -> GeneratedSamples:
    """Sample SS-GAN's generator and score it, next to reference sets, in a supervised feature space.

    Every set has as many series as the real training split: the real training split (the floor),
    SS-GAN's samples, the plain GAN's (when ``plain`` is given), the same generator before training
    (rebuilt from the run's seed exactly as :func:`run_experiment` built it) and Gaussian noise.
    ``extractor``: a :class:`~sslts.evaluate.fidelity.FidelityModel` to reuse (several runs on one
    dataset); one is trained (``fidelity_epochs``, ``min_steps``) when ``None``.
    """
    import torch

    from ..evaluate.fidelity import fit_feature_extractor, sample_quality
    from ..experiment import ExperimentConfig, build_model

    X_train, X_test = result.standardised("train"), result.standardised("test")  # (n, C, L)
    if extractor is None:
        extractor = fit_feature_extractor(X_train, result.train.y, X_test, result.test.y, epochs=fidelity_epochs,
                                          seed=seed, min_steps=min_steps)
    n, shape = len(X_train), X_train.shape[1:]

    def sample(model: Any) -> np.ndarray:
        return model.sample(n, torch.Generator().manual_seed(seed)).numpy()

    with torch.random.fork_rng():
        untrained = build_model(ExperimentConfig.from_dict(result.record["config"]), shape)
    generated = sample(result.model)
    candidates = {"real train (floor)": X_train, "SS-GAN": generated}
    if plain is not None:
        candidates["GAN (alpha = beta = 0)"] = sample(plain.model)
    candidates["untrained generator"] = sample(untrained)
    candidates["Gaussian noise"] = np.random.default_rng(seed).normal(size=X_train.shape).astype(np.float32)
    table = sample_quality(extractor, X_test, candidates)
    classes, confidence = extractor.predict(generated)
    k = len(result.train.class_names)
    shares = pd.DataFrame({"real train": np.bincount(result.train.y, minlength=k) / n,
                           "SS-GAN": np.bincount(classes, minlength=k) / n},
                          index=pd.Index(result.train.class_names, name="class"))
    return GeneratedSamples(X_train, generated, classes, confidence, extractor.test_accuracy, table, shares)


def discriminator_saturation(history: dict[str, list[float]], threshold: float = 0.95) -> tuple[float, float]:
    """``(share of epochs the discriminator was at least threshold right, its mean accuracy over the
    last quarter of the epochs)`` from a run's per-epoch ``d_accuracy``."""
    accuracy = np.asarray(history["d_accuracy"])
    return float(np.mean(accuracy >= threshold)), float(accuracy[-max(1, len(accuracy) // 4):].mean())


STABILITY_COLUMNS = ["d_saturated", "d_acc_last", "fd", "fd_untrained", "coverage", "top_share", "linear",
                     "seconds"]


def stability_summary(path: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """The committed SS-GAN stability benchmark (``benchmarks/bench_ssgan_stability.py``) and its
    provenance: ``(table indexed by dataset and variant, Markdown note)``; ``(None, note)`` when the
    record is missing."""
    file = Path(path) if path is not None else results_dir() / "benchmarks" / "ssgan_stability.json"
    if not file.is_file():
        return None, ("No SS-GAN stability record yet: `python benchmarks/bench_ssgan_stability.py` writes "
                      "`results/benchmarks/ssgan_stability.json`.")
    record = json.loads(file.read_text())
    table = pd.DataFrame(record["rows"]).set_index(["dataset", "variant"])[STABILITY_COLUMNS]
    # Which benchmarked setting the chapter's defaults are today, per dataset (read by
    # stability_findings): the extra pool exists for UWave only, so the defaults differ.
    table.attrs["default"] = {}
    for row in record["rows"]:
        if _is_default_setting(row, record["variants"][row["variant"]]):
            table.attrs["default"].setdefault(row["dataset"], row["variant"])
    settings = "; ".join(f"**{name}**: " + ", ".join(f"{k} = {v}" for k, v in params.items())
                         for name, params in record["variants"].items() if name in table.index.get_level_values(1))
    def size(r: dict[str, Any]) -> str:
        pool = r.get("pretrain_series", r["train_series"])
        extra = f" ({r['variant']}: {pool} pre-training series)" if pool != r["train_series"] else ""
        return f"{r['dataset']}: {r['train_series']} training series{extra}, {r['epochs']} epochs"

    sizes = "; ".join(sorted({size(r) for r in record["rows"]}))
    commits = sorted({row.get("git_commit") or record["git_commit"] for row in record["rows"]})
    note = (f"From the committed record `results/benchmarks/{file.name}`, written at commit "
            f"`{record['git_commit']}` on {record['device']} ({record['created_utc']}; rows measured at "
            f"{', '.join(f'`{c}`' for c in commits)}), seed "
            f"{record['rows'][0]['seed']} ({sizes}; every other setting the full profile's). Settings: "
            f"{settings}.")
    return table, note


# What the benchmark itself changes for speed (probes, budgets), not a setting of the method.
_BENCHMARK_KEYS = ("max_train", "pretrain_budget", "protocols", "label_fractions", "finetune_epochs")


def _is_default_setting(row: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether a benchmark row ran the chapter's defaults of today: by its full configuration where
    the row has one (a setting the variant leaves alone counts too), else by the variant's parameters."""
    if "config" not in row:
        defaults = resolve("ssgan", "full")
        return all(defaults.get(k) == v for k, v in params.items())
    label = setting_label(row["config"])
    return label == "defaults" or all(part.split("=")[0] in _BENCHMARK_KEYS for part in label.split(", "))


def stability_findings(table: pd.DataFrame, default: str | dict[str, str] | None = "slow_d",
                       baseline: str = "paper") -> str:
    """What the stability table says about the default setting against the paper's, per dataset,
    and which settings (if any) kept the discriminator from winning most epochs. A table from
    :func:`stability_summary` names the setting that matches the current defaults on each dataset
    itself (``default`` is a name for every dataset, or one per dataset)."""
    default = table.attrs.get("default", default)
    if isinstance(default, str):
        default = {dataset: default for dataset in table.index.get_level_values(0)}
    lines = []
    for dataset, rows in table.groupby(level=0):
        rows = rows.droplevel(0)
        if dataset not in (default or {}):
            lines.append(f"On **{dataset}**, none of the benchmarked settings is the chapter's current default; "
                         "re-run the benchmark.")
            continue
        if baseline not in rows.index:
            continue
        d, b = rows.loc[default[dataset]], rows.loc[baseline]
        text = (f"On **{dataset}**, the default ({default[dataset]}) against the paper's equal rates ({baseline}): "
                f"Fréchet distance {d['fd']:.1f} against {b['fd']:.1f} (untrained generator: {d['fd_untrained']:.1f}), "
                f"class coverage {d['coverage']:.2f} against {b['coverage']:.2f} (largest class share "
                f"{d['top_share']:.0%} against {b['top_share']:.0%}), discriminator at least 95% right in "
                f"{d['d_saturated']:.0%} against {b['d_saturated']:.0%} of the epochs.")
        unsaturated = rows.index[rows["d_saturated"] <= 0.5].tolist()
        if unsaturated:
            text += (f" Settings whose discriminator was that sure in at most half of the epochs: "
                     f"{', '.join(unsaturated)}.")
        else:
            best = rows["d_saturated"].idxmin()
            text += (f" **No setting tried kept the discriminator from winning most epochs** (the least: {best}, "
                     f"{rows.loc[best, 'd_saturated']:.0%}).")
        lines.append(text)
    return " ".join(lines)
