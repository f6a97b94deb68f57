"""The dissection tables: counts from records, intervals over seeds and paired tests, on hand-made records."""

from __future__ import annotations

import json

import pytest

from sslts.report import dissection as R


def _write(root, dataset, method, seed, counts):
    """A record whose block 3 has ``counts`` and whose block 2 has every unit a phase detector."""
    path = root / dataset / f"{method}-s{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    layers = [{"block": 2, "counts": {"phase": 64}}, {"block": 3, "counts": counts}]
    path.write_text(json.dumps({"kind": "dissection", "config": {"dataset": dataset, "method": method, "seed": seed},
                                "layers": layers}))


@pytest.fixture
def records(tmp_path):
    for seed, (cls, phase) in enumerate([(10, 2), (12, 2), (14, 2)]):
        _write(tmp_path, "uwave", "simclr", seed, {"class": cls, "phase": phase, "none": 128 - cls - phase})
        _write(tmp_path, "uwave", "random_init", seed, {"class": 5 + seed, "none": 123 - seed})
    (tmp_path / "other.json").write_text(json.dumps({"kind": "transfer", "config": {}}))  # skipped
    return tmp_path


def test_counts_and_detectors_per_record_and_block(records):
    frame = R.load(records)
    assert len(frame) == 12 and set(frame["method"]) == {"simclr", "random_init"}
    frame = R.last_block(frame)
    assert len(frame) == 6 and set(frame["block"]) == {3}
    row = frame[(frame["method"] == "simclr") & (frame["seed"] == 1)].iloc[0]
    assert (row["class"], row["phase"], row["band"], row["detectors"], row["none"]) == (12, 2, 0, 14, 114)
    assert R.inventory(frame).loc["uwave", "simclr"] == 3


def test_interval_of_the_mean_over_seeds(records):
    with pytest.raises(ValueError, match="rows of one block"):
        R.interval_table(R.load(records))
    table = R.interval_table(R.last_block(R.load(records)))
    # class units 10, 12, 14: mean 12, std 2, t(0.975, 2) = 4.303, half-width 4.303 * 2 / sqrt(3) = 4.97
    assert table.loc[("uwave", "simclr"), "class"] == "12.0 ± 5.0"
    assert table.loc[("uwave", "simclr"), "phase"] == "2.0 ± 0.0"
    assert list(table.columns) == ["class", "phase", "none", "detectors", "seeds"]  # empty types left out


def test_paired_t_test_against_the_untrained_encoder_of_the_same_seed(records):
    tests = R.against_untrained(R.last_block(R.load(records)), "class")
    row = tests.iloc[0]
    # differences 10-5, 12-6, 14-7 = 5, 6, 7: mean 6, t = 6 / (1 / sqrt(3)) = 10.39 on 2 df, p = 0.0091
    assert (row["method"], row["seeds"], row["difference"]) == ("simclr", 3, 6.0)
    assert row["p"] == pytest.approx(0.0091, abs=1e-4) and row["verdict"] == "more than untrained"


def test_shares_by_depth(records):
    table = R.by_depth(R.load(records))
    assert table.loc[("simclr", 2), "phase"] == 100.0 and table.loc[("simclr", 2), "class"] == 0.0
    # block 3 of simclr: class 10, 12, 14 of 128 units -> mean share 100 * 12 / 128 = 9.4 %
    assert table.loc[("simclr", 3), "class"] == pytest.approx(9.4)


def test_shift_sentences_name_only_significant_differences(records):
    lines = R.shift_sentences(R.last_block(R.load(records)))
    # class: +6 units (p = 0.0091); phase: simclr 2 against 0, 0, 0... the untrained has no phase units,
    # so the differences are 2, 2, 2: constant, t-test p = NaN -> not called significant.
    assert lines == ["On uwave, simclr against the untrained encoder: class +6.0 units (p = 0.0091)."]


def test_a_class_rise_is_judged_against_the_untrained_encoders_rise(records):
    # Block 2: no class units anywhere; block 3: SimCLR 10-14 of 128 (7.8-10.9 %), untrained 5-7 (3.9-5.5 %).
    table = R.rise_against_untrained(R.load(records), "class").set_index(["dataset", "method"])
    row = table.loc[("uwave", "simclr")]
    assert row["seeds"] == 3 and row["rise (untrained)"] == pytest.approx(100 * 6 / 128, abs=0.05)
    assert row["difference"] == pytest.approx(100 * 6 / 128, abs=0.05)  # 12 - 6 units on average
    assert row["verdict"] == "rises more than untrained" and row["Holm p"] == row["p"]  # one test


def test_a_concept_covering_half_of_all_positions_can_never_make_a_detector():
    import numpy as np

    from sslts.evaluate.dissection import concept_ceilings, max_achievable_iou

    half = np.zeros((10, 20), dtype=bool)
    half[:, :10] = True
    eighth = np.zeros((16, 20), dtype=bool)
    eighth[:2] = True
    rows = {r["concept"]: r for r in concept_ceilings({("motion", "rest"): half, ("class", "a"): eighth[:16]})}
    assert rows["rest"]["max_iou"] == pytest.approx(0.04) and not rows["rest"]["can_detect"]
    assert rows["a"]["max_iou"] == pytest.approx(0.16) and rows["a"]["can_detect"]
    with pytest.raises(ValueError, match="coverages"):
        max_achievable_iou(0.0)


def test_the_null_calibrated_criterion_makes_the_untrained_encoder_a_floor(tmp_path):
    # Untrained units' best IoUs 0.05..0.14 (ten units); a trained encoder's 0.10..0.19.
    for method, base in (("random_init", 0.05), ("vicreg", 0.10)):
        units = [{"unit": i, "concept_type": "class", "concept": "a", "iou": base + 0.01 * i, "detector": True}
                 for i in range(10)]
        path = tmp_path / "toy" / f"{method}-s0.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"kind": "dissection", "config": {"dataset": "toy", "method": method, "seed": 0},
                                    "layers": [{"block": 3, "counts": {"class": 10}, "units": units}]}))
    units = R.load_units(tmp_path)
    threshold = R.null_thresholds(units, share=0.1).loc[("toy", 3)]
    assert threshold == pytest.approx(0.131)  # the untrained IoUs' 90th percentile
    counts = R.recount(units, R.null_thresholds(units, share=0.1)).set_index("method")
    assert counts.loc["random_init", "detectors"] == 1 and counts.loc["vicreg", "detectors"] == 6
    assert counts.loc["vicreg", "none"] == 4 and R.load(tmp_path)["detectors"].tolist() == [10, 10]
    frame, thresholds = R.load_calibrated(tmp_path, share=0.1)
    assert frame.set_index("method").loc["vicreg", "class"] == 6 and len(thresholds) == 1
