"""Tests for sslts.augment: a contract over every registry entry, then each formula's prediction."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import math
import re

import pytest
import torch

from sslts import augment
from sslts import augment as A
from sslts.augment import (
    AUGMENTATIONS, AugmentationStep, Compose, build_pipeline, default_generator, default_params,
)

NAMES = list(AUGMENTATIONS)
DETERMINISTIC = {"time_flip", "negation"}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def randn(*shape: int, seed: int = 0, device: str = "cpu",
          dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(device, dtype)


def ramp(batch: int, channels: int, length: int) -> torch.Tensor:
    """``x[b, c, t] = t``: after a resampling the values read back the time map."""
    return torch.arange(length, dtype=torch.float32).expand(batch, channels, length).clone()


def runs(values: torch.Tensor) -> int:
    """Number of maximal runs of consecutive integers in a 1-D tensor."""
    return 1 + int((values.diff() != 1).sum())


# ----------------------------------------------------------------------------- contract

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("name", NAMES)
def test_keeps_shape_dtype_device_and_input(name: str, dtype: torch.dtype, device: str) -> None:
    x = randn(5, 3, 40, device=device, dtype=dtype)                     # (B, C, L)
    before, version = x.clone(), x._version
    y = AUGMENTATIONS[name](x, default_generator(0, device))
    assert (y.shape, y.dtype, y.device) == (x.shape, x.dtype, x.device)
    assert torch.equal(x, before) and x._version == version              # not written to
    assert y.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
    assert torch.isfinite(y.float()).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name, params", [
    ("jitter", {"sigma": 0.0}), ("channel_noise", {"factor": 0.0}), ("scaling", {"sigma": 0.0}),
    ("magnitude_warp", {"sigma": 0.0}), ("magnitude_warp", {"sigma": 0.0, "mode": "linear"}),
    ("time_warp", {"sigma": 0.0}), ("crop_resize", {"ratio": 1.0}),
    ("random_crop", {"ratio": 1.0}), ("blockout", {"ratio": 0.0}), ("smoothing", {"a_max": 0.0}),
    ("permutation", {"max_segments": 1}),
])
def test_zero_strength_is_the_exact_identity(name: str, params: dict, dtype: torch.dtype) -> None:
    x = randn(8, 3, 50, dtype=torch.float64).to(dtype) * 7.3 + 1e-9     # full float64 precision
    assert torch.equal(AUGMENTATIONS[name](x, default_generator(0), **params), x)


@pytest.mark.parametrize("shape", [(4, 2, 1), (4, 2, 2), (4, 2, 3), (0, 2, 16), (4, 0, 16)])
@pytest.mark.parametrize("name", NAMES)
def test_handles_degenerate_shapes(name: str, shape: tuple[int, int, int]) -> None:
    x = randn(*shape)
    y = AUGMENTATIONS[name](x, default_generator(0))
    assert y.shape == x.shape and torch.isfinite(y).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NAMES)
def test_reproducible_from_the_generator_alone(name: str, device: str) -> None:
    x = randn(16, 3, 64, device=device)
    fn = AUGMENTATIONS[name]
    torch.manual_seed(1)                      # the global RNG must play no part
    first = fn(x, default_generator(7, device))
    torch.manual_seed(2)
    assert torch.equal(first, fn(x, default_generator(7, device)))
    other = fn(x, default_generator(8, device))
    assert torch.equal(first, other) == (name in DETERMINISTIC)


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_checked(name: str) -> None:
    fn, g = AUGMENTATIONS[name], default_generator(0)
    with pytest.raises(TypeError, match="torch.Tensor"):
        fn([[[1.0]]], g)
    with pytest.raises(ValueError, match=r"\(B, C, L\)"):
        fn(torch.zeros(3, 8), g)
    with pytest.raises(ValueError, match="L >= 1"):
        fn(torch.zeros(2, 1, 0), g)
    with pytest.raises(TypeError, match="floating-point"):
        fn(torch.zeros(2, 1, 8, dtype=torch.long), g)
    with pytest.raises(TypeError, match="torch.Generator"):
        fn(torch.zeros(2, 1, 8), 0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_generator_on_another_device_is_refused() -> None:
    with pytest.raises(ValueError, match="default_generator"):
        augment.jitter(torch.zeros(2, 1, 8, device="cuda"), default_generator(0))


@pytest.mark.parametrize("module", ["", ".ops", ".pipeline", ".primitives", ".spec"])
def test_docstring_examples_run(module: str) -> None:
    assert doctest.testmod(importlib.import_module("sslts.augment" + module)).failed == 0


# ----------------------------------------------------------------------------- magnitude domain

def test_jitter_residual_has_std_sigma() -> None:
    x = randn(256, 4, 256)
    residual = augment.jitter(x, default_generator(0), sigma=0.2) - x
    assert residual.std().item() == pytest.approx(0.2, rel=0.01)
    assert abs(residual.mean().item()) < 0.002


def test_channel_noise_follows_each_channel_std() -> None:
    scale = torch.tensor([0.5, 1.0, 4.0, 0.0])[:, None]                 # (C, 1); last is constant
    x = randn(256, 4, 256) * scale + 3.0
    residual = augment.channel_noise(x, default_generator(0), factor=0.1) - x
    noise_std = residual.std(dim=(0, 2))                                # (C,)
    assert noise_std[:3] / scale[:3, 0] == pytest.approx(torch.full((3,), 0.1), rel=0.02)
    assert noise_std[3] == 0


def test_scaling_is_one_factor_per_series_and_channel() -> None:
    x = randn(512, 4, 32).abs() + 1.0
    ratio = augment.scaling(x, default_generator(0), sigma=0.1) / x      # (B, C, L)
    assert torch.allclose(ratio, ratio[..., :1].expand_as(ratio), rtol=1e-6, atol=0)
    factors = ratio[..., 0]
    assert factors.mean().item() == pytest.approx(1.0, abs=0.005)
    assert factors.std().item() == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize("mode", ["cubic", "linear"])
def test_magnitude_warp_with_sigma_zero_is_identity(mode: str) -> None:
    x = randn(8, 3, 50)
    assert torch.equal(augment.magnitude_warp(x, default_generator(0), sigma=0.0, mode=mode), x)


def test_magnitude_warp_curve_passes_through_knots_and_is_smooth() -> None:
    knots, length = 4, 101                    # knots at t = 0, 20, ..., 100
    x = torch.ones(2000, 2, length)
    linear = augment.magnitude_warp(x, default_generator(3), sigma=0.2, knots=knots, mode="linear")
    cubic = augment.magnitude_warp(x, default_generator(3), sigma=0.2, knots=knots, mode="cubic")
    at_knots = torch.arange(0, length, 20)
    # both modes interpolate the same knot heights h ~ N(1, 0.2^2)
    assert torch.allclose(cubic[..., at_knots], linear[..., at_knots], atol=1e-5)
    heights = linear[..., at_knots]
    assert heights.mean().item() == pytest.approx(1.0, abs=0.005)
    assert heights.std().item() == pytest.approx(0.2, rel=0.03)
    # linear: straight between knots, so second differences vanish off the knots
    second = linear.diff(n=2, dim=-1)                                   # (B, C, L-2), at t+1
    off_knot = torch.ones(length - 2, dtype=torch.bool)
    off_knot[at_knots[1:-1] - 1] = False
    assert second[..., off_knot].abs().max() < 1e-5
    # cubic: no kinks, its largest bend is far below the linear curve's
    assert cubic.diff(n=2, dim=-1).abs().max() < 0.5 * second.abs().max()
    # each (series, channel) gets its own curve
    assert not torch.equal(linear[:, 0], linear[:, 1])


# ----------------------------------------------------------------------------- time domain

def test_time_warp_with_sigma_zero_is_identity() -> None:
    x = randn(8, 3, 50)
    assert torch.equal(augment.time_warp(x, default_generator(0), sigma=0.0), x)


def test_time_warp_map_is_monotone_fixes_ends_and_is_shared_by_channels() -> None:
    length = 64
    tau = augment.time_warp(ramp(512, 2, length), default_generator(0), sigma=0.5)  # reads tau(t)
    assert torch.equal(tau[:, 0], tau[:, 1])
    assert torch.allclose(tau[..., 0], torch.zeros(1), atol=1e-5)
    assert torch.allclose(tau[..., -1], torch.full((1,), length - 1.0), atol=1e-4)
    assert (tau.diff(dim=-1) > 0).all()
    assert (tau - torch.arange(length)).abs().amax(dim=-1).mean() > 1.0  # it does warp


def test_crop_resize_with_ratio_one_is_identity() -> None:
    x = randn(8, 3, 50)
    assert torch.equal(augment.crop_resize(x, default_generator(0), ratio=1.0), x)


def test_crop_resize_stretches_a_window_of_round_r_l() -> None:
    length, ratio = 40, 0.5
    width = round(ratio * length)
    pos = augment.crop_resize(ramp(500, 2, length), default_generator(0), ratio=ratio)  # (B, C, L)
    start = pos[..., 0]
    assert torch.equal(pos[:, 0], pos[:, 1])
    assert torch.equal(start, start.round()) and start.min() == 0 and start.max() == length - width
    expected = start[..., None] + torch.arange(length) * (width - 1) / (length - 1)
    assert torch.allclose(pos, expected, atol=1e-4)


def test_random_crop_keeps_exactly_one_window() -> None:
    length, ratio = 30, 0.6
    width = round(ratio * length)
    x = randn(400, 3, length).abs() + 1.0                               # no zeros of its own
    y = augment.random_crop(x, default_generator(0), ratio=ratio)
    kept = y != 0                                                       # (B, C, L)
    assert (kept == kept[:, :1]).all()                                  # same window per channel
    assert (kept.sum(-1) == width).all() and torch.equal(y[kept], x[kept])
    index = torch.arange(length).expand(400, length)
    starts = index.masked_fill(~kept[:, 0], length).amin(-1)
    ends = index.masked_fill(~kept[:, 0], -1).amax(-1)
    assert (ends - starts + 1 == width).all()                           # contiguous
    assert starts.min() == 0 and starts.max() == length - width


@pytest.mark.parametrize("ratio", [0.1, 0.25, 0.5])
def test_blockout_zeros_round_r_l_consecutive_steps(ratio: float) -> None:
    length = 128
    width = math.floor(ratio * length + 0.5)
    x = randn(300, 3, length).abs() + 1.0
    y = augment.blockout(x, default_generator(0), ratio=ratio)
    zero = y == 0
    assert (zero == zero[:, :1]).all() and (zero.sum(-1) == width).all()
    assert torch.equal(y[~zero], x[~zero])
    first = zero[:, 0].float().argmax(-1)                               # first zeroed step
    block = first[:, None] + torch.arange(width)
    assert zero[:, 0].gather(1, block).all()                            # the zeros are one block
    assert torch.equal(augment.blockout(x, default_generator(0), ratio=0.0), x)


def test_time_flip_reverses_time() -> None:
    x = torch.tensor([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])
    g = default_generator(0)
    assert torch.equal(augment.time_flip(x, g), torch.tensor([[[3.0, 2.0, 1.0], [6.0, 5.0, 4.0]]]))
    x = randn(4, 3, 20)
    assert torch.equal(augment.time_flip(x, g), x.flip(-1))
    assert torch.equal(augment.time_flip(augment.time_flip(x, g), g), x)


def test_negation_is_exact() -> None:
    x = torch.tensor([[[1.5, -2.0, 0.0]]])
    expected = torch.tensor([[[-1.5, 2.0, 0.0]]])
    assert torch.equal(augment.negation(x, default_generator(0)), expected)


def test_smoothing_matches_the_three_tap_formula() -> None:
    impulse = torch.zeros(200, 2, 5)
    impulse[..., 2] = 1.0
    y = augment.smoothing(impulse, default_generator(0), a_max=0.3)     # 0, a, 1 - 2a, a, 0
    a = y[..., 1]
    assert torch.equal(a[:, 0], a[:, 1]) and (a >= 0).all() and (a <= 0.3).all()
    assert torch.allclose(y[..., 2], 1 - 2 * a, atol=1e-6) and torch.allclose(y[..., 3], a)
    assert (y[..., [0, 4]] == 0).all()
    assert a[:, 0].mean().item() == pytest.approx(0.15, abs=0.02)        # a ~ U(0, 0.3)


def test_smoothing_identity_cases_and_lower_variance() -> None:
    x = randn(64, 3, 50)
    g = default_generator(0)
    assert torch.equal(augment.smoothing(x, g, a_max=0.0), x)
    constant = torch.full((4, 2, 20), 2.5)
    assert torch.allclose(augment.smoothing(constant, g, a_max=0.5), constant, rtol=0, atol=1e-6)
    assert augment.smoothing(x, g).var() < x.var()                     # white noise loses power


def test_permutation_preserves_values_and_moves_whole_segments() -> None:
    x = randn(64, 3, 50)
    y = augment.permutation(x, default_generator(0), max_segments=5)
    assert torch.equal(y.sort(-1).values, x.sort(-1).values)
    source = augment.permutation(ramp(500, 2, 50), default_generator(1), max_segments=5).long()
    assert torch.equal(source[:, 0], source[:, 1])
    assert max(runs(row) for row in source[:, 0]) <= 5
    assert torch.equal(augment.permutation(x, default_generator(0), max_segments=1), x)


@pytest.mark.parametrize("split", ["random", "equal"])
def test_permutation_draws_segment_count_and_order_uniformly(split: str) -> None:
    # m ~ U{1..5} and a uniform order: P(unchanged) = (1/5) * sum_{m=1}^{5} 1/m!
    source = augment.permutation(ramp(4000, 1, 40), default_generator(0), split=split)[:, 0]
    unchanged = (source == torch.arange(40)).all(-1).float().mean().item()
    expected = sum(1 / math.factorial(m) for m in range(1, 6)) / 5
    assert unchanged == pytest.approx(expected, abs=0.025)


def test_permutation_with_two_segments_is_a_rotation() -> None:
    length = 12
    t = torch.arange(length)
    equal = augment.permutation(ramp(800, 1, length), default_generator(0), 2, "equal")[:, 0]
    swapped = torch.cat([t[6:], t[:6]])
    is_swapped = (equal == swapped).all(-1)
    assert ((equal == t).all(-1) | is_swapped).all()
    assert is_swapped.float().mean().item() == pytest.approx(0.25, abs=0.05)  # m = 2, then swap
    cuts = set()
    for row in augment.permutation(ramp(800, 1, length), default_generator(0), 2, "random")[:, 0]:
        cut = int(row[0].item())
        assert torch.equal(row, torch.roll(t, -cut))
        cuts.add(cut)
    assert cuts == set(range(length))                                   # every cut point occurs


@pytest.mark.parametrize("name, params, error, message", [
    ("jitter", {"sigma": -0.1}, ValueError, "sigma"),
    ("jitter", {"sigma": "big"}, TypeError, "sigma"),
    ("jitter", {"sigma": math.inf}, ValueError, "finite"),
    ("channel_noise", {"factor": math.nan}, ValueError, "finite"),
    ("scaling", {"sigma": True}, TypeError, "sigma"),
    ("magnitude_warp", {"knots": 2.5}, TypeError, "knots"),
    ("magnitude_warp", {"mode": "quadratic"}, ValueError, "cubic, linear"),
    ("crop_resize", {"ratio": 0.0}, ValueError, "ratio"),
    ("random_crop", {"ratio": 1.5}, ValueError, "ratio"),
    ("smoothing", {"a_max": 0.6}, ValueError, "a_max"),
    ("permutation", {"max_segments": 0}, ValueError, "max_segments"),
    ("permutation", {"split": "even"}, ValueError, "random, equal"),
])
def test_bad_strengths_raise(name: str, params: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        AUGMENTATIONS[name](torch.zeros(2, 1, 8), default_generator(0), **params)
    with pytest.raises(error, match=message):                           # caught when building too
        build_pipeline([{"name": name, **params}])


# ----------------------------------------------------------------------------- pipeline

def test_pipeline_with_p_zero_is_identity_and_draws_nothing() -> None:
    x = randn(8, 3, 30)
    g = default_generator(0)
    y = build_pipeline([{"name": n, "p": 0.0} for n in NAMES])(x, g)
    assert torch.equal(y, x) and y is not x
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=default_generator(0)))
    assert torch.equal(build_pipeline(None)(x, g), x)


@pytest.mark.parametrize("name", NAMES)
def test_pipeline_with_p_one_equals_the_function(name: str) -> None:
    x = randn(8, 3, 30)
    y = build_pipeline([{"name": name, "p": 1.0}])(x, default_generator(5))
    assert torch.equal(y, AUGMENTATIONS[name](x, default_generator(5)))


def test_pipeline_applies_steps_in_order() -> None:
    x = randn(8, 3, 30)
    g = default_generator(5)
    expected = augment.negation(augment.scaling(augment.jitter(x, g, sigma=0.1), g), g)
    pipe = build_pipeline([{"name": "jitter", "sigma": 0.1}, "scaling", "negation"])
    assert torch.equal(pipe(x, default_generator(5)), expected)


def test_pipeline_applies_each_sample_with_probability_p() -> None:
    x = randn(4000, 2, 8)
    y = build_pipeline([{"name": "negation", "p": 0.3}])(x, default_generator(0))
    flipped = (y == -x).all(-1).all(-1)
    assert ((y == x).all(-1).all(-1) | flipped).all()                   # whole samples only
    assert flipped.float().mean().item() == pytest.approx(0.3, abs=0.025)


def test_build_pipeline_accepts_every_form() -> None:
    by_string = build_pipeline(" jitter , scaling")
    assert by_string == build_pipeline(["jitter", "scaling"])
    assert by_string == build_pipeline([{"name": "jitter"}, AugmentationStep("scaling")])
    assert [s.p for s in by_string.steps] == [1.0, 1.0]
    assert len(build_pipeline(None)) == len(build_pipeline("")) == len(build_pipeline([])) == 0
    pipe = build_pipeline([{"name": "jitter", "p": 0.8, "sigma": 0.05}])
    assert build_pipeline(pipe) is pipe
    assert pipe.steps[0] == AugmentationStep("jitter", 0.8, {"sigma": 0.05})


def test_describe_fills_defaults_and_round_trips() -> None:
    pipe = build_pipeline([{"name": "magnitude_warp", "p": 0.5, "knots": 6}, "time_flip"])
    record = pipe.describe()
    assert record == [
        {"name": "magnitude_warp", "p": 0.5, "sigma": augment.MAGNITUDE_WARP_SIGMA, "knots": 6,
         "mode": "cubic"},
        {"name": "time_flip", "p": 1.0},
    ]
    rebuilt = build_pipeline(record)
    x = randn(8, 3, 30)
    assert rebuilt.describe() == record
    assert torch.equal(rebuilt(x, default_generator(1)), pipe(x, default_generator(1)))


def test_defaults_are_the_module_constants() -> None:
    assert default_params("jitter") == {"sigma": augment.JITTER_SIGMA}
    assert default_params("permutation") == {
        "max_segments": augment.PERMUTATION_MAX_SEGMENTS, "split": "random"}
    assert default_params("negation") == {}


@pytest.mark.parametrize("spec, error, message", [
    ("jitter,rotate", ValueError, "unknown augmentation 'rotate'; known: jitter, channel_noise"),
    ("jitter,,scaling", ValueError, "cannot read the augmentation spec"),
    ([{"name": "jitter", "sgima": 0.1}], ValueError, "unknown parameter 'sgima'.*allowed: sigma"),
    ([{"name": "time_flip", "sigma": 0.1}], ValueError, "allowed: none"),
    ([{"p": 0.5}], ValueError, "needs a 'name'"),
    ([{"name": "jitter", "p": 1.5}], ValueError, r"p must be finite and in \[0.0, 1.0\]"),
    ([{"name": "jitter", "p": "0.5"}], TypeError, "p must be a real number"),
    ([{"name": 3}], TypeError, "name must be a str"),
    ([3], TypeError, "a step must be"),
    (42, TypeError, "spec must be"),
])
def test_build_pipeline_errors(spec: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build_pipeline(spec)


def test_steps_are_frozen_and_copied() -> None:
    params = {"sigma": 0.1}
    step = AugmentationStep("jitter", 0.5, params)
    params["sigma"] = 9.0                                               # the caller's dict
    assert step.params["sigma"] == 0.1
    with pytest.raises(TypeError):
        step.params["sigma"] = 0.2                                      # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.p = 1.0                                                    # type: ignore[misc]
    assert hash(step) == hash(AugmentationStep("jitter", 0.5, {"sigma": 0.1}))
    with pytest.raises(TypeError, match="AugmentationStep"):
        Compose(["jitter"])                                             # type: ignore[list-item]


def test_default_generator() -> None:
    assert torch.equal(torch.rand(4, generator=default_generator(3)),
                       torch.rand(4, generator=default_generator(3)))
    assert default_generator(0, torch.device("cpu")).device.type == "cpu"
    with pytest.raises(TypeError, match="seed must be an int"):
        default_generator(1.5)                                          # type: ignore[arg-type]


# --- the string form chapter parameters use -------------------------------------------------------
def test_spec_string_with_probabilities_and_strengths():
    pipe = A.build_pipeline("jitter(p=0.8,sigma=0.05), scaling,time_warp(knots=3)")
    assert pipe.describe() == [
        {"name": "jitter", "p": 0.8, "sigma": 0.05},
        {"name": "scaling", "p": 1.0, "sigma": A.SCALING_SIGMA},
        {"name": "time_warp", "p": 1.0, "sigma": A.TIME_WARP_SIGMA, "knots": 3},
    ]
    assert A.build_pipeline(pipe.describe()).describe() == pipe.describe()


@pytest.mark.parametrize("spec, message", [
    ("jitter,,scaling", "at position 7"),
    ("jitter(sigma)", "expected key=value, got 'sigma'"),
    ("jitter(foo=1)", "unknown parameter 'foo' for 'jitter'"),
    ("jiter", "unknown augmentation 'jiter'"),
])
def test_spec_string_errors_name_the_problem(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        A.build_pipeline(spec)


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_every_augmentation_passes_gradients_and_gives_the_same_values_with_them(name):
    """SS-GAN's DiffAugment differentiates through the pipeline into the generator."""
    x = torch.randn(4, 3, 40, generator=torch.Generator().manual_seed(0))
    plain = AUGMENTATIONS[name](x, torch.Generator().manual_seed(1))
    leaf = x.clone().requires_grad_(True)
    tracked = AUGMENTATIONS[name](leaf, torch.Generator().manual_seed(1))
    assert torch.equal(tracked.detach(), plain)
    tracked.square().sum().backward()
    assert leaf.grad is not None and torch.isfinite(leaf.grad).all()


# --- checked against the data's real shape -------------------------------------------------------
# The construction-time check runs each function at a placeholder length (8); these specs are fine
# there, or at the real length, but not at both.
@pytest.mark.parametrize("spec, shape, message", [
    # valid at length 8, not at the real length 4
    ("permutation(max_segments=6)", (3, 4),
     "augmentation 'permutation' does not fit series of length 4: max_segments=6 is more segments "
     "than the series has steps, which the operation would silently cap at 4; "
     "it needs max_segments <= 4"),
    ("blockout", (9, 4),                                                # default ratio 0.1: 0.4 steps
     "augmentation 'blockout' does not fit series of length 4: ratio=0.1 gives a block of "
     "round(0.1 * 4) = 0 steps, so nothing would be zeroed; it needs ratio = 0 or ratio * length >= 0.5"),
    ("jitter,random_crop(ratio=0.1)", (1, 4),
     "augmentation 'random_crop' does not fit series of length 4: ratio=0.1 gives a window of "
     "round(0.1 * 4) = 0 steps, which the operation would silently widen to 1 step; "
     "it needs ratio * length >= 0.5"),
    # valid at the real length 128, not at length 8
    ("crop_resize(ratio=0.05)", (3, 8), "crop_resize' does not fit series of length 8: ratio=0.05"),
    ("permutation(max_segments=12)", (3, 8), "max_segments=12 is more segments"),
])
def test_a_parameter_that_does_not_fit_the_real_length_is_refused(spec, shape, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_pipeline(spec, shape=shape)


@pytest.mark.parametrize("spec", ["permutation(max_segments=6)", "blockout", "random_crop(ratio=0.1)"])
def test_the_same_specs_pass_without_a_shape_and_at_length_8(spec):
    assert build_pipeline(spec).describe() == build_pipeline(spec, shape=(3, 8)).describe()


@pytest.mark.parametrize("spec", ["crop_resize(ratio=0.05)", "permutation(max_segments=12)"])
def test_specs_refused_at_length_8_pass_at_the_real_length(spec):
    pipe = build_pipeline(spec, shape=(3, 128))          # 0.05 * 128 = 6.4 steps; 12 <= 128
    x = randn(4, 3, 128)
    assert torch.equal(pipe(x, default_generator(0)), build_pipeline(spec)(x, default_generator(0)))


def test_limits_of_the_length_rules_are_exact():
    build_pipeline("crop_resize(ratio=0.0625)", shape=(1, 8))            # 0.5 step rounds up to 1
    build_pipeline("permutation(max_segments=8)", shape=(1, 8))          # one segment per step
    build_pipeline("blockout(ratio=0.0)", shape=(1, 4))                  # ratio 0 is the identity
    with pytest.raises(ValueError, match="ratio=0.06 gives a window of round"):
        build_pipeline("crop_resize(ratio=0.06)", shape=(1, 8))          # 0.48 step rounds to 0
    with pytest.raises(ValueError, match="max_segments=9"):
        build_pipeline("permutation(max_segments=9)", shape=(1, 8))


def test_every_step_is_run_at_the_real_shape(monkeypatch):
    seen = []
    monkeypatch.setitem(AUGMENTATIONS, "negation", lambda x, g: seen.append(tuple(x.shape)) or -x)
    build_pipeline("negation")
    build_pipeline("negation(p=0.0)", shape=(9, 128))                   # p = 0 steps are checked too
    assert seen == [(1, 1, 8), (1, 1, 8), (1, 9, 128)]


def test_a_compose_is_checked_and_returned_unchanged():
    pipe = build_pipeline("jitter,permutation")
    assert build_pipeline(pipe, shape=(3, 5)) is pipe
    assert pipe.check_shape((3, 5)) is pipe
    with pytest.raises(ValueError, match="length 4: max_segments=5 is more segments"):
        build_pipeline(pipe, shape=(3, 4))                              # the default M = 5 > 4


@pytest.mark.parametrize("shape, error, message", [
    ((3,), TypeError, r"shape must be \(channels, length\)"),
    ((1, 2, 8), TypeError, "two ints"),
    ((3, 8.0), TypeError, "two ints"),
    ("38", TypeError, "two ints"),
    ((3, 0), ValueError, "length >= 1"),
    ((0, 8), ValueError, "channels >= 1"),
])
def test_a_bad_shape_is_refused(shape, error, message):
    with pytest.raises(error, match=message):
        build_pipeline("jitter", shape=shape)
    with pytest.raises(error, match=message):
        build_pipeline(None, shape=shape)
