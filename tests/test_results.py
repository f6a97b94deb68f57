"""Run records and the tables built from them: known values, atomic writes, stable paths."""

from __future__ import annotations

import json

import pytest

from sslts.results import (config_hash, fraction_table, load_records, record_path, records_frame, summary_table,
                           write_record)


def _record(method: str, seed: int, linear: float, svm: float, fraction_acc: float = 0.5) -> dict:
    config = {"method": method, "dataset": "toy", "encoder": "cnn", "profile": "full", "seed": seed, "epochs": 3}
    return {
        "kind": "experiment",
        "config": config,
        "evaluations": [
            {"protocol": "linear", "label_fraction": 1.0, "accuracy": linear, "macro_f1": linear, "auroc": 0.9},
            {"protocol": "svm", "label_fraction": 1.0, "accuracy": svm, "macro_f1": svm, "auroc": 0.9},
            {"protocol": "linear", "label_fraction": 0.1, "accuracy": fraction_acc, "macro_f1": 0.4, "auroc": 0.8},
        ],
        "timing": {"pretrain_s": 10.0, "total_s": 12.0},
    }


def test_config_hash_ignores_key_order_and_sees_values():
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    assert config_hash({"a": 1, "b": 2}) != config_hash({"a": 1, "b": 3})


def test_record_path_layout(tmp_path):
    record = _record("simclr", 3, 0.8, 0.7)
    path = record_path(tmp_path, record["config"])
    assert path.parent == tmp_path / "full" / "toy"
    assert path.name.startswith("simclr-cnn-s3-") and path.suffix == ".json"


def test_write_and_load_roundtrip_skips_other_kinds(tmp_path):
    path = write_record(tmp_path, _record("simclr", 0, 0.8, 0.7))
    (tmp_path / "full" / "toy" / "chapter.json").write_text(json.dumps({"kind": "chapter"}))
    records = load_records(tmp_path)
    assert len(records) == 1 and records[0]["config"]["seed"] == 0
    assert not list(path.parent.glob("*.tmp")), "no temporary files are left behind"


def test_summary_table_mean_and_sample_std():
    frame = records_frame([_record("simclr", 0, 0.80, 0.70), _record("simclr", 1, 0.90, 0.74)])
    table = summary_table(frame)
    # mean 0.85, sample std of (0.80, 0.90) = 0.0707
    assert table.loc[("toy", "simclr"), "linear"] == "0.850 ± 0.071 (n=2)"
    assert table.loc[("toy", "simclr"), "svm"] == "0.720 ± 0.028 (n=2)"
    assert list(table.columns) == ["linear", "svm"]


def test_summary_table_single_seed_has_zero_std():
    table = summary_table(records_frame([_record("vicreg", 0, 0.5, 0.25)]))
    assert table.loc[("toy", "vicreg"), "linear"] == "0.500 ± 0.000 (n=1)"


def test_fraction_table_columns_are_percentages():
    frame = records_frame([_record("simclr", 0, 0.8, 0.7, 0.4), _record("simclr", 1, 0.9, 0.7, 0.6)])
    table = fraction_table(frame)
    assert list(table.columns) == ["10%", "100%"]
    assert table.loc[("toy", "simclr"), "10%"] == pytest.approx(0.5)
    assert table.loc[("toy", "simclr"), "100%"] == pytest.approx(0.85)


def test_cpu_identity_reads_the_first_processor_and_names_torchs_kernels():
    from sslts.provenance import cpu_identity, environment

    cpuinfo = ("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
               "model name\t: AMD EPYC\nstepping\t: 1\n\nprocessor\t: 1\ncpu family\t: 23\nmodel\t\t: 49\n")
    identity = cpu_identity(cpuinfo)
    assert (identity["family"], identity["model"], identity["stepping"]) == (25, 17, 1)  # not "model name"
    assert isinstance(identity["torch_kernels"], str) and identity["torch_kernels"]  # "AVX2", "AVX512", ...
    assert set(cpu_identity("")) == {"torch_kernels"}  # unreadable /proc/cpuinfo: only what torch knows
    assert environment()["cpu"]["torch_kernels"] == identity["torch_kernels"]


def test_cpu_identity_records_a_kernel_cap_only_when_one_is_set(monkeypatch):
    from sslts.provenance import cpu_identity

    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"):
        monkeypatch.delenv(name, raising=False)
    assert "isa_caps" not in cpu_identity("")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert cpu_identity("")["isa_caps"] == {"ONEDNN_MAX_CPU_ISA": "AVX2"}
