"""Building blocks the operations share: checks of the batch and of parameter values, random
draws in the working dtype, random windows, linear resampling and smooth curves through knots.

Every check raises the error the operations document (``TypeError`` for a wrong type,
``ValueError`` for a bad value), so an operation's own checks are the only ones a pipeline needs.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


def check_batch(x: torch.Tensor, generator: torch.Generator) -> None:
    """Refuse anything but a float batch ``(B, C, L)``, ``L >= 1``, and a generator on its device."""
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

