"""The augmentation benchmark: its NumPy references keep step with the registry and do what the batched ops do.

The timings themselves are not tested (a benchmark, not a timed test); one tiny call checks that the
script runs end to end and writes a record naming every augmentation.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import torch

from sslts.augment import AUGMENTATIONS, window_warp

_SPEC = importlib.util.spec_from_file_location(
    "bench_augment", Path(__file__).parents[1] / "benchmarks" / "bench_augment.py")
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def test_every_augmentation_has_a_numpy_reference():
    assert list(bench.NUMPY) == list(AUGMENTATIONS)


def test_numpy_window_warp_fixes_the_ends_and_matches_the_batched_time_map():
    ramp = np.arange(21.0)[None, :].repeat(2, axis=0)          # (C, L): the value is the time
    out = bench.np_window_warp(ramp, np.random.default_rng(3))
    assert out.shape == ramp.shape and out[0, 0] == 0.0 and out[0, -1] == 20.0
    assert np.all(np.diff(out[0]) > 0)                          # the time map is increasing
    # Both versions warp a window of round(0.1 * 20) = 2 time units by f = 2 or 1/2 and read the
    # warped series (20 + 2 (f - 1) units long) back at 21 points: outside the window a ramp's steps
    # are (20 + 2 (f - 1)) / 20 = 1.1 (f = 2) or 0.95 (f = 1/2), and at most 6 of the 20 steps touch the window.
    batched = window_warp(torch.tensor(ramp[None]), torch.Generator().manual_seed(0))[0].numpy()
    for y in (out[0], batched[0]):
        steps, counts = np.unique(np.round(np.diff(y), 6), return_counts=True)
        assert steps[counts.argmax()] in (1.1, 0.95) and counts.max() >= 14

def test_a_tiny_run_writes_a_record_with_every_row(tmp_path):
    out = tmp_path / "augment.json"
    bench.main(["--batch", "4", "--channels", "2", "--length", "16", "--repeats", "1", "--out", str(out)])
    record = json.loads(out.read_text())
    assert set(record["timings"]) == set(AUGMENTATIONS) | {"pipeline (all)"}
    assert record["random_draws_ms"] > 0 and record["goal_speedup"] == 50.0
