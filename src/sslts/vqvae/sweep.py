"""The NC-VQVAE sweep: naive VQ-VAE vs NC-VQVAE (VIbCReg, Barlow Twins) x augmentations x datasets x seeds.

One record per run under ``results/vqvae/<profile>/<dataset>/`` (:func:`sslts.results.record_path`,
written atomically by :func:`sslts.results.write_record`); the plan is the runs whose record is
missing, so a killed sweep resumes where it stopped (:func:`sslts.engine.run_tasks`, locally or on
Ray). Within a dataset and seed every variant gets the same FID/IS feature extractor (it is trained
from ``config.seed`` on the same standardised training split), so FIDs compare like with like.

Budget (:data:`PROFILES`): ``cpu`` is this project's CPU-sized default (see
:mod:`sslts.vqvae.config` for the model sizes and :func:`variants` for the grid); ``smoke`` is a
seconds-long check of the wiring. The thesis's runs (GPU, larger models, thousands of seconds per
stage) are not reproduced at their size.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sslts.engine import run_tasks
from sslts.results import record_path

from .config import AUGMENTATIONS, VQVAEConfig
from .run import HEADLINE_PROTOCOLS, RECORD_KIND, run_vqvae

__all__ = ["DATASETS", "PROFILES", "SEEDS", "SSL_LOSSES_SWEPT", "VQVAETask", "estimate_seconds", "load_vqvae_records",
           "run_vqvae_sweep", "sweep_tasks", "variants"]

# The thesis's main case first, then small UCR problems of the mirror, cheapest first, then UEA UWave.
DATASETS = ("UWaveGestureLibraryAll", "SyntheticControl", "GunPoint", "CBF", "Trace", "ECGFiveDays",
            "TwoLeadECG", "uwave")  # the last: the multivariate UEA UWave (3 axes as 3 channels)
SEEDS = (0, 1, 2, 3, 4)
SSL_LOSSES_SWEPT = ("vibcreg", "barlow_twins")
# Config overrides by profile: "cpu" is the VQVAEConfig defaults (CPU-sized); "smoke" a wiring check.
PROFILES: dict[str, dict[str, Any]] = {
    "cpu": {},
    "smoke": dict(num_codes=8, latent_dim=8, hidden=8, proj_dim=16, stage1_epochs=1, batch_size=32,
                  prior_dim=16, prior_depth=1, prior_heads=2, stage2_epochs=1, sample_steps=2, cas_epochs=1,
                  fidelity_epochs=1),
}
SEARCH_MAX = 256  # series the linear-SVM C search sees (then refitted on all); see run_vqvae

# (training series, test series, length) of the swept problems, for the cost estimate only.
SIZES = {"UWaveGestureLibraryAll": (896, 3582, 945), "SyntheticControl": (300, 300, 60), "GunPoint": (50, 150, 150),
         "CBF": (30, 900, 128), "Trace": (100, 100, 275), "ECGFiveDays": (23, 861, 136), "TwoLeadECG": (23, 1139, 82),
         "uwave": (120, 320, 3 * 315)}  # 3 channels of 315 steps: counted as 945 steps
# Measured on UWaveGestureLibraryAll, one thread of a loaded 2-core machine, "cpu" profile (the
# VQVAEConfig defaults), extrapolated from a 2-epoch run (stage 1: 8.7 s per NC epoch, stage 2:
# 3.0 s per epoch, probes 66 s; see the chapter): seconds of training (scales with training
# series x length) and of evaluation (scales with all series x length), by variant.
UWAVE_SECONDS = {"naive": (210.0, 176.0), "nc": (295.0, 176.0)}


@dataclass(frozen=True)
class VQVAETask:
    """One run of the sweep: a config on a dataset, under a profile name (``method``/``seed`` for the engine)."""

    config: VQVAEConfig
    dataset: str
    profile: str = "cpu"
    search_max: int | None = SEARCH_MAX

    @property
    def method(self) -> str:
        return self.config.method

    @property
    def seed(self) -> int:
        return self.config.seed

    def record_config(self) -> dict[str, Any]:
        """The ``config`` block its record will hold (so its path is known before it runs)."""
        return {**self.config.to_dict(), "method": self.config.method, "dataset": self.dataset, "encoder": "conv",
                "profile": self.profile, "protocols": list(HEADLINE_PROTOCOLS), "search_max": self.search_max}

    def path(self, out_dir: str | Path) -> Path:
        return record_path(out_dir, self.record_config())


def variants(ssl_losses: tuple[str, ...] = SSL_LOSSES_SWEPT,
             augmentations: tuple[str, ...] = tuple(AUGMENTATIONS)) -> list[dict[str, str]]:
    """The grid: the naive VQ-VAE, then NC-VQVAE for each SSL loss x augmentation (9 by default)."""
    return [{"variant": "naive"}] + [{"variant": "nc", "ssl_loss": loss, "augmentation": aug}
                                     for loss in ssl_losses for aug in augmentations]


def sweep_tasks(datasets: tuple[str, ...] = DATASETS, seeds: tuple[int, ...] = SEEDS, profile: str = "cpu",
                grid: list[dict[str, str]] | None = None, device: str = "auto") -> list[VQVAETask]:
    """Every task of the sweep, dataset by dataset, seed by seed (so early records already pair up)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    grid = variants() if grid is None else grid
    return [VQVAETask(VQVAEConfig(**{**PROFILES[profile], **cell, "seed": seed, "device": device}), dataset, profile)
            for dataset in datasets for seed in seeds for cell in grid]


def estimate_seconds(tasks: list[VQVAETask]) -> float:
    """A rough one-core cost of ``tasks`` in seconds, scaled from :data:`UWAVE_SECONDS` by size.

    Only for the ``cpu`` profile (a smoke task counts 5 s); an unknown dataset counts as UWave.
    """
    base_train, base_all = SIZES["UWaveGestureLibraryAll"][0] * 945, sum(SIZES["UWaveGestureLibraryAll"][:2]) * 945
    total = 0.0
    for task in tasks:
        if task.profile != "cpu":
            total += 5.0
            continue
        n_train, n_test, length = SIZES.get(task.dataset, SIZES["UWaveGestureLibraryAll"])
        train_s, eval_s = UWAVE_SECONDS[task.config.variant]
        total += 10.0 + train_s * n_train * length / base_train + eval_s * (n_train + n_test) * length / base_all
    return total


def _missing(tasks: list[VQVAETask], out_dir: str | Path) -> list[VQVAETask]:
    return [task for task in tasks if not task.path(out_dir).exists()]


def run_one(task: VQVAETask, out_dir: str | Path) -> dict[str, Any]:
    """Load the data, run :func:`run_vqvae` and write the record atomically."""
    from sslts.data import load_dataset

    train, test = load_dataset(task.dataset, "train"), load_dataset(task.dataset, "test")
    record = run_vqvae(train, test, task.config, task.dataset, profile=task.profile, results_root=out_dir,
                       search_max=task.search_max, protocols=HEADLINE_PROTOCOLS)
    if Path(record["path"]) != task.path(out_dir):  # the plan must see the record it waits for
        raise RuntimeError(f"record written to {record['path']}, expected {task.path(out_dir)}")
    return record


def describe(task: VQVAETask, record: dict[str, Any], seconds: float) -> str:
    probe = next((r["accuracy"] for r in record["stage1"]["probes"]
                  if r["protocol"] == "linear_svm" and r["pooling"] == "mean"), float("nan"))
    s2 = record["stage2"] or {}
    return (f"[vqvae] {task.method} on {task.dataset}, seed {task.seed}: linear SVM {probe:.3f}, "
            f"FID {s2.get('fid', float('nan')):.2f}, CAS {s2.get('cas', float('nan')):.3f} ({seconds:.0f} s)")


def run_vqvae_sweep(tasks: list[VQVAETask], out_dir: str | Path = "results/vqvae", max_runs: int | None = None,
                    engine: str = "local", address: str | None = None, progress: bool = True) -> int:
    """Run the tasks whose record is missing under ``out_dir``; return how many finished."""
    return run_tasks(lambda: _missing(tasks, out_dir), functools.partial(run_one, out_dir=out_dir),
                     key=lambda task: task.path(out_dir), describe=describe, engine=engine, address=address,
                     max_runs=max_runs, progress=progress)


def load_vqvae_records(root: str | Path = "results/vqvae") -> list[dict[str, Any]]:
    """Every NC-VQVAE record under ``root`` (recursively), sorted by path; none when it is missing."""
    root = Path(root)
    if not root.exists():
        return []
    records = []
    for path in sorted(root.rglob("*.json")):
        record = json.loads(path.read_text())
        if record.get("kind") == RECORD_KIND:
            records.append({**record, "path": str(path)})
    return records
