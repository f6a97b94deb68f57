"""The comparison: read-outs chosen on the training split, the grid rule, the baselines, the statistics
and the report's tables, against values worked out by hand."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from sslts import comparison as C
from sslts.baselines import BaselineConfig, run_baseline
from sslts.encoders import build_encoder
from sslts.evaluate.protocols import linear_probe, svm_probe
from sslts.evaluate.readouts import feature_maps, first_best, select_readout, training_cv_score
from sslts.experiment import ExperimentConfig, run_experiment
from sslts.report import comparison as R
from sslts.report.hypotheses import pair_confusion
from sslts.report.stats import average_ranks, mean_interval, paired_test
from sslts.results import record_path, write_record


# ------------------------------------------------------------------------ read-outs and probes
def _order_maps(n_per_class: int = 20, seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """Feature maps (n, 4, 16) whose two classes hold the same burst, early (class 0) or late (class 1):
    the global mean cannot tell them apart, the mean over 4 stretches of time can."""
    rng = np.random.default_rng(seed)
    maps = rng.normal(0, 0.05, size=(2 * n_per_class, 4, 16))
    y = np.repeat([0, 1], n_per_class)
    maps[y == 0, :, 0:4] += 1.0
    maps[y == 1, :, 12:16] += 1.0
    return torch.tensor(maps, dtype=torch.float32), y


def test_the_training_split_chooses_a_binned_readout_when_the_order_of_events_separates_classes():
    maps, y = _order_maps()
    choice = select_readout(maps, y, ("avg", "bins4-avg"))
    assert choice["chosen"] == "bins4-avg"
    assert choice["scores"]["bins4-avg"] == 1.0
    assert choice["scores"]["avg"] < 0.8  # the global mean holds no class information


def test_a_tie_keeps_the_first_candidate():
    maps, y = _order_maps()
    choice = select_readout(maps, y, ("bins4-max", "bins4-avg"))  # both separate perfectly
    assert choice["scores"]["bins4-max"] == choice["scores"]["bins4-avg"] == 1.0
    assert choice["chosen"] == "bins4-max"


def test_scores_apart_by_float_noise_are_a_tie_that_the_earlier_candidate_wins():
    noisy = 0.9916666666666666, 0.9916666666666668  # UWave TTT's two grid values, 2.2e-16 apart
    assert noisy[1] > noisy[0] and first_best(list(noisy)) == 0
    assert first_best([0.8, 0.9]) == 1 and first_best([None, 0.5, 0.5]) == 1 and first_best([None]) is None


def test_training_cv_score_is_none_without_a_stratified_split_and_uses_the_hard_margin_svm_on_tiny_sets():
    z = np.array([[0.0], [1.0], [1.1]])
    assert training_cv_score(z, np.array([0, 1, 1])) is None  # class 0 has one series
    z = np.array([[0.0], [0.1], [1.0], [1.1]])
    assert training_cv_score(z, np.array([0, 0, 1, 1])) == 1.0  # 2 folds, separable


def test_feature_maps_of_a_method_are_its_encoders_map_and_clip_gives_tower_a_only():
    from sslts.methods import MethodContext, build_method

    torch.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(5, 2, 32)).astype(np.float32)
    encoder = build_encoder("cnn", 2, channels=(4, 4, 4))
    simclr = build_method("simclr", encoder, {"proj_hidden": 8, "proj_dim": 4})
    expected = encoder.eval().features(torch.from_numpy(x))
    torch.testing.assert_close(feature_maps(simclr, x), expected)
    context = MethodContext((2, 32), lambda c: build_encoder("cnn", c, channels=(4, 4, 4)))
    clip = build_method("clip", build_encoder("cnn", 2, channels=(4, 4, 4)), {"proj_dim": 4}, context)
    maps = feature_maps(clip, x)
    assert maps.shape == expected.shape  # one tower's width, not two
    pooled = maps.mean(dim=2)
    torch.testing.assert_close(pooled, clip.eval().encode_tower(torch.from_numpy(x), "a"))


def test_a_search_on_a_subsample_refits_the_chosen_c_on_every_training_series():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 1, (60, 3)), rng.normal(1.5, 1, (60, 3))])
    y = np.repeat([0, 1], 60)
    full = svm_probe(z, y, z, y)
    same = svm_probe(z, y, z, y, search_max=1000)  # nothing to subsample: identical
    assert (same.accuracy, same.best_params) == (full.accuracy, full.best_params)
    sub = svm_probe(z, y, z, y, search_max=50)
    assert sub.best_params["n_search"] == 50 and sub.best_params["n_fit"] == 120
    linear = linear_probe(z, y, z, y, search_max=50)
    assert linear.best_params["n_search"] == 50


# ------------------------------------------------------------------------ experiments and grid
def _tiny(**overrides) -> ExperimentConfig:
    settings = dict(method="simclr", dataset="Waves", epochs=2, batch_size=16, finetune_epochs=0,
                    label_fractions=(0.1, 1.0), method_params={"proj_hidden": 32, "proj_dim": 16},
                    encoder_params={"channels": (8, 8, 8)}, profile="compare", readouts=("avg", "bins4-max"),
                    protocols=("svm", "knn"))
    settings.update(overrides)
    return ExperimentConfig(**settings)


def test_an_experiment_with_readouts_records_the_training_splits_choice(waves, tmp_path):
    result = run_experiment(_tiny(), tmp_path, progress=False)
    choice = result.record["readout"]
    assert choice["chosen"] in ("avg", "bins4-max") and set(choice["scores"]) == {"avg", "bins4-max"}
    width = 8 if choice["chosen"] == "avg" else 32
    assert result.train_z.shape == (40, width)
    assert result.record["diagnostics"]["dim"] == 8  # the global mean, whatever the probes chose
    assert result.record["config"]["readouts"] == ["avg", "bins4-max"]


def test_new_fields_at_their_neutral_values_keep_the_identity_of_old_records():
    config = ExperimentConfig(method="simclr", dataset="uwave")
    assert "readouts" not in config.to_dict() and "search_max" not in config.to_dict()
    again = ExperimentConfig.from_dict(_tiny(search_max=10).to_dict())
    assert again == _tiny(search_max=10)


def _fake_record(out, config, score):
    record = {"kind": "experiment", "config": config.to_dict(), "readout": {"chosen": "avg", "scores": {"avg": score}},
              "evaluations": [], "timing": {"total_s": 1.0}}
    write_record(out, record)


def test_the_grid_keeps_the_value_with_the_best_training_score_and_ties_keep_the_papers(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "series_length", lambda dataset: 100)
    first, second = C.grid_configs("simclr", "Waves")
    assert (first.method_params["temperature"], second.method_params["temperature"]) == C.GRIDS["simclr"][1]
    assert C.chosen_config("simclr", "Waves", tmp_path) is None  # grid incomplete
    _fake_record(tmp_path, first, 0.8)
    _fake_record(tmp_path, second, 0.9)
    assert C.chosen_config("simclr", "Waves", tmp_path) == second
    _fake_record(tmp_path, second, 0.8)
    assert C.chosen_config("simclr", "Waves", tmp_path) == first
    _fake_record(tmp_path, second, 0.8 + 2.2e-16)  # float noise is a tie too
    assert C.chosen_config("simclr", "Waves", tmp_path) == first


def test_seeds_beyond_the_first_are_planned_only_at_the_chosen_value(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "series_length", lambda dataset: 100)
    plan = C.pending(["simclr"], ["Waves"], [0, 1, 2], tmp_path)
    assert [(c.seed, c.method_params["temperature"]) for c in plan] == [(0, 0.5), (0, 0.1)]
    first, second = C.grid_configs("simclr", "Waves")
    _fake_record(tmp_path, first, 0.7)
    _fake_record(tmp_path, second, 0.9)
    plan = C.pending(["simclr"], ["Waves"], [0, 1, 2], tmp_path)
    assert [(c.seed, c.method_params["temperature"]) for c in plan] == [(1, 0.1), (2, 0.1)]


def test_masking_methods_get_at_least_two_patches_on_short_series(monkeypatch):
    monkeypatch.setattr(C, "series_length", lambda dataset: 8)
    assert C.base_config("mae", "PenDigits", 0).method_params["patch_size"] == 2
    monkeypatch.setattr(C, "series_length", lambda dataset: 315)
    assert C.base_config("ttt", "uwave", 0).method_params["patch_size"] == 8


def test_skipped_baselines_are_not_planned(tmp_path):
    plan = C.pending(["dtw", "minirocket"], ["har"], [0, 1], tmp_path)
    assert [(c.method, c.seed) for c in plan] == [("minirocket", 0), ("minirocket", 1)]


def test_baselines_record_one_row_per_label_fraction_on_the_same_subsets(waves, tmp_path):
    record = run_baseline(BaselineConfig("supervised_cnn", "Waves", seed=0, label_fractions=(0.1, 1.0)), tmp_path)
    rows = {e["label_fraction"]: e for e in record["evaluations"]}
    assert rows[0.1]["n_labelled"] == 4 and rows[1.0]["n_labelled"] == 40  # 2 of each class, then all
    assert record_path(tmp_path, record["config"]).is_file()
    dtw = run_baseline(BaselineConfig("dtw", "Waves", label_fractions=(1.0,)))
    assert dtw["evaluations"][0]["accuracy"] >= 0.9  # 1 vs 3 cycles: warping cannot confuse them


# ------------------------------------------------------------------------ statistics
def test_mean_interval_matches_the_t_interval_by_hand():
    mean, std, low, high = mean_interval([0.9, 0.92, 0.94])
    half = stats.t.ppf(0.975, 2) * 0.02 / np.sqrt(3)
    assert (mean, std) == pytest.approx((0.92, 0.02)) and (low, high) == pytest.approx((0.92 - half, 0.92 + half))


def test_wilcoxon_of_six_positive_differences_has_the_exact_p_and_full_effect():
    test = paired_test([1.0, 2, 3, 4, 5, 6], [0.0] * 6)
    assert test.p_value == pytest.approx(2 / 64) and test.effect == 1.0 and test.significant
    flat = paired_test([1.0, 2.0], [1.0, 2.0])
    assert flat.p_value == 1.0 and "no significant difference" in flat.sentence("A", "B")


def test_paired_t_is_scipys_and_its_effect_is_cohens_dz():
    a, b = np.array([0.9, 0.91, 0.95, 0.93]), np.array([0.88, 0.9, 0.9, 0.9])
    test = paired_test(a, b, "t")
    d = a - b
    assert test.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert test.effect == pytest.approx(d.mean() / d.std(ddof=1))


def test_average_ranks_give_ties_the_mean_rank():
    assert average_ranks(np.array([[0.9, 0.8, 0.8], [0.7, 0.9, 0.5]])).tolist() == [1.5, 1.75, 2.75]


# ------------------------------------------------------------------------ report
def _frame() -> pd.DataFrame:
    rows = []
    accuracy = {("simclr", "A"): [0.8, 0.82], ("vicreg", "A"): [0.9, 0.9], ("minirocket", "A"): [0.95, 0.93],
                ("simclr", "B"): [0.6, 0.6], ("vicreg", "B"): [0.5, 0.7], ("minirocket", "B"): [0.7, 0.7]}
    for (method, dataset), values in accuracy.items():
        for seed, value in enumerate(values):
            protocol = "supervised" if method == "minirocket" else "svm"
            rows.append({"dataset": dataset, "method": method, "seed": seed, "protocol": protocol,
                         "label_fraction": 1.0, "accuracy": value, "total_s": 10.0, "readout": "avg",
                         "grid_value": None})
    return pd.DataFrame(rows)


def test_the_main_table_bolds_each_columns_best_and_ranks_methods(monkeypatch):
    monkeypatch.setattr(R, "SUITE", ("A", "B"))
    monkeypatch.setattr(R, "FULL_SEEDS", 2)
    table = R.main_table(_frame())
    assert table.loc["MiniRocket", "A"] == "**0.940 ± 0.014**"
    assert table.loc["SimCLR", "B"] == "0.600 ± 0.000"
    # A: ranks 3, 2, 1; B: SimCLR and VICReg tie at 0.6 (2.5 each), MiniRocket 1
    assert table["mean rank"].tolist() == ["2.75", "2.25", "1.00"]  # SimCLR, VICReg, MiniRocket


def test_a_dataset_is_complete_only_with_every_seed_and_ttt_is_ranked_apart(monkeypatch):
    monkeypatch.setattr(R, "SUITE", ("A", "B"))
    frame = _frame()
    assert R.complete_datasets(frame, ("simclr", "vicreg", "minirocket")) == []  # 2 of 5 seeds
    assert R.complete_datasets(frame, ("simclr", "vicreg", "minirocket"), min_seeds=2) == ["A", "B"]
    monkeypatch.setattr(R, "FULL_SEEDS", 2)
    ttt = frame[frame["method"] == "vicreg"].assign(method="ttt", accuracy=1.0)
    frame = pd.concat([frame, ttt], ignore_index=True)
    table = R.main_table(frame)
    assert table.loc["TTT (joint, labels)", "mean rank"] == "apart"
    assert table["mean rank"].tolist()[:2] == ["2.75", "2.25"]  # as without TTT, which would rank first
    summary = R.rank_summary(frame)
    assert "ttt" not in summary["methods"] and R.what_to_use(frame)[1].startswith("Best self-supervised method: VICReg")
    pairs = R.pairwise_table(frame)
    assert len(pairs) == 3 and set(pairs.columns) >= {"pair", "p", "Holm p", "differ"}


def test_pair_confusion_counts_both_directions_of_each_pair():
    confusion = [[8, 2, 0], [1, 9, 0], [0, 0, 10]]
    assert pair_confusion(confusion, [(0, 1)]) == pytest.approx(3 / 20)


def test_cited_figures_name_their_source():
    cited = R.cited()
    assert not cited.empty and cited["source"].str.len().min() > 10
    assert json.loads(R.CITED_PATH.read_text())["figures"]


def test_minirocket_pads_series_shorter_than_its_kernels():
    from sslts.baselines import FIT_PREDICT

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    X = rng.normal(size=(20, 2, 8)).astype(np.float32)
    X[y == 1, :, 4:] += 3.0  # class 1 rises in its second half
    predicted = FIT_PREDICT["minirocket"](X, y, X, y, 0, "cpu")
    assert predicted.shape == (20,) and (predicted == y).mean() >= 0.9


def test_label_fractions_that_give_the_same_series_are_shown_and_left_out_of_the_curve(monkeypatch):
    monkeypatch.setattr(R, "SUITE", ("A", "B"))
    rows = []
    for dataset, counts in (("A", {0.01: 2, 0.05: 2, 0.1: 4, 1.0: 40}), ("B", {0.01: 2, 0.05: 10, 0.1: 20, 1.0: 200})):
        for fraction, n in counts.items():
            rows.append({"dataset": dataset, "method": "simclr", "seed": 0, "protocol": "linear", "label_fraction": fraction,
                         "n_labelled": n, "accuracy": 0.5, "confusion": [[1, 0], [0, 1]]})
    frame = pd.DataFrame(rows)
    counts = R.labelled_counts(frame, ["A", "B"])
    assert counts.loc["A", 0.05] == "2 (1)" and counts.loc["B", 1.0] == "200 (100)"  # 2 classes
    assert R.distinct_fraction_datasets(frame, ["A", "B"]) == ["B"]  # A's 1 % and 5 % are the same two series


def test_the_page_table_puts_problems_in_rows_with_narrow_method_columns(monkeypatch):
    monkeypatch.setattr(R, "SUITE", ("A", "B"))
    monkeypatch.setattr(R, "FULL_SEEDS", 2)
    table = R.problems_table(_frame())
    assert list(table.columns) == ["SimCLR", "VICReg", "MiniRocket"]
    assert table.loc["A", "MiniRocket"] == "**0.940**" and table.loc["B", "SimCLR"] == "0.600"
    assert table.loc["mean rank"].tolist() == ["2.75", "2.25", "1.00"]
    assert not table.isna().any().any()
