"""Test-series corruptions: identity at severity 0, known values, monotone in severity, seeded."""

from __future__ import annotations

import math

import pytest
import torch

from sslts import shifts
from sslts.shifts import SHIFTS, corrupt

B, C, L = 6, 3, 40


def batch(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 4 * math.pi, L)
    smooth = torch.sin(t)[None, None, :] * (1 + torch.rand(B, C, 1, generator=g))  # (B, C, L)
    return smooth + 0.5 * torch.randn(B, C, 1, generator=g)  # channel offsets


def gen(seed: int = 1) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", sorted(SHIFTS))
def test_severity_zero_is_an_unchanged_copy(name: str) -> None:
    x = batch()
    out = corrupt(x, name, 0, gen())
    assert torch.equal(out, x) and out.data_ptr() != x.data_ptr()


@pytest.mark.parametrize("name", sorted(SHIFTS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_kept_and_input_untouched(name: str, dtype: torch.dtype) -> None:
    x = batch().to(dtype)
    before = x.clone()
    out = corrupt(x, name, 3, gen())
    assert out.shape == x.shape and out.dtype == dtype
    assert torch.equal(x, before)
    assert not torch.equal(out, x)


@pytest.mark.parametrize("name", sorted(SHIFTS))
def test_same_seed_same_corruption_other_seed_another(name: str) -> None:
    x = batch()
    assert torch.equal(corrupt(x, name, 4, gen(3)), corrupt(x, name, 4, gen(3)))
    assert not torch.equal(corrupt(x, name, 4, gen(3)), corrupt(x, name, 4, gen(4)))


@pytest.mark.parametrize("name", sorted(SHIFTS))
def test_distance_to_clean_grows_with_severity(name: str) -> None:
    x = batch()
    distances = [(corrupt(x, name, s, gen()) - x).norm().item() for s in range(6)]
    assert distances[0] == 0.0
    assert all(a < b for a, b in zip(distances, distances[1:])), distances


def test_gain_multiplies_each_channel_by_the_exact_factor() -> None:
    x = batch()
    for severity, a in enumerate(shifts.GAIN_CHANGE, start=1):
        ratio = corrupt(x, "gain", severity, gen()) / x  # (B, C, L)
        factor = ratio[..., :1]  # (B, C, 1): one factor per series and channel
        torch.testing.assert_close(ratio, factor.expand_as(ratio))
        ok = torch.isclose(factor, torch.tensor(1 + a)) | torch.isclose(factor, torch.tensor(1 / (1 + a)))
        assert ok.all()
    # With a fixed seed the sign pattern stays: the same channels get louder at every severity.
    up1 = corrupt(x, "gain", 1, gen())[..., 0] > x[..., 0]
    up5 = corrupt(x, "gain", 5, gen())[..., 0] > x[..., 0]
    assert torch.equal(up1, up5)


def test_gain_on_ones_gives_double_or_half_at_severity_5() -> None:
    out = corrupt(torch.ones(50, 2, 4), "gain", 5, gen())
    assert set(out.unique().tolist()) == {0.5, 2.0}


def test_dead_channel_zeroes_one_channel_on_the_last_fraction() -> None:
    x = batch() + 10.0  # no zeros anywhere in the clean batch
    for severity, fraction in enumerate(shifts.DEAD_FRACTION, start=1):
        out = corrupt(x, "dead_channel", severity, gen())
        dead = out == 0
        n_dead = round(fraction * L)
        assert (dead.any(dim=-1).sum(dim=1) == 1).all()  # exactly one channel per series
        assert (dead.sum(dim=(1, 2)) == n_dead).all()
        assert dead[..., L - n_dead :].any(dim=1).all() and not dead[..., : L - n_dead].any()
        assert torch.equal(out[~dead], x[~dead])  # the other values are untouched
    assert (corrupt(x, "dead_channel", 5, gen()) == 0).all(dim=-1).any(dim=1).all()  # dead throughout


def test_offset_drift_adds_a_linear_ramp_from_zero() -> None:
    x = batch()
    std = x.std(dim=-1, keepdim=True, unbiased=False)  # (B, C, 1)
    for severity, end in enumerate(shifts.DRIFT_END, start=1):
        drift = corrupt(x, "offset_drift", severity, gen()) - x  # (B, C, L)
        torch.testing.assert_close(drift[..., 0], torch.zeros(B, C), atol=1e-6, rtol=0)
        torch.testing.assert_close(drift[..., -1].abs(), (end * std)[..., 0])
        steps = drift.diff(dim=-1)  # a straight line: equal increments
        torch.testing.assert_close(steps, steps[..., :1].expand_as(steps), atol=1e-5, rtol=1e-4)


def test_noise_std_is_relative_to_each_channel() -> None:
    x = torch.ones(400, 2, 500) * torch.tensor([1.0, 100.0])[None, :, None]
    x = x + torch.tensor([0.0, 1.0]).repeat(250)[None, None, :] * torch.tensor([1.0, 100.0])[None, :, None]
    noise = corrupt(x, "gaussian_noise", 5, gen()) - x  # channel stds are 0.5 and 50
    torch.testing.assert_close(noise.std(dim=(0, 2)), torch.tensor([0.5, 50.0]) * shifts.NOISE_STD[4],
                               rtol=0.01, atol=0)


def test_time_warp_keeps_the_ends_and_the_values_of_a_linear_series() -> None:
    ramp = torch.arange(L, dtype=torch.float32).expand(B, C, L)  # x(t) = t
    out = corrupt(ramp, "time_warp", 5, gen())
    assert torch.equal(out[..., 0], ramp[..., 0]) and torch.allclose(out[..., -1], ramp[..., -1])
    assert (out.diff(dim=-1) > 0).all()  # the time map is increasing
    # On x(t) = t the output is the warped time itself: phi(u) (L - 1) with u = t / (L - 1).
    u = torch.linspace(0, 1, L)
    shift = shifts.WARP_STRENGTH[4] * torch.sin(math.pi * u) / math.pi * (L - 1)
    torch.testing.assert_close((out - ramp).abs(), shift.expand(B, C, L), atol=1e-4, rtol=0)
    assert torch.equal(out[:, 0], out[:, 1])  # channels share the map


def test_errors_name_the_argument() -> None:
    x = batch()
    with pytest.raises(ValueError, match="unknown shift 'blur'; known shifts are gaussian_noise"):
        corrupt(x, "blur", 1, gen())
    with pytest.raises(ValueError, match=r"severity must be in 0..5, got 6"):
        corrupt(x, "gain", 6, gen())
    with pytest.raises(TypeError, match="severity must be an int"):
        corrupt(x, "gain", True, gen())
    with pytest.raises(ValueError, match=r"x must have shape \(B, C, L\)"):
        corrupt(torch.ones(3, 4), "gain", 1, gen())
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        corrupt(x, "gain", 1, 0)
    with pytest.raises(TypeError, match="floating-point"):
        corrupt(torch.ones(2, 2, 5, dtype=torch.long), "gain", 1, gen())
