"""Patch masks along time and the loss on the masked part: shared by masked modelling and TTT-MAE.

A series of length ``L`` is cut into ``n_patches = L // patch_size`` patches of ``patch_size`` time
steps (a remainder at the end is never masked). A mask marks whole patches, the same for every
channel, so the model cannot copy a masked step from another channel at the same time.

Shapes::

    patch_mask(B, n_patches, ratio, generator) -> mask (B, n_patches) bool, True = hidden
    expand_patch_mask(mask, patch_size, L)     -> (B, 1, L) bool
    masked_mse(pred, target, mask)             -> () mean squared error over hidden entries only
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["n_masked", "patch_mask", "expand_patch_mask", "masked_mse"]


def n_masked(n_patches: int, ratio: float) -> int:
    """Patches hidden per series: ``round(ratio * n_patches)``, at least 1 and at most ``n_patches - 1``.

    Raises:
        ValueError: if ``n_patches < 2`` or ``ratio`` is not in ``(0, 1)``.
    """
    if n_patches < 2:
        raise ValueError(f"masking needs at least 2 patches per series, got {n_patches}; use a smaller patch_size")
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"mask ratio must be in (0, 1), got {ratio!r}")
    return min(n_patches - 1, max(1, round(ratio * n_patches)))


def patch_mask(batch: int, n_patches: int, ratio: float, generator: torch.Generator) -> Tensor:
    """A random mask hiding exactly :func:`n_masked` patches of each series, uniformly chosen.

    The patches are ranked by uniform noise per row (the MAE recipe: argsort of noise), so every
    row hides the same number of patches and every subset of that size is equally likely.

    Args:
        batch: number of series ``B``.
        n_patches: patches per series ``N``.
        ratio: fraction of patches to hide.
        generator: source of randomness; the mask lives on its device.

    Returns:
        ``(B, N)`` boolean tensor, ``True`` where a patch is hidden.
    """
    k = n_masked(n_patches, ratio)
    noise = torch.rand(batch, n_patches, generator=generator, device=generator.device)
    ranks = noise.argsort(dim=1).argsort(dim=1)  # (B, N): rank of each patch's noise in its row
    return ranks < k


def expand_patch_mask(mask: Tensor, patch_size: int, length: int) -> Tensor:
    """Patch mask ``(B, N)`` to a time-step mask ``(B, 1, length)``; steps after ``N * patch_size`` stay visible.

    Raises:
        ValueError: if the patches do not fit in ``length``.
    """
    batch, n = mask.shape
    if n * patch_size > length:
        raise ValueError(f"{n} patches of {patch_size} steps do not fit in a series of length {length}")
    steps = mask.repeat_interleave(patch_size, dim=1)  # (B, N * patch_size)
    tail = torch.zeros(batch, length - n * patch_size, dtype=torch.bool, device=mask.device)
    return torch.cat([steps, tail], dim=1).unsqueeze(1)


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over the hidden entries only (MAE's loss: visible ones are free to copy).

    Args:
        pred, target: tensors of equal shape, e.g. ``(B, C, L)`` or ``(B, N, P)``.
        mask: boolean, broadcastable to ``pred`` (e.g. ``(B, 1, L)`` or ``(B, N, 1)``); True = hidden.

    Returns:
        Scalar: ``sum(mask * (pred - target)^2) / sum(mask)`` over the broadcast shape.

    Raises:
        ValueError: if the shapes differ or nothing is hidden.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    weight = mask.to(pred.dtype).expand_as(pred)
    hidden = weight.sum()
    if hidden.item() == 0:
        raise ValueError("the mask hides nothing; masked_mse needs at least one hidden entry")
    return ((pred - target).pow(2) * weight).sum() / hidden
