"""Barlow Twins: redundancy reduction through the cross-correlation of two views, ``(B, D)`` each.

Every function raises ``TypeError`` for non-tensors and ``ValueError`` unless the inputs are
2-D, of equal shape and hold at least two rows.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sslts.losses._checks import _check_pair, _off_diagonal

def cross_correlation(z1: Tensor, z2: Tensor, eps: float = 1e-5) -> Tensor:
    """Barlow Twins cross-correlation between batch-standardised views.

    Zbontar, Jing, Misra, LeCun & Deny (2021), "Barlow Twins: Self-Supervised Learning via Redundancy
    Reduction", ICML, eq. 2. Each dimension is standardised over the batch (mean 0, biased std 1, as
    a non-affine batch norm does), then ``C_ij = 1/N * sum_b z1n_bi * z2n_bj``.

    Args:
        z1, z2: ``(N, D)`` embeddings of the two views.
        eps: added to the variance before the root, so constant dimensions stay finite.

    Returns:
        ``(D, D)`` tensor; ``C[i, j]`` is the Pearson correlation of ``z1[:, i]`` and ``z2[:, j]``.

    Raises:
        TypeError, ValueError: on bad inputs (see module).

    Example:
        >>> z = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])  # mean 0, std 1
        >>> cross_correlation(z, z[:, [1, 0]], eps=0.0)  # the second view's columns swapped
        tensor([[0., 1.],
                [1., 0.]])
    """
    _check_pair(z1, z2)

    def standardise(z: Tensor) -> Tensor:
        return (z - z.mean(dim=0)) / torch.sqrt(z.var(dim=0, unbiased=False) + eps)

    return standardise(z1).T @ standardise(z2) / z1.shape[0]  # (D, D)


def barlow_twins_loss(
    z1: Tensor, z2: Tensor, lambda_offdiag: float = 5e-3
) -> tuple[Tensor, dict[str, Tensor]]:
    """Barlow Twins redundancy-reduction loss (Zbontar et al. 2021, eq. 1; ``lambda = 5e-3``)::

        L = sum_i (1 - C_ii)^2 + lambda * sum_i sum_{j != i} C_ij^2

    with ``C`` from :func:`cross_correlation`. It is zero exactly when each dimension of one view is
    perfectly correlated with the same dimension of the other and the dimensions are decorrelated.

    Args:
        z1, z2: ``(N, D)`` projector outputs of the two views.
        lambda_offdiag: weight of the off-diagonal (redundancy-reduction) sum.

    Returns:
        ``(loss, terms)``: the scalar loss and the unweighted sums ``"on_diag"`` and ``"off_diag"``.

    Raises:
        TypeError, ValueError: on bad inputs (see module).

    Example:
        >>> z = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])  # C = I
        >>> barlow_twins_loss(z, z)[0].item() < 1e-8
        True
    """
    c = cross_correlation(z1, z2)  # (D, D); validates the inputs
    on_diag = (1.0 - torch.diagonal(c)).pow(2).sum()
    off_diag = _off_diagonal(c).pow(2).sum()
    return on_diag + lambda_offdiag * off_diag, {"on_diag": on_diag, "off_diag": off_diag}
