"""The NC-VQVAE sweep: its grid, resumable records under results/vqvae, and the ``sslts vqvae`` command."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import sslts.data
from sslts.cli import main
from sslts.vqvae.sweep import (DATASETS, load_vqvae_records, run_vqvae_sweep, sweep_tasks,
                               variants)

pytestmark = pytest.mark.usefixtures("one_thread")


def _toy(split: str) -> SimpleNamespace:
    """Two classes of length-32 series (sine, ramp) with noise; 24 train / 16 test series."""
    n, seed = (24, 0) if split == "train" else (16, 1)
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 32)
    y = np.arange(n) % 2
    X = np.where(y[:, None] == 0, np.sin(2 * np.pi * 3 * t), 2 * t - 1)[:, None, :]
    return SimpleNamespace(X=(X + 0.1 * rng.normal(size=X.shape)).astype(np.float32), y=y)


def test_the_grid_is_naive_plus_losses_times_augmentations():
    grid = variants()
    assert grid[0] == {"variant": "naive"} and len(grid) == 1 + 2 * 4
    assert {(g["ssl_loss"], g["augmentation"]) for g in grid[1:]} == {
        (loss, aug) for loss in ("vibcreg", "barlow_twins")
        for aug in ("window_warp", "amplitude_resize", "slice_and_resize", "gaussian_noise")}
    tasks = sweep_tasks(seeds=(0, 1))
    assert len(tasks) == len(DATASETS) * 2 * 9 and tasks[0].dataset == "UWaveGestureLibraryAll"
    with pytest.raises(ValueError, match="augmentation must be one of"):
        sweep_tasks(grid=[{"variant": "nc", "augmentation": "rotation"}])
    with pytest.raises(ValueError, match="unknown profile"):
        sweep_tasks(profile="huge")


def test_a_smoke_sweep_writes_records_where_the_plan_looks_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLTS_GIT_COMMIT", "test")
    monkeypatch.setattr(sslts.data, "load_dataset", lambda name, split="train": _toy(split))
    grid = [{"variant": "naive"}, {"variant": "nc", "ssl_loss": "barlow_twins", "augmentation": "window_warp"}]
    tasks = sweep_tasks(("toy",), (0,), "smoke", grid, device="cpu")
    assert run_vqvae_sweep(tasks, tmp_path, progress=False) == 2
    assert all(task.path(tmp_path).exists() for task in tasks)
    assert run_vqvae_sweep(tasks, tmp_path, progress=False) == 0  # nothing missing: nothing runs
    records = load_vqvae_records(tmp_path)
    assert sorted(r["config"]["method"] for r in records) == ["nc-vqvae-barlow_twins-window_warp", "vqvae-naive"]
    for record in records:
        assert record["config"]["search_max"] == 256 and record["config"]["protocols"] == ["linear_svm", "knn"]
        assert {r["protocol"] for r in record["stage1"]["probes"]} == {"linear_svm", "knn"}
        assert "codebook_restarts" in record["stage1"]
    assert load_vqvae_records(tmp_path / "absent") == []


def test_the_command_refuses_an_unknown_augmentation_before_any_run(tmp_path, capsys):
    assert main(["vqvae", "--augmentations", "rotation", "--out", str(tmp_path), "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith("error: augmentation must be one of")
    assert not any(tmp_path.iterdir())
