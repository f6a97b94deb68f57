"""A refactor must not move a number: one smoke-profile record per method, re-made and compared.

``tests/golden/records.json`` holds, per method, the accuracies of every evaluation and the
pre-training loss history of a smoke-profile run on the tiny ``waves`` archive, made before a
refactor. The test re-makes each run with today's code and requires the same numbers.

The runs use one CPU thread (the sweeps' setting): the thread count changes how reductions are
split, and with it the last bits. Floating-point results can also differ between CPU kernel families (oneDNN picks AVX-512 or AVX2
kernels by CPU), so the comparison is exact on the CPU model the golden file was made on, and
within a tolerance far below any change a refactor would cause elsewhere. Re-make the file only
when a change is meant to move numbers, and say so in the commit:
``SSLTS_WRITE_GOLDEN=1 pytest tests/test_record_identity.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from sslts.wiring import METHOD_CHAPTER, experiment_config
from sslts.experiment import run_experiment
from sslts.methods import METHODS
from sslts.params import resolve
from sslts.provenance import cpu_identity

GOLDEN = Path(__file__).parent / "golden" / "records.json"
WRITE = os.environ.get("SSLTS_WRITE_GOLDEN") == "1"


@pytest.fixture
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _numbers(method: str) -> dict:
    # Three epochs rather than the profile's one, so that the loss history says more than its start.
    P = resolve(METHOD_CHAPTER.get(method, "simclr"), "smoke", dataset=["Waves"], epochs=3)
    record = run_experiment(experiment_config(method, "Waves", 0, P), progress=False).record
    return {
        "config": record["config"],
        "accuracies": {f"{e['protocol']}@{e['label_fraction']}": e["accuracy"] for e in record["evaluations"]},
        "history": record["history"],
        "diagnostics": record["diagnostics"],
    }


def _cpu() -> dict:
    return cpu_identity()


@pytest.mark.parametrize("method", [*sorted(METHODS), "random_init"])
def test_a_smoke_record_remade_has_the_same_numbers(method, waves, one_thread):
    numbers = _numbers(method)
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {"cpu": _cpu(), "records": {}}
    if WRITE:
        golden["cpu"] = _cpu()
        golden["records"][method] = numbers
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        pytest.skip("golden record written")
    assert method in golden["records"], f"no golden record for {method}: make one with SSLTS_WRITE_GOLDEN=1"
    expected = golden["records"][method]
    assert numbers["config"] == expected["config"]  # so the record's path is the same too
    assert numbers["accuracies"].keys() == expected["accuracies"].keys()
    assert numbers["history"].keys() == expected["history"].keys()
    if golden["cpu"] == _cpu():
        assert numbers == expected
    else:  # other kernels: the same numbers up to rounding, an accuracy by at most one test series
        for key, value in expected["history"].items():
            assert numbers["history"][key] == pytest.approx(value, rel=1e-3, abs=1e-5), key
        for key, value in expected["diagnostics"].items():
            assert numbers["diagnostics"][key] == pytest.approx(value, rel=1e-3, abs=1e-5), key
        for key, value in expected["accuracies"].items():
            assert numbers["accuracies"][key] == pytest.approx(value, abs=0.026), key
