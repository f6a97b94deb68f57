"""benchmarks/gpu_check.py: its plumbing on the CPU (``--device cpu --tiny``) on the synthetic waves data."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _driver():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_cpu_run_writes_a_summary_with_every_key(waves, tmp_path, monkeypatch, one_thread):
    monkeypatch.setenv("SSLTS_GIT_COMMIT", "test")  # no git call from the records' provenance
    out = tmp_path / "out"
    summary = _driver().main(["--device", "cpu", "--tiny", "--methods", "simclr", "--datasets", "Waves",
                              "--out", str(out), "--cpu-records", str(tmp_path / "no_records")])
    written = json.loads((out / "gpu_check_summary.json").read_text())
    assert written["runs"] == json.loads(json.dumps(summary["runs"], default=str))
    assert {"kind", "device", "gpu", "mixed_precision", "scaled", "runs", "failures", "provenance",
            "book_estimate", "wall_s"} <= set(written)
    assert written["failures"] == [] and written["mixed_precision"] is False and written["tiny"] is True
    assert "note" in written["scaled"] and written["provenance"]["git_commit"] == "test"
    (run,) = written["runs"]
    assert {"method", "dataset", "config_hash", "wall_s", "pretrain_samples_per_s", "peak_gpu_memory_mb",
            "accuracy", "cpu_record", "deviations"} <= set(run)
    assert (run["method"], run["dataset"], run["cpu_record"], run["peak_gpu_memory_mb"]) == ("simclr", "Waves", None, None)
    assert {"linear", "svm", "knn"} <= set(run["accuracy"])
    assert list((out / "records").rglob("simclr-*.json"))  # the run's own record
    estimate = written["book_estimate"]
    assert {"sequential_s", "goal_s", "runs_counted", "runs_not_measured"} <= set(estimate)


def test_cuda_without_cuda_stops_with_one_line(monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as stop:
        _driver().main(["--device", "cuda"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no usable CUDA device" in err


def test_scaling_touches_only_what_changes_the_run():
    from sslts.experiment import ExperimentConfig

    driver = _driver()
    full = ExperimentConfig(method="simclr", dataset="uwave", profile="full", epochs=0, pretrain_budget=220_000)
    same, deviations = driver.scaled_config(full, 0.25, 1000, n_train=120, n_pool=120)  # 200 epochs either way
    assert same == full and deviations == {}
    scaled, deviations = driver.scaled_config(full, 0.25, 1000, n_train=7352, n_pool=7352)
    assert scaled.pretrain_budget == 55_000 and scaled.search_max == 1000
    assert deviations["pretrain_budget"]["epochs_full"] == 29 and deviations["pretrain_budget"]["epochs_run"] == 7
