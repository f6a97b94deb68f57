"""Few-shot runs: k labelled series per class, nested draws, no label-based choice, and old records' identity."""

from __future__ import annotations

import numpy as np
import pytest

from sslts import comparison as C
from sslts import fewshot as F
from sslts.baselines import BaselineConfig, run_baseline
from sslts.evaluate import label_fraction_indices, label_shot_indices
from sslts.experiment import ExperimentConfig, run_experiment
from sslts.params import ParameterError
from sslts.results import record_path

Y = np.array([0] * 6 + [1] * 3 + [2] * 1)


def test_shots_keep_k_per_class_and_all_of_a_smaller_class():
    idx = label_shot_indices(Y, 2, seed=3)
    assert np.bincount(Y[idx]).tolist() == [2, 2, 1]
    assert np.bincount(Y[label_shot_indices(Y, 5, seed=3)]).tolist() == [5, 3, 1]


def test_shots_are_nested_and_draw_the_same_permutations_as_fractions():
    one, two, five = (set(label_shot_indices(Y, k, seed=7)) for k in (1, 2, 5))
    assert one <= two <= five
    # A half of each class (3, 2 and 1 series here) is the prefix the shots draw from as well.
    half = set(label_fraction_indices(Y, 0.5, seed=7))
    assert one <= half and set(label_shot_indices(Y, 2, seed=7)) & set(np.flatnonzero(Y == 0)) <= half
    assert not np.array_equal(label_shot_indices(Y, 2, seed=7), label_shot_indices(Y, 2, seed=8))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_shots_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="positive integer"):
        label_shot_indices(Y, bad)


def test_label_shots_stay_out_of_the_identity_of_old_records():
    assert "label_shots" not in ExperimentConfig(method="simclr", dataset="uwave").to_dict()
    assert "label_shots" not in BaselineConfig("minirocket", "uwave").to_dict()
    config = ExperimentConfig(method="simclr", dataset="uwave", label_shots=(1, 2))
    assert config.to_dict()["label_shots"] == [1, 2]
    assert ExperimentConfig.from_dict(config.to_dict()) == config


def test_few_shot_runs_use_the_papers_value_and_the_encoders_own_pool(monkeypatch):
    monkeypatch.setattr(C, "series_length", lambda dataset: 100)
    config = F.config("simclr", "Waves", 3)
    assert config.method_params["temperature"] == C.GRIDS["simclr"][1][0]
    assert (config.readouts, config.protocols, config.label_shots, config.seed) == ((), ("linear",), F.SHOTS, 3)
    assert config.profile == F.PROFILE and config.pretrain_budget == C.BUDGET
    baseline = F.config("dtw", "Waves", 2)
    assert (baseline.label_shots, baseline.label_fractions, baseline.profile) == (F.SHOTS, (1.0,), F.PROFILE)


def test_a_run_records_one_row_per_shot_count(waves, tmp_path):
    config = ExperimentConfig(method="simclr", dataset="Waves", epochs=1, batch_size=16, finetune_epochs=0,
                              label_fractions=(1.0,), label_shots=(1, 5), protocols=("linear",),
                              method_params={"proj_hidden": 16, "proj_dim": 8}, encoder_params={"channels": (8, 8, 8)})
    rows = [e for e in run_experiment(config, tmp_path, progress=False).record["evaluations"] if e.get("label_shots")]
    assert [(e["label_shots"], e["n_labelled"], e["label_fraction"]) for e in rows] == [(1, 2, None), (5, 10, None)]
    record = run_baseline(BaselineConfig("dtw", "Waves", profile=F.PROFILE, label_fractions=(1.0,), label_shots=(2,)),
                          tmp_path)
    assert [(e["label_shots"], e["n_labelled"]) for e in record["evaluations"][1:]] == [(2, 4)]
    assert record_path(tmp_path, record["config"]).is_file()


def test_the_sweep_refuses_a_dataset_where_five_shots_are_every_label_and_resumes(waves, tmp_path, monkeypatch):
    assert F.min_class_count("Waves") == 20
    assert F.run_few_shot(["dtw"], ["Waves"], [0, 1], tmp_path, progress=False) == 2
    assert F.run_few_shot(["dtw"], ["Waves"], [0, 1], tmp_path, progress=False) == 0  # both records exist
    monkeypatch.setattr(F, "min_class_count", lambda dataset: 5)
    with pytest.raises(ParameterError, match="every label"):
        F.run_few_shot(["dtw"], ["Waves"], [0], tmp_path, progress=False)


def _fake(out, method, dataset, seed, accuracies, full):
    from sslts.results import write_record

    config = F.config(method, dataset, seed) if method in ("minirocket", "dtw", "supervised_cnn") else None
    config = config.to_dict() if config else {"method": method, "dataset": dataset, "seed": seed, "profile": F.PROFILE,
                                              "encoder": "cnn", "label_shots": list(F.SHOTS)}
    evaluations = [{"protocol": "linear", "label_fraction": 1.0, "accuracy": full}]
    evaluations += [{"protocol": "linear", "label_fraction": None, "label_shots": k, "accuracy": a}
                    for k, a in zip(F.SHOTS, accuracies)]
    write_record(out, {"kind": "experiment", "config": config, "evaluations": evaluations})


def test_the_few_shot_table_averages_seeds_then_datasets_and_pairs_by_dataset_and_seed(tmp_path):
    from sslts.report import fewshot as RF

    for seed in range(3):
        _fake(tmp_path, "vicreg", "A", seed, (0.5, 0.6, 0.7), 0.9)
        _fake(tmp_path, "vicreg", "B", seed, (0.3 + 0.1 * seed, 0.4, 0.5), 0.8)
        _fake(tmp_path, "minirocket", "A", seed, (0.4, 0.5, 0.6), 0.95)
        _fake(tmp_path, "minirocket", "B", seed, (0.2, 0.3, 0.4), 0.85)
    frame = RF.load(tmp_path)
    assert RF.complete_datasets(frame, ("vicreg", "minirocket"), seeds=3) == ["A", "B"]
    tab = RF.table(frame, ["A", "B"])
    assert list(tab.columns) == [1, 2, 5, "all"] and list(tab.index) == ["VICReg", "MiniRocket"]
    assert tab.loc["VICReg", 1] == pytest.approx((0.5 + 0.4) / 2)  # B's seeds average 0.4
    assert tab.loc["MiniRocket", "all"] == pytest.approx(0.9)
    test = RF.paired(frame, ["A", "B"], "vicreg", "minirocket", 2)
    assert test.n == 6 and test.effect == pytest.approx(1.0)  # VICReg ahead on every pair
    assert RF.best_ssl(frame, ["A", "B"], 5, ("vicreg", "simclr")) == "vicreg"


def test_a_method_whose_pretraining_sees_every_label_has_no_few_shot_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "series_length", lambda dataset: 100)
    assert C.PRETRAINS_WITH_LABELS == ("ttt",)  # the joint classifier of test-time training
    plan = list(F._tasks(["ttt", "simclr", "dtw"], ["Waves"], [0], tmp_path))
    assert [t.method for t in plan] == ["simclr", "dtw"]


def test_clips_few_shot_probe_reads_tower_a_alone_without_looking_at_labels(waves, tmp_path, monkeypatch):
    monkeypatch.setattr(C, "series_length", lambda dataset: 100)
    assert F.config("clip", "Waves", 0).readouts == ("avg",) and F.config("vicreg", "Waves", 0).readouts == ()
    config = ExperimentConfig(method="clip", dataset="Waves", epochs=1, batch_size=16, finetune_epochs=0,
                              label_fractions=(1.0,), label_shots=(1,), protocols=("linear",), readouts=("avg",),
                              method_params={"proj_dim": 8}, encoder_params={"channels": (8, 8, 8)})
    result = run_experiment(config, tmp_path, progress=False)
    assert result.train_z.shape == (40, 8)  # one tower; the concatenation of both would be 16 wide
    assert result.record["readout"]["scores"] == {"avg": None}  # a single read-out is not scored
