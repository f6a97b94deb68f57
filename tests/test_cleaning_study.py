"""The cleaning study: exact injection rates, no leakage from the test split, verdict words from
hand-made paired numbers, and a sweep that skips what it has recorded."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sslts.cleaning_study import (Condition, StudyRun, claim_table, claim_verdict, failing_cells, inject_gaps, inject_mcar,
                                  inject_spikes, prepare_arrays, run_study)
from sslts.cleaning_study import runs as study_runs
from sslts.data import cleaning


def _series(n: int = 10, c: int = 3, length: int = 50, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, c, length)).astype(np.float32)


# ----------------------------------------------------------------------------------- injection
@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
def test_mcar_masks_exactly_the_rate_and_leaves_the_input_alone(rate):
    X = _series()
    out = inject_mcar(X, rate, np.random.default_rng(1))
    assert np.isnan(out).sum() == round(rate * X.size)  # 1500 values: 75, 300, 750
    assert not np.isnan(X).any()
    np.testing.assert_array_equal(out[~np.isnan(out)], X.astype(np.float64)[~np.isnan(out)])


@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
def test_gaps_hit_the_rate_exactly_and_are_one_contiguous_run_across_channels(rate):
    X = _series(n=7, length=33)  # 7 * 33 * rate is not a multiple of 7: lengths must differ by one
    out = inject_gaps(X, rate, np.random.default_rng(2))
    nan = np.isnan(out)
    assert nan.sum() == round(rate * 7 * 33) * 3
    assert (nan == nan[:, :1]).all()  # every channel of a series misses the same steps
    lengths = []
    for row in nan[:, 0]:
        steps = np.flatnonzero(row)
        assert steps.size == 0 or (np.diff(steps) == 1).all()  # one run, no holes
        lengths.append(steps.size)
    assert max(lengths) - min(lengths) <= 1


def test_spikes_move_exactly_the_rate_of_values_by_the_magnitude():
    X = _series()
    out = inject_spikes(X, 0.01, np.random.default_rng(3), magnitude=8.0)
    moved = out != X.astype(np.float64)
    assert moved.sum() == 15
    std = X.astype(np.float64).transpose(1, 0, 2).reshape(3, -1).std(axis=1)
    channel = np.nonzero(moved)[1]
    np.testing.assert_allclose(np.abs(out - X)[moved], 8.0 * std[channel], rtol=1e-9)


def test_injection_is_seeded_and_depends_on_the_damage_not_on_the_cleaning():
    X = _series()
    knn = Condition("toy", missing="mcar", missing_rate=0.2, imputer="knn")
    mean = Condition("toy", missing="mcar", missing_rate=0.2, imputer="mean")
    from sslts.cleaning_study.conditions import inject

    a, b = inject(knn, X, "train", 4), inject(mean, X, "train", 4)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))  # same damage for both imputers
    assert not np.array_equal(np.isnan(a), np.isnan(inject(knn, X, "train", 5)))  # another seed
    assert not np.array_equal(np.isnan(a), np.isnan(inject(knn, X, "test", 4)))  # another split


# ------------------------------------------------------------------------------------ leakage
@pytest.mark.parametrize("condition", [
    Condition("toy", missing="mcar", missing_rate=0.2, imputer="knn"),
    Condition("toy", missing="gaps", missing_rate=0.2, imputer="mean"),
    Condition("toy", spike_rate=0.02, detector="iqr", action="clip"),
    Condition("toy", scaling="minmax"),
    Condition("toy", channels="drop"),
])
def test_fitted_steps_never_see_the_test_split(condition):
    train, test = _series(seed=0), _series(seed=1)
    other_test = test * 100.0 + 7.0  # wildly different test values
    a_train, a_test, a_scaler, a_report = prepare_arrays(condition, train, test, seed=0)
    b_train, b_test, b_scaler, b_report = prepare_arrays(condition, train, other_test, seed=0)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_scaler.transform(a_train), b_scaler.transform(b_train))
    assert a_report.get("outliers_train") == b_report.get("outliers_train")
    assert not np.isnan(a_test).any() and not np.isnan(a_train).any()


def test_mean_imputation_fills_test_gaps_with_the_training_mean():
    train = np.ones((4, 1, 10), dtype=np.float32)
    test = np.full((4, 1, 10), 50.0, dtype=np.float32)
    condition = Condition("toy", missing="mcar", missing_rate=0.5, imputer="mean")
    _, cleaned_test, _, _ = prepare_arrays(condition, train, test, seed=0)
    assert set(np.unique(cleaned_test)) == {1.0, 50.0}  # the test's own 50s never fill its holes


def test_decorrelation_drops_the_later_channel_of_each_copied_pair():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 2, 64))
    level = rng.normal(size=(20, 1, 1)) * 10  # a per-series offset: pooled r is low, within-series r high
    X = np.concatenate([base, base[:, :1] + level + 0.01 * rng.normal(size=(20, 1, 64))], axis=1)
    corr = cleaning.series_channel_correlation(X)
    assert corr[0, 2] > 0.99 and abs(corr[0, 1]) < 0.3
    assert cleaning.decorrelated_channels(corr, 0.9) == [0, 1]
    assert cleaning.decorrelated_channels(np.eye(3), 0.9) == [0, 1, 2]


def test_the_weaker_channel_choice_keeps_the_one_whose_level_tells_the_classes_apart():
    # Channel 2 copies channel 0's movement plus a class-dependent level (HAR's total acceleration
    # against its body acceleration): dropping the later channel loses the level, dropping the
    # weaker one keeps it.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    base = rng.normal(size=(40, 2, 64))
    X = np.concatenate([base, base[:, :1] + 5.0 * y[:, None, None] + 0.01 * rng.normal(size=(40, 1, 64))], axis=1)
    scores = cleaning.channel_separability(X, y)
    assert scores[2] > 100 * max(scores[0], scores[1])
    corr = cleaning.series_channel_correlation(X)
    assert cleaning.decorrelated_channels(corr, 0.9) == [0, 1]
    assert cleaning.decorrelated_channels(corr, 0.9, scores) == [1, 2]
    train, _, _, report = prepare_arrays(Condition("toy", channels="drop-weaker"), X, X[:4], seed=0, y_train=y)
    assert report["channels_kept"] == [1, 2] and train.shape[1] == 2 and len(report["channel_separability"]) == 3
    with pytest.raises(ValueError, match="training labels"):
        prepare_arrays(Condition("toy", channels="drop-weaker"), X, X[:4], seed=0)
    assert Condition("toy", channels="drop-weaker").name == "decorrelated-weaker"


def test_condition_names_and_their_checks():
    assert Condition().name == "clean"
    assert Condition(scaling="none").name == "scale-none"
    assert Condition(spike_rate=0.01, detector="iqr", action="clip").name == "spikes1-iqr-clip"
    with pytest.raises(ValueError, match="imputer"):
        Condition(missing="mcar", missing_rate=0.2)
    with pytest.raises(ValueError, match="needs a detector"):
        Condition(spike_rate=0.01, action="clip")
    with pytest.raises(ValueError, match="scaling must be one of"):
        Condition(scaling="robust")


# ----------------------------------------------------------------------------------- verdicts
def _frame(reference: list[float], treatments: dict[str, list[float]], method: str = "simclr") -> pd.DataFrame:
    rows = [{"condition": "scale-none", "dataset": "toy", "method": method, "seed": s, "accuracy": a}
            for s, a in enumerate(reference)]
    for name, values in treatments.items():
        rows += [{"condition": name, "dataset": "toy", "method": method, "seed": s, "accuracy": a}
                 for s, a in enumerate(values)]
    return pd.DataFrame(rows)


SCALING = {"scaling": [Condition("toy", scaling="none"), Condition("toy"), Condition("toy", scaling="minmax")]}
NONE = [0.70, 0.72, 0.71, 0.69, 0.70]
BETTER = [0.80, 0.83, 0.80, 0.79, 0.81]  # +0.10 +0.11 +0.09 +0.10 +0.11: paired t p ~ 1e-6
SAME = [0.71, 0.71, 0.70, 0.70, 0.71]  # +0.01 -0.01 -0.01 +0.01 +0.01: p ~ 0.6
WORSE = [0.60, 0.61, 0.62, 0.58, 0.61]


def test_verdict_confirmed_when_every_cell_is_significantly_better():
    table = claim_table(_frame(NONE, {"clean": BETTER, "scale-minmax": BETTER}), "scaling", SCALING)
    assert list(table["word"]) == ["supported", "supported"]
    assert table["p_value"].max() < 1e-4 and (table["cohens_dz"] > 5).all()
    assert (table["wilcoxon_p"] == 0.0625).all()  # the smallest Wilcoxon p with 5 pairs
    assert claim_verdict(table, "raises") == "confirmed"


def test_verdict_not_confirmed_and_depends_on():
    table = claim_table(_frame(NONE, {"clean": SAME, "scale-minmax": WORSE}), "scaling", SCALING)
    assert list(table["word"]) == ["equivalent", "contradicted"]  # SAME is within 0.02 of NONE (TOST)
    assert claim_verdict(table, "raises") == "not confirmed (1 of 2 cells significantly the other way)"
    # Matching the reference holds where equivalence is shown: the z-score only.
    assert claim_verdict(table, "recovers") == "depends on the scaling (holds for zscore; not for minmax)"
    assert table["holds"].tolist() == [False, False]  # the scaling claim is a "raises" claim
    low, high = sorted(table["p_value"])  # Holm over two cells: 2 x the smaller, then the running max
    assert sorted(table["holm_p"]) == pytest.approx([min(1, 2 * low), max(min(1, 2 * low), high)])
    assert failing_cells(table, "recovers") == ["scale-minmax (simclr)"]
    mixed = claim_table(_frame(NONE, {"clean": BETTER, "scale-minmax": SAME}), "scaling", SCALING)
    assert claim_verdict(mixed, "raises") == "depends on the scaling (holds for zscore; not for minmax)"


NOISY_DROP = [0.64, 0.72, 0.66, 0.70, 0.64]  # -0.06 0 -0.05 +0.01 -0.06: mean -0.032, p ~ 0.06


def test_recovering_needs_equivalence_shown_and_a_claim_opposed_everywhere_is_contradicted():
    table = claim_table(_frame(NONE, {"clean": NOISY_DROP, "scale-minmax": NOISY_DROP}), "scaling", SCALING)
    assert list(table["word"]) == ["not supported"] * 2 and (table["p_value"] > 0.05).all()
    assert (table["tost_p"] > 0.05).all()  # not significantly worse, yet not shown equivalent either
    assert claim_verdict(table, "recovers") == "not confirmed"
    opposed = claim_table(_frame(NONE, {"clean": WORSE, "scale-minmax": WORSE}), "scaling", SCALING)
    assert claim_verdict(opposed, "raises") == "contradicted" == claim_verdict(opposed, "recovers")


def test_verdict_depends_on_the_model_and_untested_with_one_seed():
    frame = pd.concat([_frame(NONE, {"clean": BETTER, "scale-minmax": BETTER}, "simclr"),
                       _frame(NONE, {"clean": SAME, "scale-minmax": SAME}, "supervised_cnn")])
    table = claim_table(frame, "scaling", SCALING)
    assert claim_verdict(table, "raises") == "depends on the model (holds for simclr; not for supervised_cnn)"
    # No single factor splits these four cells: the verdict counts where the claim holds.
    tangled = claim_table(pd.concat([_frame(NONE, {"clean": BETTER, "scale-minmax": SAME}, "simclr"),
                                     _frame(NONE, {"clean": SAME, "scale-minmax": BETTER}, "supervised_cnn")]),
                          "scaling", SCALING)
    assert claim_verdict(tangled, "raises") == "depends on the condition (holds in 2 of 4 cells)"
    assert failing_cells(tangled, "raises") == ["clean (supervised_cnn)", "scale-minmax (simclr)"]
    one_seed = claim_table(_frame(NONE[:1], {"clean": BETTER[:1], "scale-minmax": BETTER[:1]}), "scaling", SCALING)
    assert claim_verdict(one_seed, "raises") == "untested"


# -------------------------------------------------------------------------------------- sweep
def test_sweep_runs_each_missing_record_once_then_skips(tmp_path, monkeypatch):
    made = []

    def fake_run_one(run, out_dir):
        made.append(run)
        record = {"kind": "experiment", "config": run.config().to_dict(), "evaluations": [],
                  "condition": {**run.condition.to_dict(), "name": run.condition.name}}
        run.path(out_dir).parent.mkdir(parents=True, exist_ok=True)
        run.path(out_dir).write_text(json.dumps(record))
        return record

    monkeypatch.setattr(study_runs, "run_one", fake_run_one)
    runs = study_runs.all_runs(seeds=(0, 1), dataset="Waves", claims=("scaling", "smoothing"))
    assert len(runs) == 2 * 4 * 2  # seeds x (none, zscore=clean, minmax, smooth) x models
    assert run_study(tmp_path, runs, progress=False) == len(runs)
    assert run_study(tmp_path, runs, progress=False) == 0  # everything recorded: nothing runs
    assert len(made) == len(runs)
    made.clear()
    runs[3].path(tmp_path).unlink()
    assert run_study(tmp_path, runs, progress=False) == 1 and made == [runs[3]]


def test_one_real_run_on_tiny_data_records_its_condition(tmp_path, waves, one_thread):
    run = StudyRun(Condition("Waves", missing="gaps", missing_rate=0.2, imputer="fill"), "simclr", 0, budget=10)
    assert run_study(tmp_path, [run], progress=False) == 1
    record = json.loads(run.path(tmp_path).read_text())
    assert record["condition"]["name"] == "gaps20-fill" and record["config"]["seed"] == 0
    assert record["cleaning"]["missing_train"] == pytest.approx(round(0.2 * 40 * 32) / (40 * 32))
    assert record["pretrain_epochs"] == 5 and "git_commit" in record and record["data"]["sha256"]
    assert run_study(tmp_path, [run], progress=False) == 0


def test_epochs_to_converge_and_the_tables_of_choices_and_costs():
    from sslts.cleaning_study.tables import channel_choices, cost_table, epochs_to_converge

    assert epochs_to_converge([4.0, 2.0, 1.1, 1.0, 1.05]) == 3  # 95 % of the fall 4 -> 1 is reached at 1.15
    assert epochs_to_converge([1.0, 1.2]) is None and epochs_to_converge([2.0]) is None
    records = [{"condition": {"name": "decorrelated", "dataset": "toy", "channels": "drop"}, "config": {"seed": s,
                "method": "simclr"}, "cleaning": {"channels_kept": [0, 1]}, "history": {"loss": [4.0, 2.0, 1.1, 1.0]},
                "timing": {"total_s": 10.0 + s, "pretrain_s": 5.0}} for s in range(2)]
    choices = channel_choices(records, {"toy": ("a", "b", "c")})
    assert choices.to_dict("records") == [{"condition": "decorrelated", "dropped": "c", "seeds": [0, 1]}]
    costs = cost_table(records).loc[("decorrelated", "simclr")]
    assert (costs["runs"], costs["run (s)"], costs["epochs to converge"]) == (2, 10.5, 3)
