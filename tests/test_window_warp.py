"""Tests for ``window_warp`` (Le Guennec et al. 2016; Iwana & Uchida 2021): known values on a ramp.

The registry-wide contract (shape, dtype, device, no mutation, reproducibility, gradients, input
checks) already runs over ``window_warp`` in tests/test_augment.py; these check the formula.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sslts.augment import AUGMENTATIONS, build_pipeline, default_generator, default_params, window_warp


def ramp(batch: int, length: int, channels: int = 1) -> torch.Tensor:
    """``x[b, c, t] = t``: the output reads back the time map."""
    return torch.arange(length, dtype=torch.float64).expand(batch, channels, length).clone()


def independent_map(length: int, start: int, width: int, factor: float) -> np.ndarray:
    """The warp written from its description: knots of the source (0, s, s + w, L - 1) sit at
    (0, s, s + w f, M) on the warped axis; read it back at L evenly spaced points."""
    warped_end = (length - 1) + width * (factor - 1)
    source = [0, start, start + width, length - 1]
    warped = [0, start, start + width * factor, warped_end]
    return np.interp(np.linspace(0, warped_end, length), warped, source)


def test_registered_with_the_defaults_of_iwana_and_uchida():
    assert AUGMENTATIONS["window_warp"] is window_warp
    assert default_params("window_warp") == {"ratio": 0.1, "scale": 2.0}


def test_a_ramp_is_warped_into_the_hand_computed_piecewise_linear_maps():
    # L = 11, ratio 0.2: a window of w = 2 time units. Stretched (f = 2) at s = 3: M = 12, v = 1.2 t.
    stretched = [0, 1.2, 2.4, 3.3, 3.9, 4.5, 5.2, 6.4, 7.6, 8.8, 10]
    # Squeezed (f = 1/2) at s = 3: M = 9, v = 0.9 t.
    squeezed = [0, 0.9, 1.8, 2.7, 4.2, 5.5, 6.4, 7.3, 8.2, 9.1, 10]
    np.testing.assert_allclose(independent_map(11, 3, 2, 2.0), stretched, atol=1e-12)
    np.testing.assert_allclose(independent_map(11, 3, 2, 0.5), squeezed, atol=1e-12)
    out = window_warp(ramp(600, 11), default_generator(0), ratio=0.2)[:, 0].numpy()  # (600, 11)
    candidates = {(s, f): independent_map(11, s, 2, f) for s in range(9) for f in (2.0, 0.5)}
    seen = set()
    for row in out:
        match = [k for k, c in candidates.items() if np.allclose(row, c, atol=1e-9)]
        assert len(match) == 1, row
        seen.add(match[0])
    assert seen == set(candidates)                      # every start and both factors occur
    assert any(np.allclose(row, stretched, atol=1e-9) for row in out)
    assert any(np.allclose(row, squeezed, atol=1e-9) for row in out)


def test_channels_share_the_warp_length_is_kept_and_the_input_is_untouched():
    x = torch.randn(7, 3, 50, generator=torch.Generator().manual_seed(0))
    before = x.clone()
    y = window_warp(x, default_generator(1))
    assert y.shape == x.shape and torch.equal(x, before)
    t = window_warp(ramp(7, 50, channels=3).float(), default_generator(1))  # same draws
    assert torch.equal(t[:, 0], t[:, 1]) and torch.equal(t[:, 0], t[:, 2])
    assert torch.all(t.diff(dim=-1) > 0)                # increasing map
    assert torch.equal(t[..., 0], torch.zeros(7, 3)) and torch.allclose(t[..., -1], torch.full((7, 3), 49.0))


@pytest.mark.parametrize("params", [{"scale": 1.0}, {"ratio": 0.0}])
def test_identity_cases_are_exact(params):
    x = torch.randn(6, 2, 33, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    assert torch.equal(window_warp(x, default_generator(0), **params), x)


def test_the_whole_series_as_window_is_the_identity():
    # Stretching everything by f and reading it back at L points changes nothing.
    y = window_warp(ramp(20, 9), default_generator(0), ratio=1.0)
    np.testing.assert_allclose(y.numpy(), ramp(20, 9).numpy(), atol=1e-12)


@pytest.mark.parametrize("params, error, message", [({"ratio": 1.5}, ValueError, "ratio"),
                                                    ({"scale": 0.5}, ValueError, "scale"),
                                                    ({"scale": "2"}, TypeError, "scale")])
def test_bad_strengths_raise(params, error, message):
    with pytest.raises(error, match=message):
        window_warp(torch.zeros(2, 1, 8), default_generator(0), **params)
    with pytest.raises(error, match=message):
        build_pipeline([{"name": "window_warp", **params}])


def test_a_window_of_zero_steps_is_refused_at_the_real_length():
    build_pipeline("window_warp(ratio=0.05,scale=2)", shape=(1, 11))          # 0.5 rounds up to 1
    with pytest.raises(ValueError, match="'window_warp' does not fit series of length 5: ratio=0.1"):
        build_pipeline("window_warp", shape=(1, 5))                           # 0.4 rounds to 0
    build_pipeline("window_warp(ratio=0.0)", shape=(1, 5))                    # documented identity
