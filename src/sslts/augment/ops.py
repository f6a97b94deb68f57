"""The batched augmentations and their default strengths (window warping is in :mod:`.window`).

Each is ``fn(x, generator, **strength) -> x_aug`` on a ``(B, C, L)`` batch; the contract they
share (new tensor, randomness from ``generator`` only, no probability argument) is in the
package docstring of :mod:`sslts.augment`. The default strengths are the constants below and the
functions' keyword defaults at once, so they exist in one place.
"""

from __future__ import annotations

import math

import torch

from .primitives import (
    _choice, _integer, _kept_ratio, _rand, _randn, _real, _smooth_curve, _window, _window_mask,
    _window_start, check_batch, resample,
)

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
        ratio: kept fraction, in ``(0, 1]``; a window of 0 steps is widened to 1, which a
            pipeline checked against the data's shape refuses
            (:meth:`~sslts.augment.Compose.check_shape`).

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
        ratio: kept fraction, in ``(0, 1]``, the window as in :func:`crop_resize`.

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
        ratio: zeroed fraction, in ``[0, 1]``; a block of 0 steps zeroes nothing (a pipeline
            checked against the data's shape refuses that for ``ratio > 0``).

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
        max_segments: ``M >= 1``, capped at ``L`` (a pipeline checked against the data's shape
            refuses ``M > L``).
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
