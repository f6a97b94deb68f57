"""Window warping: one random window of each series played slower or faster, resampled to its length.

An augmentation with the contract of :mod:`sslts.augment.ops` (``fn(x, generator, **strength)``),
kept apart because its time map is its own.
"""

from __future__ import annotations

import torch

from .primitives import _rand, _real, _window, check_batch, resample

WINDOW_WARP_RATIO = 0.1        # warped window as a fraction of the series (Iwana & Uchida's code)
WINDOW_WARP_SCALE = 2.0        # the window plays 2x slower or 2x faster (their scales 0.5 and 2)


def window_warp(x: torch.Tensor, generator: torch.Generator, ratio: float = WINDOW_WARP_RATIO,
                scale: float = WINDOW_WARP_SCALE) -> torch.Tensor:
    """Stretch or squeeze one random window by a fixed factor, then resample back to length ``L``.

    Window warping (Le Guennec, Malinowski & Tavenard 2016, "Data augmentation for time series
    classification using convolutional neural networks"; Iwana & Uchida 2021, whose code warps a
    window of 10 % of the series by 0.5 or 2). Here in continuous form: the series is a
    piecewise-linear function on ``[0, L - 1]``; a window ``[s, s + w]`` of ``w = round(ratio (L - 1))``
    time units (half up), ``s ~ U{0, ..., L - 1 - w}``, is played ``f`` times slower, with
    ``f = scale`` or ``1 / scale`` (probability 1/2 each); the warped series, of length
    ``M = L - 1 + w (f - 1)``, is read back at ``L`` evenly spaced points. So
    ``x_aug[b, c, t] = x[b, c, tau(v)]`` with ``v = t M / (L - 1)`` and::

        tau(v) = v - (1 - 1/f) * clamp(v - s, 0, w f)

    (``v`` before the window, ``s + (v - s) / f`` inside it, ``v - w (f - 1)`` after it), by
    linear interpolation. The map is piecewise linear, increasing, and fixes both ends. One window
    and factor per series, shared by its channels; ``scale = 1`` or ``ratio = 0`` returns ``x``.
    Iwana & Uchida's code concatenates sampled segments instead, which differs from this
    by up to a step at the window's edges.

    Args:
        x: ``(B, C, L)`` floating-point batch.
        generator: source of randomness on ``x``'s device type (two uniforms per series).
        ratio: window length as a fraction of ``L - 1``, in ``[0, 1]``.
        scale: warp factor ``>= 1``; the window is slowed down (``f = scale``) or sped up
            (``f = 1 / scale``).

    Returns:
        ``(B, C, L)`` tensor.

    Example:
        >>> ramp = torch.arange(11.0).expand(1, 1, 11)
        >>> y = window_warp(ramp, torch.Generator().manual_seed(0), ratio=0.2)
        >>> (y[0, 0, 0].item(), y[0, 0, -1].item(), y.shape)  # both ends stay, length kept
        (0.0, 10.0, torch.Size([1, 1, 11]))
    """
    check_batch(x, generator)
    ratio = _real("ratio", ratio, 0.0, 1.0)
    scale = _real("scale", scale, 1.0)
    batch, _, length = x.shape
    u = _rand((batch, 2), x, generator)                                 # start, factor draws
    if length == 1:
        return x.clone()
    span = _window(ratio, length - 1, 0)                                # w, in time units
    start = (u[:, :1] * (length - span)).floor().clamp_max(length - 1 - span)  # (B, 1)
    factor = torch.full_like(u[:, 1:], scale).where(u[:, 1:] < 0.5, 1.0 / scale)  # (B, 1): f
    warped_length = (length - 1) + span * (factor - 1.0)                # (B, 1): M
    t = torch.arange(length, device=x.device, dtype=u.dtype)            # (L,)
    v = t * (warped_length / (length - 1))                              # (B, L), warped time
    tau = v - (1.0 - 1.0 / factor) * (v - start).clamp(0.0, None).minimum(span * factor)  # (B, L)
    return resample(x, tau)
