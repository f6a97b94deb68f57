"""Transfer: sources, length and channel matching, no leak of the target's test split, records, resume, report."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from sslts.data.har import HAR_CHANNELS
from sslts.data.registry import TimeSeriesData
from sslts.encoders import build_encoder
from sslts.results import record_path, write_record
from sslts.transfer import run as run_module
from sslts.transfer import sources as S
from sslts.transfer import sweep as W
from sslts.transfer import (ChannelIndependent, TransferConfig, build_pool, resample_length, run_transfer,
                            run_transfer_sweep, to_univariate)
from sslts.report import transfer as R

TINY = {"pretrain_budget": 200, "finetune_steps": 2, "protocols": ("linear", "knn"),
        "method_params": {"proj_hidden": 16, "proj_dim": 8}, "encoder_params": {"channels": (8, 8, 8)}}


def _fake(name: str, n: int, channels: int, length: int, seed: int = 0, channel_names=None) -> TimeSeriesData:
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, channels, length)) * np.arange(1, channels + 1)[None, :, None] + 5).astype(np.float32)
    return TimeSeriesData(name=name, split="train", X=X, y=np.arange(n) % 2, class_names=("a", "b"),
                          channel_names=channel_names or tuple(f"dim_{i}" for i in range(channels)),
                          provenance={"files": {f"{name}_TRAIN.ts": "0" * 64}})


# ----------------------------------------------------------------------------- sources
def test_har_source_is_the_three_total_acc_channels_resampled_to_the_targets_length(monkeypatch):
    har = _fake("har", 20, 9, 128, channel_names=HAR_CHANNELS)
    monkeypatch.setattr(S, "load_dataset", lambda name, split: har)
    assert [HAR_CHANNELS[i] for i in S.HAR_TOTAL_ACC] == ["total_acc_x", "total_acc_y", "total_acc_z"]
    target = S.load_target("har", "train")
    assert target.X.shape == (20, 3, 128) and target.channel_names == ("total_acc_x", "total_acc_y", "total_acc_z")
    np.testing.assert_array_equal(target.X, har.X[:, 6:9])
    pool, parts = build_pool("har", "uwave", 315, 3, cap=0, seed=0)  # HAR -> UWave's 315 steps
    assert pool.shape == (20, 3, 315) and pool.dtype == np.float32 and parts[0].channel_names[0] == "total_acc_x"
    np.testing.assert_allclose(pool[:, :, [0, -1]], har.X[:, 6:9][:, :, [0, -1]], rtol=1e-6)


def test_resampling_keeps_the_end_points_and_a_straight_line_straight():
    ramp = np.linspace(0, 6, 7, dtype=np.float32).reshape(1, 1, 7)  # 0, 1, ..., 6
    np.testing.assert_allclose(resample_length(ramp, 13)[0, 0], np.linspace(0, 6, 13), atol=1e-6)
    np.testing.assert_allclose(resample_length(ramp, 4)[0, 0], [0, 2, 4, 6], atol=1e-6)
    same = resample_length(ramp, 7)
    assert same is not ramp and np.array_equal(same, ramp)


def test_channel_independent_pool_turns_each_channel_into_a_series():
    X = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    flat = to_univariate(X)
    assert flat.shape == (6, 1, 4)
    np.testing.assert_array_equal(flat[4, 0], X[1, 1])  # row i * C + c is channel c of series i


def test_channel_independent_embedding_concatenates_each_channels_own_embedding():
    torch.manual_seed(0)
    encoder = build_encoder("cnn", 1, channels=(4, 4, 6)).eval()
    wrapped = ChannelIndependent(encoder, 3)
    x = torch.randn(5, 3, 40)
    z = wrapped(x)
    assert z.shape == (5, 18) and wrapped.out_dim == 18
    for c in range(3):
        torch.testing.assert_close(z[:, 6 * c:6 * (c + 1)], encoder(x[:, c:c + 1]))
    with pytest.raises(ValueError, match=r"expected \(B, 3, L\)"):
        wrapped(torch.randn(5, 2, 40))


def test_uea_pool_balances_problems_of_other_channel_counts_and_lengths(monkeypatch):
    problems = {"A": _fake("A", 50, 2, 30), "B": _fake("B", 10, 6, 90, seed=1), "C": _fake("C", 4, 1, 12, seed=2)}
    monkeypatch.setattr(S, "POOL_PROBLEMS", tuple(problems))
    monkeypatch.setattr(S, "load_dataset", lambda name, split: problems[name])
    pool, parts = build_pool("uea-pool", "uwave", 50, 3, cap=60, seed=0)
    # A: 100 univariate series, B: 60, C: 4; each keeps at most 60 // 3 = 20.
    assert pool.shape == (44, 1, 50) and [p.name for p in parts] == ["A", "B", "C"]
    assert abs(pool.mean()) < 0.2 and abs(pool.std() - 1) < 0.2  # z-scored within each problem
    again, _ = build_pool("uea-pool", "uwave", 50, 3, cap=60, seed=0)
    assert np.array_equal(pool, again)


def test_a_multichannel_source_must_have_the_targets_channel_count(monkeypatch):
    monkeypatch.setattr(S, "load_dataset", lambda name, split: _fake("har", 5, 9, 128))
    monkeypatch.setattr(S, "HAR_TOTAL_ACC", (0, 1))
    monkeypatch.setitem(S.SOURCES, "har", S.Source("two channels", S._har_total_acc))
    with pytest.raises(ValueError, match="has 2 channels, the target 3"):
        build_pool("har", "uwave", 315, 3, cap=0, seed=0)


def test_config_refuses_a_source_the_target_does_not_have_and_scratch_with_a_method():
    with pytest.raises(ValueError, match="not one of target 'har'"):
        TransferConfig(method="vicreg", source="har", target="har")
    with pytest.raises(ValueError, match="goes with method 'random_init'"):
        TransferConfig(method="vicreg", source="none", target="uwave")
    with pytest.raises(ValueError, match="unknown method 'ttt'"):
        W.configs(methods=["ttt"])  # it trains with labels


# ----------------------------------------------------------------------------- runs on the synthetic archive
@pytest.fixture
def toy_target(waves, monkeypatch, one_thread):
    monkeypatch.setitem(S.TARGETS, "waves", S.Target("Waves", None, "shots", (1, 5), ("none", "target", "target-ci")))
    return "waves"


def test_pretraining_never_sees_the_targets_test_split_or_any_label(toy_target, monkeypatch, tmp_path):
    seen = {}
    original = run_module.pretrain_model

    def spy(experiment, model, pool, train, *args):
        seen["pool"] = pool
        return original(experiment, model, pool, train, *args)

    import sslts.experiment as E

    pretrain = E.pretrain

    def pretrain_spy(*args, **kwargs):
        seen["y"] = kwargs.get("y", "not passed")
        return pretrain(*args, **kwargs)

    monkeypatch.setattr(run_module, "pretrain_model", spy)
    monkeypatch.setattr(E, "pretrain", pretrain_spy)
    record = run_transfer(TransferConfig(method="simclr", source="target", target=toy_target, **TINY), tmp_path,
                          progress=False)
    train, test = S.load_target(toy_target, "train"), S.load_target(toy_target, "test")
    assert seen["y"] is None
    assert seen["pool"].shape == train.X.shape  # the training split, nothing else
    from sslts.data.cleaning import ChannelStandardScaler

    z_test = ChannelStandardScaler().fit(test.X).transform(test.X)
    assert not any(np.allclose(row, t, atol=1e-4) for row in seen["pool"] for t in z_test)
    assert set(record["data"]["sha256"]) == {"Waves_TRAIN.ts", "Waves_TEST.ts"}


def test_a_run_records_every_protocol_at_every_label_budget(toy_target, tmp_path):
    ci = run_transfer(TransferConfig(method="simclr", source="target-ci", target=toy_target, **TINY), tmp_path,
                      progress=False)
    rows = [(e["protocol"], e["budget"], e["n_labelled"]) for e in ci["evaluations"]]
    assert rows == [(p, b, 2 * b) for b in (1, 5) for p in ("linear", "knn", "finetune")]
    assert ci["data"]["embedding_dim"] == 2 * 8  # two channels, each embedded by the 8-wide encoder
    assert ci["data"]["pretrain_series"] == 80  # 40 training series x 2 channels
    scratch = run_transfer(TransferConfig(method="random_init", source="none", target=toy_target, **TINY), tmp_path,
                           progress=False)
    assert scratch["pretrain_epochs"] == 0 and scratch["data"]["embedding_dim"] == 8
    assert record_path(tmp_path, scratch["config"]).is_file()


def test_the_sweep_skips_recorded_runs(toy_target, monkeypatch, tmp_path):
    monkeypatch.setattr(W, "TransferConfig", functools.partial(TransferConfig, **TINY))
    assert run_transfer_sweep([toy_target], ["none", "target"], ["simclr"], [0], tmp_path, progress=False) == 2
    assert run_transfer_sweep([toy_target], ["none", "target"], ["simclr"], [0], tmp_path, progress=False) == 0
    assert W.pending(W.configs([toy_target], None, ["simclr"], [0]), tmp_path)[0].source == "target-ci"


# ----------------------------------------------------------------------------- report
def _record(source, method, seed, accuracy):
    config = TransferConfig(method=method, source=source, target="uwave", seed=seed)
    rows = [{"protocol": "svm", "budget_kind": "shots", "budget": b, "n_labelled": 8 * b, "accuracy": accuracy + b / 100,
             "macro_f1": accuracy} for b in (1, 15)]
    return {"kind": "transfer", "config": config.to_dict(), "evaluations": rows}


def test_report_names_negative_transfer_against_scratch(tmp_path):
    for seed, noise in enumerate([0.0, 0.01, -0.01, 0.02, 0.005]):
        write_record(tmp_path, _record("none", "random_init", seed, 0.70 + noise))
        write_record(tmp_path, _record("target", "vicreg", seed, 0.80 + noise - 0.003 * seed))
        write_record(tmp_path, _record("har", "vicreg", seed, 0.60 + noise + 0.002 * seed))
    frame = R.load(tmp_path)
    table = R.transfer_table(frame, "uwave", "svm")
    assert list(table.columns) == ["1 / class", "15 / class", "seeds"] and table["seeds"].tolist() == [5, 5, 5]
    assert table.index[0] == "scratch" and table.loc["HAR total_acc · VICReg", "1 / class"] == pytest.approx(0.619, abs=1e-3)
    tests = R.paired_table(frame, "uwave", "svm").set_index(["source · method", "labels"])
    assert tests.loc[("HAR total_acc · VICReg", "1 / class"), "transfer"] == "negative transfer"
    assert tests.loc[("HAR total_acc · VICReg", "1 / class"), "target-only"] == "worse"
    assert tests.loc[("target only · VICReg", "1 / class"), "transfer"] == "helps"
    negative = R.negative_transfer(frame, "uwave", ("svm",))
    assert negative[0].startswith("HAR total_acc · VICReg (SVM probe, 1 / class)")
    # Holm over the table's four tests against scratch (two cells x two budgets): the largest
    # effect's p is multiplied by 4 at most and still far below 0.05.
    raw = tests.loc[("HAR total_acc · VICReg", "1 / class"), "p (scratch)"]
    assert float(tests.loc[("HAR total_acc · VICReg", "1 / class"), "Holm p (scratch)"]) <= 4 * float(raw) * 1.01  # 3 digits
    assert negative[0].endswith("survives the correction)")
    assert R.best_cell(frame, "uwave", "svm", 15) == ("target", "vicreg")
    assert R.load(tmp_path / "nothing").empty
    # The headline sentence judges by the same Holm-adjusted p as the table.
    sentence = R.headline_sentence(frame, "uwave", "svm", 1)
    holm_p = float(tests.loc[("target only · VICReg", "1 / class"), "Holm p (scratch)"])
    assert "Holm-adjusted p = " + f"{holm_p:.3g}" in sentence


def test_knn_rows_with_more_votes_than_labels_per_class_are_left_out(tmp_path):
    record = _record("target", "vicreg", 0, 0.8)
    record["evaluations"] += [{"protocol": "knn", "budget_kind": "shots", "budget": b, "n_labelled": 8 * b,
                               "accuracy": 0.125, "macro_f1": 0.03, "best_params": {"k": k}} for b, k in ((1, 5), (15, 5))]
    write_record(tmp_path, record)
    knn = R.load(tmp_path).query("protocol == 'knn'")
    assert knn["budget"].tolist() == [15]  # 5 votes on 1 labelled series per class: dropped


def _har_record(source, method, seed, accuracy):
    config = TransferConfig(method=method, source=source, target="har", seed=seed)
    rows = [{"protocol": "svm", "budget_kind": "fraction", "budget": b, "n_labelled": int(7352 * b),
             "accuracy": accuracy, "macro_f1": accuracy} for b in (0.01, 1.0)]
    return {"kind": "transfer", "config": config.to_dict(), "evaluations": rows}


def test_symmetry_answer_compares_both_directions_against_target_only(tmp_path):
    noise = [0.0, 0.01, -0.01, 0.02, 0.005]
    assert R.symmetry_answer(R.load(tmp_path)).startswith("Symmetry is untested")
    for seed, e in enumerate(noise):  # HAR -> UWave: below target-only at both budgets
        write_record(tmp_path, _record("target", "vicreg", seed, 0.80 + e))
        write_record(tmp_path, _record("har", "vicreg", seed, 0.70 + e + 0.002 * seed))
    assert R.symmetry_answer(R.load(tmp_path)).startswith("Symmetry is untested")
    for seed, e in enumerate(noise):  # UWave pool -> HAR: no different from target-only
        write_record(tmp_path, _har_record("target", "vicreg", seed, 0.85 + e))
        write_record(tmp_path, _har_record("uwave-pool", "vicreg", seed, 0.85 - e))
    answer = R.symmetry_answer(R.load(tmp_path))
    assert answer.startswith("Transfer is not symmetric (SVM probe)")
    assert "HAR total_acc → uwave hurts against target-only pre-training (0 of 2 cells significantly above, 2 below)" in answer
    assert "UWave pool → har no significant difference" in answer
    assert R._direction_word(["positive", "no significant difference"]) == "helps"
    assert R._direction_word(["positive", "negative"]) == "mixed"
