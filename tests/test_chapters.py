"""The helpers behind the method chapters: parameter mapping and the hypothesis verdicts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sslts.wiring import experiment_config
from sslts.report.method_run import hypothesis_diversity, hypothesis_similar_classes, most_confused_pairs
from sslts.params import resolve
from sslts.results import records_frame


def test_most_confused_pairs_counts_both_directions():
    confusion = [[5, 3, 0],
                 [1, 6, 0],
                 [0, 2, 9]]
    # 0<->1: 3+1 = 4 errors, 1<->2: 0+2 = 2, 0<->2: 0
    assert most_confused_pairs(confusion, k=2) == [(0, 1), (1, 2)]


def test_method_run_in_another_chapter_takes_its_own_defaults():
    P = resolve("vicreg", "smoke")
    config = experiment_config("simclr", "uwave", 0, P)
    simclr_defaults = resolve("simclr", "smoke")
    assert config.method_params["temperature"] == simclr_defaults["temperature"]
    assert config.epochs == P["epochs"] and config.max_train == P["max_train"]


def test_extra_pool_only_applies_to_uwave():
    P = {**resolve("simclr", "smoke"), "extra_pool": True}
    assert experiment_config("simclr", "uwave", 0, P).extra_pool
    assert not experiment_config("simclr", "har", 0, P).extra_pool


def test_encoder_params_hold_only_what_differs_from_the_cnn_defaults():
    P = resolve("vicreg", "full")
    # Default settings add nothing, so records of default runs keep their paths.
    assert experiment_config("vicreg", "uwave", 0, P).encoder_params == {}
    P = {**P, "temporal_bins": 4, "pooling": "max"}
    assert experiment_config("vicreg", "uwave", 0, P).encoder_params == {"temporal_bins": 4, "pooling": "max"}
    assert experiment_config("vicreg", "uwave", 0, {**P, "temporal_bins": 1}).encoder_params == {"pooling": "max"}


def _result(method, dataset, confusion, rank=10.0, spread=0.5):
    record = {
        "config": {"method": method, "dataset": dataset, "encoder": "cnn", "profile": "smoke", "seed": 0},
        "evaluations": [{"protocol": "linear", "label_fraction": 1.0, "accuracy": 0.5, "confusion": confusion}],
        "diagnostics": {"effective_rank": rank, "std_normalized_mean": spread, "std_collapse_reference": 1.0},
        "timing": {"pretrain_s": 1.0, "total_s": 1.0},
    }
    return SimpleNamespace(record=record, test=SimpleNamespace(class_names=("a", "b", "c")))


def test_similar_classes_verdict_uses_pairs_chosen_by_the_random_encoder():
    base = [[5, 5, 0], [5, 5, 0], [0, 0, 10]]          # random encoder mixes a and b
    good = [[9, 1, 0], [1, 9, 0], [0, 5, 5]]           # few a/b errors, many b/c errors
    bad = [[5, 5, 0], [5, 5, 0], [0, 0, 10]]
    results = [_result("random_init", "uwave", base), _result("simclr", "uwave", good), _result("vicreg", "uwave", bad)]
    text = hypothesis_similar_classes(results, "simclr", "vicreg", k=1)
    assert "a/b" in text and "10.0%" in text and "50.0%" in text and "this run supports" in text
    swapped = hypothesis_similar_classes(results, "vicreg", "simclr", k=1)
    assert "does not support" in swapped


@pytest.mark.parametrize("rank_a, spread_a, verdict", [(20, 0.9, "supports"), (5, 0.1, "contradicts"), (20, 0.1, "is mixed on")])
def test_diversity_verdict(rank_a, spread_a, verdict):
    results = [_result("vicreg", "har", [[1]], rank_a, spread_a), _result("simclr", "har", [[1]], 10.0, 0.5)]
    frame = records_frame([])
    assert f"this run {verdict} the hypothesis" in hypothesis_diversity(frame, results, "vicreg", "simclr")


def test_peer_comparison_uses_the_best_mean_over_seeds_and_says_whether_it_beats_the_bar():
    import pandas as pd

    from sslts.report.full_profile import peer_comparison

    def rows(method, dataset, protocol, accuracies):
        return [{"method": method, "dataset": dataset, "encoder": "cnn", "setting": "defaults", "protocol": protocol,
                 "label_fraction": 1.0, "seed": s, "accuracy": a} for s, a in enumerate(accuracies)]

    frame = pd.DataFrame(rows("simclr", "uwave", "svm", [0.93, 0.89]) + rows("vicreg", "uwave", "svm", [0.92, 0.92])
                         + rows("vicreg", "uwave", "linear", [0.99, 0.99])  # not the UWave protocol
                         + rows("random_init", "har", "svm", [0.99]) + rows("simclr", "har", "linear", [0.93, 0.92]))
    text = peer_comparison(frame, min_seeds=2)
    assert "On uwave, the best mean is VICReg (cnn, defaults) with the svm protocol, 0.920 ± 0.000 over 2 seeds: " \
           "it beats the bar of 0.919" in text
    assert "On har, the best mean is SimCLR (cnn, defaults) with the linear protocol, 0.925 ± 0.007 over 2 seeds: " \
           "it does not beat the bar of 0.930" in text
    assert peer_comparison(frame[frame["dataset"] == "har"], min_seeds=2).count("On ") == 1


def test_peer_comparison_does_not_count_a_better_row_with_too_few_seeds():
    import pandas as pd

    from sslts.report.full_profile import peer_comparison

    def rows(method, accuracies):
        return [{"method": method, "dataset": "har", "encoder": "cnn", "setting": "defaults", "protocol": "svm",
                 "label_fraction": 1.0, "seed": s, "accuracy": a} for s, a in enumerate(accuracies)]

    text = peer_comparison(pd.DataFrame(rows("simclr", [0.92] * 5) + rows("vicreg", [0.94])))
    assert "the best mean is SimCLR (cnn, defaults) with the svm protocol, 0.920 ± 0.000 over 5 seeds: " \
           "it does not beat the bar of 0.930" in text
    assert "VICReg (cnn, defaults) reaches 0.940 with the svm protocol over 1 seed only, too few to compare" in text
    only_one = peer_comparison(pd.DataFrame(rows("vicreg", [0.94])))
    assert only_one.startswith("On har, no method setting has 5 seeds yet to compare with the bar of 0.930")


def test_peer_comparison_sets_the_untrained_encoder_under_the_same_protocol_next_to_the_best():
    import pandas as pd

    from sslts.report.full_profile import peer_comparison

    def rows(method, protocol, accuracies):
        return [{"method": method, "dataset": "har", "encoder": "cnn", "setting": "defaults", "protocol": protocol,
                 "label_fraction": 1.0, "seed": s, "accuracy": a} for s, a in enumerate(accuracies)]

    frame = pd.DataFrame(rows("vicreg", "svm", [0.95, 0.93]) + rows("random_init", "svm", [0.90, 0.92])
                         + rows("random_init", "linear", [0.80, 0.80]))
    text = peer_comparison(frame, min_seeds=2)
    assert "it beats the bar of 0.930" in text
    assert "The untrained encoder reaches 0.910 ± 0.014 with the same protocol (2 seeds)." in text
    assert "0.800" not in text  # the linear probe is not the winning protocol


def test_peer_comparison_keeps_methods_that_train_with_labels_apart():
    import pandas as pd

    from sslts.report.full_profile import peer_comparison

    def rows(method, accuracies):
        return [{"method": method, "dataset": "har", "encoder": "cnn", "setting": "defaults", "protocol": "svm",
                 "label_fraction": 1.0, "seed": s, "accuracy": a} for s, a in enumerate(accuracies)]

    # TTT's encoder is trained jointly with a classifier: better than the bar, but not self-supervised.
    text = peer_comparison(pd.DataFrame(rows("simclr", [0.92] * 5) + rows("ttt", [0.95] * 5)))
    assert "the best mean is SimCLR (cnn, defaults) with the svm protocol, 0.920 ± 0.000 over 5 seeds: " \
           "it does not beat the bar" in text
    assert "On har, TTT (joint training) trains with the labels, so it is not compared with the self-supervised " \
           "peers; its best mean (cnn, defaults) is 0.950 with the svm protocol over 5 seeds." in text
    assert "beats" not in text


def test_training_split_choice_picks_the_best_cv_mean_not_the_best_test_mean():
    import pandas as pd

    from sslts.report.full_profile import training_split_choice

    def rows(method, setting, accuracies, cvs, protocol="svm", dataset="uwave"):
        return [{"method": method, "dataset": dataset, "encoder": "cnn", "setting": setting, "protocol": protocol,
                 "label_fraction": 1.0, "seed": s, "accuracy": a,
                 "best_params": {"C": 1.0} if cv is None else {"C": 1.0, "cv_accuracy": cv}}
                for s, (a, cv) in enumerate(zip(accuracies, cvs))]

    frame = pd.DataFrame(
        rows("vicreg", "a", [0.93, 0.93], [0.80, 0.82])       # best on the test split, worse on the training split
        + rows("simclr", "b", [0.90, 0.92], [0.90, 0.90])     # best CV: the choice, test mean 0.910
        + rows("barlow_twins", "c", [0.99, 0.99], [0.99, None])  # one record without CV: cannot compete
        + rows("mae", "d", [0.99], [0.99])                    # one seed: too few
        + rows("ttt", "e", [0.99, 0.99], [0.99, 0.99])        # trains with labels: not a self-supervised row
        + rows("vicreg", "a", [0.99, 0.99], [0.99, 0.99], protocol="linear"))  # not UWave's bar protocol
    text = training_split_choice(frame, min_seeds=2)
    assert text == ("Chosen on the training split alone (the best mean cross-validated accuracy among the 2 uwave "
                    "rows with 2 or more seeds whose records carry it, test labels unseen): SimCLR (cnn, b) with the "
                    "svm protocol, CV 0.900; its test mean, 0.910 ± 0.014, does not beat the bar of 0.919.")
    assert training_split_choice(frame.drop(columns="best_params"), min_seeds=2) == ""
    assert training_split_choice(frame[frame["setting"].isin(["c", "d"])], min_seeds=2) == ""


def test_diagnostics_table_indexes_each_run_by_dataset_method_and_seed():
    from types import SimpleNamespace

    from sslts.report.method_run import diagnostics_table

    def run(method, seed, rank):
        return SimpleNamespace(record={"config": {"dataset": "uwave", "method": method, "seed": seed},
                                       "diagnostics": {"effective_rank": rank, "uniformity": -1.234567}})

    table = diagnostics_table([run("simclr", 0, 10.123456), run("random_init", 1, 3.0)])
    assert table.index.tolist() == [("uwave", "simclr", 0), ("uwave", "random_init", 1)]
    assert table.loc[("uwave", "simclr", 0), "effective_rank"] == 10.1235
    assert table.loc[("uwave", "random_init", 1), "uniformity"] == -1.2346


def test_mask_ratio_findings_states_the_best_ratio_and_flags_an_unlearned_sweep():
    import pandas as pd

    from sslts.chapters.mae import mask_ratio_findings

    P = {"encoder": "transformer", "sweep_dataset": "uwave", "mask_ratio": 0.75}
    rows = [("transformer", None, 0.70, 0.72, None), ("transformer", 0.4, 0.80, 0.81, 0.5),
            ("transformer", 0.75, 0.85, 0.84, 0.4), ("cnn", None, 0.60, 0.61, None), ("cnn", 0.75, 0.65, 0.66, 0.6)]
    table = pd.DataFrame(rows, columns=["encoder", "mask_ratio", "linear", "svm", "final_loss"])
    text = mask_ratio_findings(table, P)
    assert text.startswith("On uwave, the transformer MAE's linear probe is best at mask ratio 0.75 (0.850, SVM 0.840)")
    assert "ranges from 0.800 to 0.850 over the ratios, against 0.700 (SVM 0.720)" in text
    assert "barely learned" not in text  # losses well below 1
    assert "it is not better than the Transformer, and above its own random baseline" in text
    assert "A possible reason, not tested here" in text
    table.loc[table["mask_ratio"].notna(), "final_loss"] = 0.99
    assert "barely learned to reconstruct" in mask_ratio_findings(table, P)


def test_ttt_shift_table_gives_each_mode_its_gain_over_no_adaptation():
    import pandas as pd

    from sslts.chapters.ttt import ttt_shift_table

    frame = pd.DataFrame([
        {"dataset": "uwave", "shift": "gain", "severity": 5, "mode": m, "accuracy": a}
        for m, a in (("series", 0.7), ("none", 0.5), ("batch", 0.45))])
    table = ttt_shift_table(frame)
    assert list(table.columns) == ["none", "batch", "series", "batch gain", "series gain"]
    assert table.loc[("uwave", "gain", 5), "batch gain"] == pytest.approx(-0.05)
    assert table.loc[("uwave", "gain", 5), "series gain"] == pytest.approx(0.2)


def _shift_rows(dataset="har"):
    """Clean and two corrupted settings; batch TTT gains +0.1 and -0.2 there, single-series +0.3 once."""
    accuracy = {("none", 0): {"none": 0.9, "batch": 0.9, "series": 0.9},
                ("gain", 5): {"none": 0.5, "batch": 0.6, "series": 0.8},
                ("dead_channel", 5): {"none": 0.6, "batch": 0.4, "series": 0.6}}
    ms = {"none": 0.0, "batch": 2.0, "series": 40.0}
    return [{"dataset": dataset, "shift": shift, "severity": severity, "mode": mode, "accuracy": a,
             "extra_ms_per_series": ms[mode], "n_series": 300, "pretrain_epochs": 29, "pretrain_s": 240.0}
            for (shift, severity), modes in accuracy.items() for mode, a in modes.items()]


def test_shift_findings_states_the_mean_gain_and_its_extremes():
    import pandas as pd

    from sslts.chapters.ttt import shift_findings

    text = shift_findings(pd.DataFrame(_shift_rows()))
    assert "Over the 2 corrupted settings, batch TTT changes accuracy by -0.050 on average (no adaptation: 0.550); " \
           "it helps in 1, hurts in 1; its largest change is +0.100 (shift `gain`, severity 5) and its smallest " \
           "-0.200 (`dead_channel`, severity 5)." in text
    assert "single-series TTT changes accuracy by +0.150 on average" in text
    assert "On the uncorrupted subsample, batch TTT changes accuracy by +0.000." in text
    assert text.endswith("Extra time per series: 2.0 ms for batch TTT and 40.0 ms for single-series TTT.")


def test_shift_benchmark_reads_the_record_and_says_when_it_is_missing(tmp_path):
    import json

    from sslts.chapters.ttt import shift_benchmark

    frame, note = shift_benchmark(tmp_path / "none.json")
    assert frame is None and "python benchmarks/bench_ttt_shifts.py" in note
    settings = {"seed": 0, "pretrain_budget": 220000, "adapt_steps": 5, "adapt_optimizer": "sgd", "adapt_lr": 0.005,
                "adapt_batch": 64, "adapt_masks": 16, "severities": [5]}
    record = {"git_commit": "abc1234", "device": "cpu: test", "created_utc": "2026-12-01T00:00:00+00:00",
              "settings": settings, "rows": _shift_rows(), "load_average_1min": {"before": 1.9, "after": 2.0}}
    (tmp_path / "ttt_shifts.json").write_text(json.dumps(record))
    frame, note = shift_benchmark(tmp_path / "ttt_shifts.json")
    assert len(frame) == 9
    assert "commit `abc1234`" in note and "load average when it started 1.9" in note
    assert "har: 300 test series, 29 epochs of joint training (4.0 min)" in note
    assert "On **har**: Over the 2 corrupted settings, batch TTT changes accuracy by -0.050" in note


def test_corruption_table_reads_every_strength_from_the_shift_module():
    from sslts.chapters.ttt import corruption_table
    from sslts.shifts import SEVERITY_TABLES, SHIFTS

    rows = corruption_table().splitlines()[2:]
    assert len(rows) == len(SHIFTS) == len(SEVERITY_TABLES)
    noise = next(r for r in rows if r.startswith("| Gaussian noise"))
    assert noise.endswith(r"$s_n \in \{0.1, 0.2, 0.4, 0.7, 1\}$ |")  # NOISE_STD, severities 1..5
    for row, strengths in zip(rows, SEVERITY_TABLES.values()):
        assert ", ".join(f"{v:g}" for v in strengths) in row


def test_stability_summary_reads_the_benchmark_record_and_says_where_it_came_from(tmp_path):
    import json

    from sslts.chapters.ssgan import STABILITY_COLUMNS, stability_summary

    row = {c: 0.5 for c in STABILITY_COLUMNS}
    record = {"git_commit": "abc1234", "device": "cpu: test", "created_utc": "2026-11-30T00:00:00+00:00",
              "variants": {"paper": {"lr_d": 2e-4}, "slow_d": {"lr_d": 5e-5}, "unused": {}},
              "rows": [{**row, "dataset": "uwave", "variant": "paper", "seed": 0, "train_series": 120, "epochs": 200},
                       {**row, "dataset": "uwave", "variant": "slow_d", "seed": 0, "train_series": 120,
                        "epochs": 200, "fd": 9.0}]}
    path = tmp_path / "ssgan_stability.json"
    path.write_text(json.dumps(record))
    table, note = stability_summary(str(path))
    assert table.loc[("uwave", "slow_d"), "fd"] == 9.0 and list(table.columns) == STABILITY_COLUMNS
    assert "`abc1234`" in note and "uwave: 120 training series, 200 epochs" in note
    assert "**slow_d**: lr_d = 5e-05" in note and "unused" not in note
    assert stability_summary(str(tmp_path / "missing.json"))[0] is None


def test_stability_findings_compare_the_default_with_the_paper_and_flag_a_winning_discriminator():
    import pandas as pd

    from sslts.chapters.ssgan import stability_findings

    rows = [("uwave", "paper", 0.95, 14.0, 0.64, 0.53), ("uwave", "slow_d", 0.86, 39.0, 0.65, 0.39),
            ("har", "paper", 0.0, 82.7, 0.27, 0.86), ("har", "slow_d", 0.0, 53.9, 0.64, 0.48)]
    table = pd.DataFrame([{"dataset": d, "variant": v, "d_saturated": s, "fd": f, "fd_untrained": 66.5,
                           "coverage": c, "top_share": t} for d, v, s, f, c, t in rows]).set_index(["dataset", "variant"])
    text = stability_findings(table)
    assert "On **har**" in text and "Fréchet distance 53.9 against 82.7" in text
    assert "largest class share 48% against 86%" in text
    assert "at most half of the epochs: paper, slow_d" in text  # HAR: neither saturated
    assert "No setting tried kept the discriminator from winning most epochs** (the least: slow_d, 86%)" in text


def test_stability_summary_names_the_setting_that_matches_the_current_defaults(tmp_path):
    import json

    from sslts.chapters.ssgan import STABILITY_COLUMNS, stability_findings, stability_summary

    row = {c: 0.5 for c in STABILITY_COLUMNS} | {"dataset": "har", "seed": 0, "train_series": 10, "epochs": 2}
    record = {"git_commit": "abc1234", "device": "cpu", "created_utc": "2026-11-30",
              "variants": {"equal": {"lr_d": 2e-4, "lr_g": 2e-4}, "slower": {"lr_d": 5e-5, "lr_g": 2e-4}},
              "rows": [{**row, "variant": "equal"}, {**row, "variant": "slower"}]}
    path = tmp_path / "ssgan_stability.json"
    path.write_text(json.dumps(record))
    table, _ = stability_summary(str(path))
    assert table.attrs["default"] == {"har": "slower"}  # lr_d 5e-5, lr_g 2e-4: the chapter's defaults
    assert "the default (slower) against the paper's equal rates (equal)" in stability_findings(table, baseline="equal")
    record["variants"]["slower"]["lr_d"] = 1e-3
    path.write_text(json.dumps(record))
    assert "On **har**, none of the benchmarked settings is the chapter's current default" in \
        stability_findings(stability_summary(str(path))[0])


def _full_record(config, seed: int, svm: float, total_s: float) -> dict:
    return {"kind": "experiment", "config": {**config, "seed": seed}, "git_commit": "abc1234", "device": "cpu: test",
            "evaluations": [{"protocol": "svm", "label_fraction": 1.0, "accuracy": svm}],
            "timing": {"pretrain_s": total_s - 1.0, "total_s": total_s}}


def test_setting_label_names_what_differs_from_todays_defaults():
    from sslts.report.full_profile import setting_label

    vicreg = experiment_config("vicreg", "uwave", 3, resolve("vicreg", "full")).to_dict()
    assert setting_label(vicreg) == "defaults"
    bins = {**vicreg, "extra_pool": True, "encoder_params": {"temporal_bins": 4}}
    assert setting_label(bins) == "extra_pool=True, temporal_bins=4"
    peaks = {**vicreg, "extra_pool": True, "encoder_params": {"temporal_bins": 4, "pooling": "max"}}
    assert setting_label(peaks) == "extra_pool=True, pooling=max, temporal_bins=4"
    ssgan = experiment_config("ssgan", "har", 0, resolve("ssgan", "full")).to_dict()
    older = {**ssgan, "method_params": {**ssgan["method_params"], "lr_d": 2e-4}}
    assert setting_label(older) == "lr_d=0.0002"


def test_full_profile_summary_keeps_settings_apart_and_averages_wall_time(tmp_path):
    from sslts.report.full_profile import full_profile_summary
    from sslts.results import write_record

    vicreg = experiment_config("vicreg", "uwave", 0, resolve("vicreg", "full")).to_dict()
    pooled = {**vicreg, "extra_pool": True}
    for record in (_full_record(vicreg, 0, 0.90, 60.0), _full_record(vicreg, 1, 0.80, 120.0),
                   _full_record(pooled, 0, 0.95, 600.0)):
        write_record(tmp_path, record)
    table, text = full_profile_summary(["vicreg"], root=tmp_path)
    assert table.loc[("uwave", "vicreg", "cnn", "defaults"), "svm"] == "0.850 ± 0.071 (n=2)"
    assert table.loc[("uwave", "vicreg", "cnn", "extra_pool=True"), "svm"] == "0.950 ± 0.000 (n=1)"
    assert "vicreg on uwave: 1.5 min" in text and "vicreg (extra_pool=True) on uwave: 10.0 min" in text
    assert "VICReg (cnn, extra_pool=True) reaches 0.950 with the svm protocol over 1 seed only" in text
    assert "resumed" not in text


def test_a_resumed_run_is_left_out_of_the_mean_wall_time(tmp_path):
    from sslts.report.full_profile import full_profile_summary
    from sslts.results import write_record

    vicreg = experiment_config("vicreg", "uwave", 0, resolve("vicreg", "full")).to_dict()
    resumed = _full_record(vicreg, 1, 0.80, 6.0)
    resumed["timing"]["resumed_from_epoch"] = 40
    for record in (_full_record(vicreg, 0, 0.90, 60.0), resumed):
        write_record(tmp_path, record)
    table, text = full_profile_summary(["vicreg"], root=tmp_path)
    assert table.loc[("uwave", "vicreg", "cnn", "defaults"), "svm"] == "0.850 ± 0.071 (n=2)"  # its accuracy counts
    assert "vicreg on uwave: 1.0 min" in text  # 60 s, not (60 + 6) / 2
    assert "1 run(s) resumed from a checkpoint after a restart are left out of these means" in text


def test_full_profile_overview_puts_the_best_svm_row_on_top_and_marks_the_bar():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from sslts.plots import full_profile_overview

    rows = [{"dataset": "toy", "method": m, "encoder": "cnn", "setting": s, "seed": seed, "label_fraction": 1.0,
             "protocol": protocol, "accuracy": acc + 0.01 * seed}
            for m, s, acc in (("simclr", "defaults", 0.7), ("vicreg", "temporal_bins=4", 0.9), ("mae", "defaults", 0.8))
            for seed in (0, 1) for protocol in ("linear", "svm")]
    fig = full_profile_overview(pd.DataFrame(rows), {"toy": 0.85}, "toy")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]  # bottom to top
    assert labels == ["simclr (cnn)  n=2", "mae (cnn)  n=2", "vicreg (cnn)\ntemporal_bins=4  n=2"]
    assert [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"] == [0.85]


def test_baseline_comparison_names_the_rows_at_or_below_the_untrained_encoder():
    import pandas as pd

    from sslts.report.full_profile import baseline_comparison

    def rows(method, dataset, setting, accuracies):
        return [{"method": method, "dataset": dataset, "encoder": "cnn", "setting": setting, "protocol": "linear",
                 "label_fraction": 1.0, "seed": s, "accuracy": a} for s, a in enumerate(accuracies)]

    frame = pd.DataFrame(rows("random_init", "uwave", "defaults", [0.80, 0.84]) + rows("simclr", "uwave", "defaults", [0.81, 0.81])
                         + rows("vicreg", "uwave", "temporal_bins=4", [0.90, 0.86])
                         + rows("random_init", "har", "defaults", [0.5]) + rows("simclr", "har", "defaults", [0.9]))
    text = baseline_comparison(frame)
    assert ("Not above the untrained encoder's linear probe on uwave (0.820): SimCLR (cnn, defaults) 0.810 "
            "(1 of 2 method settings).") in text
    assert "On har, every method setting beats the untrained encoder's linear probe (0.500)." in text


def test_setting_effects_sets_each_setting_next_to_the_defaults():
    import pandas as pd

    from sslts.report.full_profile import setting_effects

    def rows(method, setting, accuracies):
        return [{"method": method, "dataset": "uwave", "encoder": "cnn", "setting": setting, "protocol": "svm",
                 "label_fraction": 1.0, "seed": s, "accuracy": a} for s, a in enumerate(accuracies)]

    frame = pd.DataFrame(rows("simclr", "defaults", [0.78, 0.80]) + rows("simclr", "temporal_bins=4", [0.9])
                         + rows("vicreg", "temporal_bins=4", [0.9]))  # no defaults: nothing to compare
    assert setting_effects(frame) == ("Settings compared: SimCLR (cnn) on uwave, svm protocol: defaults 0.790 (n=2); "
                                      "temporal_bins=4 0.900 (n=1).")
    assert setting_effects(frame[frame["method"] == "vicreg"]) == ""


def test_stability_default_is_read_from_each_rows_configuration(tmp_path):
    import json

    from sslts.chapters.ssgan import STABILITY_COLUMNS, stability_summary

    uwave = experiment_config("ssgan", "uwave", 0, resolve("ssgan", "full")).to_dict()
    har = experiment_config("ssgan", "har", 0, resolve("ssgan", "full")).to_dict()
    assert uwave["extra_pool"] and not har["extra_pool"]  # the pool exists for UWave only
    shortcuts = {"protocols": ["linear"], "finetune_epochs": 0}  # the benchmark's own, not settings
    row = {c: 0.5 for c in STABILITY_COLUMNS} | {"seed": 0, "train_series": 120, "epochs": 200}
    record = {"git_commit": "abc1234", "device": "cpu", "created_utc": "2026-11-30",
              # slow_d leaves extra_pool alone: by its parameters alone it would match either way
              "variants": {"slow_d": {"lr_d": 5e-5}, "slow_d_pool": {"lr_d": 5e-5, "extra_pool": True}},
              "rows": [{**row, "dataset": "uwave", "variant": "slow_d", "git_commit": "old1234",
                        "config": {**uwave, **shortcuts, "extra_pool": False}},
                       {**row, "dataset": "uwave", "variant": "slow_d_pool", "config": {**uwave, **shortcuts}},
                       {**row, "dataset": "har", "variant": "slow_d", "config": {**har, **shortcuts}}]}
    path = tmp_path / "ssgan_stability.json"
    path.write_text(json.dumps(record))
    table, note = stability_summary(str(path))
    assert table.attrs["default"] == {"uwave": "slow_d_pool", "har": "slow_d"}
    assert "rows measured at `abc1234`, `old1234`" in note
    record["rows"][1]["config"]["lr_g"] = 1e-3  # UWave has no row of today's defaults any more
    path.write_text(json.dumps(record))
    assert stability_summary(str(path))[0].attrs["default"] == {"har": "slow_d"}


def test_every_chapter_compiles_and_displays_figures_through_the_one_shared_show():
    import ast
    from pathlib import Path

    import jupytext

    book = Path(__file__).resolve().parents[1] / "book"
    for path in sorted(book.glob("*.md")):
        notebook = jupytext.read(path)
        code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code"
                         and not cell.source.lstrip().startswith(("%", "!")))
        tree = ast.parse(code, filename=str(path))  # a syntax error names the chapter
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert "show" not in defined, f"{path.name} defines its own show(); use sslts.plots.show"
