"""VICReg and VIbCReg: variance, invariance and (better-)covariance regularisation of two views.

The public terms, each over ``(B, D)`` embeddings: :func:`invariance_term` (both views),
:func:`variance_term`, :func:`covariance_term` and :func:`normalized_covariance_term` (one view).
VIbCReg reuses VICReg's invariance and variance terms and swaps only the covariance term, so both
losses are the one weighted sum :func:`_vic_loss` given their covariance term.
Every function raises ``TypeError`` for non-tensors and ``ValueError`` unless the inputs are
2-D, of equal shape and hold at least two rows.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from sslts.losses._checks import _check_embedding, _check_pair, _off_diagonal


def invariance_term(z1: Tensor, z2: Tensor) -> Tensor:
    """VICReg invariance term: mean squared error between the two views.

    Bardes, Ponce & LeCun (2022), "VICReg: Variance-Invariance-Covariance Regularization for
    Self-Supervised Learning", ICLR. ``s(Z, Z') = 1/(N D) * sum_{i,d} (z_id - z'_id)^2``: the mean over
    batch and dimensions, as in the authors' code (the default weight 25 was tuned with this mean).

    Args:
        z1, z2: ``(N, D)`` embeddings of the two views.

    Returns:
        Scalar tensor >= 0.

    Raises:
        TypeError, ValueError: on bad inputs (see module).

    Example:
        >>> invariance_term(torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [0.0, 2.0]])).item()
        1.25
    """
    _check_pair(z1, z2)
    return F.mse_loss(z1, z2)


def variance_term(z: Tensor, target_std: float = 1.0, eps: float = 1e-4) -> Tensor:
    """VICReg variance term: a hinge keeping every dimension's std above ``target_std``.

    Bardes, Ponce & LeCun (2022): ``v(Z) = 1/D * sum_d max(0, gamma - sqrt(Var(z_d) + eps))`` with the
    unbiased batch variance, ``gamma = 1`` and ``eps = 1e-4``. The square root (not the variance)
    keeps the gradient alive near collapse; ``eps`` keeps it finite.

    Args:
        z: ``(N, D)`` embeddings of one view.
        target_std: the threshold ``gamma``. eps: added to the variance inside the root.

    Returns:
        Scalar tensor in ``[0, target_std]``; zero when every dimension's std exceeds the target.

    Raises:
        TypeError, ValueError: on bad inputs (see module).

    Example:
        >>> variance_term(torch.tensor([[0.0], [2.0]])).item()  # std = sqrt(2) > 1
        0.0
    """
    _check_embedding(z)
    std = torch.sqrt(z.var(dim=0) + eps)  # (D,)
    return F.relu(target_std - std).mean()


def covariance_term(z: Tensor) -> Tensor:
    """VICReg covariance term: sum of squared off-diagonal covariances, divided by D.

    Bardes, Ponce & LeCun (2022): ``C = 1/(N-1) * sum_i (z_i - mean)(z_i - mean)^T`` and
    ``c(Z) = 1/D * sum_{i != j} C_ij^2``. It grows with the square of the embedding's scale (compare
    :func:`normalized_covariance_term`).

    Args:
        z: ``(N, D)`` embeddings of one view.

    Returns:
        Scalar tensor >= 0; zero for uncorrelated dimensions.

    Raises:
        TypeError, ValueError: on bad inputs (see module).

    Example:
        >>> covariance_term(torch.tensor([[1.0, 1.0], [-1.0, -1.0]])).item()  # C = [[2, 2], [2, 2]]
        4.0
    """
    _check_embedding(z)
    n, d = z.shape
    zc = z - z.mean(dim=0)  # (N, D)
    cov = zc.T @ zc / (n - 1)  # (D, D)
    return _off_diagonal(cov).pow(2).sum() / d


def normalized_covariance_term(z: Tensor) -> Tensor:
    """VIbCReg's "better" covariance term: mean squared off-diagonal of the normalized covariance.

    Lee & Aune (2021), "VIbCReg: Variance-Invariance-better-Covariance Regularization for
    Self-Supervised Learning on Time Series", arXiv:2109.00783. Each dimension is centred and divided
    by its L2 norm over the batch, so ``C = Zn^T Zn`` is the correlation matrix, and
    ``c(Z) = 1/D^2 * sum_{i != j} C_ij^2``. Unlike :func:`covariance_term` it is unchanged when ``z``
    is rescaled and it stays in ``[0, 1)`` whatever D, which is why it tolerates the weight 200.

    Args:
        z: ``(N, D)`` embeddings of one view.

    Returns:
        Scalar tensor in ``[0, (D - 1) / D]``; zero for uncorrelated dimensions.

    Raises:
        TypeError, ValueError: on bad inputs (see module).

    Example:
        >>> z = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]])  # correlation 1/2
        >>> round(normalized_covariance_term(z).item(), 6)
        0.125
    """
    _check_embedding(z)
    d = z.shape[1]
    zn = F.normalize(z - z.mean(dim=0), p=2, dim=0)  # (N, D) unit-norm columns; constant ones stay 0
    corr = zn.T @ zn  # (D, D)
    return _off_diagonal(corr).pow(2).sum() / (d * d)


def _vic_loss(
    z1: Tensor,
    z2: Tensor,
    covariance: Callable[[Tensor], Tensor],
    sim_weight: float,
    var_weight: float,
    cov_weight: float,
    target_std: float,
    eps: float,
) -> tuple[Tensor, dict[str, Tensor]]:
    """The weighted sum VICReg and VIbCReg share, given the per-view covariance term ``c``::

        L = lambda * s(Z, Z') + mu * [v(Z) + v(Z')] + nu * [c(Z) + c(Z')]

    ``s`` is :func:`invariance_term`, ``v`` :func:`variance_term`; variance and covariance are summed
    over both branches. The sums are taken in this order, left to right, so the losses' values do
    not depend on which of the two public functions computes them.

    Returns:
        ``(loss, terms)``: the scalar loss and the unweighted terms ``"invariance"``, ``"variance"``,
        ``"covariance"`` (the last two summed over both branches).
    """
    _check_pair(z1, z2)
    inv = invariance_term(z1, z2)
    var = variance_term(z1, target_std, eps) + variance_term(z2, target_std, eps)
    cov = covariance(z1) + covariance(z2)
    loss = sim_weight * inv + var_weight * var + cov_weight * cov
    return loss, {"invariance": inv, "variance": var, "covariance": cov}


def vicreg_loss(
    z1: Tensor,
    z2: Tensor,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 1.0,
    target_std: float = 1.0,
    eps: float = 1e-4,
) -> tuple[Tensor, dict[str, Tensor]]:
    """VICReg loss (Bardes, Ponce & LeCun 2022, eq. 6; defaults ``lambda = mu = 25``, ``nu = 1``)::

        L = lambda * s(Z, Z') + mu * [v(Z) + v(Z')] + nu * [c(Z) + c(Z')]

    with :func:`invariance_term`, :func:`variance_term` and :func:`covariance_term`; variance and
    covariance are summed over both branches, as in the paper.

    Args:
        z1, z2: ``(N, D)`` expander outputs of the two views.
        sim_weight, var_weight, cov_weight: ``lambda``, ``mu``, ``nu``.
        target_std, eps: passed to :func:`variance_term`.

    Returns:
        ``(loss, terms)``: the scalar loss and the unweighted terms ``"invariance"``, ``"variance"``,
        ``"covariance"`` (the last two summed over both branches).

    Raises:
        TypeError, ValueError: on bad inputs (see module).

    Example:
        >>> z = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]])  # stds 1, covariance 1/2
        >>> loss, terms = vicreg_loss(z, z)  # s = 0, v = 0, c = 2 * (2 * 0.5^2 / 2)
        >>> {name: round(t.item(), 4) for name, t in terms.items()}, round(loss.item(), 4)
        ({'invariance': 0.0, 'variance': 0.0, 'covariance': 0.5}, 0.5)
    """
    return _vic_loss(z1, z2, covariance_term, sim_weight, var_weight, cov_weight, target_std, eps)


def vibcreg_loss(
    z1: Tensor,
    z2: Tensor,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 200.0,
    target_std: float = 1.0,
    eps: float = 1e-4,
) -> tuple[Tensor, dict[str, Tensor]]:
    """VIbCReg loss (Lee & Aune 2021; defaults ``lambda = mu = 25``, ``nu = 200``)::

        L = lambda * s(Z, Z') + mu * [v(Z) + v(Z')] + nu * [c_n(Z) + c_n(Z')]

    VICReg's :func:`invariance_term` and :func:`variance_term` with
    :func:`normalized_covariance_term` as ``c_n``. The IterNorm whitening of the projector output
    (:class:`sslts.heads.IterNorm`) belongs to the method, not to the loss.

    Args:
        z1, z2: ``(N, D)`` projector outputs of the two views.
        sim_weight, var_weight, cov_weight: ``lambda``, ``mu``, ``nu``.
        target_std, eps: passed to :func:`variance_term`.

    Returns:
        ``(loss, terms)`` with unweighted ``"invariance"``, ``"variance"``, ``"covariance"`` terms
        (the last two summed over both branches).

    Raises:
        TypeError, ValueError: on bad inputs (see module).

    Example:
        >>> z = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]])  # correlation 1/2
        >>> loss, terms = vibcreg_loss(z, z)  # s = 0, v = 0, c_n = 2 * (2 * 0.5^2 / 2^2)
        >>> {name: round(t.item(), 4) for name, t in terms.items()}, round(loss.item(), 4)
        ({'invariance': 0.0, 'variance': 0.0, 'covariance': 0.25}, 50.0)
    """
    return _vic_loss(z1, z2, normalized_covariance_term, sim_weight, var_weight, cov_weight, target_std, eps)
