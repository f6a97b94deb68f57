"""Distribution shifts of test series: five sensor corruptions at severities 0 (none) to 5.

Test-time training is meant for test data that differ from the training data. Besides the natural
shift of a dataset (new subjects, new days), these parameterised corruptions model what goes wrong
with a sensor, in the spirit of ImageNet-C's severity levels (Hendrycks & Dietterich 2019):

========================  ========================================================================
``gaussian_noise``        ``x + s_n * std_c(x) * eps``, ``eps ~ N(0, 1)`` per element
``gain``                  ``x * (1 + a_n) ** r_c``, ``r_c = +1 or -1`` per channel (louder or quieter)
``offset_drift``          ``x + d_n * std_c(x) * r_c * t / (L - 1)``, a linear baseline from 0
``time_warp``             ``x(phi(u) (L - 1))``, ``phi(u) = u + w_n r sin(pi u) / pi``, ``u = t / (L - 1)``
``dead_channel``          one random channel reads 0 for the last ``f_n * L`` time steps
========================  ========================================================================

``std_c(x)`` is each series' own per-channel standard deviation over time, so a corruption is the
same relative size on every channel whatever its units; ``r`` and ``r_c`` are random signs; the
strengths ``s_n, a_n, d_n, w_n, f_n`` of severity ``n`` are the tables below. A corruption draws
its randomness from the generator in the same order at every severity, so with one seed the
severities are the same corruption at growing strength. Severity 0 returns an unchanged copy.
Every function is vectorised over the batch, keeps shape, dtype and device, and never writes to
its input.

Shapes::

    corrupt(x (B, C, L), name, severity, generator) -> (B, C, L)
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from sslts.augment import channel_noise, check_batch, resample

__all__ = [
    "MAX_SEVERITY",
    "SEVERITY_TABLES",
    "SHIFTS",
    "corrupt",
    "dead_channel",
    "gain",
    "gaussian_noise",
    "offset_drift",
    "time_warp",
]

MAX_SEVERITY = 5
# Strength of each corruption at severities 1..5 (index n - 1).
NOISE_STD = (0.1, 0.2, 0.4, 0.7, 1.0)  # noise std, in units of the channel's std
GAIN_CHANGE = (0.1, 0.25, 0.5, 0.75, 1.0)  # gain factor (1 + a)^(+-1): up to x2 or x0.5
DRIFT_END = (0.25, 0.5, 1.0, 1.5, 2.0)  # baseline at the last step, in channel stds
WARP_STRENGTH = (0.15, 0.3, 0.45, 0.6, 0.75)  # w < 1 keeps the time map increasing
DEAD_FRACTION = (0.2, 0.4, 0.6, 0.8, 1.0)  # fraction of the series the dead channel reads 0
SEVERITY_TABLES = {
    "gaussian_noise": NOISE_STD,
    "gain": GAIN_CHANGE,
    "offset_drift": DRIFT_END,
    "time_warp": WARP_STRENGTH,
    "dead_channel": DEAD_FRACTION,
}


def _check(x: object, severity: object, generator: object) -> None:
    check_batch(x, generator)  # the augmentations' checks: a float (B, C, L) tensor, a matching generator
    if x.shape[-1] < 2:
        raise ValueError(f"x must have shape (B, C, L) with L >= 2, got {tuple(x.shape)}")
    if isinstance(severity, bool) or not isinstance(severity, int):
        raise TypeError(f"severity must be an int in 0..{MAX_SEVERITY}, got {type(severity).__name__}")
    if not 0 <= severity <= MAX_SEVERITY:
        raise ValueError(f"severity must be in 0..{MAX_SEVERITY}, got {severity}")


def _signs(shape: tuple[int, ...], x: Tensor, generator: torch.Generator) -> Tensor:
    """Random +1/-1 of ``shape`` in ``x``'s dtype (each sign with probability 1/2)."""
    bits = torch.randint(0, 2, shape, generator=generator, device=x.device)
    return (2 * bits - 1).to(x.dtype)


def _channel_std(x: Tensor) -> Tensor:
    """Each series' per-channel standard deviation over time ``(B, C, 1)`` (population std)."""
    return x.std(dim=-1, keepdim=True, unbiased=False)


def gaussian_noise(x: Tensor, severity: int, generator: torch.Generator) -> Tensor:
    """Additive noise relative to each channel: ``x + s_n * std_c(x) * eps``, ``eps ~ N(0, 1)``.

    ``s_n`` is :data:`NOISE_STD` (0.1 to 1 channel standard deviations).

    Raises:
        TypeError, ValueError: on a malformed batch, severity or generator.
    """
    _check(x, severity, generator)
    if severity == 0:
        return x.clone()
    return channel_noise(x, generator, factor=NOISE_STD[severity - 1])  # the augmentation, at this level


def gain(x: Tensor, severity: int, generator: torch.Generator) -> Tensor:
    """Per-channel gain change: ``x_c * (1 + a_n) ** r_c`` with a random sign ``r_c`` per channel.

    ``a_n`` is :data:`GAIN_CHANGE`; at severity 5 a channel is doubled or halved. Each series has
    its own signs (a sensor re-calibrated differently on every recording).

    Raises:
        TypeError, ValueError: on a malformed batch, severity or generator.
    """
    _check(x, severity, generator)
    r = _signs((x.shape[0], x.shape[1], 1), x, generator)  # (B, C, 1)
    if severity == 0:
        return x.clone()
    return x * (1.0 + GAIN_CHANGE[severity - 1]) ** r


def offset_drift(x: Tensor, severity: int, generator: torch.Generator) -> Tensor:
    """A slow linear baseline: ``x + d_n * std_c(x) * r_c * t / (L - 1)``, 0 at the first step.

    ``d_n`` is :data:`DRIFT_END` (0.25 to 2 channel standard deviations at the last step); the
    sign ``r_c`` is drawn per series and channel.

    Raises:
        TypeError, ValueError: on a malformed batch, severity or generator.
    """
    _check(x, severity, generator)
    r = _signs((x.shape[0], x.shape[1], 1), x, generator)  # (B, C, 1)
    if severity == 0:
        return x.clone()
    length = x.shape[-1]
    ramp = torch.arange(length, device=x.device, dtype=x.dtype) / (length - 1)  # (L,) from 0 to 1
    return x + DRIFT_END[severity - 1] * _channel_std(x) * r * ramp


def time_warp(x: Tensor, severity: int, generator: torch.Generator) -> Tensor:
    """Resample along ``phi(u) = u + w_n r sin(pi u) / pi`` (``u = t / (L - 1)``), ends fixed.

    ``phi' = 1 + w_n r cos(pi u) > 0`` since ``w_n < 1`` (:data:`WARP_STRENGTH`), so the map is
    strictly increasing: with ``r = +1`` the first half plays faster and the second slower, with
    ``r = -1`` the reverse. The largest shift, at mid-series, is ``w_n / pi`` of the length (24 %
    at severity 5). Values between steps are interpolated linearly; channels share the map.

    Raises:
        TypeError, ValueError: on a malformed batch, severity or generator.
    """
    _check(x, severity, generator)
    r = _signs((x.shape[0], 1), x, generator)  # (B, 1)
    if severity == 0:
        return x.clone()
    length = x.shape[-1]
    u = torch.linspace(0.0, 1.0, length, device=x.device, dtype=x.dtype)  # (L,)
    phi = u + WARP_STRENGTH[severity - 1] * r * torch.sin(math.pi * u) / math.pi  # (B, L)
    return resample(x, phi * (length - 1))  # (B, C, L), linear interpolation at the warped steps


def dead_channel(x: Tensor, severity: int, generator: torch.Generator, value: float = 0.0) -> Tensor:
    """One random channel per series reads ``value`` for its last ``round(f_n * L)`` steps.

    ``f_n`` is :data:`DEAD_FRACTION`: the channel dies at 80 % of the series at severity 1 and is
    dead throughout at severity 5. The default ``value = 0`` is a sensor that reads zero; applied
    before standardisation, that is far from the training mean of a channel with an offset
    (gravity on an accelerometer).

    Raises:
        TypeError, ValueError: on a malformed batch, severity or generator.
    """
    _check(x, severity, generator)
    batch, channels, length = x.shape
    which = torch.randint(0, channels, (batch,), generator=generator, device=x.device)  # (B,)
    if severity == 0:
        return x.clone()
    dead_steps = round(DEAD_FRACTION[severity - 1] * length)
    in_channel = torch.arange(channels, device=x.device)[None, :, None] == which[:, None, None]  # (B, C, 1)
    in_time = torch.arange(length, device=x.device) >= length - dead_steps  # (L,)
    return x.masked_fill(in_channel & in_time, value)


SHIFTS: dict[str, Callable[[Tensor, int, torch.Generator], Tensor]] = {
    "gaussian_noise": gaussian_noise,
    "gain": gain,
    "offset_drift": offset_drift,
    "time_warp": time_warp,
    "dead_channel": dead_channel,
}


def corrupt(x: Tensor, name: str, severity: int, generator: torch.Generator) -> Tensor:
    """Apply the corruption ``name`` of :data:`SHIFTS` at ``severity`` (0 = an unchanged copy).

    Raises:
        ValueError: if ``name`` is unknown (the message lists the known ones), or on a malformed
            batch or severity out of ``0..5``.
        TypeError: on wrong argument types.

    Example:
        >>> x = torch.ones(2, 3, 10)
        >>> corrupt(x, "gain", 5, torch.Generator().manual_seed(0)).unique().tolist()
        [0.5, 2.0]
    """
    if name not in SHIFTS:
        raise ValueError(f"unknown shift {name!r}; known shifts are {', '.join(SHIFTS)}")
    return SHIFTS[name](x, severity, generator)
