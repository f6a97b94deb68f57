"""The NC-VQVAE report layer: tables with intervals over seeds, paired tests, cited anchors kept apart."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sslts.report import vqvae as R


def _record(method: str, seed: int, probe: float, fid: float, dataset: str = "toy") -> dict:
    return {"kind": "vqvae", "config": {"dataset": dataset, "method": method, "profile": "cpu", "seed": seed},
            "stage1": {"probes": [{"pooling": "mean", "protocol": "linear_svm", "accuracy": probe},
                                  {"pooling": "mean", "protocol": "knn", "accuracy": probe - 0.1}],
                       "recon_mse_test": 0.2, "codebook": {"perplexity": 20.0, "used": 1.0}},
            "stage2": {"fid": fid, "is": 2.0, "cas": 0.5}, "timing": {"stage1_s": 10.0, "stage2_s": 5.0}}


NC = "nc-vqvae-vibcreg-window_warp"
RECORDS = ([_record(R.NAIVE, s, 0.40 + 0.01 * s, 8.0) for s in range(4)]
           + [_record(NC, s, 0.70 + 0.01 * s + 0.002 * (s % 2), 6.0 + 0.1 * s) for s in range(4)])


def test_frame_reads_probes_and_generation_scores():
    data = R.frame(RECORDS)
    assert len(data) == 8 and set(data["method"]) == {R.NAIVE, NC}
    row = data[(data["method"] == NC) & (data["seed"] == 1)].iloc[0]
    assert row["linear_svm"] == pytest.approx(0.712) and row["knn"] == pytest.approx(0.612)
    assert math.isnan(row["linear_svm_flat"]) and row["fid"] == pytest.approx(6.1)


def test_summary_table_gives_the_mean_and_t_interval_over_seeds():
    table = R.summary_table(R.frame(RECORDS), "toy", metrics=("linear_svm",))
    assert list(table.index) == ["naive VQ-VAE", "NC (vibcreg, window_warp)"] and table["seeds"].tolist() == [4, 4]
    # naive: 0.40, 0.41, 0.42, 0.43 -> mean 0.415, std 0.0129, t(3) 3.182: half-width 0.0205
    assert table.loc["naive VQ-VAE", "linear SVM (mean latent)"] == "0.415 [0.394, 0.436]"


def test_paired_table_tests_each_variant_against_naive_over_shared_seeds():
    data = R.frame(RECORDS + [_record(NC, 9, 0.9, 6.0)])  # seed 9 has no naive partner: left out
    probe = R.paired_table(data, "toy", "linear_svm")
    assert probe.loc["NC (vibcreg, window_warp)", "seeds"] == 4
    assert probe.loc["NC (vibcreg, window_warp)", "mean difference"] == pytest.approx(0.301)
    assert probe.loc["NC (vibcreg, window_warp)", "verdict"] == "better than naive"
    fid = R.paired_table(data, "toy", "fid")  # lower FID is better
    assert fid.loc["NC (vibcreg, window_warp)", "verdict"] == "better than naive"
    assert "significantly higher linear SVM" in R.verdict(data, "toy", NC, "linear_svm")
    assert "fewer than two paired seeds" in R.verdict(data, "other", NC, "linear_svm")


def test_anchors_are_the_cited_numbers_and_empty_records_give_empty_tables(tmp_path):
    anchors = R.anchors_table()
    assert anchors.loc[("Mathisen et al. 2024", "naive VQ-VAE"), "linear SVM"] == 0.405
    warp = anchors.loc[("Mathisen et al. 2024", "NC-VQVAE (VIbCReg, warp)")]
    # one variant per row: warp's probe beside warp's own generation scores (not slice-and-shuffle's 6.49)
    assert (warp["linear SVM"], warp["FID"], warp["runs"], warp["ours"]) == (0.733, 6.80, 4, "nc-vqvae-vibcreg-window_warp")
    assert np.isnan(anchors.loc[("Lee et al. 2023", "TimeVQVAE"), "linear SVM"])
    assert R.load(tmp_path).empty and R.summary_table(R.load(tmp_path), "toy").empty
    assert R.method_label("nc-vqvae-barlow_twins-slice_and_resize") == "NC (barlow_twins, slice_and_resize)"


def test_verdict_grid_and_answer_say_where_the_ssl_branch_helps():
    # On "toy" the probe rises by 0.301 and FID falls (better); on "small" the probe falls by 0.1 in
    # every seed but one (worse) and generation does not move (IS, CAS and FID equal: n.s.).
    small = ([_record(R.NAIVE, s, 0.8, 5.0, "small") for s in range(3)]
             + [_record(NC, s, 0.7 + 0.001 * s, 5.0, "small") for s in range(3)])
    data = R.frame(RECORDS + small)
    grid = R.verdict_grid(data)
    assert grid.loc[("toy", "NC (vibcreg, window_warp)"), "linear SVM (mean latent)"] == "+0.301 (better)"
    assert grid.loc[("toy", "NC (vibcreg, window_warp)"), "FID (ours)"].endswith("(better)")
    assert grid.loc[("small", "NC (vibcreg, window_warp)"), "linear SVM (mean latent)"] == "-0.099 (worse)"
    assert grid.loc[("small", "NC (vibcreg, window_warp)"), "CAS"] == "+0.000 (n.s.)"
    text = R.answer(data)
    assert "improves the linear probe in 1 and harms it in 1 (small (NC (vibcreg, window_warp)))" in text
    assert "significantly better in 1 cells and worse in 0" in text
    assert "Both improve together in 1: toy (NC (vibcreg, window_warp))" in text
    assert R.answer(R.frame([])) == "No dataset has paired naive and NC-VQVAE seeds yet."
    assert R.answer(R.frame(RECORDS[:5])).startswith("No dataset has two paired seeds")
    assert R.verdict_grid(R.frame(RECORDS[:5])).iloc[0].tolist() == ["–"] * len(R.VERDICT_METRICS)


def test_probe_verdicts_are_holm_corrected_over_the_metrics_cells():
    # A variant just below 0.05 on its own: significant alone, not once a second (null) cell joins the family.
    naive = [_record(R.NAIVE, s, 0.50, 8.0, d) for s in range(4) for d in ("a", "b")]
    marginal = [_record(NC, s, 0.50 + (0.02, 0.013, 0.03, 0.007)[s], 8.0, "a") for s in range(4)]  # p = 0.038
    null = [_record(NC, s, 0.50 + (0.01, -0.01, 0.02, -0.02)[s], 8.0, "b") for s in range(4)]
    alone = R.verdict_cells(R.frame(naive[::2] + marginal), ("linear_svm",))
    both = R.verdict_cells(R.frame(naive + marginal + null), ("linear_svm",))
    raw = R.paired_table(R.frame(naive[::2] + marginal), "a")
    assert raw.loc["NC (vibcreg, window_warp)", "p"] < 0.05 and alone["word"].tolist() == ["better"]
    assert both.set_index("dataset").loc["a", "word"] == "n.s." and both["holm_p"].min() >= 0.05


def test_fid_and_is_are_not_judged_where_the_extractor_is_near_chance():
    records = [dict(r, stage2={**r["stage2"], "extractor_accuracy": 0.5, "fid_real_train": 0.2, "is_real_test": 1.1})
               for r in RECORDS]
    data = R.frame(records)
    table = R.extractor_table(data, {"toy": 3})  # chance 1/3: the bar is 2/3, the extractor reaches 0.5
    assert table.loc["toy", "bar"] == pytest.approx(0.667) and not table.loc["toy", "FID and IS judged"]
    cells = R.verdict_cells(data, ("linear_svm", "fid"), R.judged(table)).set_index("metric")
    assert cells.loc["fid", "word"] == "not judged" and math.isnan(cells.loc["fid", "holm_p"])
    assert cells.loc["linear_svm", "word"] == "better"  # the probe does not depend on the extractor
    good = R.frame([dict(r, stage2={**r["stage2"], "extractor_accuracy": 0.9}) for r in RECORDS])
    table = R.extractor_table(good, {"toy": 8})  # bar 0.5625
    assert table.loc["toy", "FID and IS judged"]
    assert R.verdict_cells(good, ("fid",), R.judged(table))["word"].tolist() == ["better"]
