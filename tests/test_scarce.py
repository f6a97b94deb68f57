"""The label-scarce study: corpora views, few-label read-outs, snapshots, the sweep's order and its report."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import torch

from sslts.report import benchmarks as B
from sslts.report import scarce as R
from sslts.scarce import corpora, fewlabel, scale, sweep
from sslts.scarce.corpora import Corpus, channel_independent, corpus_for, resample, xd_fold, znorm
from sslts.scarce.records import write


# --- corpora ----------------------------------------------------------------------------------

def test_channel_independent_rows_are_each_channel_of_each_series_resampled_and_normalised():
    X = np.stack([np.stack([np.arange(10.0) * (c + 1) + i for c in range(3)]) for i in range(2)])  # (2, 3, 10)
    view = channel_independent(X.astype(np.float32), length=5)
    assert view.shape == (6, 1, 5)
    # a ramp stays a ramp whatever its slope and offset: every row is the same z-normalised ramp
    ramp = znorm(resample(np.arange(10.0), 5)[None])[0]
    np.testing.assert_allclose(view[:, 0], np.tile(ramp, (6, 1)), atol=1e-6)
    # row i * C + c is channel c of series i: a distinct channel shows up at its row
    X[1, 2] = np.sin(np.arange(10.0))
    view = channel_independent(X.astype(np.float32), length=10)
    np.testing.assert_allclose(view[5, 0], znorm(np.sin(np.arange(10.0))[None])[0], atol=1e-5)


def test_resample_drops_the_nan_padding_of_a_variable_length_series():
    np.testing.assert_allclose(resample(np.array([0.0, 2.0, np.nan, np.nan]), 3), [0.0, 1.0, 2.0])
    assert resample(np.array([np.nan]), 4).tolist() == [0.0] * 4


def test_folds_keep_the_targets_out_and_do_not_move_when_problems_are_added():
    assert xd_fold("UWaveGestureLibraryAll") == xd_fold("UWaveGestureLibraryZ") == xd_fold("har") == ""
    folds = {p: xd_fold(p) for p in ("GunPoint", "CBF", "Adiac", "Coffee", "Wafer", "Yoga")}
    assert set(folds.values()) <= {"a", "b"} and folds == {p: xd_fold(p) for p in folds}
    for problem, fold in folds.items():  # a problem is evaluated with the corpus it is not in
        assert corpus_for(problem) == ("xd-b" if fold == "a" else "xd-a")


def test_unknown_corpus_names_the_known_ones():
    with pytest.raises(corpora.CorpusError, match="known corpora: uwave-pool"):
        corpora.load_corpus("uwave-pol")


def test_corpus_record_checksum_changes_with_its_members():
    member = {"dataset": "A", "split": "train", "n_series": 3, "sha256": {"A_TRAIN.ts": "ab"}}
    a = Corpus("x", np.zeros((3, 1, 4), np.float32), (member,), True)
    b = Corpus("x", np.zeros((3, 1, 4), np.float32), ({**member, "sha256": {"A_TRAIN.ts": "cd"}},), True)
    assert a.describe()["members_sha256"] != b.describe()["members_sha256"]


# --- few-label read-outs ----------------------------------------------------------------------

def test_cl2n_centres_on_the_pool_mean_then_scales_to_unit_length():
    Z = np.array([[2.0, 1.0], [0.0, 1.0]])
    out = fewlabel.cl2n(Z, centre=np.array([1.0, 1.0]))
    np.testing.assert_allclose(out, [[1.0, 0.0], [-1.0, 0.0]])


def test_nearest_centroid_by_hand():
    Zl = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0]])
    yl = np.array([0, 0, 1])
    # class 0's mean is (0, 1), class 1's (10, 0); (4, 1) is nearer (0, 1), (6, 0) nearer (10, 0)
    assert fewlabel.nearest_centroid(Zl, yl, None, np.array([[4.0, 1.0], [6.0, 0.0]])).tolist() == [0, 1]


def _two_arcs(n: int, seed: int = 0):
    """Two interleaved half circles: one labelled point per arc cannot place the far ends, the pool can."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    a = np.c_[np.cos(t), np.sin(t)]
    b = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    return np.concatenate([a, b]) + rng.normal(0, 0.03, (2 * n, 2)), np.repeat([0, 1], n)


def test_label_spreading_uses_the_pool_where_the_labelled_points_alone_mislead():
    pool, _ = _two_arcs(300, seed=1)
    test, y_test = _two_arcs(200, seed=2)
    labelled = np.array([[np.cos(0.1), np.sin(0.1)], [1 - np.cos(0.1), 0.5 - np.sin(0.1)]])  # one end of each arc
    y = np.array([0, 1])
    by_centroid = np.mean(fewlabel.nearest_centroid(labelled, y, pool, test) == y_test)
    by_spread = np.mean(fewlabel.spread(labelled, y, pool, test) == y_test)
    assert by_spread > 0.95 and by_centroid < 0.85


def test_few_label_rows_draw_the_same_series_for_every_extractor_and_add_every_label_rows():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 12)
    centres = rng.normal(0, 5, (3, 4))
    Z = centres[y] + rng.normal(0, 0.1, (36, 4))
    rows = fewlabel.few_label_rows(Z, y, Z, Z, y, seed=3)
    assert [(r["shots"], r["readout"]) for r in rows][:3] == [(1, "centroid"), (1, "logreg"), (1, "spread")]
    assert {r["shots"] for r in rows} == {1, 2, 5, 10, "all"}
    assert all(r["accuracy"] == 1.0 for r in rows)  # well separated: every read-out is perfect
    assert [r for r in rows if r["readout"] == "svm"][0]["n_labelled"] == 36  # small split: SVM protocol added
    assert {r["n_labelled"] for r in rows if r["shots"] == 2} == {6}


# --- pre-training with snapshots ----------------------------------------------------------------

@pytest.fixture
def tiny_corpus(monkeypatch):
    X = np.random.default_rng(0).normal(size=(16, 1, 32)).astype(np.float32)
    corpus = Corpus("tiny", X, ({"dataset": "tiny", "split": "train", "n_series": 16, "sha256": {}},), True)
    monkeypatch.setitem(corpora.CORPORA, "tiny", lambda: corpus)
    corpora.load_corpus.cache_clear()
    yield corpus
    corpora.load_corpus.cache_clear()


def test_snapshot_epochs_round_each_budget_up_to_a_whole_epoch():
    run = scale.ScaleRun("vicreg", "uwave-pool", budget=1000, snapshots=(100, 400, 1000))
    assert scale.snapshot_epochs(run, 300) == {1: 100, 2: 400, 4: 1000}


def test_snapshots_are_written_with_their_passes_and_a_rerun_reproduces_them(tiny_corpus, tmp_path):
    run = scale.ScaleRun("simclr", "tiny", budget=48, snapshots=(16, 48), batch_size=8)
    record = scale.run_pretraining(run, tmp_path / "a", records=tmp_path / "rec", progress=False)
    assert {k: v["passes"] for k, v in record["snapshots"].items()} == {"16": 16, "48": 48}
    assert json.loads((tmp_path / "rec" / "pretrain" / f"{run.name}.json").read_text())["epochs"] == 3
    again = scale.run_pretraining(run, tmp_path / "b", progress=False)  # a fresh folder: trains again
    for passes in ("16", "48"):
        a = torch.load(record["snapshots"][passes]["file"], weights_only=True)
        b = torch.load(again["snapshots"][passes]["file"], weights_only=True)
        assert all(torch.equal(a[k], b[k]) for k in a)
    first = torch.load(record["snapshots"]["16"]["file"], weights_only=True)
    last = torch.load(record["snapshots"]["48"]["file"], weights_only=True)
    assert any(not torch.equal(first[k], last[k]) for k in first)  # the snapshots are not one model
    resumed = scale.run_pretraining(run, tmp_path / "a", progress=False)  # finished: nothing retrained
    assert resumed["timing"]["resumed_from_epoch"] == 3
    assert resumed["snapshots"]["48"]["wall_s"] == record["snapshots"]["48"]["wall_s"]  # read from the sidecar


def test_a_run_paused_at_a_snapshot_and_carried_on_equals_one_uninterrupted_run(tiny_corpus, tmp_path):
    run = scale.ScaleRun("vicreg", "tiny", budget=48, snapshots=(16, 48), batch_size=8)
    paused = scale.run_pretraining(run, tmp_path / "staged", progress=False, until=16)
    assert paused["paused_at"] == 16
    assert scale.snapshot_path(tmp_path / "staged", run, 16).exists()
    assert not scale.snapshot_path(tmp_path / "staged", run, 48).exists()
    assert scale.run_pretraining(run, tmp_path / "staged", progress=False, until=16)["paused_at"] == 16  # done: no-op
    carried = scale.run_pretraining(run, tmp_path / "staged", progress=False)
    assert carried["timing"]["resumed_from_epoch"] == 1
    whole = scale.run_pretraining(run, tmp_path / "whole", progress=False)
    a = torch.load(carried["snapshots"]["48"]["file"], weights_only=True)
    b = torch.load(whole["snapshots"]["48"]["file"], weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="one of the run's snapshots"):
        scale.run_pretraining(run, tmp_path / "x", progress=False, until=20)


def test_a_loaded_snapshot_embeds_as_the_trained_encoder_did(tiny_corpus, tmp_path):
    run = scale.ScaleRun("vicreg", "tiny", budget=16, snapshots=(16,), batch_size=8)
    record = scale.run_pretraining(run, tmp_path, progress=False)
    encoder = scale.load_snapshot(record["snapshots"]["16"]["file"], "cnn", 1)
    untrained = scale.untrained_encoder("cnn", 1, 0)
    x = torch.from_numpy(tiny_corpus.X[:4])
    assert not torch.allclose(encoder(x), untrained(x))


def test_scale_run_refuses_a_method_that_needs_labels_and_a_snapshot_past_the_budget():
    with pytest.raises(ValueError, match="needs no labels"):
        scale.ScaleRun("ttt", "uwave-pool")
    with pytest.raises(ValueError, match="at most the budget"):
        scale.ScaleRun("vicreg", "uwave-pool", budget=10, snapshots=(20,))


# --- the sweep's order and locks ----------------------------------------------------------------

def test_a_ready_snapshot_evaluation_goes_before_the_plan_order_and_locks_are_exclusive(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "SNAPSHOTS", tmp_path / "snaps")
    snap = tmp_path / "snaps" / "run" / "passes-10.pt"
    tasks = [sweep.Task("fewlabel/a.json", config={}), sweep.Task("fewlabel/b.json", config={}, snapshot=snap)]
    task, lock = sweep.next_task(tasks, tmp_path / "rec", set())
    assert task.record == "fewlabel/a.json"  # the snapshot is not there yet
    snap.parent.mkdir(parents=True)
    snap.with_suffix(".json").write_text("{}")
    assert sweep.next_task(tasks, tmp_path / "rec", set())[0].record == "fewlabel/b.json"
    lock.unlink()
    _, held = sweep.next_task(tasks[:1], tmp_path / "rec", set())
    assert sweep.next_task(tasks[:1], tmp_path / "rec", set()) is None  # held by this live process
    held.write_text("999999999")  # a pid that does not exist: a killed lane's lock is taken over
    assert sweep.next_task(tasks[:1], tmp_path / "rec", set())[0].record == "fewlabel/a.json"


def test_the_plan_evaluates_the_cross_dataset_encoder_on_both_targets_and_every_run_once():
    tasks = sweep.plan()
    records = [t.record for t in tasks]
    assert len(records) == len(set(records))
    # seeds 0-1 reach the main budget before any run is carried past it
    first_long = min(i for i, t in enumerate(tasks) if t.run is not None and t.until is None and t.run.budget > sweep.MAIN_BUDGET)
    last_early_seed = max(i for i, t in enumerate(tasks) if t.config and t.config.get("seed") == 1 and "ucr" not in t.config
                          and t.config.get("method") != sweep.THIRD_METHOD)  # the third method comes later
    assert last_early_seed < first_long
    assert tasks[first_long].run.corpus == "uwave-pool" and tasks[first_long].run.method == "vicreg"
    xd = [t for t in tasks if t.config and t.config.get("corpus") == "xd-a" and t.config["seed"] == 0]
    assert {t.config["target"] for t in xd} == {"uwave", "har"}
    assert {t.config["seed"] for t in tasks if t.config} == set(sweep.SEEDS)


# --- the report ---------------------------------------------------------------------------------

def _record(root, features, seed, accuracies, target="uwave", **extra):
    config = {"target": target, "features": features, "seed": seed, **extra}
    rows = [{"shots": k, "readout": r, "n_labelled": 8, "accuracy": a} for (k, r), a in accuracies.items()]
    name = f"fewlabel/{target}/{features}-{extra.get('method', '')}-{seed}.json"
    write(root, name, {"config": config, "rows": rows, "git_commit": "abc"})


def test_report_tables_tests_and_targets_on_hand_made_records(tmp_path):
    ssl = {"method": "vicreg", "corpus": "uwave-pool", "encoder": "cnn", "budget": 100_000, "passes": 103_950}
    for seed, (a, b) in enumerate([(0.80, 0.60), (0.82, 0.61), (0.84, 0.62), (0.81, 0.60), (0.83, 0.63)]):
        _record(tmp_path, "ssl", seed, {(1, "spread"): a, (1, "centroid"): a - 0.1}, **ssl)
        _record(tmp_path, "minirocket", seed, {(1, "spread"): b, (1, "centroid"): b})
        _record(tmp_path, "minirocket-ridge", seed, {(1, "own"): b - 0.05})
    frame = R.load(tmp_path)
    table = R.shots_table(frame, "uwave", ("spread",))
    assert table.loc["VICReg · UWave pool", "k = 1"] == "0.820 ± 0.020 (5)"
    tests = R.paired_tests(frame, "uwave")
    row = tests[(tests["against"] == "MiniRocket + pool")].iloc[0]
    assert row["difference"] == pytest.approx(0.208) and row["verdict"] == "SSL higher" and row["seeds"] == 5
    assert tests["Holm p"].max() <= 1 and (tests["Holm p"] >= tests["p"]).all()
    said = R.findings(frame, {"uwave": tests})
    assert said[0].startswith("UWave: VICReg · UWave pool with label spreading pays at k = 1 against MiniRocket")
    targets = R.targets_table(frame).set_index("setting")
    assert targets.loc["UWave, 1 per class", "verdict"] == "reached"  # 0.820 >= 0.80
    assert targets.loc["UWave, 2 per class", "verdict"] == "not run"


def test_ucr_tables_rank_the_systems_and_test_the_corpus_encoder_over_problems(tmp_path, monkeypatch):
    monkeypatch.setattr(B, "cited_ucr", lambda: {"P0": 0.5})
    for i in range(6):
        for system, all_labels, few in (("xd", 0.9, 0.8), ("own", 0.8, 0.6), ("untrained", 0.7, 0.6 + 0.01 * i),
                                        ("minirocket", 0.95, None)):
            rows = [{"shots": "all", "readout": "svm" if system != "minirocket" else "own", "n_labelled": 9,
                     "accuracy": all_labels - 0.01 * i}]
            if few is not None:
                rows.append({"shots": 1, "readout": "centroid", "n_labelled": 2, "accuracy": few})
            write(tmp_path, f"ucr/P{i}/{system}-s0.json", {"config": {"problem": f"P{i}", "system": system, "seed": 0},
                                                          "rows": rows})
    frame = B.load_ucr(tmp_path)
    table = B.ucr_all_labels(frame)
    assert table.loc["P0", "TS2Vec (published), not measured here"] == 0.5 and np.isnan(table.iloc[1, -1])
    ranks = B.ucr_ranks(table.drop(columns=table.columns[-1]))
    assert ranks.index[0] == "MiniRocket" and ranks.loc["MiniRocket", "mean rank"] == 1.0
    assert ranks["problems"].iloc[0] == 6
    means, tests = B.ucr_few_label(frame)
    assert means.loc[1, "VICReg · cross-dataset"] == 0.8 and means.loc[1, "problems"] == 6
    own = tests[tests["against"] == "VICReg · own training split"].iloc[0]
    # six problems all in one direction: Wilcoxon's exact two-sided p is 2 / 2**6 = 0.03125, doubled by Holm
    assert own["p"] == pytest.approx(0.03125) and own["Holm p"] == pytest.approx(0.0625)
    assert own["verdict"] == "no significant difference"


def test_every_cited_ucr_figure_is_an_accuracy_its_test_split_can_give():
    """A control on the second-hand TS2Vec figures: each must be (rounded) some count over the test size."""
    import csv

    from sslts.data.sources import find_in_mirrors

    path = find_in_mirrors("ucr_corpus.csv")
    if path is None:
        pytest.skip("no data mirror with ucr_corpus.csv (set SSLTS_DATA_MIRROR)")
    with open(path, newline="") as handle:
        sizes = {row["name"]: int(row["test_cases"]) for row in csv.DictReader(handle)}
    cited = B.cited_ucr()
    assert len(cited) >= 29 and "OliveOil" not in cited
    for problem, accuracy in cited.items():
        n = sizes[problem]
        assert abs(round(accuracy * n) / n - accuracy) <= 0.0005 + 1e-9, problem


def test_the_two_cross_dataset_folds_split_the_mirror_problems_and_hold_no_target():
    from sslts.data.sources import find_in_mirrors

    if find_in_mirrors(corpora.UCR_LIST) is None:
        pytest.skip("no data mirror with ucr_corpus.csv (set SSLTS_DATA_MIRROR)")
    a, b = corpora.xd_members("a"), corpora.xd_members("b")
    everything = [*corpora.ucr_problems(), *corpora.UEA_PROBLEMS]
    assert not set(a) & set(b)
    assert set(a) | set(b) == {p for p in everything if not p.startswith("UWave")}
    assert len(a) > 40 and len(b) > 40


def test_a_difference_is_called_equivalent_only_when_the_tost_shows_it(tmp_path):
    ssl = {"method": "vicreg", "corpus": "uwave-pool", "encoder": "cnn", "budget": 100_000, "passes": 103_950}
    close = [(0.801, 0.800), (0.812, 0.810), (0.797, 0.800), (0.805, 0.803), (0.790, 0.792)]  # within 0.003
    noisy = [(0.70, 0.80), (0.90, 0.80), (0.75, 0.80), (0.88, 0.80), (0.79, 0.80)]  # mean 0.804, spread 0.08
    for seed, ((a, b), (c, d)) in enumerate(zip(close, noisy)):
        _record(tmp_path, "ssl", seed, {(1, "centroid"): a, (2, "centroid"): c}, **ssl)
        _record(tmp_path, "minirocket", seed, {(1, "centroid"): b, (2, "centroid"): d})
    tests = R.paired_tests(R.load(tmp_path), "uwave", readouts=("centroid",)).set_index("k")
    assert tests.loc[1, "verdict"] == "equivalent (within ±0.02)"
    assert tests.loc[2, "verdict"] == "inconclusive"


def test_open_items_name_what_the_records_lack_and_vanish_once_they_exist(tmp_path):
    from sslts.report.conclusions import open_items

    items = open_items(tmp_path)
    assert "UCI HAR is not yet in the comparison: no `compare/har` records." in items
    assert "The label-scarce study has 0 of 5 seeds on UWave." in items
    for seed in range(5):
        _record(tmp_path / "scarce", "minirocket", seed, {(1, "centroid"): 0.5})
    items = open_items(tmp_path)
    assert not any("seeds on UWave" in item for item in items)
    assert "The label-scarce study has 0 of 5 seeds on UCI HAR." in items
    assert "The UCR benchmark of the label-scarce study has all 4 systems on 0 of 30 problems." in items
    assert "The suite benchmark of the label-scarce study has all 4 systems on 0 of 10 problems." in items


def test_the_suite_benchmark_retrains_the_corpus_encoders_it_needs_and_leaves_each_problem_out(tmp_path, monkeypatch):
    from sslts.scarce import ucr
    from sslts.scarce.corpora import corpus_for

    monkeypatch.setattr(sweep, "SNAPSHOTS", tmp_path / "snaps")
    tasks = sweep.ucr_tasks("suite")
    stages = [t for t in tasks if t.until is not None]
    # both folds' seed-0 encoders, each serving the suite problems of the other fold
    assert sorted(t.run.corpus for t in stages) == ["xd-a", "xd-b"]
    for stage in stages:
        assert stage.serves and all(corpus_for(r.split("/")[1]) == stage.run.corpus for r in stage.serves)
        assert not stage.done(tmp_path)  # no snapshot, no record: train again
    evaluations = [t for t in tasks if t.config]
    assert {t.record.split("/")[1] for t in evaluations} == set(ucr.SUITE) and len(evaluations) == 4 * len(ucr.SUITE)
    plan = [t.record for t in sweep.plan()]
    assert plan.index(evaluations[0].record) > plan.index(next(r for r in plan if r.startswith("ucr/")))
    with pytest.raises(ValueError, match="groups: ucr, suite"):
        ucr.group_problems("uea")


def test_a_system_still_running_is_left_out_of_means_and_ranks_but_tested_where_it_ran():
    table = pd.DataFrame({"a": [0.9, 0.8, 0.7, 0.6], "b": [0.5, 0.4, 0.3, 0.2], "c": [0.1, np.nan, np.nan, np.nan]},
                         index=["P0", "P1", "P2", "P3"])
    complete, short = B.covered(table)
    assert short == ["c"] and list(complete.columns) == ["a", "b"] and len(complete) == 4
    assert B.ucr_ranks(table)["problems"].tolist() == [4, 4]


def test_a_stage_whose_evaluations_are_recorded_needs_no_training_in_a_fresh_clone(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "SNAPSHOTS", tmp_path / "snaps")  # no snapshot on disk, as in a fresh clone
    stage = next(t for t in sweep.plan() if t.until is not None)
    assert stage.serves and not stage.done(tmp_path)
    for record in stage.serves:
        write(tmp_path, record, {})
    assert stage.done(tmp_path)


def test_benchmark_findings_say_where_the_corpus_encoder_is_higher(tmp_path):
    for i in range(6):
        for system, few in (("xd", 0.8), ("untrained", 0.6 - 0.01 * i)):
            write(tmp_path, f"ucr/P{i}/{system}-s0.json", {"config": {"problem": f"P{i}", "system": system, "seed": 0},
                                                          "rows": [{"shots": k, "readout": "centroid", "n_labelled": 2,
                                                                    "accuracy": few} for k in (1, 2)]})
    said = B.benchmark_findings(B.load_ucr(tmp_path), "UCR")
    # six problems all higher: Wilcoxon p = 0.03125 per k, Holm over two tests 0.0625: not shown
    assert said == ["UCR: the cross-dataset encoder's few-label accuracy (nearest centroid) against untrained CNN is "
                    "not shown higher at any k (Wilcoxon over 6 problems, Holm; differences +0.225, +0.225 at k = 1, 2)."]
    assert B.benchmark_findings(B.load_ucr(tmp_path / "none"), "UCR") == []
