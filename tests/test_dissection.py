"""Network dissection on hand-made activation maps whose detectors are known."""

from __future__ import annotations

import numpy as np
import pytest

from sslts.evaluate.dissection import concept_masks, detector_counts, dissect, iou, to_feature_steps, unit_masks


def _activations() -> np.ndarray:
    """4 series x 2 units x 6 steps. Unit 0 fires on the first third (steps 0-1) of every series; unit 1
    fires on steps 0-3 of series 0 and 1 only (its threshold: the median, so firing = value 1)."""
    a = np.zeros((4, 2, 6))
    a[:, 0, 0:2] = 1.0
    a[0:2, 1, 0:4] = 1.0
    return a


def test_units_fire_above_their_own_top_quantile():
    masks = unit_masks(_activations(), quantile=0.5)
    assert masks[:, 0, :].sum() == 8 and masks[:, 1, :].sum() == 8
    assert masks[:, 0, 0:2].all() and not masks[:, 0, 2:].any()


def test_iou_of_known_overlaps():
    unit1 = unit_masks(_activations(), quantile=0.5)[:, 1, :]
    start = np.zeros((4, 6), bool)
    start[:, 0:2] = True
    class0 = np.zeros((4, 6), bool)
    class0[0:2] = True  # series 0 and 1 are class 0
    scores = iou(unit1, {"start": start, "class 0": class0})
    assert scores["start"] == pytest.approx(4 / 12)  # overlap: 2 series x 2 steps; union 8 + 8 - 4
    assert scores["class 0"] == pytest.approx(8 / 12)  # unit 1 lies inside class 0's 12 positions


def test_dissect_names_each_units_best_concept_and_counts_detectors():
    X = np.zeros((4, 1, 12))
    y = np.array([0, 0, 1, 1])
    concepts = {k: v for k, v in concept_masks(X, y, steps=6).items() if k[0] in ("class", "phase")}
    rows = dissect(_activations(), concepts, quantile=0.5, threshold=0.5)
    assert (rows[0]["concept_type"], rows[0]["concept"], rows[0]["iou"]) == ("phase", "start", 1.0)
    assert (rows[1]["concept_type"], rows[1]["concept"]) == ("class", "0")
    assert rows[1]["iou"] == pytest.approx(8 / 12)
    assert detector_counts(rows) == {"phase": 1, "class": 1}
    assert detector_counts(dissect(_activations(), concepts, quantile=0.5, threshold=0.9)) == {"phase": 1, "none": 1}


def test_concepts_at_the_feature_maps_resolution():
    assert to_feature_steps(np.array([[1, 1, 1, 1, 0, 0, 0, 0]]), 4).tolist() == [[True, True, False, False]]
    t = np.arange(64)
    slow = np.sin(2 * np.pi * t / 32)  # 2 cycles in a 16-step window: the low band
    fast = np.sin(2 * np.pi * t * 6 / 16)  # 6 cycles per window: the high band
    X = np.stack([np.concatenate([slow[:32], 0 * slow[:32]]), np.concatenate([fast[:32], fast[32:]])])[:, None, :]
    masks = concept_masks(X, np.array([0, 1]), steps=8)
    assert masks[("band", "high")][1].all()
    assert masks[("band", "low")][0, :3].all()
    assert masks[("motion", "rest")][0, -2:].all()  # the flat second half of series 0 is at rest


def test_block_maps_end_at_each_block_and_the_last_is_the_encoders_feature_map():
    import torch

    from sslts.encoders import CNNEncoder
    from sslts.evaluate.dissection import block_maps
    from sslts.evaluate.readouts import feature_maps

    torch.manual_seed(0)
    encoder = CNNEncoder(2, channels=(4, 6, 8))
    X = np.random.default_rng(0).normal(size=(5, 2, 40)).astype(np.float32)
    # Each block: conv (k=8, pad 4) adds a step, then the pool (k=2, s=2, pad 1) halves: 40 -> 21 -> 12 -> 7.
    assert [block_maps(encoder, X, b).shape for b in (1, 2, 3)] == [(5, 4, 21), (5, 6, 12), (5, 8, 7)]
    np.testing.assert_array_equal(block_maps(encoder, X, 3), feature_maps(encoder, X).numpy())
    assert encoder.training  # given back in its mode
    with pytest.raises(ValueError, match="block must be in 1..3"):
        block_maps(encoder, X, 4)
    with pytest.raises(TypeError, match="no convolution blocks"):
        block_maps(torch.nn.Linear(2, 2), X, 1)
