"""The time-to-accuracy benchmark: reading a target off the log, the time split, the hook, the CLI.

The pure parts are checked on hand-written logs; the evaluation hook is checked to leave the
training run bit-identical (the benchmark must time the run the book makes, not a perturbed one);
one end-to-end call runs two epochs on the tiny ``Waves`` archive.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sslts.augment import build_pipeline
from sslts.encoders import build_encoder
from sslts.experiment import ExperimentConfig
from sslts.methods import build_method
from sslts.train import TrainConfig, pretrain

_SPEC = importlib.util.spec_from_file_location(
    "bench_time_to_accuracy", Path(__file__).parents[1] / "benchmarks" / "bench_time_to_accuracy.py")
tta = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(tta)


def _row(epoch, accuracy, pretrain_s, embed_s, readout_s, svm_s, elapsed_s):
    return {"epoch": epoch, "accuracy": accuracy, "pretrain_s": pretrain_s, "eval_s": embed_s + readout_s + svm_s,
            "embed_s": embed_s, "readout_s": readout_s, "svm_s": svm_s, "elapsed_s": elapsed_s}


# setup 0.5 s; epoch 10 after 10 s of training, evaluated in 1+2+3 = 6 s (elapsed 16.5); epoch 20
# after 10 more s of training, evaluated in 0.5+1+1.5 = 3 s (elapsed 16.5 + 10 + 3 = 29.5).
LOG = [_row(20, 0.92, 20.0, 0.5, 1.0, 1.5, 29.5), _row(10, 0.90, 10.0, 1.0, 2.0, 3.0, 16.5)]


def test_first_reaching_is_the_earliest_epoch_at_or_above_the_target():
    assert tta.first_reaching(LOG, 0.90)["epoch"] == 10  # equal counts as reached; log order does not matter
    assert tta.first_reaching(LOG, 0.905)["epoch"] == 20
    assert tta.first_reaching(LOG, 0.93) is None


def test_time_split_adds_every_evaluation_so_far_and_names_the_single_evaluation_time():
    split = tta.time_split(LOG, 20, setup_s=0.5)
    assert split == {"setup_s": 0.5, "pretrain_s": 20.0, "eval_s": 9.0, "embed_s": 1.5, "readout_s": 3.0,
                     "svm_s": 4.5, "elapsed_s": 29.5, "one_eval_s": 0.5 + 20.0 + 3.0}
    assert split["setup_s"] + split["pretrain_s"] + split["eval_s"] == split["elapsed_s"]
    assert tta.time_split(LOG, 10, setup_s=0.5)["eval_s"] == 6.0


def test_summarise_says_whether_each_goal_was_met():
    rows = tta.summarise(LOG, [(0.90, 16.0), (0.92, 30.0), (0.95, 100.0), (0.91, None)], setup_s=0.5)
    assert [(r["reached_at_epoch"], r["goal_met"]) for r in rows] == [(10, False), (20, True), (None, False),
                                                                      (20, None)]


def test_eval_points_spread_over_the_run_and_always_end_with_the_last_epoch():
    assert tta.eval_points(166, None) == [42, 83, 125, 166]
    assert tta.eval_points(5, None) == [2, 3, 4, 5]
    assert tta.eval_points(3, None) == [1, 2, 3]
    assert tta.eval_points(50, [20, 10, 20]) == [10, 20, 50]
    with pytest.raises(tta.UsageError, match=r"between 1 and the run's 50 epochs, got \[60\]"):
        tta.eval_points(50, [10, 60])


def test_targets_and_settings_are_parsed_with_readable_errors():
    assert tta.parse_targets(None, "uwave") == [(0.906, 93.0), (0.920, 186.0)]
    assert tta.parse_targets(["0.9:60", "0.95"], "har") == [(0.9, 60.0), (0.95, None)]
    with pytest.raises(tta.UsageError, match="ACCURACY"):
        tta.parse_targets(["high"], "uwave")
    with pytest.raises(tta.UsageError, match=r"in \(0, 1\]"):
        tta.parse_targets(["90"], "uwave")
    with pytest.raises(tta.UsageError, match="no default target"):
        tta.parse_targets(None, "Waves")
    assert tta.parse_key_values(["temporal_bins=8", "pooling=max", "flag=true"], "--x") == {
        "temporal_bins": 8, "pooling": "max", "flag": True}
    with pytest.raises(tta.UsageError, match="--method-param must be KEY=VALUE"):
        tta.parse_key_values(["sim_weight"], "--method-param")


def test_bad_arguments_stop_with_one_line(capsys):
    assert tta.main(["--eval-at", "10,x"]) == 2
    assert tta.main(["--threads", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --eval-at must be comma-separated epochs, e.g. 20,40,80, got '10,x'",
                   "error: --threads must be positive, got 0"]


def _two_classes(n: int = 40, length: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    t = np.linspace(0, 1, length)
    X = np.sin(2 * np.pi * (2 + 3 * y)[:, None] * t)[:, None, :] + 0.1 * rng.normal(size=(n, 1, length))
    return X.astype(np.float32), y


def _train(X: np.ndarray, hook=None):
    torch.manual_seed(0)
    method = build_method("vicreg", build_encoder("cnn", in_channels=1), {"expander_dim": 64})
    cfg = TrainConfig(epochs=3, batch_size=16, warmup_epochs=1, progress=False, num_threads=1)
    result = pretrain(method, X, build_pipeline("jitter,scaling"), cfg, on_epoch_end=hook)
    return result, method.state_dict()


def test_evaluating_during_pretraining_leaves_the_run_bit_identical():
    X, y = _two_classes()
    config = ExperimentConfig(method="vicreg", dataset="none", readouts=("avg", "bins2-max"))
    hook = tta.EvaluateAt([1, 3], tta.Probe(X, y, X, y, config), 0.0, 0.0, bar_write=lambda line: None)
    plain, plain_weights = _train(X)
    hooked, hooked_weights = _train(X, hook)
    assert hooked.loss_history == plain.loss_history
    assert all(torch.equal(plain_weights[k], hooked_weights[k]) for k in plain_weights)
    assert [row["epoch"] for row in hook.log] == [1, 3]
    assert all(row["readout"] in ("avg", "bins2-max") and 0 <= row["accuracy"] <= 1 for row in hook.log)


def test_a_short_run_writes_its_record(waves, tmp_path, capsys):
    out = tmp_path / "tta.json"
    code = tta.main(["--dataset", "Waves", "--epochs", "2", "--eval-at", "1", "--target", "0.5:60",
                     "--readouts", "avg", "--threads", "1", "--method-param", "expander_dim=64",
                     "--no-progress", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    record = json.loads(out.read_text())
    assert [row["epoch"] for row in record["checkpoints"]] == [1, 2]
    assert record["seed"] == 0 and record["config"]["method"] == "vicreg" and record["config"]["epochs"] == 2
    assert record["data"]["sha256"] and record["git_commit"] and "torch" in record["thread_pools"]
    assert "no complete comparison grid" in record["config_origin"] and "epochs" in record["config_origin"]
    assert "target 0.500" in capsys.readouterr().out
