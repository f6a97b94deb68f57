"""MAE (He, Chen, Xie, Li, Dollar & Girshick 2022): reconstruction of masked patches ``(B, N, C * P)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sslts.masking import masked_mse

def normalize_patches(patches: Tensor, eps: float = 1e-6) -> Tensor:
    """Each patch minus its mean, over its standard deviation: MAE's "normalised pixels" target.

    He et al. (2022), Section 4 ("reconstruction target"): normalising each patch by its own mean
    and variance sharpens the local contrast the decoder must predict and improves the learned
    representation. Here a patch is all channels of ``P`` time steps, ``(B, N, C * P)``::

        out[b, n, :] = (p - mean(p)) / sqrt(var(p) + eps),  p = patches[b, n, :]

    (biased variance, as in MAE's code). A constant patch maps to zeros.

    Raises:
        ValueError: if ``patches`` is not 3-D with at least 2 entries per patch.

    Example:
        >>> normalize_patches(torch.tensor([[[1.0, 3.0], [5.0, 5.0]]])).round(decimals=4)  # mean 2, std 1
        tensor([[[-1.,  1.],
                 [ 0.,  0.]]])
    """
    if not isinstance(patches, Tensor) or patches.ndim != 3 or patches.shape[-1] < 2:
        raise ValueError(
            f"patches must be (B, N, C * P) with at least 2 entries per patch, got {getattr(patches, 'shape', patches)}"
        )
    mean = patches.mean(dim=-1, keepdim=True)  # (B, N, 1)
    var = patches.var(dim=-1, unbiased=False, keepdim=True)  # (B, N, 1)
    return (patches - mean) / torch.sqrt(var + eps)


def mae_loss(pred: Tensor, patches: Tensor, hidden: Tensor, normalize_target: bool = True,
             eps: float = 1e-6) -> Tensor:
    """MAE's loss: mean squared error between predicted and true patches, on hidden patches only.

    He et al. (2022): the loss is computed "only on masked patches"; the visible ones are given to
    the encoder, so predicting them would be copying. With ``normalize_target`` each true patch is
    first normalised by :func:`normalize_patches`::

        loss = sum_{b, n hidden} ||pred[b, n] - t(patches[b, n])||^2 / (n_hidden * C * P)

    Computed in float32 (a mixed-precision forward's float16 squares lose small errors).

    Args:
        pred: ``(B, N, C * P)`` decoder output for every patch.
        patches: ``(B, N, C * P)`` true patches (from :func:`sslts.encoders.patchify`).
        hidden: ``(B, N)`` boolean, True where a patch was masked (at least one per batch).
        normalize_target: use per-patch normalised targets (MAE's ``norm_pix_loss``).
        eps: added to the variance of :func:`normalize_patches`.

    Raises:
        ValueError: if the shapes do not match or nothing is hidden.

    Example:
        >>> patches = torch.tensor([[[1.0, 3.0], [5.0, 5.0]]])  # (B, N, C * P) = (1, 2, 2)
        >>> pred = torch.tensor([[[0.0, 0.0], [9.0, 9.0]]])  # the visible patch's error is not counted
        >>> hidden = torch.tensor([[True, False]])
        >>> round(mae_loss(pred, patches, hidden).item(), 4)  # target (-1, 1): (1 + 1) / 2
        1.0
        >>> mae_loss(pred, patches, hidden, normalize_target=False).item()  # (1 + 9) / 2
        5.0
    """
    if hidden.ndim != 2 or hidden.shape != pred.shape[:2]:
        raise ValueError(f"hidden must be (B, N) = {tuple(pred.shape[:2])}, got {tuple(hidden.shape)}")
    target = normalize_patches(patches.float(), eps) if normalize_target else patches.float()
    return masked_mse(pred.float(), target, hidden.unsqueeze(-1))
