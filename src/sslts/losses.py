"""Self-supervised losses as pure functions over the embeddings of two views, ``(B, D)`` each.

Row ``i`` of ``z1`` and of ``z2`` come from the same series. Every function returns a scalar tensor;
the composite losses also return their unweighted terms, for logging. Nothing mutates its inputs.
VIbCReg reuses VICReg's invariance and variance terms and swaps only the covariance term.
All functions raise ``TypeError`` for non-tensors and ``ValueError`` unless the inputs are 2-D, of
equal shape and hold at least two rows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from sslts.masking import masked_mse


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


def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5) -> Tensor:
    """Normalized temperature-scaled cross entropy (NT-Xent), the SimCLR loss.

    Chen, Kornblith, Norouzi & Hinton (2020), "A Simple Framework for Contrastive Learning of Visual
    Representations", ICML. Each of the 2N views is an anchor; its positive is the other view of the
    same sample, the other 2N - 2 views are its negatives. With cosine similarity ``s_ij``::

        l(i, j) = -log( exp(s_ij / tau) / sum_{k != i} exp(s_ik / tau) )
        L = 1/(2N) * sum over positive pairs (i, j) of [ l(i, j) + l(j, i) ]

    A fully collapsed batch (all embeddings equal) gives ``L = log(2N - 1)``.

    Args:
        z1: ``(N, D)`` first view. z2: ``(N, D)`` second view; ``z2[i]`` is the positive of ``z1[i]``.
        temperature: ``tau > 0``; 0.5 is the paper's best value for its main setting (Table 5).

    Returns:
        Scalar tensor: the mean loss over all 2N anchors.

    Raises:
        TypeError, ValueError: on bad inputs (see module), or if ``temperature <= 0``.

    Example:
        >>> round(nt_xent(torch.eye(2), torch.eye(2), temperature=1.0).item(), 4)  # log(e + 2) - 1
        0.5514
    """
    _check_pair(z1, z2)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)  # (2N, D) unit rows, so dot = cosine
    logits = z @ z.T / temperature  # (2N, 2N)
    # An anchor is never its own negative: drop self-similarity from the softmax denominator.
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)  # (2N,)
    return F.cross_entropy(logits, positives)


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
        >>> loss, terms = vicreg_loss(torch.randn(8, 4), torch.randn(8, 4))
        >>> sorted(terms)
        ['covariance', 'invariance', 'variance']
    """
    _check_pair(z1, z2)
    inv = invariance_term(z1, z2)
    var = variance_term(z1, target_std, eps) + variance_term(z2, target_std, eps)
    cov = covariance_term(z1) + covariance_term(z2)
    loss = sim_weight * inv + var_weight * var + cov_weight * cov
    return loss, {"invariance": inv, "variance": var, "covariance": cov}


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
    """
    _check_pair(z1, z2)
    inv = invariance_term(z1, z2)
    var = variance_term(z1, target_std, eps) + variance_term(z2, target_std, eps)
    cov = normalized_covariance_term(z1) + normalized_covariance_term(z2)
    loss = sim_weight * inv + var_weight * var + cov_weight * cov
    return loss, {"invariance": inv, "variance": var, "covariance": cov}


# --- SS-GAN (Chen, Zhai, Ritter, Lucic & Houlsby 2019): adversarial and transformation losses ---
# The adversarial losses act on the discriminator's real/fake logits ``(N,)``; the transformation
# loss on the logits of its transformation head ``(N, K)``. Used by sslts.methods.ssgan.

GAN_LOSSES = ("non_saturating", "hinge")


def _check_logits(logits: object, name: str) -> None:
    if not isinstance(logits, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (N,), got {type(logits).__name__}")
    if logits.ndim != 1 or logits.shape[0] < 1:
        raise ValueError(f"{name} must be a non-empty 1-D tensor of logits (N,), got shape {tuple(logits.shape)}")


def _check_gan_kind(kind: object) -> None:
    if kind not in GAN_LOSSES:
        raise ValueError(f"kind must be one of {list(GAN_LOSSES)}, got {kind!r}")


def gan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """The discriminator's adversarial loss on real and generated samples' logits.

    ``"non_saturating"``: the original GAN objective (Goodfellow et al. 2014) as a binary
    cross-entropy, with ``sp(t) = log(1 + e^t)``::

        L_D = mean_i sp(-d(x_i)) + mean_j sp(d(G(z_j)))

    ``"hinge"`` (Lim & Ye 2017; Miyato et al. 2018)::

        L_D = mean_i relu(1 - d(x_i)) + mean_j relu(1 + d(G(z_j)))

    Args:
        real_logits: ``(N,)`` logits ``d(x)`` of real series. fake_logits: ``(M,)`` of generated ones.
        kind: ``"non_saturating"`` (SS-GAN's choice) or ``"hinge"``.

    Returns:
        Scalar tensor. At ``d = 0`` everywhere it is ``2 log 2`` (non-saturating) or ``2`` (hinge).

    Raises:
        TypeError: if a logits argument is not a tensor.
        ValueError: if a logits tensor is not a non-empty 1-D tensor, or ``kind`` is unknown.

    Example:
        >>> round(gan_discriminator_loss(torch.zeros(2), torch.zeros(3)).item(), 4)  # 2 log 2
        1.3863
    """
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    _check_gan_kind(kind)
    if kind == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def gan_generator_loss(fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """The generator's adversarial loss on the logits of its samples.

    ``"non_saturating"``: ``L_G = mean_j sp(-d(G(z_j)))`` = ``-mean log sigmoid(d)``, the
    non-saturating heuristic of Goodfellow et al. (2014), whose gradient does not vanish while the
    discriminator rejects the samples confidently. ``"hinge"``: ``L_G = -mean_j d(G(z_j))``.

    Args:
        fake_logits: ``(M,)`` discriminator logits of generated series.
        kind: ``"non_saturating"`` or ``"hinge"``.

    Returns:
        Scalar tensor.

    Raises:
        TypeError, ValueError: as :func:`gan_discriminator_loss`.

    Example:
        >>> round(gan_generator_loss(torch.zeros(4)).item(), 4)  # log 2
        0.6931
    """
    _check_logits(fake_logits, "fake_logits")
    _check_gan_kind(kind)
    if kind == "hinge":
        return -fake_logits.mean()
    return F.softplus(-fake_logits).mean()


def r1_penalty(real_logits: Tensor, real_inputs: Tensor) -> Tensor:
    """R1 gradient penalty: the mean squared gradient norm of the discriminator on real samples.

    Mescheder, Geiger & Nowozin (2018), "Which Training Methods for GANs do actually Converge?",
    ICML: penalising ``||grad_x d(x)||^2`` on the data makes the GAN game locally convergent; the
    discriminator may not carve a cliff around the few real series it has seen::

        R1 = 1/N sum_i ||d d(x_i) / d x_i||^2

    (the discriminator's loss adds ``gamma / 2 * R1``). Built with ``create_graph=True``, so the
    penalty itself can be differentiated with respect to the discriminator's weights.

    Args:
        real_logits: ``(N,)`` logits computed from ``real_inputs``. real_inputs: ``(N, ...)`` real
            samples with ``requires_grad`` set before the forward pass.

    Returns:
        Scalar tensor.

    Raises:
        TypeError: if an argument is not a tensor. ValueError: if ``real_logits`` is not a non-empty
            1-D tensor or ``real_inputs`` does not require gradients.

    Example:
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> r1_penalty(x @ torch.tensor([3.0, 4.0]), x).item()  # a linear d(x) = w.x: ||w||^2
        25.0
    """
    _check_logits(real_logits, "real_logits")
    if not isinstance(real_inputs, Tensor):
        raise TypeError(f"real_inputs must be a torch.Tensor, got {type(real_inputs).__name__}")
    if not real_inputs.requires_grad:
        raise ValueError("real_inputs must require gradients (set requires_grad_() before the forward pass)")
    (grad,) = torch.autograd.grad(real_logits.sum(), real_inputs, create_graph=True)
    # The gradient of the sum is each sample's own gradient when samples do not interact; BatchNorm
    # in training mode couples them a little, as in every GAN that uses both.
    return grad.pow(2).reshape(grad.shape[0], -1).sum(dim=1).mean()


def transformation_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """SS-GAN's auxiliary loss: cross-entropy of predicting which transformation was applied.

    Chen et al. (2019) predict the rotation of an image among ``K = 4``; the time-series analogue in
    :func:`sslts.methods.ssgan.transform_group` uses identity, time reversal, negation and both::

        L = -1/N sum_i log softmax(logits_i)[labels_i]

    A head that cannot tell the transformations apart (equal logits) gives ``log K``.

    Args:
        logits: ``(N, K)`` transformation-head logits. labels: ``(N,)`` integers in ``[0, K)``.

    Returns:
        Scalar tensor.

    Raises:
        TypeError: if an argument is not a tensor, or ``labels`` is not an integer tensor.
        ValueError: on mismatched shapes or labels outside ``[0, K)``.

    Example:
        >>> round(transformation_loss(torch.zeros(2, 4), torch.tensor([0, 3])).item(), 4)  # log 4
        1.3863
    """
    if not isinstance(logits, Tensor) or not isinstance(labels, Tensor):
        raise TypeError("logits and labels must be torch.Tensors")
    if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape (N, K) with N >= 1, K >= 2, got {tuple(logits.shape)}")
    if labels.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise TypeError(f"labels must be an integer tensor, got dtype {labels.dtype}")
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels must have shape ({logits.shape[0]},) to match logits, got {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must lie in [0, {logits.shape[1]}), got values in "
                         f"[{labels.min().item()}, {labels.max().item()}]")
    return F.cross_entropy(logits, labels.long())


# ----------------------------------------------------------------------------- CLIP (cross-modal alignment)
def clip_loss(
    za: Tensor, zb: Tensor, logit_scale: float | Tensor, labels: Tensor | None = None
) -> Tensor:
    """CLIP's symmetric InfoNCE over the ``B x B`` similarity matrix of two towers' embeddings.

    Radford et al. (2021), "Learning Transferable Visual Models From Natural Language Supervision",
    ICML, Figure 3. Rows are L2-normalised, ``S = s * za_n @ zb_n^T`` (``s = exp(t)``, the learned
    inverse temperature), and the loss averages the cross-entropy of every row of ``S`` (tower A to
    B) and of every column (B to A)::

        L = 1/2 * [ CE(S, T) + CE(S^T, T^T) ],   T = I  (row i is paired with column i only)

    With ``labels`` the targets become UniCL's (Yang et al. 2022, "Unified Contrastive Learning in
    Image-Text-Label Space", CVPR): ``T_ij = [y_i = y_j] / #{k: y_k = y_i}``, so two series of the
    same class that are matched to the same class description are not pushed apart as negatives
    (the loss's floor is then the mean entropy of the target rows, not 0). ``labels = arange(B)``
    gives exactly the CLIP loss. A fully collapsed batch gives ``log B``.

    Args:
        za: ``(B, D)`` embeddings of tower A. zb: ``(B, D)`` embeddings of tower B; ``zb[i]`` is the
            partner of ``za[i]``.
        logit_scale: ``s > 0``, the multiplier of the cosine similarities (CLIP initialises it to
            ``1 / 0.07`` and clips it at 100), a float or a 0-dim tensor (learnable).
        labels: optional ``(B,)`` integer tensor; rows with equal labels are all positives.

    Returns:
        Scalar tensor: the mean of the two directions.

    Raises:
        TypeError, ValueError: on bad inputs (see module), if ``logit_scale`` is not positive, or if
            ``labels`` is not a ``(B,)`` integer tensor.

    Example:
        >>> round(clip_loss(torch.eye(2), torch.eye(2), 1.0).item(), 4)  # log(1 + e^-1)
        0.3133
    """
    _check_pair(za, zb)
    scale = torch.as_tensor(logit_scale, dtype=za.dtype, device=za.device)
    if scale.ndim != 0 or not bool(scale.detach() > 0):
        raise ValueError(f"logit_scale must be a positive scalar, got {logit_scale!r}")
    n = za.shape[0]
    logits = scale * F.normalize(za, dim=1) @ F.normalize(zb, dim=1).T  # (B, B)
    if labels is None:
        targets: Tensor = torch.arange(n, device=za.device)  # (B,) the diagonal
        return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))
    if not isinstance(labels, Tensor) or labels.shape != (n,) or labels.is_floating_point():
        raise ValueError(f"labels must be an integer tensor of shape ({n},), got {labels!r}")
    same = (labels[:, None] == labels[None, :]).to(logits.dtype)  # (B, B), symmetric
    soft = same / same.sum(dim=1, keepdim=True)  # each row sums to 1
    return 0.5 * (F.cross_entropy(logits, soft) + F.cross_entropy(logits.T, soft))


# --- MAE (He, Chen, Xie, Li, Dollar & Girshick 2022): reconstruction of masked patches ---------
def normalize_patches(patches: Tensor, eps: float = 1e-6) -> Tensor:
    """Each patch minus its mean, over its standard deviation: MAE's "normalised pixels" target.

    He et al. (2022), Section 4 ("reconstruction target"): normalising each patch by its own mean
    and variance sharpens the local contrast the decoder must predict and improves the learned
    representation. Here a patch is all channels of ``P`` time steps, ``(B, N, C * P)``::

        out[b, n, :] = (p - mean(p)) / sqrt(var(p) + eps),  p = patches[b, n, :]

    (biased variance, as in MAE's code). A constant patch maps to zeros.

    Raises:
        ValueError: if ``patches`` is not 3-D with at least 2 entries per patch.
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
    """

    if hidden.ndim != 2 or hidden.shape != pred.shape[:2]:
        raise ValueError(f"hidden must be (B, N) = {tuple(pred.shape[:2])}, got {tuple(hidden.shape)}")
    target = normalize_patches(patches.float(), eps) if normalize_target else patches.float()
    return masked_mse(pred.float(), target, hidden.unsqueeze(-1))
