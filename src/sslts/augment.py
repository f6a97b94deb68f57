"""Time-series augmentations on batches ``(B, C, L)`` and the pipeline that chains them.

Every augmentation is a pure function ``fn(x, generator, **strength) -> x_aug``:

* ``x`` is a floating-point tensor ``(B, C, L)`` on any device; the result has the same shape,
  dtype and device, is a new tensor, and ``x`` is never written to;
* all randomness comes from ``generator`` (a ``torch.Generator`` on ``x``'s device type), so the
  same seed gives the same output, and the number of random draws does not depend on the data;
  random numbers are drawn in float32 (float64 for float64 input, so no precision is lost);
* the batch is processed at once (no Python loop over samples);
* there is no probability argument: :class:`Compose` applies each step to each sample with
  probability ``p`` (a Bernoulli mask of shape ``(B,)`` and ``torch.where``).

Default strengths are the module constants below; they are also the functions' keyword defaults,
so they exist in one place (:func:`default_params` reads them back).

References
----------
Um et al. (2017), "Data augmentation of wearable sensor data for Parkinson's disease monitoring
using convolutional neural networks", ICMI. Iwana & Uchida (2021), "An empirical survey of data
augmentation for time series classification with neural networks", PLOS ONE 16(7). Eldele et al.
(2021), "Time-series representation learning via temporal and contextual contrasting" (TS-TCC),
IJCAI. Lee & Aune (2021), "VIbCReg: Variance-invariance-better-covariance regularization for
self-supervised learning on time series", arXiv:2109.00783. Sarkar & Etemad (2020),
"Self-supervised ECG representation learning for emotion recognition", IEEE Trans. Affective
Computing.

Example
-------
>>> pipe = build_pipeline([{"name": "jitter", "p": 0.8, "sigma": 0.03}, "scaling"])
>>> x = torch.zeros(4, 3, 16)                       # (B, C, L)
>>> pipe(x, default_generator(0)).shape
torch.Size([4, 3, 16])
>>> pipe.describe()[0]
{'name': 'jitter', 'p': 0.8, 'sigma': 0.03}
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch
import torch.nn.functional as F

__all__ = [
    "AUGMENTATIONS", "AugmentationStep", "Compose", "build_pipeline", "default_generator",
    "default_params", "jitter", "channel_noise", "scaling", "magnitude_warp", "time_warp",
    "crop_resize", "random_crop", "blockout", "time_flip", "negation", "smoothing", "permutation",
]

# Default strengths. Sources: Iwana & Uchida's reference code (jitter 0.03, scaling 0.1, magnitude
# and time warping 0.2 with 4 knots, window slice 0.9, up to 5 permutation segments).
JITTER_SIGMA = 0.03            # std of the additive Gaussian noise (in units of x)
CHANNEL_NOISE_FACTOR = 0.1     # noise std as a fraction of each series' per-channel std
SCALING_SIGMA = 0.1            # std of the multiplicative factor around 1
MAGNITUDE_WARP_SIGMA = 0.2     # std of the knot heights around 1
MAGNITUDE_WARP_KNOTS = 4       # interior knots (plus one at each end)
TIME_WARP_SIGMA = 0.2          # std of the knot speeds around 1
TIME_WARP_KNOTS = 4            # interior knots (plus one at each end)
CROP_RESIZE_RATIO = 0.9        # fraction of L kept before resizing back to L
RANDOM_CROP_RATIO = 0.9        # fraction of L kept; the rest is zeroed
BLOCKOUT_RATIO = 0.1           # fraction of L zeroed
SMOOTHING_A_MAX = 0.25         # a ~ U(0, a_max); at a = 0.25 the filter removes the Nyquist tone
PERMUTATION_MAX_SEGMENTS = 5   # number of segments ~ U{1, ..., M}

_MIN_SPEED = 0.05  # floor on the time-warp speed: keeps the time map strictly increasing


# ----------------------------------------------------------------------------- checks and draws

def check_batch(x: torch.Tensor, generator: torch.Generator) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 3 or x.shape[-1] == 0:
        raise ValueError(f"x must have shape (B, C, L) with L >= 1, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if generator.device.type != x.device.type:
        raise ValueError(f"generator is on {generator.device} but x is on {x.device}; "
                         f"use default_generator(seed, x.device)")


def _real(name: str, value: Any, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be finite and in [{low}, {high}], got {value}")
    return float(value)


def _integer(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return value


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _work_dtype(x: torch.Tensor) -> torch.dtype:
    """Dtype of the random draws: float32, or float64 for float64 input."""
    return torch.promote_types(x.dtype, torch.float32)


def _rand(shape: tuple[int, ...], x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=g, device=x.device, dtype=_work_dtype(x))


def _randn(shape: tuple[int, ...], x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return torch.randn(shape, generator=g, device=x.device, dtype=_work_dtype(x))


def _kept_ratio(ratio: Any) -> float:
    """A kept fraction in ``(0, 1]`` (zero would keep nothing)."""
    ratio = _real("ratio", ratio, 0.0, 1.0)
    if ratio == 0.0:
        raise ValueError("ratio must be in (0, 1], got 0")
    return ratio


def _window(ratio: float, length: int, minimum: int) -> int:
    """Window length ``round(ratio * length)`` (half up), kept in ``[minimum, length]``."""
    return min(length, max(minimum, math.floor(ratio * length + 0.5)))


def _window_start(x: torch.Tensor, g: torch.Generator, width: int) -> torch.Tensor:
    """Window start per series ``(B, 1)``, uniform on ``{0, ..., L - width}``."""
    length = x.shape[-1]
    return (_rand((x.shape[0], 1), x, g) * (length - width + 1)).long().clamp_max(length - width)


def _window_mask(x: torch.Tensor, g: torch.Generator, width: int) -> torch.Tensor:
    """Boolean mask ``(B, 1, L)``, true on a random window of ``width`` consecutive steps."""
    start = _window_start(x, g, width)                                  # (B, 1)
    t = torch.arange(x.shape[-1], device=x.device)                      # (L,)
    return ((t >= start) & (t < start + width))[:, None, :]              # (B, 1, L)


def resample(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of every channel at per-series positions ``pos`` ``(B, L_out)``."""
    batch, channels, length = x.shape
    if length == 1:
        return x.expand(batch, channels, pos.shape[-1]).clone()
    pos = pos.clamp(0, length - 1)
    left = pos.floor().long().clamp_max(length - 2)                      # (B, L_out)
    frac = (pos - left).to(x.dtype)[:, None, :]                          # (B, 1, L_out)
    right = left + 1
    # lerp is exact at frac = 0 and frac = 1, so integer positions reproduce x bit for bit
    return torch.lerp(x.gather(-1, left[:, None, :].expand(batch, channels, -1)),
                      x.gather(-1, right[:, None, :].expand(batch, channels, -1)), frac)


def _smooth_curve(z: torch.Tensor, length: int, mode: str) -> torch.Tensor:
    """Interpolate evenly spaced knots ``z`` ``(B, C, K)`` (ends included) to ``(B, C, length)``.

    Interpolation is linear in the knot values, so it is a ``(K, length)`` weight matrix: torch's
    interpolation of the identity gives it, and one matmul applies it to the whole batch (much
    faster on the CPU than interpolating every row).
    """
    eye = torch.eye(z.shape[-1], device=z.device, dtype=z.dtype)[None]  # (1, K, K)
    if mode == "linear":
        weights = F.interpolate(eye, size=length, mode="linear", align_corners=True)[0]
    else:  # bicubic on a height-1 image is cubic convolution (Keys, a = -0.75) along time
        weights = F.interpolate(eye[:, :, None, :], size=(1, length), mode="bicubic",
                                align_corners=True)[0, :, 0, :]
    return z @ weights                                                  # (B, C, length)


# ----------------------------------------------------------------------------- magnitude domain

def jitter(x: torch.Tensor, generator: torch.Generator,
           sigma: float = JITTER_SIGMA) -> torch.Tensor:
    """Additive Gaussian noise: ``x_aug = x + eps``, ``eps ~ N(0, sigma^2)`` i.i.d. per element.

    Um et al. (2017); TS-TCC (Eldele et al., 2021) uses it in both views.

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        sigma: noise standard deviation, ``>= 0``.

    Returns:
        ``(B, C, L)`` tensor.

    Raises:
        TypeError, ValueError: bad ``x``, ``generator`` or ``sigma``.
    """
    check_batch(x, generator)
    sigma = _real("sigma", sigma, 0.0)
    noise = _randn(tuple(x.shape), x, generator)                        # (B, C, L), ours to reuse
    # out= saves an allocation but records no gradient; a GAN differentiates through (DiffAugment)
    out = None if x.requires_grad else noise
    return torch.add(x, noise, alpha=sigma, out=out).to(x.dtype)


def channel_noise(x: torch.Tensor, generator: torch.Generator,
                  factor: float = CHANNEL_NOISE_FACTOR) -> torch.Tensor:
    """Gaussian noise scaled by each series' channel spread.

    ``x_aug[b, c, t] = x[b, c, t] + factor * s[b, c] * eps``, ``eps ~ N(0, 1)``, where
    ``s[b, c]`` is the population std over time of ``x[b, c, :]``. Unlike :func:`jitter` the noise
    level follows the units of each channel (e.g. accelerometer versus gyroscope); a constant
    channel gets no noise. A scale-aware variant of jitter (Iwana & Uchida, 2021).

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        factor: noise std as a fraction of the channel std, ``>= 0``.

    Returns:
        ``(B, C, L)`` tensor.
    """
    check_batch(x, generator)
    factor = _real("factor", factor, 0.0)
    # population std via a norm: several times faster than Tensor.std over the last dim on CPU
    centred = x - x.mean(dim=-1, keepdim=True)                          # (B, C, L)
    spread = torch.linalg.vector_norm(centred, dim=-1, keepdim=True) / math.sqrt(x.shape[-1])
    noise = _randn(tuple(x.shape), x, generator)                        # (B, C, L), ours to reuse
    out = None if x.requires_grad else noise  # as in jitter: out= records no gradient
    return torch.addcmul(x, factor * spread, noise, out=out).to(x.dtype)


def scaling(x: torch.Tensor, generator: torch.Generator,
            sigma: float = SCALING_SIGMA) -> torch.Tensor:
    """Per-series, per-channel amplitude scaling: ``x_aug[b, c, :] = k[b, c] * x[b, c, :]``.

    ``k ~ N(1, sigma^2)`` (Um et al., 2017). TS-TCC's weak view draws ``k`` around 2; VIbCReg's
    "amplitude resize" draws ``k ~ U(1 - r, 1 + r)`` (Lee & Aune, 2021).

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        sigma: std of the factor, ``>= 0``.

    Returns:
        ``(B, C, L)`` tensor; ``x_aug / x`` is constant along time for each (series, channel).
    """
    check_batch(x, generator)
    sigma = _real("sigma", sigma, 0.0)
    batch, channels, _ = x.shape
    factor = 1.0 + sigma * _randn((batch, channels, 1), x, generator)    # (B, C, 1)
    return (x * factor).to(x.dtype)


def magnitude_warp(x: torch.Tensor, generator: torch.Generator,
                   sigma: float = MAGNITUDE_WARP_SIGMA, knots: int = MAGNITUDE_WARP_KNOTS,
                   mode: str = "cubic") -> torch.Tensor:
    """Multiply by a smooth random curve: ``x_aug[b, c, t] = x[b, c, t] * w[b, c, t]``.

    ``w`` interpolates ``knots + 2`` evenly spaced heights ``h ~ N(1, sigma^2)`` (one at each end),
    per series and channel (Um et al., 2017). ``mode="cubic"`` uses cubic convolution (Um et al.
    use a cubic spline; the curves are alike), ``"linear"`` joins the knots with straight lines.
    With ``z ~ N(0, 1)`` the curve is ``w = 1 + interp(sigma z)`` (the same curve, as the
    interpolation weights sum to one) and the result ``x + x (w - 1)``, exactly ``x`` when
    ``sigma = 0``.

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        sigma: std of the knot heights, ``>= 0``.
        knots: number of interior knots, ``>= 0``.
        mode: ``"cubic"`` or ``"linear"``.

    Returns:
        ``(B, C, L)`` tensor.
    """
    check_batch(x, generator)
    sigma = _real("sigma", sigma, 0.0)
    knots = _integer("knots", knots, 0)
    mode = _choice("mode", mode, ("cubic", "linear"))
    batch, channels, length = x.shape
    z = _randn((batch, channels, knots + 2), x, generator)              # (B, C, K+2)
    bend = _smooth_curve(sigma * z, length, mode).to(x.dtype)           # (B, C, L): w - 1
    return torch.addcmul(x, x, bend)                                    # x + x (w - 1)


# ----------------------------------------------------------------------------- time domain

def time_warp(x: torch.Tensor, generator: torch.Generator, sigma: float = TIME_WARP_SIGMA,
              knots: int = TIME_WARP_KNOTS) -> torch.Tensor:
    """Resample along a smooth, strictly increasing random time map (Um et al., 2017).

    A speed curve ``v(t) = max(1 + sigma * interp(z)(t), 0.05)`` interpolates linearly
    ``knots + 2`` evenly spaced values, ``z ~ N(0, 1)``. Its trapezoidal integral, rescaled so that
    ``tau(0) = 0`` and ``tau(L - 1) = L - 1``, is the time map, and
    ``x_aug[b, c, t] = x[b, c, tau_b(t)]`` by linear interpolation. Where ``v > 1`` the series
    plays faster. One map per series, shared by its channels (they stay synchronised);
    ``sigma = 0`` returns ``x`` exactly.

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        sigma: std of the knot speeds, ``>= 0``.
        knots: number of interior knots, ``>= 0``.

    Returns:
        ``(B, C, L)`` tensor.
    """
    check_batch(x, generator)
    sigma = _real("sigma", sigma, 0.0)
    knots = _integer("knots", knots, 0)
    batch, _, length = x.shape
    z = _randn((batch, 1, knots + 2), x, generator)                     # (B, 1, K+2)
    if length == 1:
        return x.clone()
    speed = (1.0 + sigma * _smooth_curve(z, length, "linear"))[:, 0].clamp_min(_MIN_SPEED)  # (B, L)
    steps = 0.5 * (speed[:, 1:] + speed[:, :-1])                        # (B, L-1)
    tau = torch.cat([torch.zeros_like(speed[:, :1]), steps.cumsum(dim=1)], dim=1)  # (B, L)
    tau = tau / (tau[:, -1:] / (length - 1))    # not (L - 1) / tau: torch computes that as a
                                                # reciprocal times L - 1, inexact at sigma = 0
    return resample(x, tau)


def crop_resize(x: torch.Tensor, generator: torch.Generator,
                ratio: float = CROP_RESIZE_RATIO) -> torch.Tensor:
    """Crop a random window and stretch it back to length ``L`` ("window slicing").

    Window length ``w = round(ratio * L)`` (half up, at least 1) starting at
    ``s ~ U{0, ..., L - w}`` per series (shared by its channels), and
    ``x_aug[b, c, t] = x[b, c, s + t (w - 1) / (L - 1)]`` by linear interpolation.
    Le Guennec et al. (2016), as evaluated by Iwana & Uchida (2021); ``ratio = 1`` is the identity.

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        ratio: kept fraction, in ``(0, 1]``.

    Returns:
        ``(B, C, L)`` tensor.
    """
    check_batch(x, generator)
    ratio = _kept_ratio(ratio)
    length = x.shape[-1]
    width = _window(ratio, length, 1)
    start = _window_start(x, generator, width).float()                  # (B, 1)
    scale = (width - 1) / (length - 1) if length > 1 else 0.0
    pos = start + scale * torch.arange(length, device=x.device, dtype=torch.float32)  # (B, L)
    return resample(x, pos)


def random_crop(x: torch.Tensor, generator: torch.Generator,
                ratio: float = RANDOM_CROP_RATIO) -> torch.Tensor:
    """Keep a random window of ``w = round(ratio * L)`` steps (half up, at least 1); zero the rest.

    ``x_aug[b, c, t] = x[b, c, t]`` if ``s_b <= t < s_b + w`` else 0, ``s_b ~ U{0, ..., L - w}``,
    the same window for all channels. VIbCReg (Lee & Aune, 2021) crops a subsequence; zeroing
    instead keeps every batch at length ``L``.

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        ratio: kept fraction, in ``(0, 1]``.

    Returns:
        ``(B, C, L)`` tensor.
    """
    check_batch(x, generator)
    ratio = _kept_ratio(ratio)
    keep = _window_mask(x, generator, _window(ratio, x.shape[-1], 1))  # (B, 1, L)
    return x * keep


def blockout(x: torch.Tensor, generator: torch.Generator,
             ratio: float = BLOCKOUT_RATIO) -> torch.Tensor:
    """Zero a random block of ``w = round(ratio * L)`` consecutive steps (half up).

    ``x_aug[b, c, t] = 0`` if ``s_b <= t < s_b + w`` else ``x[b, c, t]``,
    ``s_b ~ U{0, ..., L - w}``, the same block for all channels; the time-series analogue of
    cutout (DeVries & Taylor, 2017).

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        ratio: zeroed fraction, in ``[0, 1]``.

    Returns:
        ``(B, C, L)`` tensor.
    """
    check_batch(x, generator)
    ratio = _real("ratio", ratio, 0.0, 1.0)
    block = _window_mask(x, generator, _window(ratio, x.shape[-1], 0))  # (B, 1, L)
    return x * ~block


def time_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Time reversal: ``x_aug[b, c, t] = x[b, c, L - 1 - t]`` (deterministic).

    "Horizontal flip" of Sarkar & Etemad (2020); flipping in Iwana & Uchida (2021).
    ``generator`` is accepted for the common signature and not used.
    """
    check_batch(x, generator)
    return x.flip(-1)


def negation(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Sign flip: ``x_aug = -x`` (deterministic; Sarkar & Etemad, 2020).

    ``generator`` is accepted for the common signature and not used.
    """
    check_batch(x, generator)
    return -x


def smoothing(x: torch.Tensor, generator: torch.Generator,
              a_max: float = SMOOTHING_A_MAX) -> torch.Tensor:
    """Three-tap low-pass filter of random strength per series.

    ``x_aug[t] = a x[t-1] + (1 - 2a) x[t] + a x[t+1]`` with ``a ~ U(0, a_max)`` per series
    (shared by its channels) and the end values repeated at the borders, so the length is kept
    and a constant series is unchanged. The gain at frequency ``f`` (cycles per step) is
    ``1 - 2a + 2a cos(2 pi f)``, which falls from 1 at ``f = 0`` to ``1 - 4a`` at ``f = 1/2``.
    No single canonical reference; a mild form of the filtering transforms surveyed by Iwana &
    Uchida (2021).

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        a_max: largest side-tap weight, in ``[0, 0.5]``.

    Returns:
        ``(B, C, L)`` tensor.
    """
    check_batch(x, generator)
    a_max = _real("a_max", a_max, 0.0, 0.5)
    a = (a_max * _rand((x.shape[0], 1, 1), x, generator)).to(x.dtype)  # (B, 1, 1)
    out = x * (1 - 2 * a)                                               # (B, C, L), a new tensor:
    out[..., 1:].addcmul_(x[..., :-1], a)                               # the in-place updates
    out[..., :-1].addcmul_(x[..., 1:], a)                               # touch only our own
    out[..., :1].addcmul_(x[..., :1], a)                                # replicated borders
    out[..., -1:].addcmul_(x[..., -1:], a)
    return out


def permutation(x: torch.Tensor, generator: torch.Generator,
                max_segments: int = PERMUTATION_MAX_SEGMENTS,
                split: str = "random") -> torch.Tensor:
    """Cut each series into ``m ~ U{1, ..., M}`` segments and shuffle their order.

    With ``split="random"`` the ``m - 1`` cut points are distinct uniform positions in
    ``{1, ..., L - 1}`` (TS-TCC); ``"equal"`` cuts at ``ceil(k L / m)`` (Um et al., 2017). The
    segments of all channels move together and each keeps its internal order; the segment order
    is uniform over the ``m!`` orders. Note that TS-TCC and Iwana & Uchida draw ``m`` from
    ``{1, ..., M - 1}``; here ``M`` itself is included.

    Batched without sorting whole series: the cuts are the positions of the ``m - 1`` smallest of
    ``L - 1`` uniform keys (``topk``), the segment order is the argsort of ``M`` uniform keys, each
    step moves to its segment's output offset plus its offset inside the segment, and ``x`` is
    gathered through the inverse of that map.

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type.
        max_segments: ``M >= 1`` (capped at ``L``).
        split: ``"random"`` or ``"equal"``.

    Returns:
        ``(B, C, L)`` tensor with the same values per (series, channel) as ``x``.
    """
    check_batch(x, generator)
    max_segments = _integer("max_segments", max_segments, 1)
    split = _choice("split", split, ("random", "equal"))
    batch, channels, length = x.shape
    most = min(max_segments, length)
    n_seg = (_rand((batch, 1), x, generator) * most).long().clamp_max(most - 1) + 1  # (B, 1)
    t = torch.arange(length, device=x.device).expand(batch, length)    # (B, L)
    if split == "random":
        keys = _rand((batch, length - 1), x, generator)                 # a cut before t = 1..L-1
        cuts = keys.topk(most - 1, dim=1, largest=False).indices + 1     # (B, M-1), by key order
        used = torch.arange(most - 1, device=x.device) < n_seg - 1      # (B, M-1): first m-1
        starts = torch.zeros_like(t).scatter_(1, cuts, used.long())     # 1 where a segment starts
        seg_id = starts.cumsum(1)                                       # (B, L), values 0..m-1
    else:
        seg_id = t * n_seg // length                                    # (B, L), values 0..m-1
    order = _rand((batch, most), x, generator).argsort(1)               # (B, M) output order
    seg_len = torch.zeros_like(order).scatter_add_(1, seg_id, torch.ones_like(t))  # (B, M)
    src_start = seg_len.cumsum(1) - seg_len                             # (B, M)
    len_in_order = seg_len.gather(1, order)                             # (B, M)
    dst_start = torch.zeros_like(order).scatter_(1, order, len_in_order.cumsum(1) - len_in_order)
    dst = (dst_start - src_start).gather(1, seg_id) + t                 # (B, L): where t goes
    src = torch.empty_like(t).scatter_(1, dst, t)                       # (B, L): what lands there
    return x.gather(-1, src[:, None, :].expand(batch, channels, length))


AUGMENTATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "jitter": jitter,
    "channel_noise": channel_noise,
    "scaling": scaling,
    "magnitude_warp": magnitude_warp,
    "time_warp": time_warp,
    "crop_resize": crop_resize,
    "random_crop": random_crop,
    "blockout": blockout,
    "time_flip": time_flip,
    "negation": negation,
    "smoothing": smoothing,
    "permutation": permutation,
}


def _lookup(name: Any) -> Callable[..., torch.Tensor]:
    if not isinstance(name, str):
        raise TypeError(f"augmentation name must be a str, got {type(name).__name__}")
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(AUGMENTATIONS)}")
    return AUGMENTATIONS[name]


def default_params(name: str) -> dict[str, Any]:
    """The default strengths of augmentation ``name``, read from its signature.

    >>> default_params("magnitude_warp")
    {'sigma': 0.2, 'knots': 4, 'mode': 'cubic'}
    """
    parameters = list(inspect.signature(_lookup(name)).parameters.values())[2:]
    return {p.name: p.default for p in parameters}


# ----------------------------------------------------------------------------- pipeline

@dataclass(frozen=True)
class AugmentationStep:
    """One pipeline step: augmentation ``name`` applied per sample with probability ``p``.

    ``params`` overrides the defaults of :func:`default_params`. Names, parameter names, types and
    values are checked on construction (the values by running the function once on a tiny zero
    batch, so the functions' own checks are the only ones).

    Raises:
        ValueError: unknown name or parameter (the message lists the allowed ones), bad value.
        TypeError: wrong type for the name, ``p`` or a parameter.
    """

    name: str
    p: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        fn = _lookup(self.name)
        p = _real("p", self.p, 0.0, 1.0)
        if not isinstance(self.params, Mapping):
            raise TypeError(f"params must be a mapping, got {type(self.params).__name__}")
        allowed = default_params(self.name)
        for key in self.params:
            if key not in allowed:
                raise ValueError(f"unknown parameter {key!r} for {self.name!r}; allowed: "
                                 f"{', '.join(allowed) or 'none'}")
        fn(torch.zeros(1, 1, 8), torch.Generator().manual_seed(0), **self.params)
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:  # params is a read-only mapping, which does not hash itself
        return hash((self.name, self.p, tuple(sorted(self.params.items()))))

    def describe(self) -> dict[str, Any]:
        """``{"name", "p", **params}`` with every default filled in (accepted by build_pipeline)."""
        return {"name": self.name, "p": self.p, **default_params(self.name), **self.params}


@dataclass(frozen=True)
class Compose:
    """Apply steps in order; step ``k`` is applied to each sample with probability ``p_k``.

    For ``0 < p < 1`` a mask ``(B,)`` ~ Bernoulli(p) is drawn from the generator, the augmentation
    runs on the whole batch and ``torch.where`` keeps it for the selected samples. Steps with
    ``p = 1`` or ``p = 0`` draw no mask, so ``p = 1`` equals calling the function directly.
    The result is always a new tensor.
    """

    steps: tuple[AugmentationStep, ...] = ()

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        for step in steps:
            if not isinstance(step, AugmentationStep):
                raise TypeError(f"steps must be AugmentationStep, got {type(step).__name__}")
        object.__setattr__(self, "steps", steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        check_batch(x, generator)
        out = x                                                         # (B, C, L)
        for step in self.steps:
            if step.p == 0.0:
                continue
            augmented = AUGMENTATIONS[step.name](out, generator, **step.params)
            if step.p == 1.0:
                out = augmented
            else:
                chosen = torch.rand((x.shape[0],), generator=generator, device=x.device) < step.p
                out = torch.where(chosen[:, None, None], augmented, out)
        return x.clone() if out is x else out

    def describe(self) -> list[dict[str, Any]]:
        """One flat dict per step with resolved parameters, for run records."""
        return [step.describe() for step in self.steps]


def _step_from(item: Any) -> AugmentationStep:
    if isinstance(item, AugmentationStep):
        return item
    if isinstance(item, str):
        return AugmentationStep(item.strip())
    if isinstance(item, Mapping):
        if "name" not in item:
            raise ValueError(f"a step dict needs a 'name' key, got keys {sorted(item)}")
        params = {k: v for k, v in item.items() if k not in ("name", "p")}
        return AugmentationStep(item["name"], item.get("p", 1.0), params)
    raise TypeError(f"a step must be a name, a dict or an AugmentationStep, "
                    f"got {type(item).__name__}")


_STEP = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\(([^()]*)\))?\s*(?:,|$)")


def _literal(text: str) -> Any:
    """``"0.8"`` -> 0.8, ``"3"`` -> 3, ``"true"`` -> True; anything else stays a string."""
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parse_spec(spec: str) -> list[dict[str, Any]]:
    """``"jitter(p=0.8,sigma=0.05),scaling"`` -> ``[{"name": "jitter", "p": 0.8, "sigma": 0.05}, {"name": "scaling"}]``."""
    steps, position = [], 0
    while position < len(spec):
        match = _STEP.match(spec, position)
        if match is None or match.end() == position:
            raise ValueError(
                f"cannot read the augmentation spec {spec!r} at position {position}: expected "
                "'name' or 'name(key=value,...)' separated by commas, e.g. 'jitter(p=0.8,sigma=0.05),scaling'"
            )
        step: dict[str, Any] = {"name": match.group(1)}
        for pair in filter(str.strip, (match.group(2) or "").split(",")):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"in augmentation {match.group(1)!r}: expected key=value, got {pair.strip()!r}")
            step[key.strip()] = _literal(value)
        steps.append(step)
        position = match.end()
    if not steps:
        raise ValueError(f"empty augmentation spec {spec!r}")
    return steps


def build_pipeline(spec: None | str | list[Any] | tuple[Any, ...] | Compose) -> Compose:
    """Build a :class:`Compose` from a config value.

    Accepted forms:

    * ``None`` or ``""``: the identity pipeline;
    * ``"jitter,scaling"``: names separated by commas, each with ``p = 1`` and default strengths;
    * ``"jitter(p=0.8,sigma=0.05),scaling"``: the same with a probability and strengths by name
      (the form chapter parameters use);
    * ``["jitter", "scaling"]``: the same as a list;
    * ``[{"name": "jitter", "p": 0.8, "sigma": 0.03}, ...]``: ``p`` defaults to 1, other keys are
      parameters; names, dicts and :class:`AugmentationStep` may be mixed;
    * a :class:`Compose`, returned unchanged.

    ``build_pipeline(pipe.describe())`` rebuilds an equivalent pipeline.

    Raises:
        ValueError: unknown augmentation or parameter, empty name, bad value.
        TypeError: ``spec`` or an element of the wrong type.
    """
    if isinstance(spec, Compose):
        return spec
    if spec is None or spec == "":
        return Compose()
    if isinstance(spec, str):
        return Compose(tuple(_step_from(item) for item in _parse_spec(spec)))
    if isinstance(spec, (list, tuple)):
        return Compose(tuple(_step_from(item) for item in spec))
    raise TypeError(f"spec must be None, a str, a list of names/dicts or a Compose, "
                    f"got {type(spec).__name__}")


def default_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed`` (pass ``x.device`` for CUDA data).

    >>> a = torch.rand(2, generator=default_generator(0))
    >>> a.equal(torch.rand(2, generator=default_generator(0)))
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    generator = torch.Generator(device=torch.device(device))
    generator.manual_seed(seed)
    return generator
