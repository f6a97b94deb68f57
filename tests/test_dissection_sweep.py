"""The dissection sweep: its plan, its records, resuming, and the same numbers from the same seed."""

from __future__ import annotations

import json

import pytest

from sslts.dissection_sweep import DissectionTask, run_dissection_sweep, run_one, tasks


def test_the_plan_goes_dataset_by_dataset_then_seed_by_seed():
    planned = tasks(["uwave", "har"], ["random_init", "simclr"], [0, 1])
    assert [(t.dataset, t.seed, t.method) for t in planned[:4]] == [
        ("uwave", 0, "random_init"), ("uwave", 0, "simclr"), ("uwave", 1, "random_init"), ("uwave", 1, "simclr")]
    assert len(planned) == 8 and planned[4].dataset == "har"


def test_an_unknown_encoder_is_refused_before_any_run():
    with pytest.raises(ValueError, match="unknown encoder 'simclrr'"):
        tasks(["uwave"], ["simclrr"], [0])


def test_records_hold_every_unit_resume_and_repeat_exactly(tmp_path, waves, one_thread):
    tiny = dict(pretrain_budget=100, supervised_epochs=1)
    planned = [DissectionTask(method, "Waves", 0, **tiny) for method in ("random_init", "supervised", "simclr")]
    assert run_dissection_sweep(planned, tmp_path, progress=False) == 3
    assert run_dissection_sweep(planned, tmp_path, progress=False) == 0  # all there: nothing to resume
    for task in planned:
        record = json.loads(task.path(tmp_path).read_text())
        assert record["kind"] == "dissection" and record["config"]["method"] == task.method
        assert [layer["block"] for layer in record["layers"]] == [2, 3]
        for layer, units_expected in zip(record["layers"], (64, 128)):  # the CNN's blocks 2 and 3
            units = layer["units"]
            assert len(units) == units_expected == sum(layer["counts"].values())
            assert all(u["detector"] == (u["iou"] > task.iou_threshold) for u in units)
        assert record["data"]["train_shape"] == [40, 2, 32]  # the training split only
    again = run_one(planned[2], tmp_path / "again")
    first = json.loads(planned[2].path(tmp_path).read_text())
    assert again["layers"] == first["layers"]


def test_the_command_refuses_an_unknown_dataset_in_one_line_before_any_run(tmp_path, data_env, capsys):
    from sslts.cli import main

    out = tmp_path / "records"
    assert main(["dissect", "--datasets", "nosuch", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Unknown dataset 'nosuch'") and "Traceback" not in err
    assert not out.exists()  # nothing written
