"""One experiment end to end on a tiny synthetic archive: record contents, reproducibility, sweep."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from sslts.experiment import ExperimentConfig, run_experiment
from sslts.results import load_records
from sslts.sweep import run_sweep


def _config(**overrides) -> ExperimentConfig:
    settings = dict(method="simclr", dataset="Waves", epochs=2, batch_size=16, finetune_epochs=2,
                    label_fractions=(0.1, 1.0), method_params={"proj_hidden": 32, "proj_dim": 16},
                    encoder_params={"channels": (8, 8, 8)}, profile="smoke")
    settings.update(overrides)
    return ExperimentConfig(**settings)


def test_record_has_every_protocol_fraction_and_provenance(waves, tmp_path):
    result = run_experiment(_config(), tmp_path / "records", progress=False)
    record = result.record
    rows = {(e["protocol"], e["label_fraction"]) for e in record["evaluations"]}
    assert rows == {("linear", 1.0), ("svm", 1.0), ("knn", 1.0), ("linear", 0.1), ("finetune", 1.0)}
    assert record["data"]["train_shape"] == [40, 2, 32] and record["data"]["pretrain_series"] == 40
    assert set(record["data"]["sha256"]) == {"Waves_TRAIN.ts", "Waves_TEST.ts"}
    assert len(record["history"]["loss"]) == 2
    for key in ("git_commit", "device", "sslts", "torch", "started_at"):
        assert record[key]
    # The frequency difference is trivial: even two epochs must give a usable linear probe.
    linear = next(e for e in record["evaluations"] if e["protocol"] == "linear" and e["label_fraction"] == 1.0)
    assert linear["accuracy"] >= 0.8
    [stored] = load_records(tmp_path / "records")
    assert stored["evaluations"][0]["accuracy"] == pytest.approx(record["evaluations"][0]["accuracy"])


def test_same_seed_same_numbers_other_seed_other_numbers(waves):
    first = run_experiment(_config(finetune_epochs=0), progress=False).record
    again = run_experiment(_config(finetune_epochs=0), progress=False).record
    other = run_experiment(_config(finetune_epochs=0, seed=1), progress=False).record
    assert first["history"] == again["history"]
    assert [e["accuracy"] for e in first["evaluations"]] == [e["accuracy"] for e in again["evaluations"]]
    assert first["history"] != other["history"]


def test_random_init_baseline_skips_pretraining(waves):
    record = run_experiment(_config(method="random_init"), progress=False).record
    assert record["history"] == {} and record["timing"]["pretrain_s"] == 0.0
    assert any(e["protocol"] == "finetune" for e in record["evaluations"])


def test_max_train_caps_the_training_split_stratified(waves):
    result = run_experiment(_config(max_train=10, finetune_epochs=0), progress=False)
    assert np.bincount(result.train.y).tolist() == [5, 5]


def test_max_train_caps_the_extra_pool_too(waves, monkeypatch):
    import sslts.experiment as experiment
    from sslts.data import load_dataset

    # Waves stands in for UWave: its own train and test splits are its "extra pool".
    import sslts.data.registry as registry

    monkeypatch.setitem(registry.UNLABELLED_POOLS, "Waves", "Waves")
    monkeypatch.setattr(registry, "exclude_uea_test", lambda data: data)
    train = load_dataset("Waves", "train")
    everything = np.concatenate([train.X, load_dataset("Waves", "test").X])

    pool, parts = experiment.pretrain_pool(_config(extra_pool=True, max_train=0), train)
    assert pool.shape == (40 + 80, 2, 32) and len(parts) == 2  # 0: the whole pool

    capped, parts = experiment.pretrain_pool(_config(extra_pool=True, max_train=12), train)
    assert capped.shape == (40 + 12, 2, 32) and len(parts) == 2  # the checksums still cover both files
    extra = capped[40:]
    rows = {row.tobytes() for row in everything}
    assert all(row.tobytes() in rows for row in extra)  # real pool series, none repeated
    assert len({row.tobytes() for row in extra}) == 12
    again, _ = experiment.pretrain_pool(_config(extra_pool=True, max_train=12), train)
    other, _ = experiment.pretrain_pool(_config(extra_pool=True, max_train=12, seed=1), train)
    assert np.array_equal(again, capped) and not np.array_equal(other, capped)


def test_unknown_method_and_bad_augmentation_fail_before_any_work(waves):
    with pytest.raises(ValueError, match="unknown method 'simclrr'"):
        _config(method="simclrr")
    with pytest.raises(ValueError, match="jiter"):
        run_experiment(_config(augmentations="jiter"), progress=False)


def test_sweep_skips_recorded_runs(waves, tmp_path, monkeypatch):
    import sslts.sweep as sweep

    calls = []
    real = sweep.run_experiment

    def counting(config, out_dir, progress, checkpoint_dir):
        calls.append(config.method)
        return real(config, out_dir, progress=False, checkpoint_dir=checkpoint_dir)

    monkeypatch.setattr(sweep, "run_experiment", counting)
    overrides = {"epochs": 1, "finetune_epochs": 0, "max_train": 0, "max_test": 0}
    out = tmp_path / "full"
    first = run_sweep(["random_init", "simclr"], ["Waves"], [0], out, "smoke", overrides, max_runs=1, progress=False)
    assert len(first) == 1 and calls == ["random_init"]
    second = run_sweep(["random_init", "simclr"], ["Waves"], [0], out, "smoke", overrides, progress=False)
    assert len(second) == 1 and calls == ["random_init", "simclr"], "the recorded run is not repeated"
    assert json.loads(second[0].read_text())["config"]["method"] == "simclr"


def test_auto_epochs_budget():
    from sslts.experiment import auto_epochs

    assert auto_epochs(7352, 220_000) == 29   # HAR: 220000 // 7352
    assert auto_epochs(4278, 220_000) == 51   # UWave with the extra pool
    assert auto_epochs(120, 220_000) == 200   # UWave: capped at 200
    assert auto_epochs(100_000, 30_000) == 5  # at least 5


def test_finetune_epochs_are_raised_to_reach_the_minimum_steps():
    from sslts.experiment import finetune_epochs_for

    config = ExperimentConfig(method="simclr", dataset="uwave", finetune_epochs=10, finetune_min_steps=200)
    assert finetune_epochs_for(config, 120, batch_size=64) == 100   # 2 steps an epoch
    assert finetune_epochs_for(config, 1500, batch_size=64) == 10   # 24 steps an epoch: 240 >= 200
    assert finetune_epochs_for(replace(config, finetune_min_steps=0), 120, batch_size=64) == 10


def test_a_field_added_later_stays_out_of_the_identity_at_its_neutral_value():
    config = ExperimentConfig(method="simclr", dataset="uwave")
    assert "finetune_min_steps" not in config.to_dict()
    assert replace(config, finetune_min_steps=5).to_dict()["finetune_min_steps"] == 5


def test_method_fields_added_later_stay_out_of_the_identity_at_their_neutral_value():
    old = ExperimentConfig(method="ssgan", dataset="uwave", method_params={"lr_d": 5e-5})
    new = replace(old, method_params={"lr_d": 5e-5, "diff_augment": False, "r1_gamma": 0.0, "minibatch_std": False})
    assert new.to_dict() == old.to_dict()  # records written before the fields existed keep their paths
    assert new.method_params["r1_gamma"] == 0.0  # the config itself is untouched
    on = replace(old, method_params={"lr_d": 5e-5, "r1_gamma": 10.0, "diff_augment": False})
    assert on.to_dict()["method_params"] == {"lr_d": 5e-5, "r1_gamma": 10.0}


def test_config_round_trips_through_its_record_dict():
    config = ExperimentConfig(method="simclr", dataset="uwave", seed=3, protocols=("linear",),
                              method_params={"temperature": 0.1}, finetune_min_steps=50)
    assert ExperimentConfig.from_dict(config.to_dict()) == config
    plain = ExperimentConfig(method="vicreg", dataset="har")  # finetune_min_steps left out of the dict
    assert "finetune_min_steps" not in plain.to_dict() and ExperimentConfig.from_dict(plain.to_dict()) == plain


def test_a_run_restarted_after_pretraining_resumes_from_its_checkpoint_with_the_same_numbers(waves, tmp_path):
    config = _config(finetune_epochs=0)
    first = run_experiment(config, progress=False, checkpoint_dir=tmp_path / "ckpt").record
    assert "resumed_from_epoch" not in first["timing"]
    assert (tmp_path / "ckpt" / first["checkpoint"]).is_file()
    again = run_experiment(config, progress=False, checkpoint_dir=tmp_path / "ckpt").record
    assert again["timing"]["resumed_from_epoch"] == 2 and again["timing"]["samples_per_s"] is None
    assert again["history"] == first["history"]
    assert [e["accuracy"] for e in again["evaluations"]] == [e["accuracy"] for e in first["evaluations"]]
    assert "checkpoint" not in run_experiment(config, progress=False).record  # none asked, none named


def test_a_sweep_run_stopped_during_evaluation_does_not_pretrain_again(waves, tmp_path, monkeypatch):
    import sslts.experiment as experiment

    real, calls = experiment.evaluate_embeddings, []

    def stopped_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(experiment, "evaluate_embeddings", stopped_once)
    overrides = {"epochs": 2, "finetune_epochs": 0, "max_train": 0, "max_test": 0}
    out, ckpt = tmp_path / "full", tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(["simclr"], ["Waves"], [0], out, "smoke", overrides, progress=False, checkpoint_dir=ckpt)
    assert not out.exists() or not list(out.rglob("*.json")), "no record for an unfinished run"
    [path] = run_sweep(["simclr"], ["Waves"], [0], out, "smoke", overrides, progress=False, checkpoint_dir=ckpt)
    record = json.loads(path.read_text())
    assert record["timing"]["resumed_from_epoch"] == 2 and len(record["history"]["loss"]) == 2


def test_load_pretrained_gives_back_the_records_model(waves, tmp_path):
    from sslts.evaluate import embed
    from sslts.pretrained import load_pretrained

    result = run_experiment(_config(finetune_epochs=0), progress=False, checkpoint_dir=tmp_path / "ckpt")
    loaded = load_pretrained(result.record, tmp_path / "ckpt")
    np.testing.assert_array_equal(embed(loaded.model, loaded.standardised("train")), result.train_z)
    with pytest.raises(ValueError, match="not found"):
        load_pretrained(result.record, tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="names no checkpoint"):
        load_pretrained(run_experiment(_config(finetune_epochs=0), progress=False).record, tmp_path / "ckpt")


def test_readout_benchmark_scores_each_readout_and_reproduces_the_records_svm(waves, tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("readout_cv", Path(__file__).parents[1] / "benchmarks" / "readout_cv.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    overrides = {"epochs": 2, "finetune_epochs": 0, "max_train": 0, "max_test": 0}
    run_sweep(["simclr"], ["Waves"], [0, 1], tmp_path / "full", "smoke", overrides, progress=False,
              checkpoint_dir=tmp_path / "ckpt")
    result = bench.main(["--records", str(tmp_path / "full"), "--checkpoints", str(tmp_path / "ckpt"),
                         "--readouts", "avg,max,bins2-max", "--repeats", "1", "--out", str(tmp_path / "cv.json")])
    assert len(result["rows"]) == 2 * 3
    own = [r for r in result["rows"] if "reproduces_record" in r]
    assert [r["readout"] for r in own] == ["avg", "avg"] and all(r["reproduces_record"] for r in own)
    assert sum(s["chosen_by_cv"] for s in result["summary"]) == 1  # one setting, one choice
    chosen = next(s for s in result["summary"] if s["chosen_by_cv"])
    assert chosen["cv"] == max(s["cv"] for s in result["summary"]) and chosen["seeds"] == 2
    assert json.loads((tmp_path / "cv.json").read_text())["rows"] == result["rows"]
    [first] = sorted((tmp_path / "full").rglob("*s0-*.json"))
    merged = bench.main(["--records", str(first), "--checkpoints", str(tmp_path / "ckpt"), "--readouts", "avg",
                         "--repeats", "1", "--out", str(tmp_path / "cv.json"), "--merge"])
    assert len(merged["rows"]) == 3 + 1  # seed 1's three rows kept, seed 0 redone with one read-out
