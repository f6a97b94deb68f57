"""Input checks and a matrix helper shared by the losses over two views' embeddings ``(B, D)``."""

from __future__ import annotations

import torch
from torch import Tensor


def _check_embedding(z: object, name: str = "z") -> None:
    if not isinstance(z, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, D), got {type(z).__name__}")
    if z.ndim != 2:
        raise ValueError(f"{name} must be 2-D (B, D), got shape {tuple(z.shape)}")
    if z.shape[0] < 2:
        raise ValueError(f"{name} needs a batch of at least 2 embeddings, got batch size {z.shape[0]}")


def _check_pair(z1: Tensor, z2: Tensor) -> None:
    _check_embedding(z1, "z1")
    _check_embedding(z2, "z2")
    if z1.shape != z2.shape:
        raise ValueError(
            f"z1 and z2 must have the same shape, got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )


def _off_diagonal(m: Tensor) -> Tensor:
    """Off-diagonal entries of a square matrix, flattened (out of place, so autograd-safe)."""
    return m[~torch.eye(m.shape[0], dtype=torch.bool, device=m.device)]
